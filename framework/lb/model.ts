// What the load balancer should route, computed from the apps as Marathon's
// API shows them (GET /v2/apps?embed=apps.tasks): pure, so a table of apps
// in and a routing table out is the whole test.
//
//   app /prod/web, service port 10000, 2 healthy tasks
//     -> frontend prod_web_10000 on BIND:10000 -> backend prod_web_10000
//        with servers (task, port index) at host:ports[i]
//   label HAPROXY_0_VHOST=web.example.com
//     -> the shared HTTP frontend routes Host: web.example.com there too
//
// Labels are marathon-lb's (HAPROXY_GROUP, HAPROXY_{n}_VHOST, _MODE,
// _BALANCE, _PORT, _BIND_ADDR), so app definitions written for marathon-lb
// keep working. A task serves only when it is RUNNING, passes every health
// check its app defines (a task not checked yet does not) and is ready.

/** The parts of a Marathon app the balancer reads. */
export interface MarathonApp {
  readonly id: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly portDefinitions?: readonly { readonly port: number; readonly protocol?: string; readonly name?: string }[];
  readonly healthChecks?: readonly unknown[];
  readonly readinessChecks?: readonly unknown[];
  readonly tasks?: readonly MarathonTask[];
  readonly readinessCheckResults?: readonly { readonly taskId: string; readonly ready: boolean }[];
}

export interface MarathonTask {
  readonly id: string;
  readonly host: string;
  readonly ports?: readonly number[];
  readonly state?: string;
  readonly healthCheckResults?: readonly { readonly alive: boolean }[];
}

export type Mode = 'http' | 'tcp';

