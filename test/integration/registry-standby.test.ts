// A standby master's warm copy of the registry, in a real ZooKeeper: what
// it reads once elected (its copy, plus the log entries after the last it
// applied) must equal what a full read of every znode returns, whatever the
// leader did meanwhile: agents admitted and removed, task indexes split
// into shards and back, frameworks, settings, writes landing while the
// standby was reading, and a log trimmed past the standby (a full read
// then), and a standby whose session ended while it read.
import { describe, expect, it } from 'vitest';
import { zooKeeperForFile } from '../harness/zookeeper.js';
import { MasterGroup } from '../harness/master-group.js';
import { waitUntil } from '../harness/wait-until.js';
import { TcpProxy } from '../harness/tcp-proxy.js';
import { ZkSession } from '../../common/zk/session.js';
import { createLogger } from '../../common/log/logger.js';
import { Registry, type RegistryTask } from '../../master/registry/registry.js';
import { ZkRegistryStore } from '../../master/registry/zk-store.js';
import { entryNumbers, LOG_KEEP } from '../../master/registry/zk-log.js';
import type { AgentInfoOut, FrameworkInfoOut } from '../../proto/index.js';

const quiet = (line: string) => { if (process.env.DEBUG_TEST) console.error(line); };
const { server: zk, session } = zooKeeperForFile(10_000);

/** A session with a candidacy of its own under `path`, as a master's. */
async function candidate(path: string): Promise<{ s: ZkSession; fence: string }> {
  const s = await session();
  await s.mkdirp(path);
  return { s, fence: await s.createEphemeralSequential(`${path}/json.info_`, Buffer.from('{}')) };
}

/** A leader's registry under `path`, recovered as a leader starts (which makes the registry's folders). */
async function leader(path: string): Promise<{ registry: Registry; s: ZkSession }> {
  const { s, fence } = await candidate(path);
  const registry = new Registry(new ZkRegistryStore(s, path, () => fence), (err) => { throw err; });
  await registry.recover();
  return { registry, s };
}

/** A standby's store following the registry, with its log lines. */
async function standby(path: string, options: { pollMs?: number; step?: (kind: string) => Promise<void> | void } = {}) {
  const { s, fence } = await candidate(path);
  const lines: string[] = [];
  const store = new ZkRegistryStore(s, path, () => fence, createLogger({ component: 'registry', sink: (l) => (lines.push(l), quiet(l)) }));
  const follower = store.follow({ pollMs: 20, ...options });
  return { store, follower, lines, s };
}

/** What a master that never stood by reads: every znode. */
async function fullRead(path: string) {
  return new ZkRegistryStore(await session(), path, () => null).load();
}

async function logEntries(path: string): Promise<number[]> {
  return entryNumbers(await (await session()).children(`${path}/registry/log`));
}

const agentInfo = (id: string) => ({ id: { value: id }, hostname: `${id}.example.com`, port: 5051, resources: [], attributes: [] }) as unknown as AgentInfoOut;
const frameworkInfo = (name: string) => ({ name, user: 'root', failover_timeout: 60, capabilities: [], roles: ['*'] }) as unknown as FrameworkInfoOut;
const tasks = (fw: string, from: number, n: number): RegistryTask[] =>
  Array.from({ length: n }, (_, i) => ({ framework_id: fw, task_id: `task-${from + i}-${'x'.repeat(40)}`, name: `task ${from + i}`, resources: 'cpus:0.1;mem:32' }));

/** Agents a0..a(n-1), frameworks f0..f2, weights and quota; agent a0 with 2,000 tasks (in shards). */
async function populate(registry: Registry, n: number): Promise<void> {
  await Promise.all([0, 1, 2].map((i) => registry.putFramework(`f${i}`, frameworkInfo(`framework ${i}`), 1)));
  await Promise.all(Array.from({ length: n }, (_, i) => registry.admitAgent(`a${i}`, agentInfo(`a${i}`), 1, '127.0.0.1')));
  await registry.addTasks('a0', tasks('f0', 0, 2_000));
  await registry.apply({ op: 'setWeights', weights: new Map([['web', 2]]) });
  await registry.apply({ op: 'setQuota', role: 'web', quota: { guarantee: 'cpus:1', limit: 'cpus:4' } });
  expect(registry.agents.get('a0')!.task_shards).toBeGreaterThan(0);
}

