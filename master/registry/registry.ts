// The registry: what a master that takes over needs to carry on without
// losing a task. It holds the admitted agents (their info, whether they are
// unreachable or gone, deactivated or draining, and an index of the tasks
// the master sent them), the frameworks (their info, with failover_timeout)
// and what operators set at run time: weights, quota, the maintenance
// schedule and the machines that are down.
//
// Every change is applied to the in-memory model at once and returns a
// promise that settles when the store holds it. Changes made while a write
// is in flight are grouped into the next one, so a burst of registrations
// costs one round trip to ZooKeeper, not one each; a write carries the
// tasks that started or ended as a small journal entry rather than the
// agents' whole task indexes (task-journal.ts). The master acts on a
// change (admits an agent, answers SUBSCRIBED, sends a task) only after its
// promise resolves. A failed write is fatal to the leadership: the store
// can no longer be trusted to match what the master did, so the master
// stops acting, as Apache Mesos's registrar aborts.
import type { AgentInfoOut, FrameworkInfoOut, ResourceIn } from '../../proto/index.js';
import { deferred, type Deferred } from '../../common/deferred.js';
import { TimerWindow } from '../../common/timer-window.js';
import { jsonEqual } from '../../common/json-equal.js';
import { silentLogger, type Logger } from '../../common/log/logger.js';
import { parseShardId, shardKey, shardOf, shardsFor, taskBytes } from './task-shards.js';
import { AGENT_ENTRY_BYTES, applyChanges, COMPACTION_BYTES_PER_WRITE, journalDocs, journalFromDoc, shouldCompact, type JournalDoc } from './task-journal.js';
import { agentFromDoc, frameworkFromDoc, settingsDoc, settingsFromDoc, taskKeyOf, tasksFromDoc } from './documents.js';
import type { RegistryAgent, RegistryDrain, RegistryFramework, RegistrySettings, RegistryTask, RegistryWindow } from './entries.js';

export type { RegistryAgent, RegistryDrain, RegistryFramework, RegistrySettings, RegistryTask, RegistryWindow } from './entries.js';

/** Removed frameworks the registry remembers (the oldest are forgotten). */
export const MAX_REMOVED_FRAMEWORKS = 1000;

/** One entry as the store keeps it: a JSON document per agent, task shard, journal entry (task-journal.ts) or framework, and one per kind of setting. */
export type RegistryKey = `agents/${string}` | `tasks/${string}` | `journal/${string}` | `frameworks/${string}` | `settings/${SettingsKey}`;
type SettingsKey = 'weights' | 'quota' | 'maintenance';

export interface RegistryChange {
  readonly key: RegistryKey;
  /** The document to store, or null to delete it. */
  readonly value: Record<string, unknown> | null;
}

/** Where the registry is kept: ZooKeeper when masters are replicated, memory otherwise. */
export interface RegistryStore {
  readonly name: string;
  load(): Promise<Map<RegistryKey, Record<string, unknown>>>;
  /** Applies every change atomically. */
  write(changes: readonly RegistryChange[]): Promise<void>;
  /** Bytes of documents (and their paths) sent to the store so far, where the store counts them. */
  readonly bytesWritten?: number;
}

export class InMemoryStore implements RegistryStore {
  readonly name = 'in memory (a single master: nothing survives it)';
  private readonly docs = new Map<RegistryKey, Record<string, unknown>>();

  async load(): Promise<Map<RegistryKey, Record<string, unknown>>> {
    return new Map(this.docs);
  }

  async write(changes: readonly RegistryChange[]): Promise<void> {
    for (const c of changes) {
      if (c.value) this.docs.set(c.key, c.value);
      else this.docs.delete(c.key);
    }
  }
}

export { taskKeyOf };

/**
 * A change to the registry, as data: the master's operations return these
 * and the driver applies them (Registry.apply) before carrying out anything
 * else the operation asked for.
 */
