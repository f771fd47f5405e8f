// The task journal (task-journal.ts): a task change is written as a small
// journal entry rather than by rewriting the entry or shard that holds the
// task; bases the journal overtook are rewritten together later, and a
// successor reads the bases and applies the journal entries newer than each.
// The last test cuts writes short at every point, as several ZooKeeper
// multis can be, and checks no change a write acknowledged is lost.
import { describe, expect, it } from 'vitest';
import { InMemoryStore, Registry, type RegistryChange, type RegistryTask } from '../../master/registry/registry.js';
import { CountingStore } from '../harness/counting-store.js';
import { COMPACTION_BYTES_PER_WRITE, JOURNAL_ENTRY_BYTES, JOURNAL_MAX_ENTRIES, journalDocs, shouldCompact } from '../../master/registry/task-journal.js';
import { shardOf } from '../../master/registry/task-shards.js';
import { createLogger } from '../../common/log/logger.js';
import type { AgentInfoOut } from '../../proto/index.js';

const info = { hostname: 'h', resources: [], attributes: [] } as unknown as AgentInfoOut;
const task = (i: number, fw = 'fw-0001'): RegistryTask => ({ framework_id: fw, task_id: `task-${String(i).padStart(6, '0')}`, name: 'a task', resources: 'cpus:0.1;mem:32' });
const keysOf = (batch: readonly RegistryChange[]) => batch.map((c) => c.key);
const bytesOf = (batch: readonly RegistryChange[]) => batch.reduce((n, c) => n + (c.value ? JSON.stringify(c.value).length : 0), 0);
const tasksOf = (r: Registry) => new Map([...r.agents].map(([id, a]) => [id, [...a.tasks.keys()].sort()]));

/** A new leader's registry, read from a copy of the store (recovery may write, mending a layout). */
async function successorOf(store: InMemoryStore): Promise<Registry> {
  const copy = new InMemoryStore();
  await copy.write([...(await store.load())].map(([key, value]) => ({ key, value })));
  const r = new Registry(copy);
  await r.recover();
  return r;
}

describe('journalDocs and shouldCompact', () => {
  it('cuts a large batch into entries of about JOURNAL_ENTRY_BYTES, each change in one of them', () => {
    const changes = Array.from({ length: 5000 }, (_, i) => ['a1', `fw/t${i}`, i % 3 === 0 ? null : task(i)] as const);
    const docs = journalDocs(changes);
    expect(docs.length).toBeGreaterThan(1);
    for (const d of docs) expect(JSON.stringify(d.doc).length).toBeLessThan(JOURNAL_ENTRY_BYTES * 1.1);
    const put = docs.flatMap((d) => d.doc.agents.a1!.put).length;
    const drop = docs.flatMap((d) => d.doc.agents.a1!.drop).length;
    expect([put, drop]).toEqual([3333, 1667]);
  });

  it('compacts once the journal holds as many bytes as the bases it overtook, or too many entries', () => {
    expect(shouldCompact({ bytes: 0, entries: 0 }, 0)).toBe(false);
    expect(shouldCompact({ bytes: 999, entries: 10 }, 1000)).toBe(false);
    expect(shouldCompact({ bytes: 1000, entries: 10 }, 1000)).toBe(true);
    expect(shouldCompact({ bytes: 10, entries: JOURNAL_MAX_ENTRIES + 1 }, 1e9)).toBe(true);
  });
});

