// A master's candidacy: an ephemeral sequential znode holding its
// MasterInfo, and a detector telling whether that znode now leads. When the
// ZooKeeper session ends the candidacy is over for good: the master must
// stop acting at once (another master may already lead) and the process is
// expected to exit or start a new candidacy with a new session.
import type { ZkSession } from '../../common/zk/session.js';
import { LEADER_PREFIX, LeaderDetector, type LeaderInfo } from '../../common/zk/detector.js';
import { silentLogger, type Logger } from '../../common/log/logger.js';

export type Leadership = { readonly leading: true } | { readonly leading: false; readonly leader: LeaderInfo | null; readonly why?: string };

export class MasterContender {
  private znode: string | null = null;
  private detector: LeaderDetector;
  private state: Leadership = { leading: false, leader: null };
  private readonly listeners: ((l: Leadership) => void)[] = [];

  constructor(
    private readonly session: ZkSession,
    private readonly path: string,
    /** MasterInfo JSON, with `grpc_address`. */
    private readonly info: Record<string, unknown>,
    private readonly logger: Logger = silentLogger(),
  ) {
    this.detector = new LeaderDetector(session, path, (line) => logger.warn(line));
  }

  /** This candidacy's znode, once created. */
  get candidacy(): string | null {
    return this.session.active ? this.znode : null;
  }

  get leadership(): Leadership {
    return this.state;
  }

  onChange(listener: (l: Leadership) => void): void {
    this.listeners.push(listener);
  }

  async contend(): Promise<Leadership> {
    await this.session.mkdirp(this.path);
    this.znode = await this.session.createEphemeralSequential(`${this.path}/${LEADER_PREFIX}`, Buffer.from(JSON.stringify(this.info)));
    this.logger.info({ znode: this.znode }, `contending for leadership as ${this.znode}`);
    this.detector.onChange((leader) => this.set(leader?.znode === this.znode ? { leading: true } : { leading: false, leader }));
    this.session.onEnd((why) => this.set({ leading: false, leader: null, why }));
    const leader = await this.detector.start();
    this.set(leader?.znode === this.znode ? { leading: true } : { leading: false, leader });
    return this.state;
  }

  /** Ends the candidacy: the znode goes with the session. */
  withdraw(): void {
    this.detector.stop();
    this.session.close();
  }

  private set(next: Leadership): void {
    const changed = next.leading !== this.state.leading || (!next.leading && !this.state.leading && next.leader?.znode !== this.state.leader?.znode);
    // Once the session is gone, nothing can make this candidacy lead again.
    if (next.leading && !this.session.active) return;
    this.state = next;
    if (changed) for (const l of this.listeners) l(next);
  }
}
