// The registry's change log in ZooKeeper: what lets a standby master follow
// the registry while it stands by and, once elected, read only what changed
// since (zk-follower.ts) instead of every znode.
//
//   <path>/registry/log/<12-digit n>   {"keys": [registry keys set or removed]}
//
// Every multi the leader commits also creates the next entry, so an entry
// exists exactly when its changes do. Entry numbers are consecutive: the
// leader keeps the counter and a new leader continues from the highest
// entry it listed, so a follower that finds its next entry missing knows
// it was trimmed and reads everything again. The same multis trim the log
// to its newest LOG_KEEP entries, so the log stays one short listing. The
// multi's fence check (zk-store.ts) keeps a deposed leader from adding an
// entry, and an entry that already exists fails the create.
import type { ZkOp, ZkSession } from '../../common/zk/session.js';
import type { RegistryKey } from './registry.js';

/** Entries kept: a follower more than this many multis behind reads everything again. */
export const LOG_KEEP = 1000;
/** Trims per multi: enough to catch up on a log a predecessor left longer, a little at a time. */
const TRIMS_PER_MULTI = 8;
const DIGITS = 12;

export const entryName = (n: number) => String(n).padStart(DIGITS, '0');

/** The entry numbers in a listing of the log, ascending; names that are not entries are ignored. */
export function entryNumbers(names: readonly string[]): number[] {
  const numbers: number[] = [];
  for (const name of names) if (name.length === DIGITS && /^\d+$/.test(name)) numbers.push(Number(name));
  return numbers.sort((a, b) => a - b);
}

/** The log's entries; `create` makes its folder first (a round trip per level: not on every poll). */
export async function listLog(session: ZkSession, dir: string, create = false): Promise<number[]> {
  if (create) await session.mkdirp(dir);
  return entryNumbers(await session.children(dir));
}

export function encodeEntry(keys: Iterable<RegistryKey>): Buffer {
  return Buffer.from(JSON.stringify({ keys: [...new Set(keys)] }));
}

/** The keys an entry lists; throws when its data is not an entry this store wrote. */
export function decodeEntry(data: Buffer): RegistryKey[] {
  const doc = JSON.parse(data.toString('utf8')) as { keys?: unknown };
  if (!Array.isArray(doc?.keys) || !doc.keys.every((k) => typeof k === 'string' && /^(agents|tasks|journal|frameworks|settings)\/./.test(k))) {
    throw new Error('a log entry without "keys" (registry keys)');
  }
  return doc.keys as RegistryKey[];
}

/** The leader's end of the log: which entry comes next, and which old ones to trim. */
export class LogWriter {
  private constructor(
    private readonly dir: string,
    /** The next entry's number. */
    private next: number,
    /** The oldest entry still in ZooKeeper (== next when the log is empty). */
    private oldest: number,
  ) {}

  /** From a listing of the log (ascending): continue after its highest entry. */
  static after(dir: string, listed: readonly number[]): LogWriter {
    const next = (listed.at(-1) ?? 0) + 1;
    return new LogWriter(dir, next, listed[0] ?? next);
  }

  /** The ops that log a multi changing `keys`: its entry, and removals of entries beyond the newest LOG_KEEP. */
  ops(keys: Iterable<RegistryKey>): { ops: ZkOp[]; commit: () => void } {
    const ops: ZkOp[] = [{ op: 'create', path: `${this.dir}/${entryName(this.next)}`, data: encodeEntry(keys), access: 'private' }];
    let trimmed = this.oldest;
    while (trimmed < this.next + 1 - LOG_KEEP && ops.length <= TRIMS_PER_MULTI) ops.push({ op: 'remove', path: `${this.dir}/${entryName(trimmed++)}` });
    // Only once the multi is in: a failed one leaves the counter as ZooKeeper has it.
    return { ops, commit: () => ((this.next += 1), (this.oldest = trimmed)) };
  }
}
