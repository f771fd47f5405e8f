// Mesos client libraries written by others, unmodified, against a real
// master and agent with tasks in containers (issue 14):
//
// - `mesos-framework` (npm, 0.5.x): a v1 HTTP scheduler library. It finds the
//   master from `masterUrl`/`port` (or follows a 307), speaks JSON, and its
//   default handlers read Offer.url.address.ip, Offer.hostname, and
//   TaskStatus.agent_id / executor_id / uuid / reason. Its own machinery
//   launches, acknowledges and reconciles here; the test only calls its
//   public methods (kill, reconcile, teardown).
// - `mesos` (npm, 0.7.0): despite its name, its clients are for Marathon and
//   Chronos only (lib/index.js exports nothing else), so there is no Mesos
//   master call of it to run; the test records that, so a version that adds
//   one shows up here.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, containersUnder, TEST_IMAGE, type TestCluster } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { startZooKeeper } from '../harness/zookeeper.js';
import { startMaster } from '../../master/main.js';

const require = createRequire(import.meta.url);

/** What the test uses of mesos-framework's Scheduler (the library ships no types). */
interface LibraryScheduler extends EventEmitter {
  frameworkId: string | null;
  options: { masterUrl: string; port: number | string };
  launchedTasks: { taskId: string; name: string; runtimeInfo?: { agentId?: string; executorId?: string; state?: string; network?: { hostname?: string; ip?: string | null } } }[];
  subscribe(): void;
  kill(taskId: string, agentId: string): void;
  reconcile(taskId?: string, agentId?: string): void;
  teardown(): void;
}
interface LibraryStatus {
  task_id: { value: string }; state: string; agent_id?: { value: string }; executor_id?: { value: string };
  uuid?: string; reason?: string; source?: string; timestamp?: number;
}
interface LibraryOffer { id: { value: string }; hostname: string; url: { address: { ip: string; hostname: string; port: number } } }

/** The library's protobuf.js 5 message constructors (Mesos 0.28 protos): its handlers need tasks built with them. */
type Ctor = new (...args: unknown[]) => object;
interface LibraryMesos { CommandInfo: Ctor; ContainerInfo: Ctor & { Type: { DOCKER: number }; DockerInfo: Ctor & { Network: { HOST: number } } } }
const library = require('mesos-framework') as { Scheduler: new (options: object) => LibraryScheduler; Mesos: { getMesos(): LibraryMesos } };
const { Scheduler } = library;
const Mesos = library.Mesos.getMesos();

let cluster: TestCluster;
let logDir: string;
let scheduler: LibraryScheduler;
const updates: LibraryStatus[] = [];
const offers: LibraryOffer[] = [];
const errors: unknown[] = [];
/** The library's record of each task's network (from its offer) when the first update about it came. */
const launched = new Map<string, { hostname?: string; ip?: string | null }>();
let acknowledged = 0;

const taskOf = (name: string) => scheduler.launchedTasks.find((t) => t.name === name);
const statusOf = (prefix: string, state: string, reason?: string) =>
  updates.find((s) => s.task_id.value.startsWith(prefix) && s.state === state && (reason === undefined || s.reason === reason));
async function waitForStatus(prefix: string, state: string, reason?: string): Promise<LibraryStatus> {
  await waitUntil(() => statusOf(prefix, state, reason) !== undefined, 30_000, `${prefix} ${state}`);
  return statusOf(prefix, state, reason)!;
}