export type RegistryOp =
  /** `secretHash`: set when a secret is issued now (else the stored one is kept). */
  | { readonly op: 'admitAgent'; readonly id: string; readonly info: AgentInfoOut; readonly ip: string; readonly now: number; readonly secretHash?: string }
  | { readonly op: 'markAgentUnreachable'; readonly id: string; readonly now: number }
  | { readonly op: 'markAgentGone'; readonly id: string; readonly now: number }
  | { readonly op: 'setReservations'; readonly agentId: string; readonly reservations: ResourceIn[] }
  | { readonly op: 'addTasks'; readonly agentId: string; readonly tasks: readonly RegistryTask[] }
  | { readonly op: 'removeTask'; readonly agentId: string; readonly frameworkId: string; readonly taskId: string }
  | { readonly op: 'putFramework'; readonly id: string; readonly info: FrameworkInfoOut; readonly now: number }
  | { readonly op: 'removeFramework'; readonly id: string; readonly now: number }
  | { readonly op: 'setAgentState'; readonly id: string; readonly deactivated: boolean; readonly drain: RegistryDrain | null }
  /** The agent is forgotten (machine DOWN): started again, it joins as a new agent. */
  | { readonly op: 'removeAgent'; readonly id: string }
  | { readonly op: 'setWeights'; readonly weights: ReadonlyMap<string, number> }
  | { readonly op: 'setQuota'; readonly role: string; readonly quota: { guarantee: string; limit: string } | null }
  | { readonly op: 'setMaintenance'; readonly windows: RegistryWindow[]; readonly down: { hostname: string; ip: string }[] };

/** What operations may read of the registry: its model, never its store. */
export interface RegistryView {
  readonly agents: ReadonlyMap<string, Readonly<RegistryAgent>>;
  readonly frameworks: ReadonlyMap<string, Readonly<RegistryFramework>>;
  readonly settings: Readonly<RegistrySettings>;
}

export class Registry {
  readonly agents = new Map<string, RegistryAgent>();
  readonly frameworks = new Map<string, RegistryFramework>();
  readonly settings: RegistrySettings = { weights: new Map(), quotas: new Map(), windows: [], down: [] };
  private readonly dirty = new Set<RegistryKey>();
  /** Each agent's task index, about as many bytes as its JSON takes (task-shards.ts). */
  private readonly indexBytes = new Map<string, number>();
  /** Task keys changed since the last write, by agent: the next write journals them (task-journal.ts). */
  private readonly changedTasks = new Map<string, Set<string>>();
  /**
   * Agent entries and shards whose stored document the journal has
   * overtaken: about their size, and the first journal entry holding a
   * change they lack. Kept in that entry's order: compaction rewrites the
   * oldest first, and an entry older than every stale base is removed.
   */
  private readonly stale = new Map<RegistryKey, { bytes: number; since: number }>();
  private staleBytes = 0;
  /** The journal entries in the store: their number and about how many bytes each holds. */
  private readonly journal = new Map<number, number>();
  private journalBytes = 0;
  /** The last journal entry numbered; every entry and every base's `through` is at most this. */
  private journalSeq = 0;
  private next: Deferred | null = null;
  private writing = false;
  private failure: Error | null = null;
  /** Completed writes and the changes they carried, for the benchmark and logs. */
  writes = 0;
  /** How long each write took to be stored, in ms (Mesos's registrar/state_store_ms). */
  readonly storeTimes = new TimerWindow();
  /** How long recover() took to read the store, in ms (Mesos's registrar/state_fetch_ms); null before it ran. */
  fetchMs: number | null = null;

  constructor(
    readonly store: RegistryStore,
    private readonly onFailure: (err: Error) => void = () => {},
    private readonly logger: Logger = silentLogger(),
    /** Milliseconds on a monotonic clock, for the two timings above. */
    private readonly elapsedMs: () => number = () => performance.now(),
  ) {}

