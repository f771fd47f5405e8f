// A small promise-based face of node-zookeeper-client: one session, the
// handful of operations election and detection need, and a signal for the
// session's end (expiry or close), after which the owner must stop acting.
import zookeeper from 'node-zookeeper-client';
import { Unavailable } from '../errors.js';

export interface ZkSessionOptions {
  readonly servers: string;
  readonly sessionTimeoutMs: number;
  /** How long to wait for the first connection before giving up. */
  readonly connectTimeoutMs?: number;
  /**
   * End the session when this process was frozen (SIGSTOP, a long pause) for
   * two thirds of the session timeout: ZooKeeper may have expired it while
   * we could not hear, so a leader must not act on the belief that it still
   * leads. Checked by a timer that runs before anything else once the
   * process resumes.
   */
  readonly endOnStall?: boolean;
  /** `user:password` (from zk://user:password@...): digest authentication, and znodes this session creates are writable only by it. */
  readonly auth?: string;
}

/**
 * Who may do what with the znodes a session creates. Without credentials,
 * anyone may do anything (ZooKeeper's OPEN_ACL_UNSAFE, as before). With
 * them, only holders of the same credentials may change them: `public`
 * znodes (election entries, folders) stay readable by all, as Mesos leaves
 * its leader entries; `private` ones (the registry) are not even readable.
 */
export type ZnodeAccess = 'public' | 'private';

const STALL_CHECK_MS = 100;

/** One operation of an atomic multi: `check` fails the whole multi when the node is gone. */
export type ZkOp =
  | { readonly op: 'create'; readonly path: string; readonly data: Buffer; readonly access?: ZnodeAccess }
  | { readonly op: 'set'; readonly path: string; readonly data: Buffer }
  | { readonly op: 'remove' | 'check'; readonly path: string };

export class ZkSession {
  private readonly client: zookeeper.Client;
  private ended = false;
  private readonly endListeners: ((why: string) => void)[] = [];

  private disconnectedTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;

  private readonly acls: Record<ZnodeAccess, zookeeper.ACL[]>;

  private constructor(client: zookeeper.Client, sessionTimeoutMs: number, endOnStall: boolean, authenticated: boolean) {
    this.client = client;
    // The 'auth' id stands for whoever creates the node, authenticated: the digest of our credentials.
    const owner = new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('auth', ''));
    const anyone = new zookeeper.Id('world', 'anyone');
    const open = [new zookeeper.ACL(zookeeper.Permission.ALL, anyone)];
    this.acls = authenticated
      ? { public: [owner, new zookeeper.ACL(zookeeper.Permission.READ, anyone)], private: [owner] }
      : { public: open, private: open };
    if (endOnStall) {
      // Monotonic: a wall-clock jump is not a stall.
      let last = performance.now();
      this.stallTimer = setInterval(() => {
        const now = performance.now();
        if (now - last > (sessionTimeoutMs * 2) / 3) this.end(`this process was frozen for ${Math.round(now - last)} ms; the ZooKeeper session may have expired`);
        last = now;
      }, STALL_CHECK_MS);
      this.stallTimer.unref();
    }
    client.on('state', (state: zookeeper.State) => {
      if (this.ended) return; // Closing emits DISCONNECTED too; nothing must keep the process alive after.
      if (state === zookeeper.State.EXPIRED) this.end('ZooKeeper session expired');
      // Cut off from ZooKeeper: after a session timeout the server has expired us,
      // whether or not we hear it, so act as if it had.
      if (state === zookeeper.State.DISCONNECTED && !this.disconnectedTimer) {
        this.disconnectedTimer = setTimeout(() => this.end(`no contact with ZooKeeper for ${sessionTimeoutMs} ms`), sessionTimeoutMs);
      }
      if (state === zookeeper.State.SYNC_CONNECTED && this.disconnectedTimer) {
        clearTimeout(this.disconnectedTimer);
        this.disconnectedTimer = null;
      }
    });
  }

  static async connect(options: ZkSessionOptions): Promise<ZkSession> {
    const client = zookeeper.createClient(options.servers, { sessionTimeout: options.sessionTimeoutMs, spinDelay: 200, retries: 2 });
    if (options.auth) client.addAuthInfo('digest', Buffer.from(options.auth));
    const session = new ZkSession(client, options.sessionTimeoutMs, options.endOnStall ?? false, options.auth !== undefined);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.close();
        reject(new Unavailable(`cannot reach ZooKeeper at ${options.servers} within ${timeoutMs} ms`));
      }, timeoutMs);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.connect();
    });
    return session;
  }

  get sessionId(): string {
    return this.client.getSessionId().toString('hex');
  }

  get active(): boolean {
    return !this.ended;
  }

  onEnd(listener: (why: string) => void): void {
    if (this.ended) listener('session already ended');
    else this.endListeners.push(listener);
  }

  /** Creates the folders of `path` that are missing (readable by all). */
  mkdirp(path: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.mkdirp(path, this.acls.public, zookeeper.CreateMode.PERSISTENT, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Creates an ephemeral sequential node `prefix<10 digits>` (readable by all); returns its full path. */
  createEphemeralSequential(prefix: string, data: Buffer): Promise<string> {
    return new Promise((resolve, reject) =>
      this.client.create(prefix, data, this.acls.public, zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, (err, path) => (err ? reject(err) : resolve(path))),
    );
  }

  /** Children of `path`; `watch` fires once on the next change. */
  children(path: string, watch?: () => void): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | zookeeper.Exception | null, children: string[]) => (err ? reject(err) : resolve(children));
      if (watch) this.client.getChildren(path, () => watch(), done);
      else this.client.getChildren(path, done);
    });
  }

  /** The node's data, or null if it is gone. */
  data(path: string): Promise<Buffer | null> {
    return new Promise((resolve, reject) =>
      this.client.getData(path, (err, data) => {
        if (err && 'getCode' in err && err.getCode() === zookeeper.Exception.NO_NODE) return resolve(null);
        if (err) return reject(err);
        resolve(data ?? Buffer.alloc(0));
      }),
    );
  }

  /** Runs `ops` atomically (a ZooKeeper multi): all apply or none does. */
  commit(ops: readonly ZkOp[]): Promise<void> {
    const tx = this.client.transaction();
    for (const op of ops) {
      if (op.op === 'create') tx.create(op.path, op.data, this.acls[op.access ?? 'public'], zookeeper.CreateMode.PERSISTENT);
      else if (op.op === 'set') tx.setData(op.path, op.data, -1);
      else if (op.op === 'remove') tx.remove(op.path, -1);
      else tx.check(op.path, -1);
    }
    return new Promise((resolve, reject) => tx.commit((err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    this.client.close();
    this.end('session closed');
  }

  private end(why: string): void {
    if (this.disconnectedTimer) clearTimeout(this.disconnectedTimer);
    if (this.stallTimer) clearInterval(this.stallTimer);
    if (this.ended) return;
    this.ended = true;
    this.client.close();
    for (const l of this.endListeners.splice(0)) l(why);
  }
}
