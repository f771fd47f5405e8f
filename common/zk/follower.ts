// Follows the leading master in ZooKeeper for as long as it runs: a session
// and a LeaderDetector, and when the session ends (ZooKeeper unreachable past
// the session timeout, or expired) a new session and detector, retried every
// `retryMs` until ZooKeeper answers again. A detector on an ended session
// hears of no later leader, so without this a process keeps the leader its
// old session last named, for good.
import { ZkSession } from './session.js';
import { LeaderDetector, type LeaderInfo } from './detector.js';

export interface LeaderFollowerOptions {
  readonly servers: string;
  readonly path: string;
  readonly auth?: string;
  readonly sessionTimeoutMs: number;
  /** Told of skipped znodes, failed listings and lost sessions. */
  readonly warn: (line: string) => void;
  /** Between attempts at a new session. Default 1 s. */
  readonly retryMs?: number;
}

export class LeaderFollower {
  private detector: LeaderDetector | null = null;
  private session: ZkSession | null = null;
  private leader: LeaderInfo | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private readonly listeners: ((leader: LeaderInfo | null) => void)[] = [];

  private constructor(private readonly options: LeaderFollowerOptions) {}

  /** Resolves once the first session is up and the leader (if any) read; rejects if ZooKeeper cannot be reached at first. */
  static async start(options: LeaderFollowerOptions): Promise<LeaderFollower> {
    const follower = new LeaderFollower(options);
    await follower.connect();
    return follower;
  }

  current(): LeaderInfo | null {
    return this.leader;
  }

  onChange(listener: (leader: LeaderInfo | null) => void): void {
    this.listeners.push(listener);
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.detector?.stop();
    this.session?.close();
  }

  private async connect(): Promise<void> {
    const { servers, path, auth, sessionTimeoutMs, warn } = this.options;
    const session = await ZkSession.connect({ servers, sessionTimeoutMs, ...(auth ? { auth } : {}) });
    if (this.stopped) return session.close();
    const detector = new LeaderDetector(session, path, warn);
    this.session = session;
    this.detector = detector;
    detector.onChange((leader) => this.changed(leader));
    session.onEnd((why) => {
      detector.stop();
      if (this.stopped) return;
      warn(`lost the ZooKeeper session (${why}); following the leader again once ZooKeeper answers`);
      this.renew();
    });
    this.changed(await detector.start());
  }

  private renew(): void {
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect().catch((err: unknown) => {
        this.options.warn(`cannot reach ZooKeeper at ${this.options.servers} yet: ${String(err)}`);
        if (!this.stopped) this.renew();
      });
    }, this.options.retryMs ?? 1000);
  }

  private changed(leader: LeaderInfo | null): void {
    if (leader?.znode === this.leader?.znode) return;
    this.leader = leader;
    for (const l of this.listeners) l(leader);
  }
}