describe('Registry task journal', () => {
  it('journals a task change instead of rewriting its base; a successor applies the journal', async () => {
    const store = new CountingStore();
    const registry = new Registry(store);
    await registry.admitAgent('a1', info, 1);
    await registry.addTasks('a1', Array.from({ length: 400 }, (_, i) => task(i))); // About 45 KB inline.
    store.batches.length = 0;
    await registry.addTasks('a1', [task(1000)]);
    await registry.removeTask('a1', 'fw-0001', task(7).task_id);
    expect(store.batches.map(keysOf)).toEqual([['journal/2'], ['journal/3']]); // journal/1: the 400.
    expect(bytesOf(store.batches[0]!)).toBeLessThan(300); // The whole inline index would be about 45 KB.
    expect(store.batches[1]![0]!.value).toEqual({ agents: { a1: { put: [], drop: [`fw-0001/${task(7).task_id}`] } } });

    const successor = await successorOf(store);
    expect(tasksOf(successor)).toEqual(tasksOf(registry));
    expect(successor.agents.get('a1')!.tasks.has(`fw-0001/${task(1000).task_id}`)).toBe(true);
  });

  it('rewrites the overtaken bases once the journal is as large, then removes the journal entries before, last', async () => {
    const store = new CountingStore();
    const registry = new Registry(store);
    await Promise.all(['a1', 'a2'].map((id) => registry.admitAgent(id, info, 1)));
    store.batches.length = 0;
    await Promise.all(['a1', 'a2'].map((id) => registry.addTasks(id, Array.from({ length: 200 }, (_, i) => task(i)))));
    // Each write journals a task for a1, until the journal outweighs the bases it overtook.
    let i = 0;
    while (store.batches.every((b) => b.every((c) => c.key.startsWith('journal/'))) && i < 1000) await registry.addTasks('a1', [task(1000 + i++)]);
    const compaction = store.batches.at(-1)!;
    const before = store.batches.length - 1; // One journal entry each.
    expect(i).toBeGreaterThan(5);
    // Its own change journaled first, both agents' entries rewritten through it, then every earlier entry removed.
    const own = `journal/${before + 1}`;
    expect(keysOf(compaction).slice(0, 3).sort()).toEqual(['agents/a1', 'agents/a2', own].sort());
    expect(keysOf(compaction)[0]).toBe(own);
    expect(keysOf(compaction).slice(3)).toEqual(Array.from({ length: before }, (_, k) => `journal/${k + 1}`));
    expect(compaction.slice(3).every((c) => c.value === null)).toBe(true);
    for (const c of compaction.slice(1, 3)) expect(c.value).toMatchObject({ through: before + 1 });
    expect([...(await store.load()).keys()].filter((k) => k.startsWith('journal/'))).toEqual([own]);

    // The next change goes on with the journal, and removes the entry left over: no base is older than it.
    store.batches.length = 0;
    await registry.removeTask('a1', 'fw-0001', task(3).task_id);
    expect(store.batches.map(keysOf)).toEqual([[`journal/${before + 2}`, own]]);
    expect(tasksOf(await successorOf(store))).toEqual(tasksOf(registry));
  });

  it('compacts at most COMPACTION_BYTES_PER_WRITE a write, the oldest first, and removes only entries older than every stale base', async () => {
    const store = new CountingStore();
    const registry = new Registry(store);
    const ids = Array.from({ length: 400 }, (_, k) => `agent-${k}`);
    await Promise.all(ids.map((id) => registry.admitAgent(id, info, 1)));
    await Promise.all(ids.map((id, k) => registry.addTasks(id, [task(k)]))); // 400 stale entries of about 1.1 KB.
    store.batches.length = 0;
    const firstRemoved = () => store.batches.some((b) => b.some((c) => c.key === 'journal/1' && c.value === null));
    for (let k = 0; k < 5000 && !firstRemoved(); k++) {
      await registry.addTasks(ids[k % 7]!, [task(10_000 + k)]);
    }
    const compactions = store.batches.filter((b) => b.some((c) => c.key.startsWith('agents/')));
    expect(compactions.length).toBeGreaterThanOrEqual(3); // Spread over several writes, each bounded.
    for (const b of compactions) expect(b.filter((c) => c.key.startsWith('agents/')).length).toBeLessThanOrEqual(Math.ceil(COMPACTION_BYTES_PER_WRITE / 1024) + 1);
    // The first compaction writes the oldest stale entries; entry 1 (all 400 agents' first task) stays until the last of them is rewritten.
    expect(compactions[0]!.some((c) => c.key === 'journal/1')).toBe(false);
    const removedAt = store.batches.findIndex((b) => b.some((c) => c.key === 'journal/1' && c.value === null));
    const agentsRewritten = new Set(store.batches.slice(0, removedAt + 1).flatMap((b) => b.filter((c) => c.key.startsWith('agents/')).map((c) => c.key)));
    expect(removedAt).toBeGreaterThan(0);
    expect(agentsRewritten.size).toBe(ids.length);
    expect(tasksOf(await successorOf(store))).toEqual(tasksOf(registry));
  });

  it('applies an entry to a shard only if the shard is older than it', async () => {
    const store = new InMemoryStore();
    const key = (i: number) => `fw-0001/${task(i).task_id}`;
    const inShard = (k: number) => Array.from({ length: 40 }, (_, i) => i).filter((i) => shardOf(key(i), 2) === k);
    const [zero, one] = [inShard(0), inShard(1)];
    // Shard 0 was rewritten through entry 2 (it already lacks zero[0], dropped there); shard 1 only through entry 1.
    await store.write([
      { key: 'agents/a1', value: { info, registered_time: 1, tasks: [], task_shards: 2, through: 2 } },
      { key: 'tasks/a1/0of2', value: { tasks: zero.slice(1).map((i) => task(i)), through: 2 } },
      { key: 'tasks/a1/1of2', value: { tasks: one.map((i) => task(i)), through: 1 } },
      // Entry 2 dropped zero[0] and one[0]; it also put zero[1] back, an older copy: shard 0 is newer, so it keeps its own.
      { key: 'journal/2', value: { agents: { a1: { put: [{ ...task(zero[1]!), name: 'old' }], drop: [key(zero[0]!), key(one[0]!)] } } } },
      { key: 'journal/3', value: { agents: { a1: { put: [task(100)], drop: [] }, ghost: { put: [task(1)], drop: [] } } } },
    ]);
    const r = await successorOf(store);
    const tasks = r.agents.get('a1')!.tasks;
    expect(tasks.has(key(zero[0]!))).toBe(false);
    expect(tasks.has(key(one[0]!))).toBe(false);
    expect(tasks.get(key(zero[1]!))!.name).toBe('a task');
    expect(tasks.has(key(100))).toBe(true);
    expect(tasks.size).toBe(40 - 2 + 1);
    expect(r.agents.has('ghost')).toBe(false);
  });

  it('skips a journal entry that does not parse, with a warning, and reads the rest', async () => {
    const store = new InMemoryStore();
    await store.write([
      { key: 'agents/a1', value: { info, registered_time: 1, tasks: [task(1)], through: 0 } },
      { key: 'journal/1', value: { nope: true } },
      { key: 'journal/x', value: { agents: {} } },
      { key: 'journal/2', value: { agents: { a1: { put: [task(2), { task_id: 3 }], drop: 'all' } } } },
    ]);
    const lines: string[] = [];
    const r = new Registry(store, () => {}, createLogger({ component: 'registry', sink: (line) => lines.push(line) }));
    await r.recover();
    expect([...r.agents.get('a1')!.tasks.keys()].sort()).toEqual([`fw-0001/${task(1).task_id}`, `fw-0001/${task(2).task_id}`]);
    expect(lines.join('\n')).toMatch(/skipping journal\/1 .*without "agents"/);
    expect(lines.join('\n')).toMatch(/skipping journal\/x .*not a journal entry number/);
  });

  it('loses no acknowledged change however a write is cut short (random operations, every cut point)', async () => {
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const store = new CountingStore();
    const registry = new Registry(store);
    const snapshots: Map<string, string[]>[] = []; // The model as each write began: what the write makes durable.
    const realWrite = store.write.bind(store);
    store.write = async (changes) => {
      snapshots.push(tasksOf(registry));
      return realWrite(changes);
    };
    const agents = ['a1', 'a2', 'a3'];
    await Promise.all(agents.map((id) => registry.admitAgent(id, info, 1)));
    const live = new Map(agents.map((id) => [id, new Set<number>()]));
    let next = 0;
    for (let step = 0; step < 60; step++) {
      const ops: Promise<void>[] = [];
      for (let k = 1 + Math.floor(random() * 30); k > 0; k--) {
        const id = agents[Math.floor(random() * agents.length)]!;
        const mine = live.get(id)!;
        if (mine.size > 0 && random() < 0.45) {
          const victim = [...mine][Math.floor(random() * mine.size)]!;
          mine.delete(victim);
          ops.push(registry.removeTask(id, 'fw-0001', task(victim).task_id));
        } else {
          const added = Array.from({ length: 1 + Math.floor(random() * (random() < 0.06 ? 1500 : 5)) }, () => next++);
          for (const n of added) mine.add(n);
          ops.push(registry.addTasks(id, added.map((n) => task(n))));
        }
      }
      await Promise.all(ops);
    }
    const kinds = new Set(store.batches.flatMap((b) => b.map((c) => c.key.split('/')[0])));
    expect([...kinds].sort()).toEqual(['agents', 'journal', 'tasks']); // Journaled, compacted, and sharded along the way,
    const layouts = new Set(store.batches.flatMap((b) => b.flatMap((c) => /of(\d+)$/.exec(c.key)?.[1] ?? [])));
    expect(layouts.has('2') && layouts.has('4') && layouts.has('8')).toBe(true); // split anew more than once.

    // Replay the writes into a fresh store; cut write w after each of its changes: what a successor reads keeps
    // everything up to write w-1, and each task write w touched is as before or after it.
    const replayed = new InMemoryStore();
    for (let w = 0; w < store.batches.length; w++) {
      const batch = store.batches[w]!;
      const before = w > 0 ? snapshots[w - 1]! : new Map<string, string[]>();
      const after = snapshots[w]!;
      const cuts = batch.length <= 6 ? batch.map((_, i) => i) : [0, 1, Math.floor(batch.length / 2), batch.length - 2, batch.length - 1];
      for (const cut of cuts) {
        const probe = new InMemoryStore();
        await probe.write([...[...(await replayed.load())].map(([key, value]) => ({ key, value })), ...batch.slice(0, cut + 1)]);
        const read = tasksOf(await successorOf(probe));
        for (const id of agents) {
          const got = new Set(read.get(id) ?? []);
          const was = new Set(before.get(id) ?? []);
          const now = new Set(after.get(id) ?? []);
          for (const key of new Set([...was, ...now, ...got])) {
            if (was.has(key) === now.has(key)) expect(got.has(key), `write ${w} cut after change ${cut}: ${id} ${key}`).toBe(was.has(key));
          }
        }
      }
      await replayed.write(batch);
      expect(tasksOf(await successorOf(replayed)), `after write ${w}`).toEqual(after);
    }
  });
});
