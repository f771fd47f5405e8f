// The docker-compose cluster end to end, with real images, real
// docker-compose and the real Docker engine: ZooKeeper, three masters, two
// agents and the demo service come up; one master leads; of the two apps
// framework instances one leads and the other redirects to it; `mesos-ts
// app deploy examples/apps/web.json` through the standby runs the web
// service, which answers its task id through the load balancer (HAProxy in
// the lb container) on its service port; a framework on
// zk:// runs a long task; the leading master's container is killed; another
// master leads, both agents re-register with it and the task is still
// RUNNING there, in the same container. Everything is removed at the end,
// including the task containers (labelled with this run's work_dir).
//
// It uses the compose file's fixed ports (ZooKeeper 2181; masters 5050/5060,
// 5150/5160, 5250/5260; agents 5051, 5052; apps 8080, 8081; the balancer's
// 9080, 9090 and the app's service port), which no other test binds: they
// all take port 0.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { Scheduler, OfferPacker, dockerTask, parseDemand, silentLogger, type TaskStatusOut } from '../../framework/sdk/index.js';
import { containersUnder } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const project = `mesos-ts-compose-test-${process.pid}`;
const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-compose-test-'));
const env = { ...process.env, COMPOSE_PROJECT_NAME: project, MESOS_TS_COMPOSE_DIR: workDir };
const ZK = 'zk://127.0.0.1:2181/mesos';
const MASTERS = { master1: 5050, master2: 5150, master3: 5250 } as const;
type MasterService = keyof typeof MASTERS;
const APPS = [8080, 8081] as const;
const PORTS = [2181, 5050, 5060, 5150, 5160, 5250, 5260, 5051, 5052, ...APPS, 9080, 9090];
const TASK = 'compose-sleeper';

const docker = new Docker();
let up = false;
let scheduler: Scheduler | null = null;
const statuses: TaskStatusOut[] = [];

async function compose(...args: string[]): Promise<string> {
  const { stdout } = await run('docker-compose', ['-p', project, ...args], { cwd: repo, env, maxBuffer: 16 << 20 });
  return stdout;
}

async function bash(script: string): Promise<void> {
  await run('bash', [script], { cwd: repo, env, maxBuffer: 16 << 20 });
}

const portFree = (port: number) =>
  new Promise<boolean>((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });

/** HTTP status of GET /state (200 from the leader, 307 from a standby), or 0 when nothing answers. */
async function stateStatus(port: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/state`, { redirect: 'manual', signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

async function leaders(among: readonly MasterService[]): Promise<MasterService[]> {
  const codes = await Promise.all(among.map((m) => stateStatus(MASTERS[m])));
  return among.filter((_, i) => codes[i] === 200);
}

interface MasterState {
  slaves: { id: string; active: boolean }[];
  frameworks: { id: string; active: boolean; tasks: { id: string; state: string; slave_id: string }[] }[];
}

async function state(port: number): Promise<MasterState> {
  const res = await fetch(`http://127.0.0.1:${port}/state`, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
  if (res.status !== 200) throw new Error(`/state on ${port} answered ${res.status}`);
  return (await res.json()) as MasterState;
}

async function containerOf(service: string): Promise<string> {
  const id = (await compose('ps', '-q', service)).trim();
  if (!id) throw new Error(`no container for service ${service}`);
  return id;
}

/** The compose logs on failure: the test's own message rarely says why a container misbehaved. */
async function withLogs<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const logs = await compose('logs', '--no-color', '--tail=25').catch((e: unknown) => `(no logs: ${String(e)})`);
    process.stderr.write(`[compose] last log lines:\n${logs}\n`);
    throw err;
  }
}

/** An apps API call, redirects not followed: status, parsed body and Location. */
async function apps(port: number, path: string): Promise<{ status: number; body: any; location: string | null }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text, location: res.headers.get('location') };
  } catch {
    return { status: 0, body: null, location: null };
  }
}