describe('a standby master follows the registry log', () => {
  it('once elected, its warm read equals a full read: agents, task shards, frameworks, settings and deletes', async () => {
    const path = '/warm';
    const { registry, s: leaderSession } = await leader(path);
    await populate(registry, 40);
    const { store, follower, lines } = await standby(path);
    await waitUntil(() => follower.applied !== null, 10_000, 'the standby to read the registry');

    // What the leader does while the standby follows: more agents, a larger index (more shards), deletes.
    await Promise.all(Array.from({ length: 10 }, (_, i) => registry.admitAgent(`b${i}`, agentInfo(`b${i}`), 2, '127.0.0.1')));
    const shardsBefore = registry.agents.get('a0')!.task_shards;
    await registry.addTasks('a0', tasks('f1', 2_000, 2_000));
    expect(registry.agents.get('a0')!.task_shards).toBeGreaterThan(shardsBefore);
    await registry.addTasks('a1', tasks('f2', 0, 2_000)); // a1's index moves to shards, then a1 is forgotten: its shards go.
    await Promise.all(['a1', 'a2', 'a3'].map((id) => registry.apply({ op: 'removeAgent', id })));
    // Single task changes go to the journal (master/registry/task-journal.ts), and reach the standby as entries.
    for (let i = 0; i < 5; i++) await registry.addTasks('b0', tasks('f0', 100 + i, 1));
    await registry.removeTask('a0', 'f0', tasks('f0', 7, 1)[0]!.task_id);
    await registry.removeFramework('f2', 3);
    await registry.apply({ op: 'setQuota', role: 'web', quota: null });
    await registry.apply({ op: 'setMaintenance', windows: [{ machines: [{ hostname: 'b1.example.com', ip: '' }], start: 10, duration: 60 }], down: [] });
    const last = (await logEntries(path)).at(-1)!;
    await waitUntil(() => follower.applied === last, 10_000, `the standby to apply entry ${last}`);
    leaderSession.close(); // The leader dies: its candidacy goes, the standby's is next.

    const warm = await store.load();
    expect(lines.some((l) => l.includes('warm read'))).toBe(true);
    const full = await fullRead(path);
    expect(warm).toEqual(full);
    expect(warm.has('agents/b9')).toBe(true);
    expect(warm.has('agents/a1')).toBe(false);
    expect([...warm.keys()].filter((k) => k.startsWith('tasks/a1/'))).toEqual([]);
    expect([...warm.keys()].filter((k) => k.startsWith('tasks/a0/')).length).toBe(registry.agents.get('a0')!.task_shards);
    // The standby, now leading, continues the log where its predecessor stopped.
    const next = new Registry(store);
    await next.recover();
    expect([...warm.keys()].some((k) => k.startsWith('journal/'))).toBe(true);
    expect(next.agents.get('a0')!.tasks.size).toBe(3_999);
    expect(next.agents.get('b0')!.tasks.size).toBe(5);
    await next.admitAgent('c0', agentInfo('c0'), 4, '127.0.0.1');
    expect((await logEntries(path)).at(-1)).toBe(last + 1);
  }, 60_000);

  it('writes that land while the standby reads the registry are in its copy once it applies their entries', async () => {
    const path = '/mid-load';
    const { registry, s: leaderSession } = await leader(path);
    await populate(registry, 30);
    let interleaved = false;
    const { store, follower, lines } = await standby(path, {
      // Between the agents (read) and the frameworks (not yet): change both, and delete an agent the copy holds.
      step: async (kind) => {
        if (kind !== 'agents' || interleaved) return;
        interleaved = true;
        await Promise.all([
          registry.admitAgent('late', agentInfo('late'), 2, '127.0.0.1'),
          registry.apply({ op: 'removeAgent', id: 'a5' }),
          registry.addTasks('a6', tasks('f1', 0, 3)),
          registry.putFramework('f-late', frameworkInfo('late'), 2),
          registry.removeFramework('f1', 2),
        ]);
      },
    });
    const last = async () => (await logEntries(path)).at(-1)!;
    await waitUntil(async () => interleaved && follower.applied === (await last()), 10_000, 'the standby to apply the writes made during its read');
    leaderSession.close();

    const warm = await store.load();
    expect(lines.some((l) => l.includes('warm read'))).toBe(true);
    expect(warm).toEqual(await fullRead(path));
    expect(warm.has('agents/late')).toBe(true);
    expect(warm.has('agents/a5')).toBe(false);
    expect(warm.has('frameworks/f-late')).toBe(true);
  }, 60_000);

  it('a standby that has not polled since the leader wrote applies those entries once elected', async () => {
    const path = '/catch-up';
    const { registry, s: leaderSession } = await leader(path);
    await populate(registry, 10);
    const { store, follower, lines } = await standby(path, { pollMs: 600_000 }); // Polls only at its start.
    await waitUntil(() => follower.applied !== null, 10_000, 'the standby to read the registry');
    const read = follower.applied!;
    await registry.addTasks('a0', tasks('f1', 2_000, 2_000));
    await Promise.all(['a7', 'a8'].map((id) => registry.apply({ op: 'removeAgent', id })));
    await registry.putFramework('f9', frameworkInfo('nine'), 2);
    const last = (await logEntries(path)).at(-1)!;
    expect(last).toBeGreaterThan(read);
    leaderSession.close();

    const warm = await store.load();
    expect(lines.filter((l) => l.includes('warm read') && l.includes(`entries=${last - read} `))).toHaveLength(1);
    expect(warm).toEqual(await fullRead(path));
    expect(warm.has('agents/a7')).toBe(false);
  }, 60_000);

  it('a log trimmed past the standby: its next entry is gone, so it reads every znode (cold), and the log keeps the newest 1,000', async () => {
    const path = '/trimmed';
    const { registry, s: leaderSession } = await leader(path);
    await populate(registry, 5);
    // Polls only at its start: the leader's writes then outrun it.
    const { store, follower, lines } = await standby(path, { pollMs: 600_000 });
    await waitUntil(() => follower.applied !== null, 10_000, 'the standby to read the registry');
    for (let i = 0; i < LOG_KEEP + 10; i++) await registry.putFramework(`g${i}`, frameworkInfo(`g ${i}`), 2); // One multi each.
    await registry.apply({ op: 'removeAgent', id: 'a4' });
    const entries = await logEntries(path);
    expect(entries.length).toBe(LOG_KEEP);
    expect(entries.at(-1)! - entries[0]! + 1).toBe(LOG_KEEP); // Consecutive.
    leaderSession.close();

    const read = await store.load();
    expect(lines.some((l) => l.includes('cold read'))).toBe(true);
    expect(lines.some((l) => l.includes('warm read'))).toBe(false);
    expect(read).toEqual(await fullRead(path));
    expect(read.has('frameworks/g1009')).toBe(true);
    expect(read.has('agents/a4')).toBe(false);
  }, 120_000);

  it('a standby whose session ends mid-read (ZooKeeper silent) reads every znode once elected on a new session', async () => {
    const path = '/ended-mid-read';
    const { registry, s: leaderSession } = await leader(path);
    await populate(registry, 5);
    // The standby reaches ZooKeeper through a proxy that goes silent, with a short session: only its session ends.
    const proxy = await TcpProxy.start(zk().connectString);
    const old = await ZkSession.connect({ servers: proxy.address, sessionTimeoutMs: 2000 });
    try {
      await old.mkdirp(path);
      const oldFence = await old.createEphemeralSequential(`${path}/json.info_`, Buffer.from('{}'));
      const ended = new Promise<string>((resolve) => old.onEnd(resolve));
      let current = old;
      let fence = oldFence;
      const lines: string[] = [];
      const store = new ZkRegistryStore(() => current, path, () => fence, createLogger({ component: 'registry', sink: (l) => (lines.push(l), quiet(l)) }));
      let cut = false;
      store.follow({
        pollMs: 600_000, // Polls only at its start: the read cut below is its only one.
        // Between the agents (read) and the frameworks, ZooKeeper falls silent for the standby (a partition, a
        // member frozen): its connection is dropped, and its next reads wait in the client's queue.
        step: async (kind) => {
          if (kind !== 'agents' || cut) return;
          cut = true;
          proxy.freeze();
          await waitUntil(() => old.server === null, 10_000, "the standby's silent connection to be dropped");
        },
      });
      expect(await ended).toBe('no contact with ZooKeeper for 2000 ms');
      // As election.ts does: a candidacy on a new session, elected once the leader (which wrote meanwhile) goes.
      await registry.admitAgent('late', agentInfo('late'), 2, '127.0.0.1');
      const next = await candidate(path);
      [current, fence] = [next.s, next.fence];
      leaderSession.close();

      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the elected standby never read the registry')), 20_000)));
      const read = await Promise.race([store.load(), hung]).finally(() => clearTimeout(timer));
      expect(lines.filter((l) => l.includes('following the registry failed (the ZooKeeper session ended (no contact with ZooKeeper for 2000 ms))'))).toHaveLength(1);
      expect(lines.some((l) => l.includes('cold read'))).toBe(true);
      expect(read).toEqual(await fullRead(path));
      expect(read.has('agents/late')).toBe(true);
    } finally {
      old.close();
      await proxy.close();
    }
  }, 60_000);

  it('a standby told the leader keeps no log (an earlier version) reads every znode once elected', async () => {
    const path = '/no-log';
    const { registry, s: leaderSession } = await leader(path);
    await populate(registry, 5);
    const { store, follower, lines } = await standby(path);
    await waitUntil(() => follower.applied !== null, 10_000, 'the standby to read the registry');
    store.leaderWithoutLog('the leading master m1 keeps no registry log');
    expect(follower.applied).toBeNull();
    leaderSession.close();
    expect(await store.load()).toEqual(await fullRead(path));
    expect(lines.some((l) => l.includes('cold read'))).toBe(true);
  }, 60_000);

  it('real masters: a standby behind a leader of an earlier version (no registry_log, no log) reads every znode once elected', async () => {
    const path = '/old-leader';
    // The earlier version's leader: its MasterInfo without registry_log, its writes without log entries.
    const old = await session();
    await old.mkdirp(`${path}/registry/agents`);
    const info = { id: 'old-master', hostname: 'localhost', address: { ip: '127.0.0.1', port: 1 }, grpc_address: '127.0.0.1:1' };
    await old.createEphemeralSequential(`${path}/json.info_`, Buffer.from(JSON.stringify(info)));
    const agentDoc = (id: string) => Buffer.from(JSON.stringify({ info: agentInfo(id), ip: '127.0.0.1', registered_time: 1, tasks: [], reservations: [] }));
    await old.commit([{ op: 'create', path: `${path}/registry/agents/before`, data: agentDoc('before') }]);
    const lines: string[] = [];
    const group = new MasterGroup(`zk://${zk().connectString}${path}`, { zk_session_timeout: 2, agent_reregister_timeout: 600 }, (l) => (lines.push(l), quiet(l)));
    try {
      const standby = await group.add();
      expect(lines.some((l) => l.includes('keeps no registry log'))).toBe(true);
      await old.commit([{ op: 'create', path: `${path}/registry/agents/after`, data: agentDoc('after') }]);
      old.close();
      await waitUntil(() => standby.leading(), 15_000, 'the standby to lead');
      expect([...standby.master.registry.agents.keys()].sort()).toEqual(['after', 'before']);
      expect(lines.some((l) => l.includes('cold read'))).toBe(true);
    } finally {
      await group.stopAll();
    }
  }, 60_000);

  it('real masters: the standby that takes over reads warm and knows what its predecessor admitted', async () => {
    const path = '/masters';
    const lines: string[] = [];
    const group = new MasterGroup(`zk://${zk().connectString}${path}`, { zk_session_timeout: 2, agent_reregister_timeout: 600 }, (l) => (lines.push(l), quiet(l)));
    try {
      const first = await group.add();
      await group.leader();
      await group.add();
      await first.master.registry.admitAgent('agent-1', agentInfo('agent-1'), 1, '127.0.0.1');
      await first.master.registry.putFramework('fw-1', frameworkInfo('fw'), 1);
      await waitUntil(() => lines.some((l) => l.includes('standby read')), 10_000, 'the standby to read the registry');
      const { next } = await group.failOver();
      expect(next.master.registry.agents.has('agent-1')).toBe(true);
      expect(next.master.registry.frameworks.has('fw-1')).toBe(true);
      expect(lines.filter((l) => l.includes('warm read'))).toHaveLength(1);
    } finally {
      await group.stopAll();
    }
  }, 60_000);
});
