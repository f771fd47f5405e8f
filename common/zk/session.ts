// A small promise-based face of node-zookeeper-client: one session, the
// handful of operations election and detection need, and a signal for the
// session's end (expiry or close), after which the owner must stop acting.
// Every request settles: one made on an ended session fails at once, and
// one in flight when the session ends fails then, both with the reason.
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
   * leads. Checked by a timer; and until that timer has run since the
   * process resumed, the session is not fresh: once resumed, Node may handle
   * a waiting call (and a probe's answer) before any timer runs.
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

/** What ZkSession.fresh decides from, in ms of the monotonic clock. */
export interface Freshness {
  readonly now: number;
  readonly ended: boolean;
  /** When the last answered probe was sent. */
  readonly lastAnsweredSentAt: number;
  readonly timeoutMs: number;
  /** When the stall check last ran, and the gap after which the process counts as frozen (Infinity: not checked). */
  readonly stallCheckedAt: number;
  readonly stallLimitMs: number;
}

/**
 * Fresh: not ended, a probe sent less than two thirds of the timeout ago was answered, and, when stalls are
 * checked, the check ran within its limit (a process just resumed from a freeze is not fresh, even with an answer
 * read before the check could run).
 */
export function isFresh(f: Freshness): boolean {
  return !f.ended && f.now - f.lastAnsweredSentAt < f.timeoutMs * SILENCE_FRACTION && f.now - f.stallCheckedAt <= f.stallLimitMs;
}
/**
 * A member that stops answering (a partition drops its packets) leaves the
 * TCP connection open, and the client library would wait on it for minutes:
 * we probe the member every sixth of the session timeout and, with no answer
 * for two thirds of it (as ZooKeeper's own Java client does), drop the
 * connection so that the client moves to another member of the ensemble
 * (and, if none answers within a session timeout, the session ends).
 */
const PROBE_FRACTION = 1 / 6;
const SILENCE_FRACTION = 2 / 3;
/** The monotonic clock of the session's own timing (never the wall clock, which may jump). */
const now = () => performance.now();

/** One operation of an atomic multi: `check` fails the whole multi when the node is gone. */
export type ZkOp =
  | { readonly op: 'create'; readonly path: string; readonly data: Buffer; readonly access?: ZnodeAccess }
  | { readonly op: 'set'; readonly path: string; readonly data: Buffer }
  | { readonly op: 'remove' | 'check'; readonly path: string };

/** The parts of node-zookeeper-client's connection manager we reach into (see hardenConnection, dropConnection). */
interface ConnectionManager {
  socket?: { destroy(): void; remoteAddress?: string; remotePort?: number };
  pendingBuffer: Buffer | null;
  /** Requests not yet written to any connection (queued while disconnected, or behind a full socket). */
  packetQueue: { shift(): unknown };
  onSocketData(this: ConnectionManager, buffer: Buffer): void;
}

/** What a request on a session that ended fails with: `why` is what its end listeners were told. */
export class SessionEnded extends Unavailable {
  constructor(readonly why: string) {
    super(`the ZooKeeper session ended (${why})`);
  }
}

const connectionOf = (client: zookeeper.Client) => (client as unknown as { connectionManager?: ConnectionManager }).connectionManager;

/**
 * A reply the library cannot parse (an unknown error code, a torn frame)
 * throws inside its socket's data handler, which would end the process: we
 * drop that connection instead, and the library reconnects with the same
 * session. The handler is looked up on each connect, so replacing it on the
 * instance covers every later connection.
 */
function hardenConnection(client: zookeeper.Client, heard: () => void): void {
  const manager = connectionOf(client);
  if (!manager) return;
  const read = manager.onSocketData;
  manager.onSocketData = function (this: ConnectionManager, buffer: Buffer) {
    heard();
    try {
      read.call(this, buffer);
    } catch {
      this.pendingBuffer = null;
      this.socket?.destroy();
    }
  };
}

export class ZkSession {
  private readonly client: zookeeper.Client;
  /** Why the session ended, as an error for every request on it; null while it lasts. */
  private endError: SessionEnded | null = null;
  private readonly endListeners: ((why: string) => void)[] = [];
  /** How to fail each request not yet answered (see request()). */
  private readonly inFlight = new Set<(err: Error) => void>();

  private disconnectedTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  /** With endOnStall: when the stall check last ran, and the gap between two runs that means a freeze. */
  private stallCheckedAt = now();
  private stallLimitMs = Infinity;
  private probeTimer: NodeJS.Timeout | null = null;
  /** When the last probe that was answered was sent: the server heard from us then or later. */
  private lastAnsweredSentAt = now();
  private probing = false;
  /** When the current connection was made: a new connection gets its own two thirds of the timeout to answer. */
  private connectedAt = now();
  /** When the member last sent us anything (a reply to any request, not only to a probe). */
  private lastHeardAt = now();
  private lastTick = now();

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
      this.stallLimitMs = (sessionTimeoutMs * 2) / 3;
      this.stallTimer = setInterval(() => {
        const at = now();
        if (at - this.stallCheckedAt > this.stallLimitMs) this.end(`this process was frozen for ${Math.round(at - this.stallCheckedAt)} ms; the ZooKeeper session may have expired`);
        this.stallCheckedAt = at;
      }, STALL_CHECK_MS);
      this.stallTimer.unref();
    }
    hardenConnection(client, () => (this.lastHeardAt = now()));
    client.on('state', (state: zookeeper.State) => {
      // The library keeps a partly read reply across connections; the next member's bytes would be read as its rest.
      if (state === zookeeper.State.DISCONNECTED) {
        const manager = connectionOf(client);
        if (manager) manager.pendingBuffer = null;
      }
      if (this.ended) return; // Closing emits DISCONNECTED too; nothing must keep the process alive after.
      if (state === zookeeper.State.EXPIRED) this.end('ZooKeeper session expired');
      // Cut off from ZooKeeper: after a session timeout the server has expired us,
      // whether or not we hear it, so act as if it had.
      if (state === zookeeper.State.DISCONNECTED && !this.disconnectedTimer) {
        this.disconnectedTimer = setTimeout(() => this.end(`no contact with ZooKeeper for ${sessionTimeoutMs} ms`), sessionTimeoutMs);
      }
      if (state === zookeeper.State.SYNC_CONNECTED) {
        this.connectedAt = now();
        // Fresh again as soon as the member answers; not from inside the library's handler that reports the connection.
        setImmediate(() => this.probe());
      }
      if (state === zookeeper.State.SYNC_CONNECTED && this.disconnectedTimer) {
        clearTimeout(this.disconnectedTimer);
        this.disconnectedTimer = null;
      }
    });
  }

  /** The session timeout the server granted (it bounds ours by its min and max), once connected. */
  get timeoutMs(): number {
    return this.client.getSessionTimeout();
  }

  /**
   * True while the server has surely not expired the session: some request
   * sent less than two thirds of the session timeout ago was answered (the
   * server then renewed the session, for a whole timeout, at or after the
   * send). A leader acts only while its session is fresh: if it was cut off
   * from ZooKeeper, it stops before the server can expire the session and
   * another master can be elected; it acts again if an answer comes back on
   * the same session.
   */
  get fresh(): boolean {
    return isFresh({
      now: now(), ended: this.ended, lastAnsweredSentAt: this.lastAnsweredSentAt, timeoutMs: this.timeoutMs,
      stallCheckedAt: this.stallCheckedAt, stallLimitMs: this.stallLimitMs,
    });
  }

  /** The member this session is connected to now (host:port), or null between connections. */
  get server(): string | null {
    const socket = connectionOf(this.client)?.socket;
    return socket?.remoteAddress && this.client.getState() === zookeeper.State.SYNC_CONNECTED ? `${socket.remoteAddress}:${socket.remotePort}` : null;
  }

  /** How long since the last answered probe was sent, in ms. */
  get silenceMs(): number {
    return Math.round(now() - this.lastAnsweredSentAt);
  }

  private startProbing(): void {
    this.lastAnsweredSentAt = now();
    this.probeTimer = setInterval(() => this.probe(), Math.max(20, Math.floor(this.timeoutMs * PROBE_FRACTION)));
    this.probeTimer.unref();
  }

  private probe(): void {
    if (this.ended) return;
    // Dropping the connection makes the client DISCONNECTED: the session then ends after a whole timeout without a
    // new connection (the state handler above), as when a member dies.
    // Only a connection silent for two thirds of the timeout is dropped, never one just made (after an outage): dropping
    // fails the requests in flight (a registry write: the leader stops).
    // Nor one that talks (replies to a long request queue ahead of the probe), nor after this process itself stalled
    // (a long synchronous stretch delays this timer and the reading of the replies alike).
    const interval = this.timeoutMs * PROBE_FRACTION;
    if (now() - this.lastTick > 2 * interval) this.connectedAt = now();
    this.lastTick = now();
    const connectionSilence = now() - Math.max(this.lastAnsweredSentAt, this.connectedAt, this.lastHeardAt);
    if (connectionSilence > this.timeoutMs * SILENCE_FRACTION && this.client.getState() === zookeeper.State.SYNC_CONNECTED) {
      this.connectedAt = now(); // Not twice for the same silence, should the library be slow to report the drop.
      this.dropConnection();
    }
    if (this.probing) return;
    this.probing = true;
    const sentAt = now();
    this.client.exists('/', (err) => {
      this.probing = false;
      if (!err) this.lastAnsweredSentAt = Math.max(this.lastAnsweredSentAt, sentAt);
    });
  }

  /** Closes the socket to the current member; the client library then connects to the next one with the same session. */
  private dropConnection(): void {
    const manager = connectionOf(this.client);
    manager?.socket?.destroy();
    if (manager) manager.pendingBuffer = null;
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
        session.startProbing();
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
    return this.endError === null;
  }

  private get ended(): boolean {
    return this.endError !== null;
  }

  onEnd(listener: (why: string) => void): void {
    if (this.endError) listener(this.endError.why);
    else this.endListeners.push(listener);
  }

  /**
   * One request of the client library, settled even if the library never answers: it drops, without a word,
   * the requests it queued while disconnected (and its retries of those a dropped connection failed) once the
   * session is closed. A request in flight when the session ends fails then; one made after, at once.
   */
  private request<T>(send: (resolve: (value: T) => void, reject: (err: unknown) => void) => void): Promise<T> {
    if (this.endError) return Promise.reject(this.endError);
    let fail!: (err: Error) => void;
    const answer = new Promise<T>((resolve, reject) => {
      fail = reject;
      send(resolve, reject); // A throw (a malformed path) rejects.
    });
    this.inFlight.add(fail);
    return answer.finally(() => this.inFlight.delete(fail));
  }

  /** Creates the folders of `path` that are missing (readable by all). */
  mkdirp(path: string): Promise<void> {
    return this.request((resolve, reject) =>
      this.client.mkdirp(path, this.acls.public, zookeeper.CreateMode.PERSISTENT, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Creates an ephemeral sequential node `prefix<10 digits>` (readable by all); returns its full path. */
  createEphemeralSequential(prefix: string, data: Buffer): Promise<string> {
    return this.request((resolve, reject) =>
      this.client.create(prefix, data, this.acls.public, zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, (err, path) => (err ? reject(err) : resolve(path))),
    );
  }

  /** Children of `path`; `watch` fires once on the next change (never, once the session ended: see onEnd). */
  children(path: string, watch?: () => void): Promise<string[]> {
    return this.request((resolve, reject) => {
      const done = (err: Error | zookeeper.Exception | null, children: string[]) => (err ? reject(err) : resolve(children));
      if (watch) this.client.getChildren(path, () => watch(), done);
      else this.client.getChildren(path, done);
    });
  }

  /** The node's data, or null if it is gone. */
  data(path: string): Promise<Buffer | null> {
    return this.request((resolve, reject) =>
      this.client.getData(path, (err, data) => {
        if (err && 'getCode' in err && err.getCode() === zookeeper.Exception.NO_NODE) return resolve(null);
        if (err) return reject(err);
        resolve(data ?? Buffer.alloc(0));
      }),
    );
  }

  /** Runs `ops` atomically (a ZooKeeper multi): all apply or none does. */
  commit(ops: readonly ZkOp[]): Promise<void> {
    return this.request((resolve, reject) => {
      const tx = this.client.transaction();
      for (const op of ops) {
        if (op.op === 'create') tx.create(op.path, op.data, this.acls[op.access ?? 'public'], zookeeper.CreateMode.PERSISTENT);
        else if (op.op === 'set') tx.setData(op.path, op.data, -1);
        else if (op.op === 'remove') tx.remove(op.path, -1);
        else tx.check(op.path, -1);
      }
      tx.commit((err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.client.close();
    this.end('session closed');
  }

  private end(why: string): void {
    if (this.disconnectedTimer) clearTimeout(this.disconnectedTimer);
    if (this.stallTimer) clearInterval(this.stallTimer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    if (this.endError) return;
    const error = new SessionEnded(why);
    this.endError = error;
    // Requests not yet written are failed below: none may reach the server later, should the client connect
    // again once closing (a member that was frozen answers); only the close itself is sent.
    const unsent = connectionOf(this.client)?.packetQueue;
    while (unsent?.shift() !== undefined);
    this.client.close();
    // The owners hear of the end first (listeners run now, rejections in a later microtask): a registry write
    // that fails with it finds its master already deposed, with the true reason.
    for (const fail of this.inFlight) fail(error);
    this.inFlight.clear();
    for (const l of this.endListeners.splice(0)) l(why);
  }
}
