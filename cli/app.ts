// `mesos-ts app deploy|list|show|scale|restart|rm|rollback` and `mesos-ts
// deployments`: the apps framework's REST API (framework/apps/) from the
// shell. Writes follow their deployment until it is over, printing the
// instances healthy / wanted as they change, and, while launches wait, why
// (from /v2/queue: the constraint or resource that declined the offers).
// Exit codes: 0 done, 1 failed or timed out, 2 bad usage or an invalid definition.
// To an API that authenticates (`mesos-ts apps --http_credentials`) it
// presents --principal/--secret or --credential as HTTP basic
// authentication, and it speaks https under TLS (--ssl_* / LIBPROCESS_SSL_*).
import { readFileSync } from 'node:fs';
import { CLIENT_CREDENTIAL_FLAGS, basicAuthorization, clientCredential } from '../common/credentials.js';
import { parseFlags, usage } from '../common/flags.js';
import { InvalidArgument, errorMessage } from '../common/errors.js';
import { TLS_FLAGS, clientTls } from '../common/tls.js';
import { fetchFailure, tlsFetch, type Fetch } from '../common/tls-fetch.js';
import { fetchFollowingLeader } from '../framework/apps/leader-fetch.js';
import { quantity, table } from './table.js';

const COMMON = {
  apps: { type: 'string', default: 'http://127.0.0.1:8080', help: "the apps framework's REST API (any instance: standbys redirect to the leader); https://... under TLS" },
  json: { type: 'boolean', default: false, help: 'print the JSON answer instead of a table' },
  ...CLIENT_CREDENTIAL_FLAGS,
  ...TLS_FLAGS,
} as const;
const WRITE = {
  ...COMMON,
  force: { type: 'boolean', default: false, help: 'override a deployment that holds the app (?force=true)' },
  wait: { type: 'boolean', default: true, help: 'follow the deployment until it is over (--no-wait: return at once)' },
  timeout: { type: 'duration', default: 300, help: 'give up waiting after this long (exit 1; the deployment goes on)' },
} as const;

const SUBCOMMANDS: Record<string, string> = {
  deploy: 'app deploy FILE.json: create the app or replace its definition (- reads standard input)',
  list: 'app list: every app with instances running / wanted and health',
  show: 'app show ID: the definition, its tasks and its deployments',
  scale: 'app scale ID N: run N instances',
  restart: 'app restart ID: replace every instance (a rolling restart)',
  rm: 'app rm ID: kill every instance and forget the app',
  rollback: 'app rollback ID: deploy the version before the current one',
};

interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const stdio: Io = { out: (l) => void process.stdout.write(l + '\n'), err: (l) => void process.stderr.write(l + '\n') };

