// A standby master's copy of the registry, kept warm while it stands by, so
// that once elected it reads only what changed since its last poll instead
// of every znode (issue 15: a full read of 5,000 agents took 4.4 s).
//
//   cold ──readAll──> warm ──poll: apply new log entries──> warm
//     ^                 │
//     └── gap / error ──┘  (an entry trimmed before it was applied, a session that ended)
//
// readAll lists the log first (its highest entry S), then reads every
// znode. A change committed after the listing has an entry above S, so
// applying entries S+1, S+2, ... (re-reading the keys each lists; a missing
// znode is a delete) brings the copy to what a full read would return,
// whichever of the change's values the first read happened to see: each
// key is read again after the entry naming it was listed. Documents are
// parsed as they are read, so that once elected the standby parses only
// what the last entries changed (parsing 5,000 agents' documents at election
// would cost about as much CPU as a busy leader's poll, at the worst time).
import type { ZkSession } from '../../common/zk/session.js';
import { silentLogger, type Logger } from '../../common/log/logger.js';
import { errorMessage } from '../../common/errors.js';
import type { RegistryKey } from './registry.js';
import { decodeEntry, entryName, listLog } from './zk-log.js';

export const REGISTRY_KINDS = ['agents', 'tasks', 'journal', 'frameworks', 'settings'] as const;
/** Reads in flight for a full read: one at a time, 10,000 agents cost 10,000 round trips end to end. */
const READ_CONCURRENCY = 64;
/** Reads in flight while following: the standby shares the machine with the leader it follows. */
const FOLLOW_CONCURRENCY = 8;
/** How often a standby polls the log; a longer wait costs reads at election, not correctness. */
export const FOLLOW_POLL_MS = 500;

/** The registry's znodes as read: each document by key (an Error for one that does not parse), and the last log entry they reflect. */
export interface RegistryCopy {
  readonly docs: Map<RegistryKey, RegistryDoc>;
  /** Every entry up to this one is reflected (0: the log was empty). */
  applied: number;
  /** The log as last listed, ascending: where the leader's counter and trimming continue. */
  listed: number[];
}

export type RegistryDoc = Record<string, unknown> | Error;

/** A znode's document; an Error (the znode exists, the registry skips it with a warning) when it is not a JSON object. */
export function parseDoc(data: Buffer): RegistryDoc {
  try {
    const doc = JSON.parse(data.toString('utf8')) as unknown;
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : new Error('not a JSON object');
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

export interface Caught {
  readonly entries: number;
  readonly keys: number;
}

/** Where a registry key lives: `<base>/<kind>/<id, URI-encoded>`. */
export function znodeOf(base: string, key: RegistryKey): string {
  const slash = key.indexOf('/');
  return `${base}/${key.slice(0, slash)}/${encodeURIComponent(key.slice(slash + 1))}`;
}

/** Runs `fn` on every item, at most `limit()` at a time (read again as each finishes: a standby elected mid-poll speeds up). */
function inParallel<T>(items: readonly T[], limit: () => number, fn: (item: T) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let running = 0;
    let failed = false;
    const pump = () => {
      if (failed) return;
      if (next >= items.length && running === 0) return resolve();
      while (running < limit() && next < items.length) {
        running++;
        fn(items[next++]!).then(() => (running--, pump()), (err: unknown) => ((failed = true), reject(err)));
      }
    };
    pump();
  });
}

/** Every znode of the registry, after listing the log (see the header). `step` is told each folder read (tests interleave writes there). */
export async function readAll(
  session: () => ZkSession, base: string, logger: Logger, step: (kind: string) => Promise<void> | void = () => {},
): Promise<RegistryCopy> {
  const listed = await listLog(session(), `${base}/log`, true);
  const docs = new Map<RegistryKey, RegistryDoc>();
  for (const kind of REGISTRY_KINDS) {
    const dir = `${base}/${kind}`;
    await session().mkdirp(dir);
    await inParallel(await session().children(dir), () => READ_CONCURRENCY, async (name) => {
      let key: RegistryKey;
      try {
        key = `${kind}/${decodeURIComponent(name)}` as RegistryKey;
      } catch {
        return logger.warn({ znode: `${dir}/${name}` }, `registry: skipping ${dir}/${name}: not a URI-encoded id`);
      }
      const data = await session().data(`${dir}/${name}`);
      if (data) docs.set(key, parseDoc(data));
    });
    await step(kind);
  }
  return { docs, applied: listed.at(-1) ?? 0, listed };
}

/**
 * Lists the log and applies its entries after `copy.applied`, in one pass:
 * the keys of all of them are read once each, after the listing. 'gap' when
 * the next entry is gone (trimmed, or the log was cleared): only a full
 * read can tell what changed.
 */