beforeAll(async () => {
  cluster = await startCluster({ agents: ['cpus:2;mem:1024;disk:1024;ports:[31400-31409]'] });
  logDir = mkdtempSync(join(tmpdir(), 'mesos-framework-logs-'));
  const [host, port] = cluster.master.httpAddress.split(':');
  // As the library's examples build them: type, volumes, hostname, docker (image, network, ...); uris, environment, shell, value.
  const inImage = () => new Mesos.ContainerInfo(Mesos.ContainerInfo.Type.DOCKER, null, null, new Mesos.ContainerInfo.DockerInfo(TEST_IMAGE, Mesos.ContainerInfo.DockerInfo.Network.HOST));
  const shell = (command: string) => new Mesos.CommandInfo(null, null, true, command);
  scheduler = new Scheduler({
    masterUrl: host, port,
    frameworkName: 'mesos-framework-test',
    // Longer than the master's 15 s heartbeat: the library's default (10 s) would reconnect between heartbeats.
    masterConnectionTimeout: 40,
    logging: { path: logDir, fileName: 'scheduler.log', level: 'error' },
    tasks: {
      hello: { priority: 1, resources: { cpus: 0.1, mem: 32, disk: 0, ports: 1 }, commandInfo: shell('echo hi; sleep 1'), containerInfo: inImage() },
      sleeper: { priority: 2, resources: { cpus: 0.1, mem: 32, disk: 0, ports: 0 }, commandInfo: shell('sleep 120'), containerInfo: inImage() },
    },
  });
  scheduler.on('offers', (o: { offers: LibraryOffer[] }) => offers.push(...o.offers));
  scheduler.on('update', (u: { status: LibraryStatus }) => updates.push(u.status));
  scheduler.on('sent_acknowledge', () => acknowledged++);
  scheduler.on('update', (u: { status: LibraryStatus }) => {
    const task = scheduler.launchedTasks.find((t) => t.taskId === u.status.task_id.value);
    if (task && !launched.has(task.name)) launched.set(task.name, { ...task.runtimeInfo?.network });
  });
  scheduler.on('error', (e: unknown) => errors.push(e));
  await new Promise<void>((resolve) => scheduler.once('ready', resolve));
  scheduler.subscribe();
  await waitUntil(() => scheduler.frameworkId !== null, 10_000, 'SUBSCRIBED');
}, 60_000);

afterAll(async () => {
  // The library re-subscribes whenever its stream ends; once the test is done there is nothing to come back to.
  if (scheduler) scheduler.subscribe = () => {};
  await cluster?.stop();
  expect(await containersUnder(cluster.base)).toEqual([]);
  rmSync(logDir, { recursive: true, force: true });
});

