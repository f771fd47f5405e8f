// The registry kept in ZooKeeper, next to the election znodes:
//
//   <path>/json.info_<seq>            candidacies (election)
//   <path>/registry/agents/<id>       one JSON document per admitted agent
//   <path>/registry/tasks/<id>%2F<k>of<n>  shard k of an agent's task index
//                                     split n ways, for agents with too many
//                                     tasks to keep them inline (task-shards.ts)
//   <path>/registry/journal/<seq>     task changes not yet in their agent's
//                                     entry or shard (task-journal.ts)
//   <path>/registry/frameworks/<id>   one JSON document per framework
//   <path>/registry/settings/<name>   weights, quota, maintenance (set by operators)
//   <path>/registry/log/<12 digits>   the keys each multi changed, the newest
//                                     1,000 multis (zk-log.ts)
//
// Each write is one ZooKeeper multi that starts by checking this master's
// own election znode: once the candidacy is gone (session expired, node
// removed) no write of ours can land, so a deposed leader can never change
// what its successor reads. Large batches are cut into several multis,
// each well under ZooKeeper's 1 MB request limit, and each logged.
//
// A standby follows the log (zk-follower.ts): once elected it reads only
// the entries after the last it applied, and their keys. A master that
// never stood by, or whose copy fell behind the trimmed log, reads every
// znode (cold).
import type { ZkOp, ZkSession } from '../../common/zk/session.js';
import type { RegistryChange, RegistryKey, RegistryStore } from './registry.js';
import { silentLogger, type Logger } from '../../common/log/logger.js';
import { LogWriter, listLog } from './zk-log.js';
import { readAll, RegistryFollower, znodeOf, type Caught, type RegistryCopy } from './zk-follower.js';

const MAX_MULTI_BYTES = 512 * 1024;

export class ZkRegistryStore implements RegistryStore {
  readonly name: string;
  private readonly base: string;
  /** Znodes known to exist, so a put is a create or a set. */
  private readonly existing = new Set<string>();
  /** Where the next log entry goes; null until the log was listed (by load(), or by the first write). */
  private log: LogWriter | null = null;
  private follower: RegistryFollower | null = null;
  /** Why the leader's changes cannot be followed (it keeps no log); null: they can. */
  private withoutLog: string | null = null;

  private readonly sessionOf: () => ZkSession;
  /** Bytes of documents and paths in the multis committed so far (registrar/bytes_written). */
  bytesWritten = 0;

  constructor(
    /** The session, or how to find the current one (a standby's changes when it contends again). */
    session: ZkSession | (() => ZkSession),
    path: string,
    /** This master's election znode: every write requires it to still exist. */
    private readonly fence: () => string | null,
    private readonly logger: Logger = silentLogger(),
  ) {
    this.sessionOf = typeof session === 'function' ? session : () => session;
    this.base = `${path === '/' ? '' : path}/registry`;
    this.name = `ZooKeeper ${this.base}`;
  }

  /**
   * Keeps a copy of the registry while this master stands by (zk-follower.ts), for load() to use once it is
   * elected. `step` is told each folder its first read finished (tests interleave writes there).
   */
  follow(options: { pollMs?: number; step?: (kind: string) => Promise<void> | void } = {}): RegistryFollower {
    this.follower ??= new RegistryFollower(this.sessionOf, this.base, this.logger, options);
    this.follower.untrusted(this.withoutLog);
    this.follower.start();
    return this.follower;
  }

  /** The leader keeps no log (null: it does): a standby's copy cannot be trusted meanwhile. */
  leaderWithoutLog(why: string | null): void {
    this.withoutLog = why;
    this.follower?.untrusted(why);
  }

  stopFollowing(): void {
    this.follower?.stop();
    this.follower = null;
  }

  async load(): Promise<Map<RegistryKey, Record<string, unknown>>> {
    // A copy that cannot be caught up (its session failed) is dropped: the full read says what is wrong, if anything.
    const warm = await this.follower?.takeOver().catch(() => null);
    this.follower = null;
    const copy = warm?.copy ?? (await readAll(this.sessionOf, this.base, this.logger));
    this.logRead(copy, warm?.caught ?? null);
    this.log = LogWriter.after(`${this.base}/log`, copy.listed);
    const docs = new Map<RegistryKey, Record<string, unknown>>();
    for (const [key, doc] of copy.docs) {
      const path = znodeOf(this.base, key);
      this.existing.add(path);
      if (doc instanceof Error) this.logger.warn({ znode: path }, `registry: skipping ${path}: ${doc.message}`);
      else docs.set(key, doc);
    }
    return docs;
  }

  private logRead(copy: RegistryCopy, caught: Caught | null): void {
    if (caught) {
      this.logger.info({ read: 'warm', entries: caught.entries, keys: caught.keys, log_entry: copy.applied },
        `registry: warm read: the standby's copy of ${copy.docs.size} entries, ${caught.entries} log entries applied (${caught.keys} keys read)`);
    } else {
      this.logger.info({ read: 'cold', keys: copy.docs.size, log_entry: copy.applied }, `registry: cold read: every znode read (${copy.docs.size} entries)`);
    }
  }

  async write(changes: readonly RegistryChange[]): Promise<void> {
    const fence = this.fence();
    if (!fence) throw new Error('this master holds no candidacy in ZooKeeper');
    this.log ??= LogWriter.after(`${this.base}/log`, await listLog(this.sessionOf(), `${this.base}/log`, true));
    const log = this.log;
    let ops: ZkOp[] = [];
    let keys: RegistryKey[] = [];
    let bytes = 0;
    let created = new Set<string>();
    let removed: string[] = [];
    const commit = async () => {
      if (ops.length === 0) return;
      const entry = log.ops(keys);
      await this.sessionOf().commit([{ op: 'check', path: fence }, ...ops, ...entry.ops]);
      entry.commit();
      this.bytesWritten += bytes;
      for (const p of created) this.existing.add(p);
      for (const p of removed) this.existing.delete(p);
      ops = [];
      keys = [];
      bytes = 0;
      created = new Set();
      removed = [];
    };
    for (const change of changes) {
      const path = znodeOf(this.base, change.key);
      // The path goes into the request, and the key into the log entry: both count.
      const data = change.value ? Buffer.from(JSON.stringify(change.value)) : null;
      const cost = (data?.length ?? 0) + 2 * path.length;
      if (bytes + cost > MAX_MULTI_BYTES) await commit();
      if (data) {
        if (this.existing.has(path) || created.has(path)) ops.push({ op: 'set', path, data });
        else {
          ops.push({ op: 'create', path, data, access: 'private' });
          created.add(path);
        }
      } else if (this.existing.has(path)) {
        ops.push({ op: 'remove', path });
        removed.push(path);
      } else continue;
      keys.push(change.key);
      bytes += cost;
    }
    await commit();
  }
}