export async function catchUp(
  session: () => ZkSession, base: string, copy: RegistryCopy, concurrency: () => number = () => READ_CONCURRENCY,
): Promise<Caught | 'gap'> {
  // The folder exists: readAll made it. A registry cleared since fails the listing, and the caller reads everything.
  const listed = await listLog(session(), `${base}/log`);
  const fresh = listed.filter((n) => n > copy.applied);
  const last = listed.at(-1) ?? 0;
  if (last < copy.applied || (fresh.length > 0 && fresh[0] !== copy.applied + 1) || fresh.length !== last - copy.applied) return 'gap';
  copy.listed = listed;
  if (fresh.length === 0) return { entries: 0, keys: 0 };
  const keys = new Set<RegistryKey>();
  let missing = false;
  await inParallel(fresh, concurrency, async (n) => {
    const data = await session().data(`${base}/log/${entryName(n)}`);
    if (!data) missing = true; // Trimmed since the listing.
    else for (const key of decodeEntry(data)) keys.add(key);
  });
  if (missing) return 'gap';
  await inParallel([...keys], concurrency, async (key) => {
    const data = await session().data(znodeOf(base, key));
    if (data) copy.docs.set(key, parseDoc(data));
    else copy.docs.delete(key);
  });
  copy.applied = last;
  return { entries: fresh.length, keys: keys.size };
}

/**
 * Keeps a copy of the registry while this master stands by: a full read,
 * then a poll of the log every FOLLOW_POLL_MS. takeOver() stops it and hands
 * the copy over, caught up, or null when only a full read will do.
 */
export class RegistryFollower {
  private copy: RegistryCopy | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;
  /** Ends the current wait between two polls, if any. */
  private wake: (() => void) | null = null;
  /** Moves on whenever the leader's log cannot be trusted: a read begun before then is not kept. */
  private epoch = 0;
  /** Why the copy cannot be trusted at present (a leader that keeps no log); null: it can. */
  private distrust: string | null = null;

  constructor(
    private readonly session: () => ZkSession,
    private readonly base: string,
    private readonly logger: Logger = silentLogger(),
    private readonly options: { pollMs?: number; step?: (kind: string) => Promise<void> | void } = {},
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** The last log entry the copy reflects; null while there is no copy (cold). */
  get applied(): number | null {
    return this.copy?.applied ?? null;
  }

  /** The leader keeps no log (a master of an earlier version): drop the copy until one that does leads. */
  untrusted(why: string | null): void {
    if (why && !this.distrust) this.logger.info(`registry: not following the registry while ${why}`);
    this.distrust = why;
    if (why) {
      this.copy = null;
      this.epoch++;
    }
  }

  /** Stops following; the copy brought up to the log's end, or null (cold: never read, or a gap). */
  async takeOver(): Promise<{ copy: RegistryCopy; caught: Caught } | null> {
    this.stopped = true;
    this.wake?.();
    // The step under way finishes, or fails: a read on a session that ended fails with it (ZkSession), the loop
    // drops the copy and stops. Waiting for a step on a live session costs less than reading everything again.
    await this.loop;
    const copy = this.copy;
    this.copy = null;
    if (!copy || this.distrust) return null;
    const caught = await catchUp(this.session, this.base, copy);
    return caught === 'gap' ? null : { copy, caught };
  }

  /** Stops following and forgets the copy. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
    this.copy = null;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.step();
        failures = 0;
      } catch (err) {
        // A session that ended (the standby contends again on a new one), a lost connection: read everything again.
        this.copy = null;
        if (failures++ === 0) this.logger.warn(`registry: following the registry failed (${errorMessage(err)}); reading it all again`);
      }
      await this.sleep(this.options.pollMs ?? FOLLOW_POLL_MS);
    }
  }

  private async step(): Promise<void> {
    if (this.distrust || !this.session().active) return;
    const epoch = this.epoch;
    if (!this.copy) {
      const copy = await readAll(this.session, this.base, this.logger, this.options.step);
      if (epoch === this.epoch) this.copy = copy;
      this.logger.info({ keys: copy.docs.size, entry: copy.applied }, `registry: standby read ${copy.docs.size} registry entries; following the log from entry ${copy.applied}`);
      return;
    }
    const copy = this.copy;
    const caught = await catchUp(this.session, this.base, copy, () => (this.stopped ? READ_CONCURRENCY : FOLLOW_CONCURRENCY));
    if (caught !== 'gap' || epoch !== this.epoch) return;
    // A standby that cannot keep up reads everything again, and again: worth an operator's eye.
    this.logger.warn(`registry: the log moved past entry ${copy.applied + 1} before this standby read it; reading the registry again`);
    this.copy = null;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
