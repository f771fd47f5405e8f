// The master's side of a scheduler's event stream when the scheduler reads
// slowly. Events go straight to the transport while it accepts them
// (write() returns true); once it pushes back, they wait here until it
// drains. The wait is bounded twice: by count and by bytes. When more than
// `limit.events` events, or more than `limit.bytes` bytes of them, are
// waiting, the backlog is dropped at once and `overflow` runs, which
// disconnects the framework (it may subscribe again). So a scheduler that
// stops reading costs the master at most that much plus the transport's own
// small buffer, never memory without bound. Only waiting events are
// measured: an event the transport takes at once costs no `measure` call.
// `measure` may hand back the event in another form the transport also
// takes (its encoded bytes), so that what waits is encoded once, not twice.
import { Fifo } from '../common/fifo.js';

export interface EventTransport<T> {
  /** False when the transport's buffer is full (the event is still taken). */
  write(event: T): boolean;
}

export interface BacklogLimit<T> {
  /** Events that may wait. */
  readonly events: number;
  /** Bytes that may wait, as `size` counts them. */
  readonly bytes: number;
  /** An event as it will wait (the same, or its encoded form) and its size in bytes on the wire. */
  readonly measure: (event: T) => { readonly event: T; readonly bytes: number };
}

/** What was waiting when the backlog overflowed (the event that overflowed it included). */
export interface Overflow {
  readonly events: number;
  readonly bytes: number;
  /** Which bound it passed. */
  readonly bound: 'events' | 'bytes';
}

export class EventBacklog<T> {
  private readonly waiting = new Fifo<{ readonly event: T; readonly bytes: number }>();
  private waitingBytes = 0;
  private blocked = false;
  private overflowed = false;

  constructor(
    private readonly transport: EventTransport<T>,
    private readonly limit: BacklogLimit<T>,
    private readonly overflow: (what: Overflow) => void,
  ) {}

  /** Events waiting for the transport. */
  get length(): number {
    return this.waiting.length;
  }

  /** Bytes of the events waiting for the transport. */
  get bytes(): number {
    return this.waitingBytes;
  }

  /** Sends or queues `event`; once overflowed, drops it. */
  push(event: T): void {
    if (this.overflowed) return;
    if (!this.blocked) {
      this.blocked = !this.transport.write(event);
      return;
    }
    const measured = this.limit.measure(event);
    this.waiting.push(measured);
    this.waitingBytes += measured.bytes;
    const bound = this.length > this.limit.events ? 'events' : this.waitingBytes > this.limit.bytes ? 'bytes' : null;
    if (bound !== null) {
      const what: Overflow = { events: this.length, bytes: this.waitingBytes, bound };
      this.overflowed = true;
      this.clear();
      this.overflow(what);
    }
  }

  /** The transport drained: send what waits until it pushes back again. */
  drained(): void {
    this.blocked = false;
    while (!this.blocked && this.length > 0) this.blocked = !this.transport.write(this.shift());
    if (this.length === 0) this.clear();
  }

  /** Hands everything waiting to the transport regardless of its buffer (the stream ends next; bounded as above). */
  flush(): void {
    while (this.length > 0) this.transport.write(this.shift());
    this.clear();
  }

  private shift(): T {
    const { event, bytes } = this.waiting.shift()!;
    this.waitingBytes -= bytes;
    return event;
  }

  private clear(): void {
    this.waiting.drain();
    this.waitingBytes = 0;
  }
}