export async function appCommand(argv: string[], io: Io = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || !SUBCOMMANDS[sub]) {
    const text = `Usage: mesos-ts app <command> [flags]\n\n${Object.values(SUBCOMMANDS).map((s) => `  ${s}`).join('\n')}\n\nRun 'mesos-ts app <command> --help' for its flags.`;
    if (sub && sub !== '--help' && sub !== 'help') {
      io.err(`mesos-ts app: unknown command '${sub}'\n\n${text}`);
      return 2;
    }
    io.out(text);
    return 0;
  }
  const isWrite = sub !== 'list' && sub !== 'show';
  const flags = parseFlags(isWrite ? WRITE : { ...COMMON, force: WRITE.force, wait: WRITE.wait, timeout: WRITE.timeout }, rest, { env: process.env });
  if (flags.help) {
    io.out(usage(`app ${sub}`, SUBCOMMANDS[sub]!, isWrite ? WRITE : COMMON));
    return 0;
  }
  const client = appsClient(flags);
  const args = flags._;
  const need = (n: number, what: string): void => {
    if (args.length !== n) throw new InvalidArgument(`usage: mesos-ts app ${sub} ${what}`);
  };
  const q = flags.force ? '?force=true' : '';
  const follow = (res: Answer, id: string): Promise<number> => followDeployment(client, res, id, flags, io);
  switch (sub) {
    case 'list': {
      need(0, '');
      const res = await client.call('GET', '/v2/apps');
      if (flags.json) return printJson(res, io);
      io.out(appsTable((res.body as { apps: AppJson[] }).apps).trimEnd());
      return 0;
    }
    case 'show':
      need(1, 'ID');
      return showApp(client, args[0]!, flags.json, io);
    case 'deploy': {
      need(1, 'FILE.json');
      const definition = readDefinition(args[0]!);
      const id = typeof definition.id === 'string' ? definition.id : '';
      if (!id) throw new InvalidArgument(`${args[0]}: the definition has no "id"`);
      return follow(await client.call('PUT', `/v2/apps${appPath(id)}?partialUpdate=false${flags.force ? '&force=true' : ''}`, definition), id);
    }
    case 'scale': {
      need(2, 'ID N');
      const n = Number(args[1]);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgument(`N must be a whole number >= 0, got '${args[1]}'`);
      return follow(await client.call('PUT', `/v2/apps${appPath(args[0]!)}${q}`, { instances: n }), args[0]!);
    }
    case 'restart':
      need(1, 'ID');
      return follow(await client.call('POST', `/v2/apps${appPath(args[0]!)}/restart${q}`), args[0]!);
    case 'rm':
      need(1, 'ID');
      return follow(await client.call('DELETE', `/v2/apps${appPath(args[0]!)}${q}`), args[0]!);
    case 'rollback': {
      need(1, 'ID');
      const previous = await previousVersion(client, args[0]!, io);
      if (!previous) return 1;
      return follow(await client.call('PUT', `/v2/apps${appPath(args[0]!)}?partialUpdate=false${flags.force ? '&force=true' : ''}`, previous), args[0]!);
    }
  }
  return 2;
}

/** `app show`: the definition, then counts and a table of the tasks. */
async function showApp(client: AppsClient, id: string, json: boolean, io: Io): Promise<number> {
  const res = await client.call('GET', `/v2/apps${appPath(id)}`);
  if (json || res.status !== 200) return printJson(res, io);
  const app = (res.body as { app: AppJson & { tasks: TaskJson[] } }).app;
  const { tasks, deployments, tasksRunning, tasksStaged, tasksHealthy, tasksUnhealthy, ...definition } = app;
  io.out(JSON.stringify(definition, null, 2));
  const servicePorts = (definition as { portDefinitions?: { port: number }[] }).portDefinitions?.map((p) => p.port) ?? [];
  io.out(`\n${tasksRunning} running, ${tasksStaged} staged, ${tasksHealthy} healthy, ${tasksUnhealthy} unhealthy; deployments: ${deployments.map((d) => d.id).join(', ') || 'none'}`);
  // Where a load balancer (mesos-ts lb, marathon-lb) serves the app.
  if (servicePorts.length > 0) io.out(`service ports: ${servicePorts.join(', ')}`);
  if ('autoscale' in definition) {
    const scaler = await client.call('GET', `/v2/autoscale${appPath(id)}`);
    if (scaler.status === 200) io.out(autoscaleLine(scaler.body as AutoscaleJson));
  }
  if (tasks.length > 0) io.out('\n' + table([{ header: 'TASK' }, { header: 'HOST' }, { header: 'PORTS' }, { header: 'STATE' }, { header: 'HEALTH' }, { header: 'VERSION' }],
    tasks.map((t) => [t.id, t.host, t.ports.join(','), t.state, t.healthCheckResults ? (t.healthCheckResults[0]?.alive ? 'healthy' : 'unhealthy') : '-', t.version])).trimEnd());
  return 0;
}

interface AutoscaleJson {
  metric: string; target: number; minInstances: number; maxInstances: number; lastValue: number | null;
  decisions: { timestamp: string; from: number; to: number; reason: string }[];
}

/** `autoscale: requestsPerSecond target 5, 1..3 instances, last value 2.5; last decision <time> 3 → 1: <reason>`. */
function autoscaleLine(a: AutoscaleJson): string {
  const last = a.decisions.at(-1);
  const value = a.lastValue === null ? 'no value yet' : `last value ${Math.round(a.lastValue * 1000) / 1000}`;
  return `autoscale: ${a.metric} target ${a.target}, ${a.minInstances}..${a.maxInstances} instances, ${value}` +
    (last ? `; last decision ${last.timestamp} ${last.from} → ${last.to}: ${last.reason}` : '; no decision yet');
}

