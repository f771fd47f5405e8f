// How a subscribed session's calls reach the master: on the session's Calls
// stream (call-stream.ts), or as one unary gRPC request each, for a master
// that predates Calls (found out once, from its UNIMPLEMENTED) or when the
// Scheduler was made with `callStream: false`.
import * as grpc from '@grpc/grpc-js';
import type { CallIn } from '../../proto/index.js';
import { fromServiceError } from '../../common/grpc-status.js';
import { STREAM_ID_KEY } from '../../common/stream-id.js';
import { CallStream, type PendingCall } from './call-stream.js';

type UnaryMethod =
  | 'Teardown' | 'Accept' | 'Decline' | 'Revive' | 'Kill' | 'Shutdown' | 'Acknowledge' | 'Reconcile' | 'Message' | 'Request' | 'Suppress' | 'UpdateFramework'
  | 'AcceptInverseOffers' | 'DeclineInverseOffers';
type UnaryFn = (call: CallIn, md: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void) => grpc.ClientUnaryCall;

const METHODS: Readonly<Record<string, UnaryMethod>> = {
  TEARDOWN: 'Teardown', ACCEPT: 'Accept', DECLINE: 'Decline', REVIVE: 'Revive', KILL: 'Kill', SHUTDOWN: 'Shutdown',
  ACKNOWLEDGE: 'Acknowledge', RECONCILE: 'Reconcile', MESSAGE: 'Message', REQUEST: 'Request', SUPPRESS: 'Suppress',
  UPDATE_FRAMEWORK: 'UpdateFramework', ACCEPT_INVERSE_OFFERS: 'AcceptInverseOffers', DECLINE_INVERSE_OFFERS: 'DeclineInverseOffers',
};

/** Whether a call of this type can be sent on a subscription (any the master takes but SUBSCRIBE). */
export const sendable = (type: CallIn['type']): boolean => METHODS[String(type)] !== undefined;

/** The subscription the calls belong to. */
export interface CallSession {
  /** The master's address, as the Scheduler dialled it. */
  readonly address: string;
  readonly client: grpc.Client;
  readonly streamId: string;
}

export interface CallSenderOptions {
  /** False: every call unary. */
  readonly useStream: boolean;
  /** The deadline of each call (of each request, on the stream). */
  readonly callTimeoutMs: number;
  readonly warn: (line: string) => void;
}

export class CallSender {
  /** The live session's Calls stream, opened by its first call. */
  private stream: CallStream | null = null;
  /** Masters found without the Calls method. */
  private readonly unaryOnly = new Set<string>();

  constructor(private readonly options: CallSenderOptions) {}

  /** Sends `call` (framework_id set, type sendable) for `session`; resolves once the master accepted it. */
  send(session: CallSession, call: CallIn, signal: AbortSignal | undefined): Promise<void> {
    const stream = this.streamOf(session);
    return stream ? stream.send(call, signal) : this.sendUnary(session, call, signal);
  }

  /** The session is over: what was batched is sent, what was sent is still answered unless the connection went too. */
  endSession(): void {
    this.stream?.end();
    this.stream = null;
  }

  private streamOf(session: CallSession): CallStream | null {
    if (!this.options.useStream || this.unaryOnly.has(session.address)) return null;
    if (this.stream?.usable) return this.stream;
    this.stream = new CallStream(session.client, session.streamId, {
      callTimeoutMs: this.options.callTimeoutMs,
      onUnimplemented: (pending) => this.fallBackToUnary(session, pending),
    });
    return this.stream;
  }

  /** A master from before Calls refused the stream (nothing was applied): these calls, and later ones, go unary. */
  private fallBackToUnary(session: CallSession, pending: readonly PendingCall[]): void {
    if (!this.unaryOnly.has(session.address)) {
      this.unaryOnly.add(session.address);
      this.options.warn(`the master at ${session.address} has no Scheduler/Calls method (an older master): each call goes as a unary request`);
    }
    for (const p of pending) {
      if (p.signal?.aborted) continue; // already rejected with the abort's reason
      this.sendUnary(session, p.call, p.signal).then(p.resolve, p.reject);
    }
  }

  private sendUnary(session: CallSession, call: CallIn, signal: AbortSignal | undefined): Promise<void> {
    const metadata = new grpc.Metadata();
    metadata.set(STREAM_ID_KEY, session.streamId);
    const fn = (session.client as unknown as Record<UnaryMethod, UnaryFn>)[METHODS[String(call.type)]!];
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => pending.cancel();
      const pending = fn.call(session.client, call, metadata, { deadline: Date.now() + this.options.callTimeoutMs }, (err) => {
        signal?.removeEventListener('abort', onAbort);
        if (!err) resolve();
        else reject(signal?.aborted ? signal.reason : fromServiceError(err));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
