// Reliable status updates. Each task has an ordered stream of updates; only
// the head of a stream is in flight. The head is resent on a backoff
// (--status_update_retry_interval, doubling up to 10 minutes) until the
// framework's acknowledgement comes back through the master carrying its
// uuid; then the next update of that task goes out. After the agent
// (re)registers, every head is resent at once.
import { randomBytes } from 'node:crypto';
import type { TaskStatusIn } from '../proto/index.js';

export interface PendingUpdate {
  readonly frameworkId: string;
  readonly status: TaskStatusIn & { uuid: Buffer };
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

const MAX_RETRY_SECONDS = 600;

interface Stream {
  readonly queue: PendingUpdate[];
  timer: unknown;
  retrySeconds: number;
}

export class StatusUpdateManager {
  private readonly streams = new Map<string, Stream>();

  /**
   * @param send delivers an update to the master; returns false when there is no link (it will be resent later).
   */
  constructor(
    private readonly send: (update: PendingUpdate) => boolean,
    private readonly retrySeconds: number,
    private readonly timers: Timers = realTimers,
  ) {}

  /** Queues an update (a uuid is assigned) and sends it if it is the head of its stream. */
  update(frameworkId: string, status: TaskStatusIn): PendingUpdate {
    const pending: PendingUpdate = { frameworkId, status: { ...status, uuid: randomBytes(16) } };
    const key = streamKey(frameworkId, status.task_id?.value ?? '');
    let stream = this.streams.get(key);
    if (!stream) this.streams.set(key, (stream = { queue: [], timer: null, retrySeconds: this.retrySeconds }));
    stream.queue.push(pending);
    if (stream.queue.length === 1) this.transmit(stream);
    return pending;
  }

  /** The framework acknowledged `uuid`: drop the head and send the next. Returns false for a stale ack. */
  acknowledge(frameworkId: string, taskId: string, uuid: Buffer): boolean {
    const key = streamKey(frameworkId, taskId);
    const stream = this.streams.get(key);
    const head = stream?.queue[0];
    if (!stream || !head || !head.status.uuid.equals(uuid)) return false;
    this.timers.clear(stream.timer);
    stream.queue.shift();
    stream.retrySeconds = this.retrySeconds;
    if (stream.queue.length === 0) this.streams.delete(key);
    else this.transmit(stream);
    return true;
  }

  /** After (re)registration: resend every head now. */
  resendAll(): void {
    for (const stream of this.streams.values()) {
      this.timers.clear(stream.timer);
      stream.retrySeconds = this.retrySeconds;
      this.transmit(stream);
    }
  }

  /** Forgets a framework's streams (it was shut down; no ack will come). */
  dropFramework(frameworkId: string): void {
    for (const [key, stream] of this.streams) {
      if (stream.queue[0]?.frameworkId !== frameworkId) continue;
      this.timers.clear(stream.timer);
      this.streams.delete(key);
    }
  }

  pending(): PendingUpdate[] {
    return [...this.streams.values()].flatMap((s) => s.queue);
  }

  /** The last queued state of a task, acknowledged or not yet. */
  latest(frameworkId: string, taskId: string): PendingUpdate | undefined {
    const queue = this.streams.get(streamKey(frameworkId, taskId))?.queue;
    return queue?.[queue.length - 1];
  }

  stop(): void {
    for (const stream of this.streams.values()) this.timers.clear(stream.timer);
  }

  private transmit(stream: Stream): void {
    const head = stream.queue[0];
    if (!head) return;
    this.send(head);
    const delay = stream.retrySeconds;
    stream.retrySeconds = Math.min(stream.retrySeconds * 2, MAX_RETRY_SECONDS);
    stream.timer = this.timers.set(() => this.transmit(stream), delay * 1000);
  }
}

const streamKey = (frameworkId: string, taskId: string) => `${frameworkId}/${taskId}`;