/** `app rollback`: the definition of the version before the current one, without its version fields; null (said why) when there is none. */
async function previousVersion(client: AppsClient, id: string, io: Io): Promise<Record<string, unknown> | null> {
  const versions = await client.call('GET', `/v2/apps${appPath(id)}/versions`);
  if (versions.status !== 200) {
    printJson(versions, io);
    return null;
  }
  const list = (versions.body as { versions: string[] }).versions;
  if (list.length < 2) {
    io.err(`${id} has no version before the current one`);
    return null;
  }
  const previous = await client.call('GET', `/v2/apps${appPath(id)}/versions/${encodeURIComponent(list[1]!)}`);
  const { version: _v, versionInfo: _vi, ...definition } = previous.body as Record<string, unknown>;
  io.out(`rolling ${id} back to version ${list[1]}`);
  return definition;
}

/** `mesos-ts deployments`: the running deployments. */
export async function deploymentsCommand(argv: string[], io: Io = stdio): Promise<number> {
  const flags = parseFlags(COMMON, argv, { env: process.env });
  if (flags.help) {
    io.out(usage('deployments', 'Lists the apps framework\'s running deployments: id, apps, current action, step.', COMMON));
    return 0;
  }
  const res = await appsClient(flags).call('GET', '/v2/deployments');
  if (flags.json || res.status !== 200) return printJson(res, io);
  const list = res.body as { id: string; affectedApps: string[]; currentActions: { action: string }[]; currentStep: number; totalSteps: number; version: string }[];
  if (list.length === 0) io.out('no deployments running');
  else io.out(table([{ header: 'ID' }, { header: 'APPS' }, { header: 'ACTION' }, { header: 'STEP', align: 'right' }, { header: 'VERSION' }],
    list.map((d) => [d.id, d.affectedApps.join(','), d.currentActions.map((a) => a.action).join(','), `${d.currentStep}/${d.totalSteps}`, d.version])).trimEnd());
  return 0;
}

interface AppJson {
  id: string;
  instances: number;
  cpus: number;
  mem: number;
  tasksRunning: number;
  tasksStaged: number;
  tasksHealthy: number;
  tasksUnhealthy: number;
  healthChecks: unknown[];
  deployments: { id: string }[];
}

interface TaskJson {
  id: string;
  host: string;
  ports: number[];
  state: string;
  version: string;
  healthCheckResults?: { alive: boolean }[];
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** A client of the API the flags name, with their credential and TLS; bad flags are refused before any request. */
function appsClient(flags: Parameters<typeof clientCredential>[0] & Parameters<typeof clientTls>[0] & { readonly apps: string }): AppsClient {
  const base = flags.apps.replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+$/.test(base)) throw new InvalidArgument(`--apps must be http://HOST:PORT or https://HOST:PORT, got '${flags.apps}'`);
  const credential = clientCredential(flags);
  const tls = clientTls(flags, process.env);
  return new AppsClient(base, tlsFetch(tls), credential && basicAuthorization(credential), tls);
}

class AppsClient {
  constructor(private readonly base: string, private readonly fetchFn: Fetch, private readonly authorization: string | undefined, private readonly tls: ReturnType<typeof clientTls>) {}