describe('mesos-framework Scheduler (v1 HTTP, JSON)', () => {
  it('takes an offer and launches both tasks through its own OFFERS handler', async () => {
    await waitUntil(() => launched.has('hello-1') && launched.has('sleeper-1'), 30_000, 'both tasks running');
    const offer = offers[0]!;
    expect(offer.url.address.ip).toBe('127.0.0.1');
    expect(offer.url.address.port).toBe(Number(cluster.agents[0]!.httpAddress.split(':')[1]));
    // What the library keeps of the offer for a task: the agent's hostname and IP.
    expect(launched.get('hello-1')).toMatchObject({ hostname: offer.hostname, ip: '127.0.0.1' });
  });

  it('follows a task to TASK_RUNNING and TASK_FINISHED, acknowledging each update itself', async () => {
    const running = await waitForStatus('mesos-framework-test.hello-1.', 'TASK_RUNNING');
    expect(running.source).toBe('SOURCE_EXECUTOR');
    expect(running.agent_id!.value).toBe(cluster.agents[0]!.agentId());
    expect(running.executor_id?.value).toBeTruthy();
    expect(typeof running.timestamp).toBe('number');
    expect(Buffer.from(running.uuid!, 'base64').length).toBe(16);
    await waitForStatus('mesos-framework-test.hello-1.', 'TASK_FINISHED');
    // Every update with a uuid acknowledged (202) by the library; the agent stops resending.
    await waitUntil(() => acknowledged >= updates.filter((s) => s.uuid).length, 10_000, 'acknowledgements');
    await waitUntil(() => cluster.agents[0]!.agent.updates.pending().length === 0, 15_000, 'acknowledgements to reach the agent');
    // A finished task leaves the library's list of launched tasks.
    expect(taskOf('hello-1')).toBeUndefined();
  });

  it('reconciles a running task: the answer carries the reason and no uuid, and is not acknowledged', async () => {
    await waitForStatus('mesos-framework-test.sleeper-1.', 'TASK_RUNNING');
    const sleeper = taskOf('sleeper-1')!;
    // The library acknowledges each update with a uuid after its handler ran: counted once its POST is answered.
    const withUuid = () => updates.filter((s) => s.uuid).length;
    await waitUntil(() => acknowledged >= withUuid(), 10_000, 'the acknowledgements of the updates so far');
    scheduler.reconcile(sleeper.taskId, sleeper.runtimeInfo!.agentId!);
    const answer = await waitForStatus('mesos-framework-test.sleeper-1.', 'TASK_RUNNING', 'REASON_RECONCILIATION');
    expect(answer.uuid).toBeUndefined();
    expect(answer.source).toBe('SOURCE_MASTER');
    expect(answer.agent_id!.value).toBe(sleeper.runtimeInfo!.agentId);
    await new Promise((r) => setTimeout(r, 300));
    // One acknowledgement per update with a uuid (a redelivered one included), none for the answer.
    expect(acknowledged).toBe(withUuid());
  });

  it('kills a task', async () => {
    const sleeper = taskOf('sleeper-1')!;
    scheduler.kill(sleeper.taskId, sleeper.runtimeInfo!.agentId!);
    const killed = await waitForStatus('mesos-framework-test.sleeper-1.', 'TASK_KILLED');
    expect(killed.agent_id!.value).toBe(cluster.agents[0]!.agentId());
  });

  it('tears down: the framework is gone from the master', async () => {
    const id = scheduler.frameworkId!;
    const torn = new Promise((resolve) => scheduler.once('sent_teardown', resolve));
    scheduler.subscribe = () => {}; // Its stream ends with the teardown; it would subscribe again.
    scheduler.teardown();
    await torn;
    await waitUntil(async () => {
      const state = await (await fetch(`http://${cluster.master.httpAddress}/state`)).json() as { frameworks: { id: string }[] };
      return !state.frameworks.some((f) => f.id === id);
    }, 10_000, 'framework removed');
    // Nothing the library sent was refused: every call answered 202, every event parsed.
    expect(errors.filter((e) => !/Long-running connection was closed/.test(JSON.stringify(e)))).toEqual([]);
  });
});

describe('mesos-framework Scheduler pointed at a standby master', () => {
  it('follows its 307 to the leader (found in ZooKeeper) and subscribes there', async () => {
    const zk = await startZooKeeper();
    const url = `zk://${zk.connectString}/mesos`;
    const quiet = () => {};
    const leader = await startMaster({ zk: url, port: 0, grpc_port: 0 }, quiet);
    await waitUntil(() => leader.leading(), 15_000, 'a leader');
    const standby = await startMaster({ zk: url, port: 0, grpc_port: 0 }, quiet);
    const [host, port] = standby.httpAddress.split(':');
    const follower = new Scheduler({ masterUrl: host, port, frameworkName: 'redirected', masterConnectionTimeout: 40, logging: { path: logDir, fileName: 'redirected.log', level: 'error' } });
    follower.on('error', () => {}); // Its stream ends when the masters stop.
    try {
      await new Promise<void>((resolve) => follower.once('ready', resolve));
      const subscribed = new Promise<{ frameworkId: string }>((resolve) => follower.once('subscribed', resolve));
      follower.subscribe();
      expect((await subscribed).frameworkId).toMatch(/-0000$/);
      expect(`${follower.options.masterUrl}:${follower.options.port}`).toBe(leader.httpAddress);
    } finally {
      follower.subscribe = () => {};
      await standby.stop();
      await leader.stop();
      await zk.stop();
    }
  }, 60_000);
});

describe('mesos (npm) clients', () => {
  it('has no Mesos master client to run: only Marathon and Chronos', () => {
    const lib = require('mesos') as Record<string, unknown>;
    expect(Object.keys(lib).sort()).toEqual(['Chronos', 'Marathon']);
  });
});
