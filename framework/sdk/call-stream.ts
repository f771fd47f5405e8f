// A subscription's calls on one Scheduler/Calls stream instead of a unary
// request each: the calls sent in the same turn of the event loop (the
// acknowledgements of the updates just read, most often) go in one
// CallRequest, and the master answers each call of it as its unary method
// would. Requests are written, and applied, in the order of the calls.
//
//   send() ──> batch ──(setImmediate)──> CallRequest{id, calls} ──> waiting[id]
//   CallReply{id, outcomes} ──> each call resolves, or rejects with the unary error
//   stream error / end ──> every call not yet answered rejects with it
//   UNIMPLEMENTED (a master from before Calls) ──> the calls not yet answered go to onUnimplemented
import * as grpc from '@grpc/grpc-js';
import { grpcObject, type CallIn, type CallOutcome, type CallReply, type CallRequestIn } from '../../proto/index.js';
import { MesosError, Unavailable } from '../../common/errors.js';
import { fromServiceError } from '../../common/grpc-status.js';
import { STREAM_ID_KEY } from '../../common/stream-id.js';

const CALLS = (grpcObject.mesos_ts.Scheduler.service as unknown as Record<string, grpc.MethodDefinition<CallRequestIn, CallReply>>).Calls!;
/** Ids wrap below 2^32 (the field is a uint32); far fewer requests than that are ever waiting. */
const MAX_ID = 0xffff_ffff;
/**
 * Calls that can be as large as the message limit allows (tasks, data, task
 * lists) each go in a request of their own, at once: no request is then larger
 * than the unary request it replaces. The small ones batch, this many at most.
 */
const ALONE: ReadonlySet<string> = new Set(['ACCEPT', 'MESSAGE', 'RECONCILE', 'UPDATE_FRAMEWORK']);
const MAX_BATCH = 1000;

/** One call waiting for its outcome. */
export interface PendingCall {
  readonly call: CallIn;
  readonly signal: AbortSignal | undefined;
  resolve(): void;
  reject(reason: unknown): void;
}

interface Waiting {
  readonly calls: readonly PendingCall[];
  readonly timer: NodeJS.Timeout;
}

export interface CallStreamOptions {
  /** A reply later than this fails the calls of its request (as a unary call's deadline would). */
  readonly callTimeoutMs: number;
  /** The master has no Calls method: these calls were not applied; send them another way. */
  readonly onUnimplemented: (calls: readonly PendingCall[]) => void;
}

/**
 * The outcome of each of `count` calls in `reply`: null for accepted, else the
 * error the unary call would have rejected with. A reply with one error for a
 * request of several (the master could not read the request) fails them all.
 */
export function outcomesOf(reply: CallReply, count: number): (MesosError | null)[] {
  const shared = reply.outcomes.length === 1 && count > 1 && reply.outcomes[0]!.error ? reply.outcomes[0] : undefined;
  return Array.from({ length: count }, (_, i) => {
    const outcome: CallOutcome | undefined = shared ?? reply.outcomes[i];
    if (!outcome) return new MesosError('INTERNAL', `the master answered ${reply.outcomes.length} of the ${count} calls of request ${reply.id}`);
    if (!outcome.error) return null;
    return fromServiceError({ code: outcome.error.code, details: outcome.error.message });
  });
}

export class CallStream {
  private readonly stream: grpc.ClientDuplexStream<CallRequestIn, CallReply>;
  private readonly waiting = new Map<number, Waiting>();
  private batch: PendingCall[] = [];
  private flushing: NodeJS.Immediate | null = null;
  private lastId = 0;
  /** end() was called: no more calls. */
  private ended = false;
  /** The stream is over (ended, failed or refused): nothing more will be answered. */
  private over = false;

  constructor(client: grpc.Client, streamId: string, private readonly options: CallStreamOptions) {
    const metadata = new grpc.Metadata();
    metadata.set(STREAM_ID_KEY, streamId);
    this.stream = client.makeBidiStreamRequest(CALLS.path, CALLS.requestSerialize, CALLS.responseDeserialize, metadata, {});
    this.stream.on('data', (reply: CallReply) => this.onReply(reply));
    this.stream.on('error', (err: grpc.ServiceError) => this.onEnd(err));
    this.stream.on('end', () => this.onEnd(null));
  }

  /** False once the stream has ended or failed: open another for later calls. */
  get usable(): boolean {
    return !this.over && !this.ended;
  }

  /** Resolves once the master has accepted `call`; framework_id must be set. */
  send(call: CallIn, signal?: AbortSignal): Promise<void> {
    if (!this.usable) return Promise.reject(new Unavailable(`cannot ${call.type}: the call stream has ended`));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        // Not sent yet: it never will be. Sent: the master may still apply it.
        this.batch = this.batch.filter((p) => p !== pending);
        reject(signal!.reason);
      };
      const done = (settle: () => void) => () => {
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const pending: PendingCall = {
        call, signal, resolve: done(resolve), reject: (reason) => done(() => reject(reason))(),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (ALONE.has(String(call.type))) this.flush(); // what came before goes first
      this.batch.push(pending);
      if (ALONE.has(String(call.type)) || this.batch.length >= MAX_BATCH) this.flush();
      else this.flushing ??= setImmediate(() => this.flush());
    });
  }

  /** Sends what is batched and ends this side: calls already sent still get their replies. */
  end(): void {
    if (!this.usable) return;
    this.flush();
    this.ended = true;
    this.stream.end();
  }

  private flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    const calls = this.batch;
    this.batch = [];
    if (calls.length === 0 || this.over) return;
    this.lastId = (this.lastId % MAX_ID) + 1;
    const id = this.lastId;
    const timer = setTimeout(() => this.expire(id), this.options.callTimeoutMs);
    this.waiting.set(id, { calls, timer });
    this.stream.write({ id, calls: calls.map((p) => p.call) });
  }

  private onReply(reply: CallReply): void {
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return; // expired, or an answer to a request we could not have sent
    this.waiting.delete(reply.id);
    clearTimeout(waiting.timer);
    outcomesOf(reply, waiting.calls.length).forEach((error, i) => (error ? waiting.calls[i]!.reject(error) : waiting.calls[i]!.resolve()));
  }

  private expire(id: number): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    const error = new Unavailable(`no answer from the master within ${this.options.callTimeoutMs} ms (the call may still have been applied)`);
    for (const p of waiting.calls) p.reject(error);
    // Ended and nothing left to wait for: a master that does not answer keeps the stream (and the process) no longer.
    if (this.ended && this.waiting.size === 0) this.stream.cancel();
  }

  private onEnd(err: grpc.ServiceError | null): void {
    if (this.over) return;
    this.over = true;
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    const unanswered = [...[...this.waiting.values()].flatMap((w) => (clearTimeout(w.timer), w.calls)), ...this.batch];
    this.waiting.clear();
    this.batch = [];
    if (err?.code === grpc.status.UNIMPLEMENTED) return this.options.onUnimplemented(unanswered);
    const reason = err ? fromServiceError(err) : new Unavailable('the master ended the call stream before answering');
    for (const p of unanswered) p.reject(reason);
  }
}