export interface Server {
  /** Unique in its backend and stable for the task and port: HAProxy's server name. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface Backend {
  readonly name: string;
  readonly appId: string;
  readonly mode: Mode;
  readonly balance: string;
  readonly servers: readonly Server[];
}

export interface Frontend {
  readonly name: string;
  readonly bindAddress: string;
  readonly port: number;
  readonly mode: Mode;
  readonly backend: string;
}

/** Host header -> backend, served on the shared HTTP frontend. */
export interface VirtualHost {
  readonly host: string;
  readonly backend: string;
}

export interface Routing {
  readonly frontends: readonly Frontend[];
  readonly backends: readonly Backend[];
  readonly vhosts: readonly VirtualHost[];
}

export interface RoutingOptions {
  /** Where service ports are bound unless an app's HAPROXY_{n}_BIND_ADDR says otherwise. */
  readonly bindAddress: string;
  /** The HAPROXY_GROUP values this balancer serves; '*' serves every app, with a group or without. */
  readonly groups: readonly string[];
}

const BALANCE = new Set(['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'random']);
const VHOST = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** A name HAProxy takes (letters, digits, '_', '-', '.', ':'), from an app id and a port: /prod/web, 10000 -> prod_web_10000. */
export function proxyName(appId: string, port: number): string {
  const base = appId.replace(/^\/+/, '').replace(/[^A-Za-z0-9_.-]/g, '_') || 'app';
  return `${base}_${port}`;
}

/** A server name for a task's port: its id, made safe, with the port index. */
export function serverName(taskId: string, portIndex: number): string {
  return `${taskId.replace(/[^A-Za-z0-9_.-]/g, '_')}_${portIndex}`;
}

/** Whether `task` should receive traffic (see the file's comment). */
export function serving(app: MarathonApp, task: MarathonTask): boolean {
  if (task.state !== undefined && task.state !== 'TASK_RUNNING') return false;
  const checks = app.healthChecks?.length ?? 0;
  if (checks > 0) {
    // As marathon-lb reads them: no result yet is not healthy; any result not alive is not.
    const results = task.healthCheckResults ?? [];
    if (results.length === 0 || !results.every((r) => r.alive)) return false;
  }
  if ((app.readinessChecks?.length ?? 0) > 0) {
    const result = app.readinessCheckResults?.find((r) => r.taskId === task.id);
    if (result !== undefined && !result.ready) return false;
  }
  return true;
}

/** Problems found in an app's labels, each naming the label: the app is skipped (and the problem logged), never half-routed. */
export class LabelError extends Error {
  override readonly name = 'LabelError';
}

function label(app: MarathonApp, index: number, key: string): string | undefined {
  return app.labels?.[`HAPROXY_${index}_${key}`];
}

function inGroups(app: MarathonApp, groups: readonly string[]): boolean {
  if (groups.includes('*')) return true;
  const group = app.labels?.HAPROXY_GROUP;
  return group !== undefined && group.split(',').some((g) => groups.includes(g.trim()));
}

/** The frontends, backends and virtual hosts for one app; throws LabelError naming a bad label. */
function routeApp(app: MarathonApp, options: RoutingOptions): Routing {
  const frontends: Frontend[] = [];
  const backends: Backend[] = [];
  const vhosts: VirtualHost[] = [];
  const tasks = (app.tasks ?? []).filter((t) => serving(app, t));
  (app.portDefinitions ?? []).forEach((definition, index) => {
    const servicePort = Number(label(app, index, 'PORT') ?? definition.port);
    if (!isPort(servicePort)) {
      throw new LabelError(`app ${app.id}: service port ${index} is ${label(app, index, 'PORT') ?? definition.port}, not a port (HAPROXY_${index}_PORT or portDefinitions[${index}].port)`);
    }
    const vhost = label(app, index, 'VHOST');
    const mode = (label(app, index, 'MODE') ?? (vhost !== undefined ? 'http' : 'tcp')).toLowerCase();
    if (mode !== 'http' && mode !== 'tcp') throw new LabelError(`app ${app.id}: HAPROXY_${index}_MODE must be http or tcp, got '${mode}'`);
    const balance = label(app, index, 'BALANCE') ?? 'roundrobin';
    if (!BALANCE.has(balance)) throw new LabelError(`app ${app.id}: HAPROXY_${index}_BALANCE must be one of ${[...BALANCE].join(', ')}, got '${balance}'`);
    const bindAddress = label(app, index, 'BIND_ADDR') ?? options.bindAddress;
    if (!IPV4.test(bindAddress)) throw new LabelError(`app ${app.id}: HAPROXY_${index}_BIND_ADDR must be an IPv4 address, got '${bindAddress}'`);
    const name = proxyName(app.id, servicePort);
    // A task's host and ports are written into HAProxy's config: only a host name or an IP and a port pass.
    const servers = tasks
      .filter((t) => VHOST.test(t.host) && isPort(t.ports?.[index]))
      .map((t) => ({ name: serverName(t.id, index), host: t.host, port: t.ports![index]! }));
    backends.push({ name, appId: app.id, mode, balance, servers });
    frontends.push({ name, bindAddress, port: servicePort, mode, backend: name });
    for (const host of vhost?.split(',').map((h) => h.trim()).filter((h) => h !== '') ?? []) {
      if (!VHOST.test(host)) throw new LabelError(`app ${app.id}: HAPROXY_${index}_VHOST holds '${host}', not a host name`);
      if (mode !== 'http') throw new LabelError(`app ${app.id}: HAPROXY_${index}_VHOST needs HAPROXY_${index}_MODE http`);
      vhosts.push({ host: host.toLowerCase(), backend: name });
    }
  });
  return { frontends, backends, vhosts };
}

/**
 * The routing for all `apps`, sorted so equal inputs give equal outputs.
 * An app whose labels are wrong, or whose service port another app already
 * took, is left out and reported in `skipped`: one bad app never takes the
 * others' routes down.
 */
export function routing(apps: readonly MarathonApp[], options: RoutingOptions): { routing: Routing; skipped: string[] } {
  const frontends: Frontend[] = [];
  const backends: Backend[] = [];
  const vhosts: VirtualHost[] = [];
  const skipped: string[] = [];
  const ports = new Map<number, string>();
  const hosts = new Map<string, string>();
  for (const app of [...apps].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!inGroups(app, options.groups)) continue;
    let routed: Routing;
    try {
      routed = routeApp(app, options);
    } catch (err) {
      if (err instanceof LabelError) {
        skipped.push(err.message);
        continue;
      }
      throw err;
    }
    const taken = routed.frontends.find((f) => ports.has(f.port));
    const hostTaken = routed.vhosts.find((v) => hosts.has(v.host));
    if (taken) {
      skipped.push(`app ${app.id}: service port ${taken.port} is already served for ${ports.get(taken.port)}`);
      continue;
    }
    if (hostTaken) {
      skipped.push(`app ${app.id}: virtual host ${hostTaken.host} is already served for ${hosts.get(hostTaken.host)}`);
      continue;
    }
    for (const f of routed.frontends) ports.set(f.port, app.id);
    for (const v of routed.vhosts) hosts.set(v.host, app.id);
    frontends.push(...routed.frontends);
    backends.push(...routed.backends.map((b) => ({ ...b, servers: [...b.servers].sort((x, y) => x.name.localeCompare(y.name)) })));
    vhosts.push(...routed.vhosts);
  }
  return { routing: { frontends, backends, vhosts }, skipped };
}
