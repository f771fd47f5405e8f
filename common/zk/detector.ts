// Finds the leading master in ZooKeeper and follows it as it changes.
//
// Masters contend with ephemeral sequential znodes `<path>/json.info_<seq>`
// holding their MasterInfo as JSON (as Apache Mesos writes it, plus our
// `grpc_address`). The leader is the lowest sequence whose data parses;
// anything else under the path (garbage written by hand, a half-written
// node) is skipped with a warning, so every reader agrees on one leader.
import type { ZkSession } from './session.js';

export const LEADER_PREFIX = 'json.info_';

export interface LeaderInfo {
  readonly znode: string;
  readonly id: string;
  readonly hostname: string;
  /** HTTP address of the leader (MasterInfo.address). */
  readonly http: string;
  /** gRPC address schedulers and agents dial. */
  readonly grpc: string;
  /** The master logs its registry changes (`registry_log` in its info), so a standby may follow them (master/registry/zk-log.ts). */
  readonly registryLog: boolean;
}

/** Parses a leader znode's JSON; null (and a reason) when it is not a usable MasterInfo. */
export function parseLeaderInfo(znode: string, data: Buffer): { info: LeaderInfo } | { error: string } {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
  } catch {
    return { error: 'not JSON' };
  }
  const address = json.address as { ip?: unknown; hostname?: unknown; port?: unknown } | undefined;
  const grpc = json.grpc_address;
  if (typeof json.id !== 'string' || !address || typeof address.port !== 'number' || typeof grpc !== 'string' || !/^[^:\s]+:\d+$/.test(grpc)) {
    return { error: 'missing id, address.port or grpc_address' };
  }
  const host = typeof address.ip === 'string' ? address.ip : String(address.hostname ?? '');
  return { info: { znode, id: json.id, hostname: String(json.hostname ?? host), http: `${host}:${address.port}`, grpc, registryLog: json.registry_log === true } };
}

const sequenceOf = (name: string) => Number(name.slice(LEADER_PREFIX.length));

export class LeaderDetector {
  private leader: LeaderInfo | null = null;
  private readonly listeners: ((leader: LeaderInfo | null) => void)[] = [];
  private stopped = false;
  private readonly warned = new Set<string>();

  constructor(
    private readonly session: ZkSession,
    private readonly path: string,
    /** Told what went wrong (a znode it skips, a failed listing): callers pass their logger's warn. */
    private readonly warn: (message: string) => void = () => {},
  ) {}

  current(): LeaderInfo | null {
    return this.leader;
  }

  onChange(listener: (leader: LeaderInfo | null) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<LeaderInfo | null> {
    await this.session.mkdirp(this.path);
    await this.refresh();
    return this.leader;
  }

  stop(): void {
    this.stopped = true;
  }

  private async refresh(): Promise<void> {
    if (this.stopped || !this.session.active) return;
    let names: string[];
    try {
      names = await this.session.children(this.path, () => void this.refresh().catch((err) => this.warn(`leader detection: ${err}`)));
    } catch (err) {
      this.warn(`cannot list ${this.path}: ${String(err)}`);
      return;
    }
    const candidates = names.filter((n) => n.startsWith(LEADER_PREFIX) && /^\d+$/.test(n.slice(LEADER_PREFIX.length)));
    candidates.sort((a, b) => sequenceOf(a) - sequenceOf(b));
    let leader: LeaderInfo | null = null;
    for (const name of candidates) {
      const data = await this.session.data(`${this.path}/${name}`);
      if (!data) continue; // Gone since the listing.
      const parsed = parseLeaderInfo(`${this.path}/${name}`, data);
      if ('info' in parsed) {
        leader = parsed.info;
        break;
      }
      if (!this.warned.has(name)) this.warn(`skipping ${this.path}/${name}: ${parsed.error}`);
      this.warned.add(name);
    }
    if (leader?.znode !== this.leader?.znode) {
      this.leader = leader;
      for (const l of this.listeners) l(leader);
    }
  }
}
