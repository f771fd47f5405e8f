// The agent's link to the master: one bidirectional gRPC stream
// (mesos_ts.internal.AgentLink/Connect), reopened with exponential backoff
// and jitter whenever it breaks. Each new stream starts with RegisterAgent,
// carrying the AgentID once the agent has one, so the master sees a
// re-registration. Pings are answered here; a master that stops pinging for
// PING_TIMEOUTS intervals is taken as gone (a half-open TCP connection
// would otherwise look alive forever).
import * as grpc from '@grpc/grpc-js';
import { grpcObject, type AgentLinkClient, type AgentMessageIn, type MasterMessageOut } from '../proto/index.js';
import type { RegisterAgent } from '../proto/gen/mesos_ts/internal/RegisterAgent.js';
import type { Credential } from '../common/credentials.js';
import { channelCredentials, withCredential } from '../common/grpc-credentials.js';
import { writeWaitingTogether } from '../common/grpc-batched-writes.js';
import { tlsHint, type Tls } from '../common/tls.js';
import { errorMessage } from '../common/errors.js';
import { backoffDelay, EQUAL_JITTER, type BackoffOptions } from '../common/backoff.js';
import { Watchdog } from '../common/watchdog.js';
import { keepaliveOptions } from '../common/grpc-keepalive.js';
import { messageSizeOptions } from '../common/grpc-limits.js';
import type { Logger } from '../common/log/logger.js';

/** Reconnect backoff: doubles from 200 ms per failed attempt, capped at 5 s, each wait between half and all of that. */
export const RECONNECT_BACKOFF: BackoffOptions = { initialDelayMs: 200, maxDelayMs: 5000, multiplier: 2, jitter: EQUAL_JITTER };

/** Missed pings before the agent gives up on the stream (Mesos: max_agent_ping_timeouts). */
export const PING_TIMEOUTS = 5;
/** A master that accepts the stream but never answers RegisterAgent is retried after this. */
export const REGISTRATION_TIMEOUT_MS = 30_000;

export interface MasterLinkOptions {
  /** The master's gRPC address, host:port, or a zk:// URL (then `leader` says where it is). */
  readonly master: string;
  /** With a zk:// master: the leading master's gRPC address now, or null while none is known. */
  readonly leader?: () => string | null;
  /** Presented as call metadata on every stream (a master with --authenticate_agents demands it). */
  readonly credential?: Credential;
  /** TLS to the master (its CA, our certificate under mutual TLS); plain text without. */
  readonly tls?: Tls;
  /** The largest gRPC message sent or received, in bytes (common/grpc-limits.ts; default 16 MiB). */
  readonly maxMessageSize?: number;
  /** More gRPC channel options, e.g. `grpc.use_local_subchannel_pool` for a connection of this link's own (grpc-js shares one per target by default). */
  readonly channelOptions?: grpc.ChannelOptions;
  /** Builds the RegisterAgent message for each new stream. */
  readonly registration: () => RegisterAgent;
  /** Every message from the master except pings (answered here). */
  readonly onMessage: (message: MasterMessageOut) => void;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly backoff?: BackoffOptions;
  /** Aborting it is the same as stop(). */
  readonly signal?: AbortSignal;
}

type Stream = grpc.ClientDuplexStream<AgentMessageIn, MasterMessageOut>;

export class MasterLink {
  private client: AgentLinkClient | null = null;
  private clientAddress = '';
  private stream: Stream | null = null;
  private registeredOnStream = false;
  private stopped = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Re-armed by every message once registered; fires on a master gone silent. */
  private readonly watchdog = new Watchdog();
  private pingInterval = 0;

