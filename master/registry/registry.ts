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
// costs one round trip to ZooKeeper, not one each. The master acts on a
// change (admits an agent, answers SUBSCRIBED, sends a task) only after its
// promise resolves. A failed write is fatal to the leadership: the store
// can no longer be trusted to match what the master did, so the master
// stops acting, as Apache Mesos's registrar aborts.
import type { AgentInfoOut, FrameworkInfoOut, ResourceIn } from '../../proto/index.js';
import { deferred, type Deferred } from '../../common/deferred.js';
import { TimerWindow } from '../../common/timer-window.js';
import { silentLogger, type Logger } from '../../common/log/logger.js';
import { parseShardId, shardKey, shardOf, shardsFor, taskBytes } from './task-shards.js';
import { agentFromDoc, frameworkFromDoc, settingsDoc, settingsFromDoc, taskKeyOf, tasksFromDoc } from './documents.js';
import type { RegistryAgent, RegistryDrain, RegistryFramework, RegistrySettings, RegistryTask, RegistryWindow } from './entries.js';

export type { RegistryAgent, RegistryDrain, RegistryFramework, RegistrySettings, RegistryTask, RegistryWindow } from './entries.js';

/** Removed frameworks the registry remembers (the oldest are forgotten). */
export const MAX_REMOVED_FRAMEWORKS = 1000;

/** One entry as the store keeps it: a JSON document per agent, task shard or framework, and one per kind of setting. */
export type RegistryKey = `agents/${string}` | `tasks/${string}` | `frameworks/${string}` | `settings/${SettingsKey}`;
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
    const mixed = new Set<string>(); // Agents whose entry holds tasks although it says they are in shards.
    for (const [key, doc] of docs) {
      const [kind, id] = splitKey(key);
      try {
        if (kind === 'agents') {
          const agent = agentFromDoc(doc);
          this.agents.set(id, agent);
          if (agent.task_shards > 0 && agent.tasks.size > 0) mixed.add(id);
        }
        else if (kind === 'tasks') shards.push([key, doc]);
        else if (kind === 'frameworks') this.frameworks.set(id, frameworkFromDoc(doc));
        else settingsFromDoc(this.settings, id, doc);
      } catch (err) {
        this.logger.warn({ key }, `registry: skipping ${key} in ${this.store.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (this.takeShards(shards, mixed)) await this.settled();
  }

  /**
   * Adds the shards' tasks to their agents and checks each agent's layout.
   * An agent whose index is split otherwise than its entry says (a write cut
   * short between two ZooKeeper multis), or an inline index too large for
   * one node (a registry written before sharding), is written again in the
   * layout it needs; entries of unknown agents are removed. True if anything
   * is to be written.
   */
  private takeShards(shards: readonly [RegistryKey, Record<string, unknown>][], mixed: ReadonlySet<string>): boolean {
    const found = new Map<string, number[]>();
    for (const [key, doc] of shards) {
      const parsed = parseShardId(splitKey(key)[1]);
      const agent = parsed && this.agents.get(parsed.agentId);
      if (!parsed || !agent) {
        this.dirty.add(key);
        continue;
      }
      for (const t of tasksFromDoc(doc)) agent.tasks.set(taskKeyOf(t.framework_id, t.task_id), t);
      found.set(parsed.agentId, [...(found.get(parsed.agentId) ?? []), parsed.shard]);
    }
    for (const [id, agent] of this.agents) {
      let bytes = 0;
      for (const t of agent.tasks.values()) bytes += taskBytes(t);
      this.indexBytes.set(id, bytes);
      const present = found.get(id) ?? [];
      const consistent = agent.task_shards === 0 ? present.length === 0 : present.every((k) => k < agent.task_shards) && !mixed.has(id);
      const wanted = shardsFor(bytes, agent.task_shards);
      if (consistent && wanted === agent.task_shards) continue;
      this.logger.info({ agentId: id }, `registry: writing the ${agent.tasks.size} tasks of agent ${id} in ${wanted || 'no'} shards (found ${present.length}, entry said ${agent.task_shards})`);
      for (const k of present) this.dirty.add(shardKey(id, k));
      agent.task_shards = wanted;
      this.touchAllShards(id, agent);
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
      && JSON.stringify(existing.info) === JSON.stringify(info)) return this.settled();
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

  /** Marks the entries that hold these tasks; an index grown past its shards is split anew (task-shards.ts). */
  private touchTasks(agentId: string, agent: RegistryAgent, keys: readonly string[]): Promise<void> {
    const wanted = shardsFor(this.indexBytes.get(agentId) ?? 0, agent.task_shards);
    if (wanted !== agent.task_shards) {
      agent.task_shards = wanted;
      this.touchAllShards(agentId, agent);
    } else if (agent.task_shards === 0) {
      this.dirty.add(`agents/${agentId}`);
    } else {
      for (const key of keys) this.dirty.add(shardKey(agentId, shardOf(key, agent.task_shards)));
    }
    return this.settled();
  }

  private touchAllShards(agentId: string, agent: RegistryAgent): void {
    for (let k = 0; k < agent.task_shards; k++) this.dirty.add(shardKey(agentId, k));
    this.dirty.add(`agents/${agentId}`);
  }

  /** Forgets an agent's tasks; its shards, if any, are removed with the next write. */
  private dropIndex(agentId: string, agent: RegistryAgent): void {
    for (let k = 0; k < agent.task_shards; k++) this.dirty.add(shardKey(agentId, k));
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
    if (this.dirty.size === 0 && !this.writing) return Promise.resolve();
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
    this.dirty.clear();
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
   * What the dirty entries hold now. Task shards come first: a batch cut
   * into several ZooKeeper multis then never leaves an agent's entry
   * pointing at shards not yet written (recover() mends the other way round).
   */
  private changes(): RegistryChange[] {
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
      if (!parsed || !agent || parsed.shard >= agent.task_shards) {
        shardChanges.push({ key, value: null });
        continue;
      }
      let shards = split.get(parsed.agentId);
      if (!shards) {
        shards = Array.from({ length: agent.task_shards }, () => []);
        for (const [taskKey, t] of agent.tasks) shards[shardOf(taskKey, agent.task_shards)]!.push(t);
        split.set(parsed.agentId, shards);
      }
      shardChanges.push({ key, value: { tasks: shards[parsed.shard] } });
    }
    return [...shardChanges, ...others];
  }

  private change(key: RegistryKey): RegistryChange {
    const [kind, id] = splitKey(key);
    if (kind === 'agents') {
      const a = this.agents.get(id);
      return { key, value: a ? { ...a, tasks: a.task_shards === 0 ? [...a.tasks.values()] : [] } : null };
    }
    if (kind === 'settings') return { key, value: settingsDoc(this.settings, id) };
    const f = this.frameworks.get(id);
    return { key, value: f ? { ...f } : null };
  }
}

function splitKey(key: RegistryKey): ['agents' | 'tasks' | 'frameworks' | 'settings', string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash) as 'agents' | 'tasks' | 'frameworks' | 'settings', key.slice(slash + 1)];
}
