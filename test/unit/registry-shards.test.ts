// An agent's task index split over registry entries (task-shards.ts): what
// the store holds as the index grows and shrinks, what a successor reads,
// and how a registry written before sharding, or cut short mid-write, is
// put in order when a new leader recovers it.
import { describe, expect, it } from 'vitest';
import { InMemoryStore, Registry, type RegistryKey, type RegistryTask } from '../../master/registry/registry.js';
import { CountingStore } from '../harness/counting-store.js';
import { INLINE_MAX_BYTES, SHARD_TARGET_BYTES, shardOf, shardsFor } from '../../master/registry/task-shards.js';
import type { AgentInfoOut } from '../../proto/index.js';

const info = { hostname: 'h', resources: [], attributes: [] } as unknown as AgentInfoOut;
/** About 100 bytes of JSON each. */
const tasks = (from: number, count: number): RegistryTask[] =>
  Array.from({ length: count }, (_, i) => ({ framework_id: 'fw-0001', task_id: `task-${String(from + i).padStart(6, '0')}`, name: 'a task', resources: 'cpus:0.1;mem:32' }));
const bytesOf = (doc: Record<string, unknown>) => Buffer.byteLength(JSON.stringify(doc));
const keysOf = async (store: InMemoryStore) => [...(await store.load()).keys()].sort();

describe('shardsFor', () => {
  it('keeps a small index inline, splits a large one in powers of two, never shrinks', () => {
    expect(shardsFor(INLINE_MAX_BYTES, 0)).toBe(0);
    expect(shardsFor(INLINE_MAX_BYTES + 1, 0)).toBe(2); // 1 shard of SHARD_TARGET_BYTES would already be full.
    expect(shardsFor(5 * SHARD_TARGET_BYTES, 0)).toBe(8);
    expect(shardsFor(10, 4)).toBe(4);
    expect(shardsFor(5 * SHARD_TARGET_BYTES, 4)).toBe(8);
  });

  it('spreads keys over the shards', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[shardOf(`fw/task-${i}`, 8)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800); // 1,000 each if even.
  });
});

describe('Registry task shards', () => {
  it('moves a growing index out of the agent entry into shards, no entry above the shard target', async () => {
    const store = new CountingStore();
    const registry = new Registry(store);
    await registry.admitAgent('a1', info, 1);
    await registry.addTasks('a1', tasks(0, 500));
    expect(registry.agents.get('a1')!.task_shards).toBe(0);
    await registry.addTasks('a1', tasks(500, 5000)); // About 570 KB of index.
    const agent = registry.agents.get('a1')!;
    expect(agent.task_shards).toBe(8);
    const docs = await store.load();
    expect(docs.get('agents/a1')!.tasks).toEqual([]);
    expect(docs.get('agents/a1')!.task_shards).toBe(8);
    const shardKeys = [...docs.keys()].filter((k) => k.startsWith('tasks/'));
    expect(shardKeys.sort()).toEqual(Array.from({ length: 8 }, (_, k) => `tasks/a1/${k}of8`).sort());
    for (const k of shardKeys) expect(bytesOf(docs.get(k)!)).toBeLessThan(SHARD_TARGET_BYTES * 1.5);

    store.batches.length = 0;
    await registry.removeTask('a1', 'fw-0001', 'task-000042');
    // The change goes to the journal (task-journal.ts); the shard that holds the task is rewritten at compaction.
    expect(store.batches.map((b) => b.map((c) => c.key))).toEqual([[expect.stringMatching(/^journal\/\d+$/)]]);

    const reader = new Registry(store);
    await reader.recover();
    expect(reader.agents.get('a1')!.tasks.size).toBe(5499);
    expect(reader.agents.get('a1')!.tasks.has('fw-0001/task-000042')).toBe(false);
    expect(reader.agents.get('a1')!.task_shards).toBe(8);
  });

  it('removes the shards when the agent is gone or forgotten', async () => {
    const store = new InMemoryStore();
    const registry = new Registry(store);
    await registry.admitAgent('a1', info, 1);
    await registry.admitAgent('a2', info, 1);
    await Promise.all([registry.addTasks('a1', tasks(0, 2000)), registry.addTasks('a2', tasks(0, 2000))]);
    expect((await keysOf(store)).filter((k) => k.startsWith('tasks/'))).toHaveLength(4); // About 200 KB each: 2 shards.
    await registry.markAgentGone('a1', 5);
    await registry.apply({ op: 'removeAgent', id: 'a2' });
    expect(await keysOf(store)).toEqual(['agents/a1']);
    expect((await store.load()).get('agents/a1')).toMatchObject({ gone_time: 5, task_shards: 0, tasks: [] });
  });

  it('a new leader splits an index written inline by a master before sharding, and its successor reads it', async () => {
    const store = new InMemoryStore();
    const old = tasks(0, 11_000);
    await store.write([{ key: 'agents/a1', value: { info, registered_time: 1, tasks: old } }, { key: 'agents/a2', value: { info, registered_time: 1, tasks: tasks(0, 3) } }]);

    expect(bytesOf({ tasks: old })).toBeGreaterThan(1024 * 1024); // Beyond ZooKeeper's limit: the next write of it would fail.
    const leader = new Registry(store);
    await leader.recover();
    expect(leader.agents.get('a1')!.tasks.size).toBe(11_000);
    const docs = await store.load();
    expect(docs.get('agents/a1')).toMatchObject({ task_shards: 16, tasks: [] });
    expect(docs.get('agents/a2')!.tasks).toHaveLength(3); // A small index stays where it was: nothing to write.
    for (const [k, doc] of docs) expect(bytesOf(doc), k).toBeLessThan(SHARD_TARGET_BYTES * 1.5);

    const successor = new Registry(store);
    await successor.recover();
    expect([...successor.agents.get('a1')!.tasks.keys()].sort()).toEqual(old.map((t) => `fw-0001/${t.task_id}`));
  });

  it('mends a layout cut short between two writes, and drops the shards of unknown agents', async () => {
    const store = new CountingStore();
    // The shards of a 2-way split landed, the agent entry (still inline, with fewer tasks) did not.
    const all = tasks(0, 10);
    const byShard = [0, 1].map((k) => all.filter((t) => shardOf(`fw-0001/${t.task_id}`, 2) === k));
    await store.write([
      { key: 'agents/a1', value: { info, registered_time: 1, tasks: all.slice(0, 4) } },
      { key: 'tasks/a1/0', value: { tasks: byShard[0] } },
      { key: 'tasks/a1/1', value: { tasks: byShard[1] } },
      { key: 'tasks/ghost/0', value: { tasks: all } },
    ]);
    store.batches.length = 0;
    const registry = new Registry(store);
    await registry.recover();
    expect(registry.agents.get('a1')!.tasks.size).toBe(10);
    expect(registry.agents.has('ghost')).toBe(false);
    // Small enough to be inline: the entry takes all ten, the stray shards go, in one write.
    expect(store.batches).toHaveLength(1);
    expect(await keysOf(store)).toEqual(['agents/a1']);
    expect((await store.load()).get('agents/a1')!.tasks).toHaveLength(10);
  });

  it('writes shards before the agent entry that points at them', async () => {
    const store = new CountingStore();
    const registry = new Registry(store);
    await registry.admitAgent('a1', info, 1);
    await registry.addTasks('a1', tasks(0, 2000));
    const keys: RegistryKey[] = store.batches[1]!.map((c) => c.key);
    expect(keys.indexOf('agents/a1')).toBe(keys.length - 1);
  });
});
