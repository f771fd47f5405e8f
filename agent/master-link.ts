// The agent's link to the master: one bidirectional gRPC stream, reopened
// with exponential backoff (and jitter) whenever it breaks. Each new
// stream starts with RegisterAgent, carrying the AgentID once the agent has
// one, so the master sees a re-registration.
import * as grpc from '@grpc/grpc-js';
import { grpcObject, type AgentLinkClient, type AgentMessageIn, type MasterMessageOut } from '../proto/index.js';
import type { RegisterAgent } from '../proto/gen/mesos_ts/internal/RegisterAgent.js';

export interface MasterLinkOptions {
  readonly master: string;
  /** Builds the RegisterAgent message for each new stream. */
  readonly registration: () => RegisterAgent;
  readonly onMessage: (message: MasterMessageOut) => void;
  readonly onDisconnected: (why: string) => void;
  readonly log: (line: string) => void;
  readonly random?: () => number;
  /** Backoff between attempts: starts here, doubles, capped at maxBackoffMs. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export class MasterLink {
  private readonly client: AgentLinkClient;
  private stream: grpc.ClientDuplexStream<AgentMessageIn, MasterMessageOut> | null = null;
  private stopped = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: MasterLinkOptions) {
    this.client = new grpcObject.mesos_ts.internal.AgentLink(options.master, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 10_000,
    }) as unknown as AgentLinkClient;
    this.backoffMs = options.initialBackoffMs ?? 200;
  }

  connect(): void {
    if (this.stopped) return;
    const stream = this.client.Connect();
    this.stream = stream;
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      if (this.stream === stream) this.stream = null;
      stream.removeAllListeners('data');
      if (this.stopped) return;
      this.options.onDisconnected(why);
      this.scheduleReconnect();
    };
    stream.on('data', (message: MasterMessageOut) => {
      if (message.kind === 'registered') this.backoffMs = this.options.initialBackoffMs ?? 200;
      if (message.kind === 'refused') this.options.log(`master refused us: ${message.refused?.message ?? ''}`);
      this.options.onMessage(message);
    });
    stream.on('error', (err: grpc.ServiceError) => end(err.details || err.message));
    stream.on('end', () => end('the master closed the link'));
    stream.on('close', () => end('the link closed'));
    stream.write({ register: this.options.registration() });
  }

  /** Sends if connected; returns false otherwise (the caller retries later). */
  send(message: AgentMessageIn): boolean {
    if (!this.stream) return false;
    this.stream.write(message);
    return true;
  }

  get connected(): boolean {
    return this.stream !== null;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stream?.end();
    this.stream?.cancel();
    this.client.close();
  }

  private scheduleReconnect(): void {
    const jitter = 0.5 + (this.options.random ?? Math.random)();
    const delay = Math.round(this.backoffMs * jitter);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5000);
    this.options.log(`reconnecting to the master at ${this.options.master} in ${delay} ms`);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }
}
