// Reliable status updates. Each task has an ordered stream of updates; only
// the head of a stream is in flight. The head is resent on a backoff
// (--status_update_retry_interval, doubling up to 10 minutes) until the
// framework's acknowledgement comes back through the master carrying its
// uuid; then the next update of that task goes out. After the agent
// (re)registers, every head is resent at once. An update is never sent
// before it is written down, nor before the acknowledgement of the one ahead
// of it is: when persist returns a promise, the stream waits for it.
//
// Pure logic: timers and uuids are injected, delivery is a callback.
import { randomBytes } from 'node:crypto';
import type { TaskStatusIn } from '../proto/index.js';
import { taskKey } from '../common/ids.js';
import { realTimers, type Timers } from '../common/clock.js';
import { backoffDelay, type BackoffOptions } from '../common/backoff.js';
import { deferred, type Deferred } from '../common/deferred.js';

export interface PendingUpdate {
  readonly frameworkId: string;
  readonly status: TaskStatusIn & { readonly uuid: Buffer };
}

export interface StatusUpdateManagerOptions {
  /** Delivers an update to the master; false when there is no link (the retry timer or the next registration resends it). */
  readonly send: (update: PendingUpdate) => boolean;
  /** First resend interval, seconds (--status_update_retry_interval, default 10). */
  readonly retrySeconds: number;
  /** Cap of the doubling interval, seconds (Mesos: 10 minutes). */
  readonly maxRetrySeconds?: number;
  readonly timers?: Timers;
  /** 16 random bytes per update. */
  readonly uuid?: () => Buffer;
  /**
   * Writes an update down before it is first sent, and an acknowledgement once it is taken (see
   * checkpoint.ts): synchronously, or the returned promise settles once it is on disk. Writes of
   * one task must reach the disk in the order they were asked for.
   */
  readonly persist?: {
    update(update: PendingUpdate): void | Promise<void>;
    acknowledged(frameworkId: string, taskId: string, uuid: Buffer): void | Promise<void>;
  };
  /**
   * A write that failed: `what` names it. An update that could not be written down is written
   * again on the resend backoff, and sent only once it is; after an acknowledgement that could
   * not be, the stream goes on (the update is resent after a restart, and acknowledged again).
   */
  readonly persistFailed?: (what: string, err: unknown) => void;
}

interface Stream {
  readonly queue: PendingUpdate[];
  timer: unknown;
  /** Resends of the head scheduled so far; the next one waits backoffDelay(retries). */
  retries: number;
  /** The acknowledgement of the update before the head is being written down: the head waits. */
  acking: boolean;
}

export class StatusUpdateManager {
  private readonly streams = new Map<string, Stream>();
  /** Updates whose write is still under way (not sent yet), with that write. */
  private readonly unwritten = new WeakMap<PendingUpdate, Deferred>();
  private readonly timers: Timers;
  private readonly uuid: () => Buffer;
  private readonly backoff: BackoffOptions;

  constructor(private readonly options: StatusUpdateManagerOptions) {
    this.timers = options.timers ?? realTimers;
    this.uuid = options.uuid ?? (() => randomBytes(16));
    // Doubling without jitter, as Mesos's status update manager does.
    this.backoff = { initialDelayMs: options.retrySeconds * 1000, maxDelayMs: (options.maxRetrySeconds ?? 600) * 1000 };
  }

  /** Queues an update (a uuid is assigned) and sends it if it is the head of its stream. */
  update(frameworkId: string, status: TaskStatusIn): PendingUpdate {
    const pending: PendingUpdate = { frameworkId, status: { ...status, uuid: this.uuid() } };
    this.writeDown(pending, 0);
    return this.enqueue(pending);
  }

  /**
   * Writes `pending` down; a write that fails (a full disk) is said and tried again on the resend
   * backoff, the update keeping its place, unsent, until it is on disk: never dropped, so the
   * framework hears of every state once space returns.
   */
  private writeDown(pending: PendingUpdate, attempt: number): void {
    const written = this.options.persist?.update(pending);
    if (!written) return;
    let onDisk = this.unwritten.get(pending);
    if (!onDisk) {
      onDisk = deferred();
      this.unwritten.set(pending, onDisk);
    }
    const done = onDisk;
    written.then(
      () => {
        this.unwritten.delete(pending);
        done.resolve();
        const stream = this.streamOf(pending);
        if (stream?.queue[0] === pending) this.transmit(stream);
      },
      (err: unknown) => {
        const delayMs = backoffDelay(attempt, this.backoff);
        this.options.persistFailed?.(`${pending.status.state} of task ${pending.status.task_id?.value} (not sent; writing it again in ${delayMs / 1000}s)`, err);
        if (!this.streamOf(pending)?.queue.includes(pending)) return; // Its framework is gone meanwhile.
        this.timers.set(() => this.writeDown(pending, attempt + 1), delayMs);
      },
    );
  }

