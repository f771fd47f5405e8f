// Following the leading master for as long as the caller runs (an agent, a
// scheduler): a LeaderDetector on a ZooKeeper session, and, when that
// session ends (expired while ZooKeeper had no quorum, or cut off for a
// whole session timeout), a new session and a new detector, retried until
// ZooKeeper answers again. A detector alone would keep reporting the leader
// it last saw, for good, once its session is gone. Masters do not use this:
// a master whose session ends stops (master/election/).
import type { ZkSession } from './session.js';
import { LeaderDetector, type LeaderInfo } from './detector.js';

const RETRY_MS = 1000;

export class LeaderFollower {
  private detector: LeaderDetector | null = null;
  private session: ZkSession | null = null;
  private leader: LeaderInfo | null = null;
  private readonly listeners: ((leader: LeaderInfo | null) => void)[] = [];
  private stopped = false;
  private reconnecting = false;

  constructor(
    private readonly connect: () => Promise<ZkSession>,
    private readonly path: string,
    private readonly warn: (message: string) => void = () => {},
    private readonly retryMs = RETRY_MS,
  ) {}

  current(): LeaderInfo | null {
    return this.leader;
  }

  onChange(listener: (leader: LeaderInfo | null) => void): void {
    this.listeners.push(listener);
  }

  /** Connects the first session (its failure is the caller's to report) and finds the leader. */
  async start(): Promise<LeaderInfo | null> {
    await this.follow(await this.connect());
    return this.leader;
  }

  stop(): void {
    this.stopped = true;
    this.detector?.stop();
    this.session?.close();
  }

  private async follow(session: ZkSession): Promise<void> {
    if (this.stopped) return session.close();
    this.session = session;
    const detector = new LeaderDetector(session, this.path, this.warn);
    this.detector = detector;
    detector.onChange((leader) => this.set(leader));
    session.onEnd((why) => {
      detector.stop();
      if (this.stopped) return;
      this.warn(`ZooKeeper session ended (${why}); following the leader on a new session`);
      void this.reconnect();
    });
    this.set(await detector.start());
  }

  /** One loop at a time: a session that ends while a detector starts on it would otherwise start a second. */
  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      while (!this.stopped) {
        try {
          return await this.follow(await this.connect());
        } catch (err) {
          this.warn(`cannot reach ZooKeeper yet (${err instanceof Error ? err.message : String(err)}); retrying in ${this.retryMs} ms`);
          await new Promise((r) => setTimeout(r, this.retryMs).unref());
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  private set(leader: LeaderInfo | null): void {
    if (leader?.znode === this.leader?.znode) return;
    this.leader = leader;
    for (const l of this.listeners) l(leader);
  }
}
