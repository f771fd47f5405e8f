// Parts of the messages the master keeps that many tasks carry alike, kept
// once: a TaskInfo's resources and their parsed value (every task of a
// framework often asks the same) and the AgentID in each TaskInfo and
// TaskStatus. Decoded with every
// default field filled in, a TaskInfo's two resources retained 616 bytes and
// an AgentID 120 (a heap snapshot at 50,000 tasks, docs/scale/README.md,
// "Memory per task"). The master never changes these objects in place, so
// one may stand for many equal ones. Each table is emptied when it reaches
// MAX entries: what was shared stays shared, only the lookup is forgotten.

const MAX = 10_000;

class Interned<T> {
  private readonly byKey = new Map<string, T>();

  /** The value kept for `key`, or `value`, kept from now on. */
  get(key: string, value: T): T {
    const kept = this.byKey.get(key);
    if (kept !== undefined) return kept;
    if (this.byKey.size >= MAX) this.byKey.clear();
    this.byKey.set(key, value);
    return value;
  }
}

const resourceLists = new Interned<unknown>();
const parsedLists = new Interned<unknown>();
const agentIds = new Interned<{ value: string }>();

/**
 * One list for equal lists of resources (equal as JSON: the same fields, in
 * the same order, with the same values), and one parsed value for them:
 * `parsed` must be made from `list` alone (a Resources value is never
 * changed; 513 B for cpus and mem).
 */
export function sharedResources<L, P>(list: L, parsed: P): { list: L; parsed: P } {
  const key = JSON.stringify(list);
  return { list: resourceLists.get(key, list) as L, parsed: parsedLists.get(key, parsed) as P };
}

/** One AgentID for each agent id that has nothing but its value. */
export function sharedAgentId<T extends { value?: string }>(id: T): T {
  const keys = Object.keys(id);
  if (keys.length !== 1 || keys[0] !== 'value' || typeof id.value !== 'string') return id;
  return agentIds.get(id.value, id as { value: string }) as unknown as T;
}
