// The registry at scale in a real ZooKeeper (its default 1 MB jute.maxbuffer):
// 10,000 agents and 100,000 tasks written and read back by a second
// session, as a new leader reads them; one agent whose index alone would
// pass the limit; a registry written before sharding taken over by real
// masters, split by the first and read by its successor after a failover.
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { zooKeeperForFile } from '../harness/zookeeper.js';
import { MasterGroup } from '../harness/master-group.js';
import { ZkSession } from '../../common/zk/session.js';
import { Registry, type RegistryTask } from '../../master/registry/registry.js';
import { ZkRegistryStore } from '../../master/registry/zk-store.js';
import type { AgentInfoOut, FrameworkInfoOut } from '../../proto/index.js';

const quiet = (line: string) => { if (process.env.DEBUG_TEST) console.error(line); };
const report = (line: string) => console.log(`[registry-zk-shards] ${line}`);
const MB = 1024 * 1024;
const { server: zk, session } = zooKeeperForFile(10_000);

/** A registry writing under `path`, fenced by a candidacy of its own, as a leader's is. */
async function writer(path: string): Promise<Registry> {
  const s = await session();
  await s.mkdirp(path);
  const fence = await s.createEphemeralSequential(`${path}/json.info_`, Buffer.from('{}'));
  const failures: string[] = [];
  const registry = new Registry(new ZkRegistryStore(s, path, () => fence), (err) => failures.push(err.message));
  await registry.recover(); // As a leader starts: this also makes the registry's folders.
  return registry;
}

/** Shaped as an agent registers (as the scale harness's agents do): resources, attributes, id. */
const agentInfo = (id: string, i: number) => ({
  id: { value: id }, hostname: `agent-${String(i).padStart(5, '0')}.cluster.example.com`, port: 5051,
  resources: ['cpus', 'mem', 'disk'].map((name, k) => ({ name, type: 'SCALAR', scalar: { value: [16, 65536, 100000][k] }, role: '*' })),
  attributes: [{ name: 'rack', type: 'TEXT', text: { value: `r${i % 10}` } }, { name: 'index', type: 'SCALAR', scalar: { value: i } }],
}) as unknown as AgentInfoOut;
const frameworkInfo = (name: string) => ({ name, user: 'root', failover_timeout: 60, capabilities: [], roles: ['*'] }) as unknown as FrameworkInfoOut;
const task = (fw: string, i: number): RegistryTask => ({ framework_id: fw, task_id: `task-${randomUUID()}`, name: `load task ${i}`, resources: 'cpus:0.1;mem:32' });

/** Bytes of every znode under `dir` and of its children's names (the getChildren answer). */
async function sizes(s: ZkSession, dir: string): Promise<{ count: number; largest: number; listing: number }> {
  const names = await s.children(dir);
  let largest = 0;
  for (let i = 0; i < names.length; i += 256) {
    const chunk = await Promise.all(names.slice(i, i + 256).map((n) => s.data(`${dir}/${n}`)));
    for (const d of chunk) largest = Math.max(largest, d?.length ?? 0);
  }
  return { count: names.length, largest, listing: names.reduce((n, name) => n + 4 + Buffer.byteLength(name), 0) };
}

