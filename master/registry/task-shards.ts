// How an agent's task index is split over registry entries, so that no
// ZooKeeper node nears its 1 MB limit (jute.maxbuffer) however many tasks
// one agent holds.
//
// An agent whose index is small keeps it inline, in its own entry
// (`agents/<id>`, the layout every registry had before sharding). Once the
// index passes INLINE_MAX_BYTES it moves to `task_shards` entries
// `tasks/<id>/<k>of<n>`, a power of two of them, each task in the shard its
// hash picks, sized for SHARD_TARGET_BYTES each: an eighth of the limit, a
// margin for an uneven hash and for characters JSON escapes. The count
// only grows (doubling writes every shard anew, under keys naming the new
// layout, and removes the old ones after the agent's entry names the new
// one); it falls back to inline when the agent loses all its tasks (gone)
// or is forgotten.
import type { RegistryTask } from './entries.js';

export const INLINE_MAX_BYTES = 128 * 1024;
export const SHARD_TARGET_BYTES = 128 * 1024;

/** About how many bytes a task takes in its entry's JSON (ASCII fields; escapes fall within the shards' margin). */
export function taskBytes(t: RegistryTask): number {
  return 64 + t.framework_id.length + t.task_id.length + t.name.length + t.resources.length;
}

/** How many shards an index of `bytes` needs: 0 (inline) or a power of two, never fewer than `current`. */
export function shardsFor(bytes: number, current: number): number {
  if (bytes <= INLINE_MAX_BYTES && current === 0) return 0;
  let n = Math.max(1, current);
  while (n * SHARD_TARGET_BYTES < bytes) n *= 2;
  return n;
}

/** The shard (0 ≤ k < shards) of the task `key` (`framework_id/task_id`): FNV-1a, stable across masters. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/**
 * The key of shard `k` of an agent's index split `n` ways. The layout is in
 * the key, so that splitting anew never overwrites a shard of the layout the
 * agent's entry still names: a write cut short between the new shards and
 * the entry leaves the old layout whole.
 */
export const shardKey = (agentId: string, k: number, n: number) => `tasks/${agentId}/${k}of${n}` as const;

/**
 * Splits a shard entry's id (`<agent id>/<k>of<n>`) into the agent, the
 * shard and the layout; `of` is null for a shard written before the layout
 * was in the key (`<agent id>/<k>`). Null when it is not a shard's id.
 */
export function parseShardId(id: string): { agentId: string; shard: number; of: number | null } | null {
  const slash = id.lastIndexOf('/');
  const match = /^(0|[1-9]\d*)(?:of([1-9]\d*))?$/.exec(id.slice(slash + 1));
  if (slash <= 0 || !match) return null;
  const shard = Number(match[1]);
  const of = match[2] === undefined ? null : Number(match[2]);
  if (!Number.isSafeInteger(shard) || (of !== null && (!Number.isSafeInteger(of) || shard >= of))) return null;
  return { agentId: id.slice(0, slash), shard, of };
}