  /** Loads what the store holds; entries that do not parse are skipped with a warning. */
  async recover(): Promise<void> {
    const started = this.elapsedMs();
    const docs = await this.store.load();
    this.fetchMs = this.elapsedMs() - started;
    const shards: [RegistryKey, Record<string, unknown>][] = [];
    const journal: [number, { doc: JournalDoc; bytes: number }][] = [];
    const mixed = new Set<string>(); // Agents whose entry holds tasks although it says they are in shards.
    const through = new Map<RegistryKey, number>(); // Each base's last journal entry.
    for (const [key, doc] of docs) {
      const [kind, id] = splitKey(key);
      try {
        if (kind === 'agents') {
          const agent = agentFromDoc(doc);
          this.agents.set(id, agent);
          if (agent.task_shards > 0 && agent.tasks.size > 0) mixed.add(id);
          through.set(key, throughOf(doc));
        }
        else if (kind === 'tasks') shards.push([key, doc]);
        else if (kind === 'journal') {
          const seq = Number(id);
          if (!Number.isSafeInteger(seq) || seq <= 0 || String(seq) !== id) throw new Error('not a journal entry number');
          journal.push([seq, journalFromDoc(doc)]);
        }
        else if (kind === 'frameworks') this.frameworks.set(id, frameworkFromDoc(doc));
        else settingsFromDoc(this.settings, id, doc);
      } catch (err) {
        this.logger.warn({ key }, `registry: skipping ${key} in ${this.store.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const [key, doc] of shards) through.set(key, throughOf(doc));
    journal.sort(([a], [b]) => a - b);
    for (const [seq, { bytes }] of journal) { // In order: the oldest are removed first.
      this.journal.set(seq, bytes);
      this.journalBytes += bytes;
    }
    this.journalSeq = journal.at(-1)?.[0] ?? 0;
    for (const seq of through.values()) this.journalSeq = Math.max(this.journalSeq, seq); // A loop: 10,000s of bases.
    const layouts = this.takeShards(shards, mixed);
    this.replay(journal.map(([seq, { doc }]) => [seq, doc]), through, layouts);
    const write = this.checkLayouts(layouts);
    this.staleBytes = 0;
    for (const [key, stale] of this.stale) { // Sized now that each index is.
      stale.bytes = this.baseBytes(key);
      this.staleBytes += stale.bytes;
    }
    if (write) await this.settled();
  }

  /**
   * Adds the shards' tasks to their agents and says, per agent, whether its
   * tasks are where its entry says (consistent) and which shards it has.
   * A consistent agent takes the shards of the layout its entry names, and
   * shards of another layout (left by a write cut short while splitting
   * anew) are removed. Otherwise (shards missing, tasks both inline and in
   * shards, shards written before layouts were in their keys) it takes every
   * shard it has, and checkLayouts writes its index again. Shards of unknown
   * agents are removed.
   */
  private takeShards(shards: readonly [RegistryKey, Record<string, unknown>][], mixed: ReadonlySet<string>): Map<string, Layout> {
    const byAgent = new Map<string, { key: RegistryKey; shard: number; of: number | null; doc: Record<string, unknown> }[]>();
    for (const [key, doc] of shards) {
      const parsed = parseShardId(splitKey(key)[1]);
      if (!parsed || !this.agents.has(parsed.agentId)) {
        this.dirty.add(key);
        continue;
      }
      let found = byAgent.get(parsed.agentId);
      if (!found) byAgent.set(parsed.agentId, (found = []));
      found.push({ key, ...parsed, doc });
    }
    const layouts = new Map<string, Layout>();
    for (const [id, agent] of this.agents) {
      const found = byAgent.get(id) ?? [];
      const n = agent.task_shards;
      const own = found.filter((f) => f.of !== null && f.of === n);
      const consistent = !mixed.has(id) && !found.some((f) => f.of === null) && (n === 0 || new Set(own.map((f) => f.shard)).size === n);
      const taken = consistent ? own : found;
      for (const f of taken) for (const t of tasksFromDoc(f.doc)) agent.tasks.set(taskKeyOf(t.framework_id, t.task_id), t);
      if (consistent) for (const f of found) if (!own.includes(f)) this.dirty.add(f.key);
      layouts.set(id, { consistent, shards: taken.map((f) => f.key) });
    }
    return layouts;
  }

  /**
   * Applies the journal's entries, in order, to the tasks whose base is
   * older than each (task-journal.ts); the bases it changed are stale. An
   * agent whose layout is not consistent took every base it has together
   * (checkLayouts writes them again): as old as the oldest of them.
   */
  private replay(journal: readonly [number, JournalDoc][], through: ReadonlyMap<RegistryKey, number>, layouts: ReadonlyMap<string, Layout>): void {
    for (const [seq, entry] of journal) {
      for (const [agentId, changes] of Object.entries(entry.agents)) {
        const agent = this.agents.get(agentId);
        const layout = layouts.get(agentId);
        if (!agent || !layout) continue;
        const base = (key: string) => this.baseOf(agentId, agent, key);
        let newer: (key: string) => boolean;
        if (layout.consistent) newer = (key) => seq > (through.get(base(key)) ?? 0);
        else {
          const oldest = Math.min(through.get(`agents/${agentId}`) ?? 0, ...layout.shards.map((k) => through.get(k) ?? 0));
          newer = () => seq > oldest;
        }
        for (const key of applyChanges(agent.tasks, changes, newer)) this.markStale(base(key), seq);
      }
    }
  }

  /**
   * Writes again, in the layout it needs, each agent whose layout is not
   * consistent (a write cut short between two ZooKeeper multis), and each
   * whose inline index is too large for one node (a registry written before
   * sharding). True if anything is to be written.
   */
  private checkLayouts(layouts: ReadonlyMap<string, Layout>): boolean {
    for (const [id, agent] of this.agents) {
      let bytes = 0;
      for (const t of agent.tasks.values()) bytes += taskBytes(t);
      this.indexBytes.set(id, bytes);
      const layout = layouts.get(id)!;
      const wanted = shardsFor(bytes, agent.task_shards);
      if (layout.consistent && wanted === agent.task_shards) continue;
      this.logger.info({ agentId: id }, `registry: writing the ${agent.tasks.size} tasks of agent ${id} in ${wanted || 'no'} shards (found ${layout.shards.length}, entry said ${agent.task_shards})`);
      for (const key of layout.shards) this.dirty.add(key);
      this.relayout(id, agent, wanted);
    }
    return this.dirty.size > 0;
  }

  /** Applies one operation to the model; settles when the store holds it (rejects if the write failed). */
  apply(change: RegistryOp): Promise<void> {
    switch (change.op) {
      case 'admitAgent':
        return this.admitAgent(change.id, change.info, change.now, change.ip, change.secretHash);
      case 'markAgentUnreachable':
        return this.markAgentUnreachable(change.id, change.now);
      case 'markAgentGone':
        return this.markAgentGone(change.id, change.now);
      case 'setReservations':
        return this.setReservations(change.agentId, change.reservations);
      case 'addTasks':
        return this.addTasks(change.agentId, change.tasks);
      case 'removeTask':
        return this.removeTask(change.agentId, change.frameworkId, change.taskId);
      case 'putFramework':
        return this.putFramework(change.id, change.info, change.now);
      case 'removeFramework':
        return this.removeFramework(change.id, change.now);
      case 'setAgentState': {
        const agent = this.agents.get(change.id);
        if (!agent) return Promise.resolve();
        agent.deactivated = change.deactivated;
        agent.drain = change.drain;
        return this.touch(`agents/${change.id}`);
      }
      case 'removeAgent': {
        const agent = this.agents.get(change.id);
        if (!agent) return Promise.resolve();
        this.dropIndex(change.id, agent);
        this.agents.delete(change.id);
        return this.touch(`agents/${change.id}`);
      }
      case 'setWeights':
        for (const [role, weight] of change.weights) this.settings.weights.set(role, weight);
        return this.touch('settings/weights');
      case 'setQuota':
        if (change.quota) this.settings.quotas.set(change.role, change.quota);
        else this.settings.quotas.delete(change.role);
        return this.touch('settings/quota');
      case 'setMaintenance':
        this.settings.windows = change.windows;
        this.settings.down = change.down;
        return this.touch('settings/maintenance');
    }
  }

  // ---- agents -------------------------------------------------------------

  /** Admits an agent, or records its new info; a returning unreachable agent becomes reachable. */
  admitAgent(id: string, info: AgentInfoOut, now: number, ip = '', secretHash?: string): Promise<void> {
    const existing = this.agents.get(id);
    // An agent re-registering as the registry already holds it (after a failover, a restart, a new link) changes
    // nothing: no write, as Mesos's master re-admits a recovered agent without a registrar operation. It still
    // waits for a write in flight, which may be the one that admitted it.
    if (existing && existing.unreachable_time === null && existing.ip === ip && (secretHash === undefined || secretHash === existing.secret_hash)
      && jsonEqual(existing.info, info)) return this.settled();
    if (existing) {
      existing.info = info;
      existing.ip = ip;
      existing.unreachable_time = null;
      if (secretHash !== undefined) existing.secret_hash = secretHash;
    } else {
      this.agents.set(id, {
        info, ip, registered_time: now, unreachable_time: null, gone_time: null, tasks: new Map(), task_shards: 0, reservations: [], deactivated: false, drain: null,
        secret_hash: secretHash ?? '',
      });
    }
    return this.touch(`agents/${id}`);
  }

  markAgentUnreachable(id: string, now: number): Promise<void> {
    const agent = this.agents.get(id);
    if (!agent) return Promise.resolve();
    agent.unreachable_time = now;
    return this.touch(`agents/${id}`);
  }

  /** The agent stays known as gone (so it cannot return under its id) but keeps no tasks. */
  markAgentGone(id: string, now: number): Promise<void> {
    const agent = this.agents.get(id);
    if (!agent) return Promise.resolve();
    agent.gone_time = now;
    this.dropIndex(id, agent);
    return this.touch(`agents/${id}`);
  }

  setReservations(agentId: string, reservations: ResourceIn[]): Promise<void> {
    const agent = this.agents.get(agentId);
    if (!agent) return Promise.resolve();
    agent.reservations = reservations;
    return this.touch(`agents/${agentId}`);
  }

  addTasks(agentId: string, tasks: readonly RegistryTask[]): Promise<void> {
    const agent = this.agents.get(agentId);
    if (!agent) return Promise.resolve();
    const added: string[] = [];
    let bytes = this.indexBytes.get(agentId) ?? 0;
    for (const t of tasks) {
      const key = taskKeyOf(t.framework_id, t.task_id);
      if (agent.tasks.has(key)) continue;
      agent.tasks.set(key, t);
      bytes += taskBytes(t);
      added.push(key);
    }
    this.indexBytes.set(agentId, bytes);
    return added.length > 0 ? this.touchTasks(agentId, agent, added) : this.settled();
  }

  removeTask(agentId: string, frameworkId: string, taskId: string): Promise<void> {
    const agent = this.agents.get(agentId);
    const key = taskKeyOf(frameworkId, taskId);
    const task = agent?.tasks.get(key);
    if (!agent || !task) return Promise.resolve();
    agent.tasks.delete(key);
    this.indexBytes.set(agentId, (this.indexBytes.get(agentId) ?? 0) - taskBytes(task));
    return this.touchTasks(agentId, agent, [key]);
  }

  /** Journals these tasks' changes (task-journal.ts); an index grown past its shards is split anew (task-shards.ts). */
  private touchTasks(agentId: string, agent: RegistryAgent, keys: readonly string[]): Promise<void> {
    const wanted = shardsFor(this.indexBytes.get(agentId) ?? 0, agent.task_shards);
    if (wanted !== agent.task_shards) this.relayout(agentId, agent, wanted);
    let changed = this.changedTasks.get(agentId);
    if (!changed) this.changedTasks.set(agentId, (changed = new Set()));
    for (const key of keys) changed.add(key);
    return this.settled();
  }

  /** The entry that holds the task `key` of an agent: its own, or a shard. */
  private baseOf(agentId: string, agent: RegistryAgent, key: string): RegistryKey {
    return agent.task_shards === 0 ? `agents/${agentId}` : shardKey(agentId, shardOf(key, agent.task_shards), agent.task_shards);
  }

  /** Splits an agent's index `n` ways (0: inline): the new shards and its entry are written, the old shards removed. */
  private relayout(agentId: string, agent: RegistryAgent, n: number): void {
    for (let k = 0; k < agent.task_shards; k++) this.dirty.add(shardKey(agentId, k, agent.task_shards));
    agent.task_shards = n;
    for (let k = 0; k < n; k++) this.dirty.add(shardKey(agentId, k, n));
    this.dirty.add(`agents/${agentId}`);
  }

  /** Forgets an agent's tasks; its shards, if any, are removed with the next write. */
  private dropIndex(agentId: string, agent: RegistryAgent): void {
    for (let k = 0; k < agent.task_shards; k++) this.dirty.add(shardKey(agentId, k, agent.task_shards));
    agent.tasks.clear();
    agent.task_shards = 0;
    this.indexBytes.delete(agentId);
  }

  // ---- frameworks -----------------------------------------------------------

  putFramework(id: string, info: FrameworkInfoOut, now: number): Promise<void> {
    const existing = this.frameworks.get(id);
    if (existing) {
      existing.info = info;
      existing.removed_time = null;
    } else {
      this.frameworks.set(id, { info, registered_time: now, removed_time: null });
    }
    return this.touch(`frameworks/${id}`);
  }

  /** Keeps the framework as removed; beyond MAX_REMOVED_FRAMEWORKS the oldest removed ones are forgotten. */
  removeFramework(id: string, now: number): Promise<void> {
    const entry = this.frameworks.get(id);
    if (!entry) return Promise.resolve();
    entry.removed_time = now;
    const removed = [...this.frameworks].filter(([, f]) => f.removed_time !== null).sort(([, a], [, b]) => a.removed_time! - b.removed_time!);
    for (const [old] of removed.slice(0, Math.max(0, removed.length - MAX_REMOVED_FRAMEWORKS))) {
      this.frameworks.delete(old);
      this.dirty.add(`frameworks/${old}`);
    }
    return this.touch(`frameworks/${id}`);
  }

  // ---- writing ----------------------------------------------------------------

  private touch(key: RegistryKey): Promise<void> {
    this.dirty.add(key);
    return this.settled();
  }

  /** Settles when everything changed so far is stored. */
  private settled(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.dirty.size === 0 && this.changedTasks.size === 0 && !this.writing) return Promise.resolve();
    if (!this.next) {
      this.next = deferred();
      if (!this.writing) queueMicrotask(() => void this.flush());
    }
    return this.next.promise;
  }

  private async flush(): Promise<void> {
    if (this.writing || !this.next) return;
    const batch = this.next;
    this.next = null;
    const changes = this.changes();
    this.writing = true;
    try {
      const started = this.elapsedMs();
      if (changes.length > 0) await this.store.write(changes);
      this.storeTimes.add(this.elapsedMs() - started);
      this.writes++;
      batch.resolve();
    } catch (err) {
      this.failure = new Error(`registry write to ${this.store.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      batch.reject(this.failure);
      (this.next as Deferred | null)?.reject(this.failure); // Changes made during the write fail with it.
      this.next = null;
      this.onFailure(this.failure);
    } finally {
      this.writing = false;
    }
    if (this.next && !this.failure) void this.flush();
  }

  /**
   * What the next write holds, and the registry as it will be once it is
   * stored: the task changes since the last write as journal entries (for
   * tasks whose entry or shard this write does not rewrite anyway), then
   * the dirty entries as they are now, with, when it is time to compact, the
   * oldest stale ones (task-journal.ts). Task shards come before agent
   * entries, so a batch cut into several ZooKeeper multis never leaves an
   * agent's entry pointing at shards not yet written (recover() mends the
   * other way round); removals come last: shards of an old layout, and
   * journal entries older than every stale base.
   */
  private changes(): RegistryChange[] {
    const journaled: [string, string, RegistryTask | null][] = [];
    const first = this.journalSeq + 1; // The entry this write's changes go to.
    for (const [agentId, keys] of this.changedTasks) {
      const agent = this.agents.get(agentId);
      if (!agent) continue; // Forgotten: its entry and shards are removed.
      for (const key of keys) {
        const base = this.baseOf(agentId, agent, key);
        if (this.dirty.has(base)) continue; // Written whole by this write.
        this.markStale(base, first);
        journaled.push([agentId, key, agent.tasks.get(key) ?? null]);
      }
    }
    this.changedTasks.clear();
    const starts: RegistryChange[] = [];
    for (const { doc, bytes } of journalDocs(journaled)) {
      const seq = ++this.journalSeq;
      starts.push({ key: `journal/${seq}`, value: doc });
      this.journal.set(seq, bytes);
      this.journalBytes += bytes;
    }
    for (const key of this.dirty) this.unstale(key);
    if (shouldCompact({ bytes: this.journalBytes, entries: this.journal.size }, this.staleBytes)) {
      let budget = COMPACTION_BYTES_PER_WRITE;
      for (const [key, { bytes }] of this.stale) {
        if (budget <= 0) break;
        budget -= bytes;
        this.dirty.add(key);
        this.unstale(key);
      }
    }
    const ends: RegistryChange[] = [];
    // Entries older than every stale base hold nothing the bases lack; never one this write creates.
    const keep = Math.min(first, this.stale.values().next().value?.since ?? Infinity);
    for (const [seq, bytes] of this.journal) {
      if (seq >= keep) break;
      ends.push({ key: `journal/${seq}`, value: null });
      this.journal.delete(seq);
      this.journalBytes -= bytes;
    }
    const split = new Map<string, RegistryTask[][]>(); // One pass over an agent's tasks for all its dirty shards.
    const shardChanges: RegistryChange[] = [];
    const others: RegistryChange[] = [];
    for (const key of this.dirty) {
      if (!key.startsWith('tasks/')) {
        others.push(this.change(key));
        continue;
      }
      const parsed = parseShardId(splitKey(key)[1]);
      const agent = parsed && this.agents.get(parsed.agentId);
      if (!parsed || !agent || parsed.of !== agent.task_shards) {
        ends.push({ key, value: null }); // Removed after the entries that no longer name it.
        continue;
      }
      let shards = split.get(parsed.agentId);
      if (!shards) {
        shards = Array.from({ length: agent.task_shards }, () => []);
        for (const [taskKey, t] of agent.tasks) shards[shardOf(taskKey, agent.task_shards)]!.push(t);
        split.set(parsed.agentId, shards);
      }
      shardChanges.push({ key, value: { tasks: shards[parsed.shard], through: this.journalSeq } });
    }
    this.dirty.clear();
    return [...starts, ...shardChanges, ...others, ...ends];
  }

  /** Marks a base as overtaken by the journal from entry `since` on, with about the bytes rewriting it would take (its share of the index now). */
  private markStale(key: RegistryKey, since: number): void {
    if (this.stale.has(key)) return;
    const bytes = this.baseBytes(key);
    this.stale.set(key, { bytes, since });
    this.staleBytes += bytes;
  }

  private baseBytes(key: RegistryKey): number {
    const [kind, id] = splitKey(key);
    if (kind === 'agents') return AGENT_ENTRY_BYTES + (this.indexBytes.get(id) ?? 0);
    const parsed = parseShardId(id);
    const agent = parsed && this.agents.get(parsed.agentId);
    return parsed && agent && agent.task_shards > 0 && parsed.of === agent.task_shards ? (this.indexBytes.get(parsed.agentId) ?? 0) / agent.task_shards : 0;
  }

  private unstale(key: RegistryKey): void {
    const stale = this.stale.get(key);
    if (stale === undefined) return;
    this.stale.delete(key);
    this.staleBytes -= stale.bytes;
  }

  private change(key: RegistryKey): RegistryChange {
    const [kind, id] = splitKey(key);
    if (kind === 'agents') {
      const a = this.agents.get(id);
      return { key, value: a ? { ...a, tasks: a.task_shards === 0 ? [...a.tasks.values()] : [], through: this.journalSeq } : null };
    }
    if (kind === 'settings') return { key, value: settingsDoc(this.settings, id) };
    const f = this.frameworks.get(id);
    return { key, value: f ? { ...f } : null };
  }
}

type Kind = 'agents' | 'tasks' | 'journal' | 'frameworks' | 'settings';

/** An agent's shards as recovery found them (Registry.takeShards). */
interface Layout {
  /** Its tasks are where its entry says, in shards of the layout the entry names (or inline). */
  readonly consistent: boolean;
  /** The shards its tasks were taken from. */
  readonly shards: readonly RegistryKey[];
}

function splitKey(key: RegistryKey): [Kind, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash) as Kind, key.slice(slash + 1)];
}

/** The last journal entry a base (an agent entry or a shard) holds; 0 for one written before the journal. */
function throughOf(doc: Record<string, unknown>): number {
  return typeof doc.through === 'number' && Number.isSafeInteger(doc.through) && doc.through > 0 ? doc.through : 0;
}