describe('the registry in a real ZooKeeper', () => {
  it('refuses a node over 1 MB: an unsharded index of 11,000 tasks could not be written', async () => {
    const s = await session();
    await s.mkdirp('/limit');
    const tasks = Array.from({ length: 11_000 }, (_, i) => task('fw-0001', i));
    const doc = Buffer.from(JSON.stringify({ info: agentInfo('a', 0), tasks }));
    expect(doc.length).toBeGreaterThan(MB);
    await expect(s.commit([{ op: 'create', path: '/limit/agent', data: doc }])).rejects.toThrow();
    expect(await s.data('/limit/agent')).toBeNull();
  }, 30_000);

  it('writes 10,000 agents and 100,000 tasks (one agent with 12,000), and a second session reads them all back', async () => {
    const path = '/scale';
    const registry = await writer(path);
    const master = randomUUID();
    const frameworks = Array.from({ length: 10 }, (_, i) => `${master}-${String(i).padStart(4, '0')}`);
    const ids = Array.from({ length: 10_000 }, (_, i) => `${master}-S${i}`);
    let started = Date.now();
    await Promise.all(frameworks.map((f, i) => registry.putFramework(f, frameworkInfo(`fw ${i}`), 1)));
    await Promise.all(ids.map((id, i) => registry.admitAgent(id, agentInfo(id, i), 1, '10.0.0.1')));
    const pending: Promise<void>[] = [];
    let placed = 0;
    for (const [i, id] of ids.entries()) {
      const count = i === 0 ? 12_000 : 9; // 12,000 + 9,999 × 9 ≈ 102,000 tasks.
      pending.push(registry.addTasks(id, Array.from({ length: count }, () => task(frameworks[placed++ % 10]!, placed))));
    }
    await Promise.all(pending);
    const wrote = Date.now() - started;
    expect(registry.agents.get(ids[0]!)!.task_shards).toBeGreaterThan(0);

    const s = await session();
    const agents = await sizes(s, `${path}/registry/agents`);
    const shards = await sizes(s, `${path}/registry/tasks`);
    report(`${placed} tasks on ${ids.length} agents written in ${wrote} ms (${registry.writes} writes); agents: ${agents.count} znodes, largest ${agents.largest} B, listing ${agents.listing} B; task shards: ${shards.count} znodes, largest ${shards.largest} B`);
    expect(agents.count).toBe(10_000);
    expect(agents.largest).toBeLessThan(MB / 4);
    expect(shards.largest).toBeLessThan(MB / 4);
    expect(agents.listing).toBeLessThan(MB / 2);

    started = Date.now();
    const reader = new Registry(new ZkRegistryStore(s, path, () => null));
    await reader.recover(); // A consistent registry: recovering writes nothing (the fence would refuse it).
    report(`read back in ${Date.now() - started} ms`);
    expect(reader.agents.size).toBe(10_000);
    expect(reader.frameworks.size).toBe(10);
    let total = 0;
    for (const [id, a] of reader.agents) {
      total += a.tasks.size;
      expect([...a.tasks.keys()].sort()).toEqual([...registry.agents.get(id)!.tasks.keys()].sort());
    }
    expect(total).toBe(placed);
    expect(reader.agents.get(ids[4_242]!)!.info).toEqual(agentInfo(ids[4_242]!, 4_242));
  }, 300_000);

  it('a registry written before sharding: the first master splits the large index, its successor reads it', async () => {
    const path = '/upgrade';
    const s = await session();
    await s.mkdirp(`${path}/registry/agents`);
    await s.mkdirp(`${path}/registry/frameworks`);
    const old = Array.from({ length: 7_000 }, (_, i) => task('fw-old', i)); // About 0.7 MB inline: an old master could write it.
    const oldDoc = { info: agentInfo('old-agent', 1), ip: '10.0.0.2', registered_time: 1, unreachable_time: null, gone_time: null, tasks: old, reservations: [], deactivated: false, secret_hash: '', drain: null };
    const small = { ...oldDoc, info: agentInfo('small-agent', 2), tasks: old.slice(0, 3) };
    await s.commit([
      { op: 'create', path: `${path}/registry/agents/old-agent`, data: Buffer.from(JSON.stringify(oldDoc)) },
      { op: 'create', path: `${path}/registry/agents/small-agent`, data: Buffer.from(JSON.stringify(small)) },
      { op: 'create', path: `${path}/registry/frameworks/fw-old`, data: Buffer.from(JSON.stringify({ info: frameworkInfo('old'), registered_time: 1, removed_time: null })) },
    ]);
    expect((await s.data(`${path}/registry/agents/old-agent`))!.length).toBeGreaterThan(MB / 2);

    const group = new MasterGroup(`zk://${zk().connectString}${path}`, { zk_session_timeout: 2, agent_reregister_timeout: 600 }, quiet);
    try {
      await group.add();
      const first = await group.leader();
      const known = (m: typeof first) => [...(m.master.registry.agents.get('old-agent')?.tasks.keys() ?? [])].sort();
      const expected = old.map((t) => `fw-old/${t.task_id}`).sort();
      expect(known(first)).toEqual(expected);
      // The split is in ZooKeeper once the first master leads: the agent's node is small, its tasks in shards.
      const entry = JSON.parse((await s.data(`${path}/registry/agents/old-agent`))!.toString()) as { task_shards: number; tasks: unknown[] };
      expect(entry.tasks).toEqual([]);
      expect(entry.task_shards).toBeGreaterThan(1);
      const shards = await sizes(s, `${path}/registry/tasks`);
      expect(shards.count).toBe(entry.task_shards);
      expect(shards.largest).toBeLessThan(MB / 4);
      expect(JSON.parse((await s.data(`${path}/registry/agents/small-agent`))!.toString()).tasks).toHaveLength(3);

      await group.add();
      const { next } = await group.failOver();
      expect(next).not.toBe(first);
      expect(known(next)).toEqual(expected);
      expect(next.master.registry.agents.get('old-agent')!.task_shards).toBe(entry.task_shards);
      expect(next.master.registry.agents.get('small-agent')!.tasks.size).toBe(3);
      expect(next.master.registry.frameworks.has('fw-old')).toBe(true);
    } finally {
      await group.stopAll();
    }
  }, 120_000);
});
