// One consumer's buffer of events, readable with `for await`. The producer
// pushes; the consumer pulls. The producer watches `size` to pause its
// source when a consumer falls behind, and hears `onDrain` when the consumer
// has caught up — that is how backpressure reaches the gRPC stream.
import { Fifo } from '../../common/fifo.js';

export interface EventQueueHooks {
  /** The consumer took an item and the buffer is at or below the low-water mark. */
  readonly onDrain: () => void;
  /** The consumer stopped (break, return, abort) or the producer ended the queue. */
  readonly onClose: () => void;
}

export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly items = new Fifo<T>();
  private waiter: ((result: IteratorResult<T>) => void) | null = null;
  private closed = false;

  constructor(
    private readonly lowWaterMark: number,
    private readonly hooks: EventQueueHooks,
  ) {}

  get size(): number {
    return this.items.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  push(item: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /** No more items: the consumer still reads what is buffered, then stops. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.finish();
  }

  /** Stop now, dropping what is buffered (the consumer's signal fired). */
  abort(): void {
    this.items.drain();
    this.end();
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) {
      if (this.items.length <= this.lowWaterMark) this.hooks.onDrain();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.abort();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private finish(): void {
    if (this.items.length === 0 && this.waiter) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve({ value: undefined, done: true });
    }
    this.hooks.onClose();
  }
}
