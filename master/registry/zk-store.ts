// The registry kept in ZooKeeper, next to the election znodes:
//
//   <path>/json.info_<seq>            candidacies (election)
//   <path>/registry/agents/<id>       one JSON document per admitted agent
//   <path>/registry/tasks/<id>%2F<k>  shard k of an agent's task index, for
//                                     agents with too many tasks to keep
//                                     them inline (task-shards.ts)
//   <path>/registry/frameworks/<id>   one JSON document per framework
//   <path>/registry/settings/<name>   weights, quota, maintenance (set by operators)
//
// Each write is one ZooKeeper multi that starts by checking this master's
// own election znode: once the candidacy is gone (session expired, node
// removed) no write of ours can land, so a deposed leader can never change
// what its successor reads. Large batches are cut into several multis,
// each well under ZooKeeper's 1 MB request limit.
import type { ZkOp, ZkSession } from '../../common/zk/session.js';
import type { RegistryChange, RegistryKey, RegistryStore } from './registry.js';
import { silentLogger, type Logger } from '../../common/log/logger.js';

const MAX_MULTI_BYTES = 512 * 1024;
/** Reads in flight while loading: one at a time, 10,000 agents cost 10,000 round trips end to end. */
const LOAD_CONCURRENCY = 64;

export class ZkRegistryStore implements RegistryStore {
  readonly name: string;
  private readonly base: string;
  /** Znodes known to exist, so a put is a create or a set. */
  private readonly existing = new Set<string>();

  private readonly sessionOf: () => ZkSession;

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

  async load(): Promise<Map<RegistryKey, Record<string, unknown>>> {
    const docs = new Map<RegistryKey, Record<string, unknown>>();
    for (const kind of ['agents', 'tasks', 'frameworks', 'settings'] as const) {
      const dir = `${this.base}/${kind}`;
      await this.sessionOf().mkdirp(dir);
      const names = await this.sessionOf().children(dir);
      let next = 0;
      const reader = async () => {
        while (next < names.length) {
          const name = names[next++]!;
          const path = `${dir}/${name}`;
          const data = await this.sessionOf().data(path);
          if (!data) continue;
          this.existing.add(path);
          try {
            const doc = JSON.parse(data.toString('utf8')) as unknown;
            if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a JSON object');
            docs.set(`${kind}/${decodeURIComponent(name)}` as RegistryKey, doc as Record<string, unknown>);
          } catch (err) {
            this.logger.warn({ znode: path }, `registry: skipping ${path}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, names.length) }, reader));
    }
    return docs;
  }

  async write(changes: readonly RegistryChange[]): Promise<void> {
    const fence = this.fence();
    if (!fence) throw new Error('this master holds no candidacy in ZooKeeper');
    let ops: ZkOp[] = [];
    let bytes = 0;
    let created: string[] = [];
    let removed: string[] = [];
    const commit = async () => {
      if (ops.length === 0) return;
      await this.sessionOf().commit([{ op: 'check', path: fence }, ...ops]);
      for (const p of created) this.existing.add(p);
      for (const p of removed) this.existing.delete(p);
      ops = [];
      bytes = 0;
      created = [];
      removed = [];
    };
    for (const change of changes) {
      const path = this.pathOf(change.key);
      if (change.value) {
        const data = Buffer.from(JSON.stringify(change.value));
        if (bytes + data.length > MAX_MULTI_BYTES) await commit();
        if (this.existing.has(path) || created.includes(path)) ops.push({ op: 'set', path, data });
        else {
          ops.push({ op: 'create', path, data, access: 'private' });
          created.push(path);
        }
        bytes += data.length + path.length;
      } else if (this.existing.has(path)) {
        ops.push({ op: 'remove', path });
        removed.push(path);
      }
    }
    await commit();
  }

  private pathOf(key: RegistryKey): string {
    const slash = key.indexOf('/');
    return `${this.base}/${key.slice(0, slash)}/${encodeURIComponent(key.slice(slash + 1))}`;
  }
}