  constructor(private readonly options: MasterLinkOptions) {
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** True between AgentRegistered and the end of that stream. */
  get registered(): boolean {
    return this.registeredOnStream;
  }

  connect(): void {
    if (this.stopped || this.options.signal?.aborted) return;
    const address = this.options.leader ? this.options.leader() : this.options.master;
    if (!address) return this.scheduleReconnect('no leading master is known yet');
    const stream = this.clientFor(address).Connect();
    // A burst's status updates go out together, not one per turn of the event loop (common/grpc-batched-writes.ts).
    writeWaitingTogether(stream);
    this.stream = stream;
    this.registeredOnStream = false;
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      stream.removeAllListeners('data');
      stream.cancel(); // Frees our half of the call; a no-op once it has finished.
      if (this.stream !== stream) return;
      const wasRegistered = this.registeredOnStream;
      this.stream = null;
      this.registeredOnStream = false;
      this.watchdog.stop();
      if (this.stopped) return;
      if (wasRegistered) this.options.logger.warn(`lost the master (${why})`);
      this.scheduleReconnect(why);
    };
    stream.on('data', (message: MasterMessageOut) => this.receive(stream, message));
    stream.on('error', (err: grpc.ServiceError) => {
      const why = (err.details || err.message).replace(/\.? ?Resolution note: ?$/, '');
      const hint = err.code === grpc.status.UNAVAILABLE ? tlsHint(err, this.options.tls ?? null) : null;
      end(hint ? `${why}; ${hint}` : why);
    });
    stream.on('end', () => end('the master closed the link'));
    stream.on('close', () => end('the link closed'));
    this.armWatchdog(stream, REGISTRATION_TIMEOUT_MS, 'the master did not answer RegisterAgent');
    this.write(stream, { register: this.options.registration() });
  }

  /** Sends on the current stream; false when there is none (the caller resends later). */
  send(message: AgentMessageIn): boolean {
    return this.stream !== null && this.write(this.stream, message);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.watchdog.stop();
    const stream = this.stream;
    this.stream = null;
    this.registeredOnStream = false;
    if (stream) {
      stream.end();
      stream.cancel();
    }
    this.client?.close();
  }

  /** The leader changed: drop the current stream, or cut a backoff wait short; the next attempt dials the new one at once. */
  reconnect(): void {
    this.attempt = 0;
    if (this.retryTimer && !this.stream) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.connect();
      return;
    }
    this.stream?.cancel();
  }

  private clientFor(address: string): AgentLinkClient {
    if (this.client && this.clientAddress === address) return this.client;
    this.client?.close();
    this.clientAddress = address;
    // No retries: the link reconnects by itself, and grpc-js's retrying call would send the stream's messages one
    // per completed socket write whatever writeWaitingTogether() does (common/grpc-batched-writes.ts).
    const options = { ...keepaliveOptions(), ...messageSizeOptions(this.options.maxMessageSize), 'grpc.enable_retries': 0, ...this.options.channelOptions };
    this.client = new grpcObject.mesos_ts.internal.AgentLink(address, channelCredentials(this.options.tls ?? null), withCredential(options, this.options.credential)) as unknown as AgentLinkClient;
    return this.client;
  }

  private receive(stream: Stream, message: MasterMessageOut): void {
    if (message.kind === 'registered') {
      this.registeredOnStream = true;
      this.attempt = 0;
    }
    if (this.registeredOnStream) {
      // Any message proves the master alive; silence for PING_TIMEOUTS pings does not.
      if (message.kind === 'registered') this.pingInterval = message.registered?.ping_interval_seconds ?? 0;
      const interval = this.pingInterval;
      if (interval > 0) this.armWatchdog(stream, interval * 1000 * PING_TIMEOUTS, `no ping from the master for ${interval * PING_TIMEOUTS}s`);
      else this.watchdog.stop();
    }
    if (message.kind === 'ping') {
      this.write(stream, { pong: { seq: message.ping?.seq ?? 0 } });
      return;
    }
    if (message.kind === 'refused') this.options.logger.error(`the master refused us: ${message.refused?.message ?? '(no reason given)'}`);
    this.options.onMessage(message);
  }

  private write(stream: Stream, message: AgentMessageIn): boolean {
    try {
      // false from write() only means "buffer full": the message is queued all the same.
      stream.write(message);
      return true;
    } catch (err) {
      this.options.logger.warn(`could not write to the master: ${errorMessage(err)}`);
      return false;
    }
  }

  private armWatchdog(stream: Stream, ms: number, why: string): void {
    this.watchdog.set(ms, () => {
      if (this.stream !== stream) return;
      this.options.logger.warn(`${why}; reconnecting`);
      stream.cancel();
    });
  }

  private scheduleReconnect(why: string): void {
    const attempt = this.attempt++;
    const delay = backoffDelay(attempt, this.options.backoff ?? RECONNECT_BACKOFF, this.options.random ?? Math.random);
    // An unreachable master is retried forever: log the first attempts, then about once a minute.
    if (attempt < 3 || attempt % 12 === 0) this.options.logger.warn({ master: this.options.master, retry_ms: delay }, `no link to the master at ${this.options.master} (${why}); retrying in ${delay} ms`);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }
}