/** GET / on 127.0.0.1:port (HAProxy's service port): status and body, or status 0. */
function curl(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

beforeAll(async () => {
  const busy: number[] = [];
  for (const port of PORTS) if (!(await portFree(port))) busy.push(port);
  if (busy.length > 0) {
    throw new Error(`ports ${busy.join(', ')} are taken on 127.0.0.1: is a compose cluster up? (docker-compose down)`);
  }
  const start = Date.now();
  await bash('scripts/build-zookeeper-image.sh');
  await bash('scripts/build-images.sh');
  const old = await docker.getImage('mesos-ts/mesos-ts:local').inspect().then((i) => i.Id, () => null);
  await bash('scripts/build-node-image.sh');
  const current = (await docker.getImage('mesos-ts/mesos-ts:local').inspect()).Id;
  // The image a changed repo replaced, unless a container still uses it (each is ~100 MB).
  if (old && old !== current) await docker.getImage(old).remove().catch(() => {});
  const built = Date.now();
  up = true;
  await compose('up', '-d');
  process.stdout.write(`[compose] images ready in ${((built - start) / 1000).toFixed(1)} s, cluster created in ${seconds(built)} s\n`);
}, 300_000);

afterAll(async () => {
  if (scheduler) await scheduler.teardown({ signal: AbortSignal.timeout(3000) }).catch(() => scheduler?.close());
  if (up) await compose('down', '-t', '3', '--remove-orphans').catch((err: unknown) => process.stderr.write(`[compose] down failed: ${String(err)}\n`));
  for (const c of await containersUnder(workDir)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  const left = await containersUnder(workDir);
  rmSync(workDir, { recursive: true, force: true });
  expect(left).toEqual([]);
}, 60_000);

describe('the docker-compose cluster', () => {
  let leader: MasterService;

  it('elects one leader among the three masters; the demo service finishes its tasks through zk://', async () => {
    await withLogs(async () => {
      const start = Date.now();
      const all = Object.keys(MASTERS) as MasterService[];
      // Up to a minute: twelve containers start at once (nine of them node processes) on a small machine.
      await waitUntil(async () => (await leaders(all)).length === 1, 60_000, 'one master to lead');
      leader = (await leaders(all))[0]!;
      for (const m of all.filter((m) => m !== leader)) {
        await waitUntil(async () => (await stateStatus(MASTERS[m])) === 307, 10_000, `${m} to redirect to the leader`);
      }
      process.stdout.write(`[compose] ${leader} leads after ${seconds(start)} s\n`);
      const demo = await containerOf('demo');
      await waitUntil(async () => !(await docker.getContainer(demo).inspect()).State.Running, 45_000, 'the demo service to end');
      const exit = (await docker.getContainer(demo).inspect()).State.ExitCode;
      const logs = await compose('logs', '--no-color', 'demo');
      expect(logs).toContain('all 10 tasks FINISHED');
      expect(exit).toBe(0);
      process.stdout.write(`[compose] demo ended (exit ${exit}) ${seconds(start)} s after the leader was found\n`);
    });
  }, 120_000);

  it('runs the apps framework twice and the load balancer: web.json deployed through the standby answers its task id on its service port', async () => {
    await withLogs(async () => {
      const start = Date.now();
      let leading = 0;
      // Only the leader answers 200, once it has reconciled; the standby redirects.
      await waitUntil(async () => {
        for (const port of APPS) if ((await apps(port, '/v2/apps')).status === 200) leading = port;
        return leading !== 0;
      }, 60_000, 'an apps instance to lead');
      const standby = APPS.find((p) => p !== leading)!;
      await waitUntil(async () => (await apps(standby, '/v2/apps')).status === 307, 30_000, 'the other apps instance to redirect');
      expect((await apps(standby, '/v2/apps')).location).toBe(`http://127.0.0.1:${leading}/v2/apps`);
      process.stdout.write(`[compose] apps on ${leading} leads after ${seconds(start)} s; ${standby} redirects\n`);

      const { stdout } = await run(process.execPath, ['bin/mesos-ts.js', 'app', 'deploy', 'examples/apps/web.json', `--apps=http://127.0.0.1:${standby}`, '--timeout=90'], { cwd: repo, env });
      expect(stdout).toMatch(/\/examples\/web: 2\/2 healthy/);
      const app = (await apps(leading, '/v2/apps/examples/web')).body.app as { portDefinitions: { port: number }[]; tasks: { id: string; host: string }[] };
      const servicePort = app.portDefinitions[0]!.port;
      const ids = new Set(app.tasks.map((t) => t.id));
      // hostname:UNIQUE over the agents' distinct hostnames.
      expect(new Set(app.tasks.map((t) => t.host))).toEqual(new Set(['127.0.0.2', '127.0.0.3']));
      const answered = new Set<string>();
      await waitUntil(async () => {
        const res = await curl(servicePort);
        if (res.status === 200) answered.add(res.body);
        return answered.size === 2;
      }, 30_000, `HAProxy on ${servicePort} to answer from both tasks`);
      expect(answered).toEqual(ids);
      process.stdout.write(`[compose] /examples/web deployed and served through HAProxy on ${servicePort} ${seconds(start)} s after the apps leader was looked for\n`);
    });
  }, 150_000);

  it('keeps a running task when the leading master is killed: a standby leads, both agents re-register with it', async () => {
    await withLogs(async () => {
      const s = new Scheduler({
        master: ZK, framework: { name: 'compose-test', failoverTimeoutSeconds: 120 }, logger: silentLogger,
        reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
      });
      scheduler = s;
      const demand = parseDemand('cpus:0.1;mem:32');
      let launched = false;
      s.on('offers', ({ offers }) => {
        for (const offer of offers) {
          const resources = launched ? null : OfferPacker.of(offer).take(demand);
          if (!resources) {
            void s.decline(offer, { refuseSeconds: 60 }).catch(() => {});
            continue;
          }
          launched = true;
          const task = dockerTask({ taskId: TASK, agentId: offer.agent_id!.value, resources, image: 'mesos-ts/busybox:latest', command: 'sleep 600' });
          void s.launch(offer, [task]).catch(() => (launched = false));
        }
      });
      s.on('update', ({ status }) => void statuses.push(status));
      const { frameworkId } = await s.start();
      await waitUntil(() => statuses.some((st) => st.task_id?.value === TASK && st.state === 'TASK_RUNNING'), 20_000, `task ${TASK} to run`);
      const [before] = (await containersUnder(workDir)).filter((c) => c.Labels['mesos-ts.task_id'] === TASK);
      expect(before?.State).toBe('running');

      const killedAt = Date.now();
      await docker.getContainer(await containerOf(leader)).kill();
      const standbys = (Object.keys(MASTERS) as MasterService[]).filter((m) => m !== leader);
      await waitUntil(async () => (await leaders(standbys)).length === 1, 20_000, 'a standby to lead');
      const next = (await leaders(standbys))[0]!;
      const elected = seconds(killedAt);
      expect(await stateStatus(MASTERS[leader])).toBe(0);
      const port = MASTERS[next];
      await waitUntil(async () => (await state(port)).slaves.filter((a) => a.active).length === 2, 20_000, `both agents to re-register with ${next}`);
      const reregistered = seconds(killedAt);
      const taskOnLeader = async () => (await state(port)).frameworks.find((f) => f.id === frameworkId)?.tasks.find((t) => t.id === TASK);
      await waitUntil(async () => (await taskOnLeader())?.state === 'TASK_RUNNING', 20_000, `task ${TASK} to be RUNNING on ${next}`);
      process.stdout.write(`[compose] killed ${leader}: ${next} leads after ${elected} s, 2 agents re-registered after ${reregistered} s, ` +
        `task RUNNING there after ${seconds(killedAt)} s\n`);

      const st = await state(port);
      expect(st.slaves.map((a) => a.active)).toEqual([true, true]);
      expect(st.frameworks.find((f) => f.id === frameworkId)?.active).toBe(true);
      const [after] = (await containersUnder(workDir)).filter((c) => c.Labels['mesos-ts.task_id'] === TASK);
      expect(after?.Id).toBe(before!.Id);
      expect(after?.State).toBe('running');
      const states = new Set(statuses.filter((x) => x.task_id?.value === TASK).map((x) => x.state));
      expect([...states].filter((x) => !['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING'].includes(x))).toEqual([]);
    });
  }, 60_000);
});