  async call(method: string, path: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { ...(this.authorization && { authorization: this.authorization }), ...(body !== undefined && { 'content-type': 'application/json' }) };
    let res: Response;
    try {
      res = await fetchFollowingLeader(this.fetchFn, `${this.base}${path}`, {
        method, signal: AbortSignal.timeout(15_000), headers, ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new Error(`the apps framework: ${fetchFailure(this.base, err, this.tls)}`, { cause: err });
    }
    if (res.status === 401) {
      await res.body?.cancel();
      const how = this.authorization ? 'refused the credential given' : 'needs a credential: --principal and --secret, or a credential file (--credential)';
      throw new Error(`the apps framework at ${this.base} answered 401: it ${how}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  }
}

function appPath(id: string): string {
  return id.startsWith('/') ? id.replace(/\/+$/, '') : `/${id.replace(/\/+$/, '')}`;
}

function readDefinition(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new InvalidArgument(`cannot read ${file}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgument(`${file} is not an app definition: ${errorMessage(err)}`, { cause: err });
  }
}

function printJson(res: Answer, io: Io): number {
  (res.status < 300 ? io.out : io.err)(JSON.stringify(res.body, null, 2));
  return res.status < 300 ? 0 : res.status === 422 ? 2 : 1;
}

function appsTable(apps: readonly AppJson[]): string {
  if (apps.length === 0) return 'no apps\n';
  return table([{ header: 'ID' }, { header: 'RUNNING', align: 'right' }, { header: 'HEALTHY', align: 'right' }, { header: 'CPUS', align: 'right' }, { header: 'MEM', align: 'right' }, { header: 'DEPLOYMENT' }],
    apps.map((a) => [a.id, `${a.tasksRunning}/${a.instances}`, a.healthChecks.length > 0 ? String(a.tasksHealthy) : '-', quantity(a.cpus), quantity(a.mem), a.deployments.map((d) => d.id).join(',')]));
}

/** Prints the refusal and, unless --no-wait, polls until the deployment is gone, showing progress and, while stuck, why. */
async function followDeployment(client: AppsClient, res: Answer, id: string, flags: { wait: boolean; timeout: number }, io: Io): Promise<number> {
  if (res.status >= 300) {
    const body = res.body as { message?: string; details?: { path: string; errors: string[] }[]; deployments?: { id: string }[] };
    io.err(`${res.status}: ${body?.message ?? JSON.stringify(res.body)}`);
    for (const d of body?.details ?? []) io.err(`  ${d.path}: ${d.errors.join('; ')}`);
    return res.status === 422 || res.status === 400 ? 2 : 1;
  }
  const deploymentId = (res.body as { deploymentId?: string }).deploymentId;
  if (!deploymentId) return printJson(res, io);
  io.out(`deployment ${deploymentId} started (version ${(res.body as { version: string }).version})`);
  if (!flags.wait) return 0;
  const deadline = Date.now() + flags.timeout * 1000;
  let last = '';
  for (;;) {
    const deployments = await client.call('GET', '/v2/deployments');
    const running = (deployments.body as { id: string }[]).some((d) => d.id === deploymentId);
    const app = await client.call('GET', `/v2/apps${appPath(id)}`);
    const line = progressLine(app, await client.call('GET', '/v2/queue'), id);
    if (line !== last) io.out(line);
    last = line;
    if (!running) {
      io.out(`deployment ${deploymentId} finished`);
      return 0;
    }
    if (Date.now() > deadline) {
      io.err(`timed out after ${flags.timeout} s with deployment ${deploymentId} still running (${line.trim()})`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function progressLine(app: Answer, queue: Answer, id: string): string {
  if (app.status === 404) return `  ${id}: removed, instances stopping`;
  const a = (app.body as { app: AppJson & { lastTaskFailure?: { state: string; message: string; host: string } } }).app;
  const healthy = a.healthChecks.length > 0 ? a.tasksHealthy : a.tasksRunning;
  let line = `  ${a.id}: ${healthy}/${a.instances} ${a.healthChecks.length > 0 ? 'healthy' : 'running'}`;
  const entry = ((queue.body as { queue?: { app: { id: string }; count: number; delay: { timeLeftSeconds: number }; lastUnusedOffers: { message: string }[] }[] }).queue ?? [])
    .find((e) => e.app.id === a.id);
  if (entry) {
    line += `; ${entry.count} waiting to launch`;
    if (entry.delay.timeLeftSeconds > 0) line += ` (backoff ${entry.delay.timeLeftSeconds} s)`;
    const why = entry.lastUnusedOffers[entry.lastUnusedOffers.length - 1]?.message;
    if (why) line += `: last offer declined: ${why}`;
    const failed = a.lastTaskFailure;
    if (failed) line += `; last task failure on ${failed.host}: ${failed.state}${failed.message ? ` (${failed.message})` : ''}`;
  }
  return line;
}
