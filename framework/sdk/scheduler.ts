// The scheduler client: one framework's subscription to a master, kept alive.
//
//   idle ──start()──> subscribing ──SUBSCRIBED──> subscribed
//                          ^                          │ stream error / end /
//                          │                          │ heartbeats missed
//                          └── backoff ── reconnecting <┘   (re-SUBSCRIBE with the FrameworkID)
//   any ──close() / teardown() / ERROR event / maxAttempts──> closed
//
// Events reach the user twice over, as the same objects: EventEmitter
// listeners (`scheduler.on('offers', ...)`) and `for await` iterators from
// `events()`. An iterator that falls `highWaterMark` events behind pauses
// the gRPC stream until it catches up, so a slow consumer slows the master's
// sender down instead of filling memory. Calls carry the framework id and
// the `mesos-stream-id` of the live stream; once subscribed they go on one
// Calls stream (call-stream.ts), those of one turn in one message, or as
// unary gRPC methods to a master without Calls.
import type { Credential } from '../../common/credentials.js';
import { channelCredentials, withCredential } from '../../common/grpc-credentials.js';
import { tlsFromEnv, tlsHint, type Tls } from '../../common/tls.js';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { grpcObject, type CallIn, type EventOut, type SchedulerClient, type TaskInfoIn, type TaskStatusOut } from '../../proto/index.js';
import { FailedPrecondition, InvalidArgument, MesosError, Unavailable, errorMessage } from '../../common/errors.js';
import { fromServiceError } from '../../common/grpc-status.js';
import { STREAM_ID_KEY } from '../../common/stream-id.js';
import { parseZkUrl, type ZkUrl } from '../../common/zk/url.js';
import { redactText } from '../../common/log/redact.js';
import { ZkSession } from '../../common/zk/session.js';
import { LeaderFollower } from '../../common/zk/leader-follower.js';
import { resolveReconnect, reconnectDelay, type ReconnectOptions } from './reconnect.js';
import { deferred } from '../../common/deferred.js';
import { EventQueue } from './event-queue.js';
import { Watchdog } from '../../common/watchdog.js';
import { traceLaunch } from '../../common/launch-trace.js';
import { createLogger } from '../../common/log/logger.js';
import { decodeSchedulerEvent } from '../../proto/status-presence.js';
import { warmUpSchedulerCodecs } from '../../proto/warm-up.js';
import { fromWireEvent, needsAcknowledgement, type SchedulerEvent, type SchedulerEventMap } from './events.js';
import * as calls from './calls.js';
import { keepaliveOptions, type Keepalive } from '../../common/grpc-keepalive.js';
import { messageSizeOptions } from '../../common/grpc-limits.js';
import type { FrameworkOptions, OfferRef, OperationIn, ReconcileTask } from './calls.js';
import { CallSender, sendable, type CallSession } from './call-sender.js';

const DEFAULT_HIGH_WATER_MARK = 256;
/** The Subscribe method's path and request encoder, from the loaded service definition. */
const SUBSCRIBE = (grpcObject.mesos_ts.Scheduler.service as unknown as Record<string, grpc.MethodDefinition<CallIn, EventOut>>).Subscribe!;
/** Used when a master advertises no heartbeat interval (Mesos's default). */
const DEFAULT_HEARTBEAT_SECONDS = 15;

/**
 * Where the client reports what happens to its connection; pass your own as
 * `SchedulerOptions.logger`. A pino logger (what the master and agent use), a
 * `console`-like object or a few closures all satisfy it.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {} };
/** The default: only warnings (lost connections, failed acknowledgements), on stderr as the master's text lines read (component scheduler). */
export const warningsLogger: Logger = createLogger({ component: 'scheduler', level: 'WARNING', format: 'text' });

/** Options every call takes: abort it with `signal` (e.g. `AbortSignal.timeout(ms)`). */
export interface CallOptions {
  /** Aborting rejects the call (or ends the iterator); a call may still have reached the master. */
  readonly signal?: AbortSignal;
}

