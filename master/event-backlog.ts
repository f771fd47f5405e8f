// The master's side of a scheduler's event stream when the scheduler reads
// slowly. Events go straight to the transport while it accepts them
// (write() returns true); once it pushes back, they wait here until it
// drains. The wait is bounded: when more than `limit` events are waiting the
// backlog is dropped at once and `overflow` runs, which disconnects the
// framework (it may subscribe again). So a scheduler that stops reading
// costs the master at most `limit` events plus the transport's own small
// buffer, never memory without bound.
export interface EventTransport<T> {
  /** False when the transport's buffer is full (the event is still taken). */
  write(event: T): boolean;
}

export class EventBacklog<T> {
  private waiting: T[] = [];
  private head = 0;
  private blocked = false;
  private overflowed = false;

  constructor(
    private readonly transport: EventTransport<T>,
    private readonly limit: number,
    private readonly overflow: (waiting: number) => void,
  ) {}

  /** Events waiting for the transport. */
  get length(): number {
    return this.waiting.length - this.head;
  }

  /** Sends or queues `event`; once overflowed, drops it. */
  push(event: T): void {
    if (this.overflowed) return;
    if (!this.blocked) {
      this.blocked = !this.transport.write(event);
      return;
    }
    this.waiting.push(event);
    if (this.length > this.limit) {
      const waiting = this.length;
      this.overflowed = true;
      this.clear();
      this.overflow(waiting);
    }
  }

  /** The transport drained: send what waits until it pushes back again. */
  drained(): void {
    this.blocked = false;
    while (!this.blocked && this.length > 0) {
      const event = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as T; // Let it be collected.
      this.blocked = !this.transport.write(event);
    }
    if (this.length === 0) this.clear();
  }

  /** Hands everything waiting to the transport regardless of its buffer (the stream ends next; at most `limit` events). */
  flush(): void {
    while (this.length > 0) {
      const event = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as T;
      this.transport.write(event);
    }
    this.clear();
  }

  private clear(): void {
    this.waiting = [];
    this.head = 0;
  }
}