  /**
   * Settles once `pending` is on disk (after as many tries as that takes): at once when persist
   * is synchronous. The agent removes a finished task's container only after this.
   */
  written(pending: PendingUpdate): Promise<void> {
    return this.unwritten.get(pending)?.promise ?? Promise.resolve();
  }

  /** An update recovered from the checkpoint (written down already, never acknowledged): queued with its uuid. */
  restore(pending: PendingUpdate): void {
    this.enqueue(pending);
  }

  private enqueue(pending: PendingUpdate): PendingUpdate {
    const frameworkId = pending.frameworkId;
    const status = pending.status;
    const key = taskKey(frameworkId, status.task_id?.value ?? '');
    let stream = this.streams.get(key);
    if (!stream) this.streams.set(key, (stream = { queue: [], timer: null, retries: 0, acking: false }));
    stream.queue.push(pending);
    if (stream.queue.length === 1) this.transmit(stream);
    return pending;
  }

  /** The framework acknowledged `uuid`: drop the head and send the next. False for a stale or unknown ack. */
  acknowledge(frameworkId: string, taskId: string, uuid: Buffer): boolean {
    const key = taskKey(frameworkId, taskId);
    const stream = this.streams.get(key);
    const head = stream?.queue[0];
    if (!stream || !head || !head.status.uuid.equals(uuid)) return false;
    this.timers.clear(stream.timer);
    const written = this.options.persist?.acknowledged(frameworkId, taskId, uuid);
    stream.queue.shift();
    stream.retries = 0;
    // A later update of the task whose stream is gone by then is written (and so sent) after this acknowledgement.
    if (stream.queue.length === 0) this.streams.delete(key);
    else if (!written) this.transmit(stream);
    else stream.acking = true;
    written?.catch((err: unknown) => this.options.persistFailed?.(`the acknowledgement of ${head.status.state} of task ${taskId}`, err)).finally(() => {
      if (!stream.acking) return;
      stream.acking = false;
      if (this.streams.get(key) === stream) this.transmit(stream);
    });
    return true;
  }

  /** After (re)registration: resend every head now, backoff restarted. */
  resendAll(): void {
    for (const stream of this.streams.values()) {
      this.timers.clear(stream.timer);
      stream.retries = 0;
      this.transmit(stream);
    }
  }

  /** Forgets a framework's streams: it is gone and no acknowledgement will come. */
  dropFramework(frameworkId: string): void {
    for (const [key, stream] of this.streams) {
      if (stream.queue[0]?.frameworkId !== frameworkId) continue;
      this.timers.clear(stream.timer);
      this.streams.delete(key);
    }
  }

  /** True while some update of this task waits for its acknowledgement. */
  hasPending(frameworkId: string, taskId: string): boolean {
    return this.streams.has(taskKey(frameworkId, taskId));
  }

  /**
   * The update of this task in flight (the head of its stream, sent or about to be), if any: what
   * the framework hears next. Reported at (re-)registration as Mesos's Task.status_update_state
   * and status_update_uuid, so that the master's reconciliation answers do not run ahead of it.
   */
  head(frameworkId: string, taskId: string): PendingUpdate | undefined {
    return this.streams.get(taskKey(frameworkId, taskId))?.queue[0];
  }

  pending(): PendingUpdate[] {
    return [...this.streams.values()].flatMap((s) => s.queue);
  }

  stop(): void {
    for (const stream of this.streams.values()) this.timers.clear(stream.timer);
  }

  private streamOf(pending: PendingUpdate): Stream | undefined {
    return this.streams.get(taskKey(pending.frameworkId, pending.status.task_id?.value ?? ''));
  }

  private transmit(stream: Stream): void {
    const head = stream.queue[0];
    // Not written down yet, or the acknowledgement before it is not: sent when it is (see update(), acknowledge()).
    if (!head || this.unwritten.has(head) || stream.acking) return;
    this.options.send(head);
    stream.timer = this.timers.set(() => this.transmit(stream), backoffDelay(stream.retries++, this.backoff));
  }
}