/** Options of a {@link Scheduler}; only `master` and `framework` are required. */
export interface SchedulerOptions {
  /**
   * The master's gRPC address `host:port`, or several comma-separated, tried in
   * turn after failures; or `zk://host:port/path` to follow the leading master
   * in ZooKeeper (re-subscribing when the leader changes).
   */
  readonly master: string;
  /** The FrameworkInfo to subscribe with: name, roles, failover timeout, ... */
  readonly framework: FrameworkOptions;
  /** Acknowledge every status update that carries a uuid right after delivering it. Default true. */
  readonly autoAcknowledge?: boolean;
  /** Roles to subscribe suppressed (no offers until revive()). Default none. */
  readonly suppressedRoles?: readonly string[];
  /** Retry, liveness and call deadlines; see reconnect.ts for the defaults. */
  readonly reconnect?: Partial<ReconnectOptions>;
  /** Events an events() iterator may buffer before the stream is paused. Default 256. */
  readonly highWaterMark?: number;
  /** Presented on every call (gRPC metadata), for a master with --authenticate_frameworks; FrameworkInfo.principal defaults to its principal. */
  readonly credential?: Credential;
  /**
   * TLS to the master: a configuration from `tlsConfig(flags, 'client')`,
   * or null for plain text. Default: what the LIBPROCESS_SSL_* environment
   * variables say, as a Mesos scheduler driver reads them (docs/ssl.md).
   */
  readonly tls?: Tls | null;
  /** The largest gRPC message sent or received, in bytes; match the master's --max_grpc_message_size. Default 16 MiB. */
  readonly maxMessageSize?: number;
  /** Default: warnings to stderr. */
  readonly logger?: Logger;
  /** Source of backoff jitter, in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /**
   * HTTP/2 pings to the master: a master that goes silent without closing the
   * connection (stopped, or its host gone off the network) is noticed within
   * interval + timeout, and the client subscribes again. Default 15 s + 20 s.
   */
  readonly keepalive?: Keepalive;
  /**
   * Send calls on one Calls stream (those made in the same turn of the event
   * loop in one message) rather than a unary request each. A master without
   * the Calls method gets unary requests anyway. Default true.
   */
  readonly callStream?: boolean;
}

/** Where the client is: `idle` until start(), `subscribing` until the first SUBSCRIBED, `reconnecting` while the stream is down, `closed` for good. */
export type SchedulerState = 'idle' | 'subscribing' | 'subscribed' | 'reconnecting' | 'closed';
/** What start() resolves with: the framework id, the heartbeat interval and the master's info. */
export type SubscribedEvent = Extract<SchedulerEvent, { type: 'subscribed' }>;

/** Errors after which subscribing again cannot help: a refused call, wrong or missing credentials. */
const FATAL_CODES = new Set(['INVALID_ARGUMENT', 'PERMISSION_DENIED', 'UNAUTHENTICATED']);

interface Session extends CallSession {
  readonly client: SchedulerClient;
  readonly frameworkId: string;
  readonly streamId: string;
}

interface Attempt {
  readonly subscribed: boolean;
  readonly reason: MesosError;
  readonly fatal: boolean;
}

/**
 * A framework's scheduler client: one subscription to the master (re-established
 * after failures, with backoff, under the same FrameworkID), its events, and
 * the calls a framework makes (launch, decline, kill, reconcile, ...).
 *
 * Receive events either with `for await (const event of scheduler.events())`
 * or with listeners, `scheduler.on('offers', (event) => ...)`: the same
 * objects reach both. Create the iterator before start() to see every event.
 * Every call resolves once the master has accepted it, and rejects with a
 * `MesosError` subclass (`InvalidArgument`, `Unavailable` while reconnecting,
 * ...) or on abort.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler({ master: '127.0.0.1:5060', framework: { name: 'hello' } });
 * const events = scheduler.events();
 * await scheduler.start();
 * for await (const event of events) {
 *   if (event.type === 'offers') for (const offer of event.offers) await scheduler.decline(offer);
 * }
 * ```
 */
