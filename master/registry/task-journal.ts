// The task journal: how a change to an agent's task index is stored without
// rewriting the entry that holds the index.
//
// An agent's tasks live in its entry (inline) or in its shards
// (task-shards.ts): a base, which may hold 128 KB. Rewriting the base for
// every task that starts or ends made the registry send ZooKeeper about
// 5 KB per task at 100 agents (each change rewrote a busy agent's whole
// inline index), and ZooKeeper keeps its last 500 proposals in memory: at
// about 1,300 tasks/s its RSS reached 612-759 MB (docs/scale/README.md,
// round 11). Instead, each write puts the task changes of its batch in one
// small entry, `journal/<seq>`:
//
//   {"agents": {"<agent id>": {"put": [task, ...], "drop": ["<fw>/<task>", ...]}}}
//
// each task as it now is (put) or gone (drop), so applying an entry twice
// changes nothing. Every base carries `through`: the last journal entry
// whose changes it already holds. A new leader reads the bases, then
// applies each journal entry to the tasks whose base is older than it.
//
// Bases the journal has overtaken are rewritten (compaction), the oldest
// first, while the journal holds as many bytes as they do or more than
// JOURNAL_MAX_ENTRIES entries, up to COMPACTION_BYTES_PER_WRITE per write
// so that no write grows large. A journal entry older than every base
// still overtaken holds nothing the bases lack, and is removed, after the
// bases (a write cut into several ZooKeeper multis leaves it behind, and
// `through` makes a successor skip it). A task change then costs its own
// bytes in the journal and about as many again at compaction.
import type { RegistryTask } from './entries.js';
import { taskBytes } from './task-shards.js';
import { taskKeyOf } from './documents.js';

/** A write's journal is cut into entries of about this size (ZooKeeper's limit per node is 1 MB). */
export const JOURNAL_ENTRY_BYTES = 256 * 1024;
/** Compaction happens at the latest when the journal holds this many entries: a cold read reads each. */
export const JOURNAL_MAX_ENTRIES = 2000;
/**
 * What compaction adds to one write, at most (and one base more): rewriting
 * 5,000 agents' entries in one write would hold every launch behind it for
 * the many multis it takes.
 */
export const COMPACTION_BYTES_PER_WRITE = 128 * 1024;
/** About what an agent's entry takes besides its tasks (its info, resources and attributes). */
export const AGENT_ENTRY_BYTES = 1024;

/** One agent's changes in an entry. */
export interface AgentChanges {
  readonly put: RegistryTask[];
  /** `framework_id/task_id` of tasks gone. */
  readonly drop: string[];
}

export type JournalDoc = { agents: Record<string, AgentChanges> };

/** About the bytes a change takes in an entry's JSON. */
export const dropBytes = (key: string) => key.length + 3;

/** Cuts changes into entries of about JOURNAL_ENTRY_BYTES; `changes` yields [agent id, task key, the task or null when gone]. */
export function journalDocs(changes: Iterable<readonly [string, string, RegistryTask | null]>): { doc: JournalDoc; bytes: number }[] {
  const out: { doc: JournalDoc; bytes: number }[] = [];
  let current: { doc: JournalDoc; bytes: number } | null = null;
  for (const [agentId, key, task] of changes) {
    const cost = task ? taskBytes(task) : dropBytes(key);
    if (!current || current.bytes + cost > JOURNAL_ENTRY_BYTES) {
      current = { doc: { agents: {} }, bytes: 16 };
      out.push(current);
    }
    let forAgent = current.doc.agents[agentId];
    if (!forAgent) {
      forAgent = current.doc.agents[agentId] = { put: [], drop: [] };
      current.bytes += agentId.length + 24;
    }
    if (task) forAgent.put.push(task);
    else forAgent.drop.push(key);
    current.bytes += cost;
  }
  return out;
}

/** Reads an entry; one that does not parse throws (the registry skips it with a warning). Malformed tasks are skipped. */
export function journalFromDoc(doc: Record<string, unknown>): { doc: JournalDoc; bytes: number } {
  const agents = doc.agents;
  if (typeof agents !== 'object' || agents === null || Array.isArray(agents)) throw new Error('a journal entry without "agents"');
  const out: JournalDoc = { agents: {} };
  let bytes = 16;
  for (const [agentId, raw] of Object.entries(agents as Record<string, unknown>)) {
    const c = raw as { put?: unknown; drop?: unknown } | null;
    const put: RegistryTask[] = [];
    for (const t of Array.isArray(c?.put) ? (c.put as RegistryTask[]) : []) {
      if (typeof t?.framework_id !== 'string' || typeof t.task_id !== 'string') continue;
      const task = { framework_id: t.framework_id, task_id: t.task_id, name: typeof t.name === 'string' ? t.name : '', resources: typeof t.resources === 'string' ? t.resources : '' };
      put.push(task);
      bytes += taskBytes(task);
    }
    const drop = (Array.isArray(c?.drop) ? c.drop : []).filter((k): k is string => typeof k === 'string');
    for (const k of drop) bytes += dropBytes(k);
    out.agents[agentId] = { put, drop };
  }
  return { doc: out, bytes };
}

/** Applies an entry's changes for one agent to its tasks, where `newer(key)` says the task's base is older than the entry. */
export function applyChanges(tasks: Map<string, RegistryTask>, changes: AgentChanges, newer: (key: string) => boolean): string[] {
  const applied: string[] = [];
  for (const t of changes.put) {
    const key = taskKeyOf(t.framework_id, t.task_id);
    if (!newer(key)) continue;
    tasks.set(key, t);
    applied.push(key);
  }
  for (const key of changes.drop) {
    if (!newer(key)) continue;
    tasks.delete(key);
    applied.push(key);
  }
  return applied;
}

/**
 * Whether to rewrite the bases the journal overtook now: once the journal
 * holds as many bytes as they would take (so compaction at most doubles
 * what a task change costs), or too many entries.
 */
export function shouldCompact(journal: { bytes: number; entries: number }, staleBytes: number): boolean {
  if (journal.entries === 0) return false;
  return journal.bytes >= staleBytes || journal.entries > JOURNAL_MAX_ENTRIES;
}