export class Scheduler extends EventEmitter<SchedulerEventMap> {
  private readonly addresses: readonly string[];
  private readonly clients = new Map<string, SchedulerClient>();
  private readonly retry: ReconnectOptions;
  private readonly channelOptions: Record<string, number>;
  private readonly log: Logger;
  private readonly autoAcknowledge: boolean;
  private readonly highWaterMark: number;
  private readonly queues = new Set<EventQueue<SchedulerEvent>>();
  private readonly closing = new AbortController();
  private readonly watchdog = new Watchdog();
  private readonly first = deferred<SubscribedEvent>();
  private currentState: SchedulerState = 'idle';
  private id: string | null;
  private everSubscribed = false;
  private session: Session | null = null;
  private readonly calls: CallSender;
  private stream: grpc.ClientReadableStream<EventOut> | null = null;
  private paused = false;
  private tearingDown = false;
  private loop: Promise<void> | null = null;
  private readonly zk: ZkUrl | null;
  private readonly tls: Tls | null;
  private leader: LeaderFollower | null = null;
  /** Aborted to end the backoff wait early (a new leader appeared). */
  private wakeRetry: AbortController | null = null;

  constructor(private readonly options: SchedulerOptions) {
    super();
    this.zk = options.master.startsWith('zk://') ? parseZkUrl(options.master) : null;
    this.addresses = this.zk ? [] : options.master.split(',').map((a) => a.trim()).filter((a) => a !== '');
    if (!this.zk && this.addresses.length === 0) throw new InvalidArgument('master must be host:port (or several, comma-separated), or zk://host:port/path');
    calls.frameworkInfo(options.framework); // validate now, not on the first attempt
    this.tls = options.tls !== undefined ? options.tls : tlsFromEnv();
    this.retry = resolveReconnect(options.reconnect);
    // Checked now, not on the first attempt.
    this.channelOptions = { ...keepaliveOptions(options.keepalive, 'keepalive'), ...messageSizeOptions(options.maxMessageSize, 'maxMessageSize') };
    this.log = options.logger ?? warningsLogger;
    this.autoAcknowledge = options.autoAcknowledge ?? true;
    this.calls = new CallSender({ useStream: options.callStream ?? true, callTimeoutMs: this.retry.callTimeoutMs, warn: (line) => this.log.warn(line) });
    // Once per process, before anything is on the wire: the first events' decode would otherwise generate its code (proto/warm-up.ts).
    warmUpSchedulerCodecs();
    this.highWaterMark = Math.max(1, options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
    this.id = options.framework.id ?? null;
  }

  /** Where the client is now; see {@link SchedulerState}. */
  get state(): SchedulerState {
    return this.currentState;
  }

  /** Set once the master has assigned (or confirmed) it. */
  get frameworkId(): string | null {
    return this.id;
  }

  /** Subscribes (retrying with backoff) and resolves on the first SUBSCRIBED; the client then stays subscribed until close(). */
  start(options: CallOptions = {}): Promise<SubscribedEvent> {
    if (this.currentState === 'closed') return Promise.reject(new FailedPrecondition('the scheduler is closed'));
    if (!this.loop) {
      this.currentState = 'subscribing';
      this.loop = this.run().catch((err: unknown) => this.shutdown(new MesosError('INTERNAL', errorMessage(err), { cause: err })));
    }
    return raceAbort(this.first.promise, options.signal);
  }

  /**
   * Every event from now on, for `for await`. Ends after the 'closed' event,
   * or at once when `signal` aborts. Create it before start() to see 'subscribed'.
   */
  events(options: CallOptions = {}): AsyncIterableIterator<SchedulerEvent> {
    const { signal } = options;
    const onAbort = (): void => queue.abort();
    const queue: EventQueue<SchedulerEvent> = new EventQueue(Math.floor(this.highWaterMark / 2), {
      onDrain: () => this.resumeIfDrained(),
      onClose: () => {
        this.queues.delete(queue);
        signal?.removeEventListener('abort', onAbort);
        this.resumeIfDrained();
      },
    });
    if (this.currentState === 'closed') queue.end();
    else if (signal?.aborted) queue.abort();
    else {
      this.queues.add(queue);
      signal?.addEventListener('abort', onAbort, { once: true });
    }
    return queue;
  }

  /** ACCEPT: applies the operations (LAUNCH, RESERVE, ...) to the offers, all from one agent; what is left is declined for refuseSeconds. */
  accept(offers: OfferRef | readonly OfferRef[], operations: readonly OperationIn[], options: CallOptions & { refuseSeconds?: number } = {}): Promise<void> {
    return this.request(() => calls.acceptCall(offers, operations, options.refuseSeconds), options);
  }

  /** ACCEPT with one LAUNCH; tasks without agent_id get the offer's agent. */
  launch(offers: OfferRef | readonly OfferRef[], tasks: readonly TaskInfoIn[], options: CallOptions & { refuseSeconds?: number } = {}): Promise<void> {
    return this.request(() => calls.launchCall(offers, tasks, options.refuseSeconds), options);
  }

  /** Mesos refuses the declined resources to this framework for refuseSeconds (master default 5). */
  decline(offers: OfferRef | readonly OfferRef[], options: CallOptions & { refuseSeconds?: number } = {}): Promise<void> {
    return this.request(() => calls.declineCall(offers, options.refuseSeconds), options);
  }

  /** Maintenance: agrees that the machines of these inverse offers go down in their window (shown in the master's maintenance status). */
  acceptInverseOffers(inverseOffers: OfferRef | readonly OfferRef[], options: CallOptions = {}): Promise<void> {
    return this.request(() => calls.inverseOffersCall(true, inverseOffers), options);
  }

  /** Maintenance: says this framework cannot move its tasks off these machines in time (the operator sees it; the machines still go down). */
  declineInverseOffers(inverseOffers: OfferRef | readonly OfferRef[], options: CallOptions = {}): Promise<void> {
    return this.request(() => calls.inverseOffersCall(false, inverseOffers), options);
  }

  /** REVIVE: offers again for these roles (all, when empty), and drops the refuse filters set by earlier declines. */
  revive(roles: readonly string[] = [], options: CallOptions = {}): Promise<void> {
    return this.request(() => calls.reviveCall(roles), options);
  }

  /** SUPPRESS: no more offers for these roles (all, when empty) until revive(); for when there is nothing to launch. */
  suppress(roles: readonly string[] = [], options: CallOptions = {}): Promise<void> {
    return this.request(() => calls.suppressCall(roles), options);
  }

  /** KILL: the agent stops the task (SIGTERM, then SIGKILL after the grace period); a TASK_KILLED update follows. Give agentId when you know it. */
  kill(taskId: string, options: CallOptions & { agentId?: string; gracePeriodSeconds?: number } = {}): Promise<void> {
    return this.request(() => calls.killCall(taskId, options.agentId, options.gracePeriodSeconds), options);
  }

  /** Only for statuses with a uuid, and only needed with autoAcknowledge: false. */
  acknowledge(status: TaskStatusOut, options: CallOptions = {}): Promise<void> {
    return this.request(() => calls.acknowledgeCall(status), options);
  }

  /** Answers arrive as 'update' events without uuid. No tasks = implicit reconciliation of all tasks. */
  reconcile(tasks: readonly ReconcileTask[] = [], options: CallOptions = {}): Promise<void> {
    return this.request(() => calls.reconcileCall(tasks), options);
  }

  /** MESSAGE to an executor (a task's executor id is its task id). mesos-ts tasks are plain containers with no executor process to read it, so the master refuses it, saying why. */
  message(agentId: string, executorId: string, data: Uint8Array | string, options: CallOptions = {}): Promise<void> {
    return this.request(() => calls.messageCall(agentId, executorId, data), options);
  }

  /** TEARDOWN: the master kills every task of this framework and forgets it. Then closes this client. */
  async teardown(options: CallOptions = {}): Promise<void> {
    this.tearingDown = true;
    try {
      await this.request(() => calls.teardownCall(), options);
    } finally {
      await this.close();
    }
  }

  /** Stops the client without tearing the framework down (it fails over after failover_timeout). */
  async close(): Promise<void> {
    this.shutdown(null);
    await this.loop;
  }

  /** Builds the call (a bad argument rejects, never throws) and sends it. */
  private request(build: () => CallIn, options: CallOptions): Promise<void> {
    try {
      return this.send(build(), options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends any Call but SUBSCRIBE on the live subscription; framework_id is filled in. */
  send(call: CallIn, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    if (!sendable(call.type)) return Promise.reject(new InvalidArgument(`cannot send a ${String(call.type)} call`));
    const session = this.session;
    if (!session) {
      const why = this.currentState === 'reconnecting' ? new Unavailable(`cannot ${call.type}: disconnected from the master, reconnecting`)
        : new FailedPrecondition(`cannot ${call.type}: the scheduler is ${this.currentState}, not subscribed`);
      return Promise.reject(why);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.calls.send(session, { ...call, framework_id: { value: session.frameworkId } }, signal);
  }

  // ---- connection ----------------------------------------------------------

  private async run(): Promise<void> {
    let failures = 0;
    let index = 0;
    while (this.currentState !== 'closed') {
      if (this.zk && !this.leader) await this.followLeader(this.zk); // retried, with backoff, until ZooKeeper answers
      if (this.isClosed()) return;
      const address = this.leader ? this.leader.current()?.grpc : this.addresses[index % this.addresses.length]!;
      const attempt = address
        ? await this.subscribeOnce(address)
        : { subscribed: false, fatal: false, reason: new Unavailable(`no leading master is known in ${redactText(this.options.master)}`) };
      if (this.isClosed()) return;
      if (this.tearingDown) return this.shutdown(null); // the master ends the stream of a framework it tore down
      failures = attempt.subscribed ? 1 : failures + 1;
      if (attempt.fatal || failures > this.retry.maxAttempts) {
        this.shutdown(attempt.fatal ? attempt.reason : new Unavailable(`gave up after ${failures - 1} attempts: ${attempt.reason.message}`, { cause: attempt.reason }));
        return;
      }
      if (attempt.subscribed) {
        this.currentState = 'reconnecting';
        this.dispatch({ type: 'disconnected', reason: attempt.reason });
      } else {
        index++; // try the next master, if several were given
      }
      const delay = reconnectDelay(failures, this.retry, this.options.random ?? Math.random);
      const what = attempt.subscribed ? attempt.reason.message : `cannot subscribe to ${address}: ${attempt.reason.message}`;
      this.log.warn(`${what}; subscribing again in ${delay} ms (attempt ${failures})`);
      // A new leader in ZooKeeper cuts the wait short: there is somewhere to go now.
      const wake = (this.wakeRetry = new AbortController());
      await sleep(delay, undefined, { signal: AbortSignal.any([this.closing.signal, wake.signal]) }).catch(() => {});
      this.wakeRetry = null;
      if (wake.signal.aborted) failures = 0;
    }
  }

  /** One SUBSCRIBE: resolves when that stream is over, saying why. */
  private subscribeOnce(address: string): Promise<Attempt> {
    const client = this.clientFor(address);
    const call: CallIn = {
      type: 'SUBSCRIBE',
      subscribe: { framework_info: calls.frameworkInfo(this.options.framework, this.id ?? undefined), suppressed_roles: [...(this.options.suppressedRoles ?? [])] },
      ...(this.id && { framework_id: { value: this.id } }),
    };
    return new Promise<Attempt>((resolve) => {
      let subscribed = false;
      let streamId = '';
      let settled = false;
      // Not client.Subscribe: its decoder would fill the TaskStatus fields the master did not send with defaults.
      const stream = (client as unknown as grpc.Client).makeServerStreamRequest<CallIn, EventOut>(
        SUBSCRIBE.path, SUBSCRIBE.requestSerialize, decodeSchedulerEvent, call, new grpc.Metadata());
      const finish = (reason: MesosError, fatal: boolean): void => {
        if (settled) return;
        settled = true;
        this.watchdog.stop();
        this.session = null;
        this.calls.endSession();
        if (this.stream === stream) this.stream = null;
        this.paused = false;
        stream.removeAllListeners('data');
        stream.cancel();
        resolve({ subscribed, reason, fatal });
      };
      this.stream = stream;
      this.watchdog.set(this.retry.subscribeTimeoutMs, () => finish(new Unavailable(`no SUBSCRIBED from ${address} within ${this.retry.subscribeTimeoutMs} ms`), false));
      stream.on('metadata', (md: grpc.Metadata) => (streamId = String(md.get(STREAM_ID_KEY)[0] ?? '')));
      stream.on('error', (err: grpc.ServiceError) => {
        // Once subscribed the handshake had passed: a connection that drops then is the master going away (a failover), not a refused certificate.
        const hint = err.code === grpc.status.UNAVAILABLE && !subscribed ? tlsHint(err, this.tls) : null;
        const reason = hint ? new Unavailable(`${fromServiceError(err).message} (${hint})`, { cause: err }) : fromServiceError(err);
        finish(reason, FATAL_CODES.has(reason.code));
      });
      stream.on('end', () => finish(new Unavailable(`the master at ${address} ended the event stream`), false));
      stream.on('data', (event: EventOut) => {
        this.watchdog.kick();
        if (event.type === 'ERROR') {
          const message = event.error?.message ?? '';
          if (subscribed && !this.tearingDown) this.dispatch({ type: 'removed', message });
          finish(new FailedPrecondition(`the master removed framework ${this.id ?? '(unsubscribed)'}: ${message}`), true);
        } else if (event.type === 'SUBSCRIBED') {
          const frameworkId = event.subscribed?.framework_id?.value ?? '';
          if (!frameworkId || !streamId) {
            finish(new Unavailable(`SUBSCRIBED from ${address} lacks ${frameworkId ? `the ${STREAM_ID_KEY} metadata` : 'a framework id'}`), false);
            return;
          }
          subscribed = true;
          this.onSubscribed({ address, client, frameworkId, streamId }, event, () => finish(this.heartbeatsMissed(event), false));
        } else if (subscribed) {
          const converted = fromWireEvent(event);
          if (converted) this.dispatch(converted);
        }
      });
    });
  }

  private onSubscribed(session: Session, event: EventOut, onSilence: () => void): void {
    if (this.id && this.id !== session.frameworkId) this.log.warn(`the master gave framework id ${session.frameworkId}, not ${this.id}`);
    const again = this.everSubscribed;
    this.id = session.frameworkId;
    this.session = session;
    this.everSubscribed = true;
    this.currentState = 'subscribed';
    const heartbeat = event.subscribed?.heartbeat_interval_seconds || DEFAULT_HEARTBEAT_SECONDS;
    this.watchdog.set(heartbeat * this.retry.missedHeartbeats * 1000, onSilence);
    const subscribed: SubscribedEvent = { type: 'subscribed', frameworkId: session.frameworkId, heartbeatIntervalSeconds: heartbeat, masterInfo: event.subscribed?.master_info ?? null };
    this.log.info(`subscribed as framework ${session.frameworkId}`);
    this.first.resolve(subscribed);
    this.dispatch(subscribed);
    if (again) this.dispatch({ type: 'reconnected', frameworkId: session.frameworkId });
  }

  private heartbeatsMissed(event: EventOut): Unavailable {
    const heartbeat = event.subscribed?.heartbeat_interval_seconds || DEFAULT_HEARTBEAT_SECONDS;
    return new Unavailable(`no event from the master for ${heartbeat * this.retry.missedHeartbeats} s (${this.retry.missedHeartbeats} heartbeats missed)`);
  }

  private clientFor(address: string): SchedulerClient {
    let client = this.clients.get(address);
    if (!client) {
      client = new grpcObject.mesos_ts.Scheduler(address, channelCredentials(this.tls), withCredential(this.channelOptions, this.options.credential)) as unknown as SchedulerClient;
      this.clients.set(address, client);
    }
    return client;
  }

  private isClosed(): boolean {
    return this.currentState === 'closed';
  }

  private shutdown(reason: MesosError | null): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.closing.abort();
    this.watchdog.stop();
    this.session = null;
    this.calls.endSession();
    this.stream?.cancel();
    this.stream = null;
    this.first.reject(reason ?? new FailedPrecondition('the scheduler was closed before it subscribed'));
    if (reason) this.log.warn(`scheduler closed: ${reason.message}`);
    this.dispatch({ type: 'closed', reason });
    for (const queue of [...this.queues]) queue.end();
    for (const client of this.clients.values()) client.close();
    this.leader?.stop();
  }

  /** zk:// masters: find the leader, and drop the stream whenever it changes so the loop re-subscribes there. */
  private async followLeader(zk: ZkUrl): Promise<void> {
    let detector: LeaderFollower | null = null;
    try {
      detector = new LeaderFollower(
        () => ZkSession.connect({ servers: zk.servers, sessionTimeoutMs: 10_000, ...(zk.auth ? { auth: zk.auth } : {}) }), zk.path, (line) => this.log.warn(line),
      );
      detector.onChange((leader) => {
        this.log.info(leader ? `the leading master is now ${leader.grpc}` : 'no leading master is known');
        this.stream?.cancel();
        if (leader) this.wakeRetry?.abort();
      });
      await detector.start();
      this.leader = detector;
      if (this.isClosed()) this.shutdown(null);
    } catch (err) {
      detector?.stop();
      this.log.warn(`cannot follow the leader in ${redactText(this.options.master)}: ${errorMessage(err)}`);
    }
  }

  // ---- delivery ------------------------------------------------------------

  private dispatch(event: SchedulerEvent): void {
    if (event.type === 'update') traceLaunch(event.status.task_id?.value, `sdk: ${event.status.state} received`);
    for (const queue of this.queues) queue.push(event);
    try {
      (this.emit as (name: string, e: SchedulerEvent) => boolean)(event.type, event);
    } catch (err) {
      this.log.warn(`a '${event.type}' listener threw: ${errorMessage(err)}`);
    }
    if (event.type === 'update' && this.autoAcknowledge && needsAcknowledgement(event.status)) {
      this.acknowledge(event.status).catch((err: unknown) =>
        this.log.warn(`acknowledging ${event.status.state} of task ${event.status.task_id?.value}: ${errorMessage(err)} (the agent will resend it)`),
      );
    }
    if (!this.paused && this.stream && [...this.queues].some((q) => q.size >= this.highWaterMark)) {
      this.paused = true;
      this.watchdog.stop(); // silence while we do not read is not the master's fault
      this.stream.pause();
    }
  }

  private resumeIfDrained(): void {
    const low = Math.floor(this.highWaterMark / 2);
    if (!this.paused || [...this.queues].some((q) => q.size > low)) return;
    this.paused = false;
    this.watchdog.kick();
    this.stream?.resume();
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
