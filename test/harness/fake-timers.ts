// Timers run by hand, for unit tests of code that takes injected Timers
// (common/clock.ts): nothing fires until the test advances time.
import type { Clock, Timers } from '../../common/clock.js';

/** Lets pending promise callbacks and immediates run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

export class FakeTimers implements Timers {
  /** Milliseconds since the test began. */
  now = 0;
  private nextId = 1;
  private readonly due = new Map<number, { at: number; fn: () => void }>();

  set(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.due.set(id, { at: this.now + ms, fn });
    return id;
  }

  clear(handle: unknown): void {
    this.due.delete(handle as number);
  }

  /** When the next timer falls due (ms), or undefined when none waits. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const { at } of this.due.values()) if (next === undefined || at < next) next = at;
    return next;
  }

  /** A Clock reading this time in seconds, from `epoch` seconds at the start. */
  clock(epoch = 1_000_000): Clock {
    return { now: () => epoch + this.now / 1000 };
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.due.size;
  }

  /** Fires what falls due within `ms`, earliest first (ties in the order set), with `now` at each one's time. */
  advance(ms: number): void {
    const end = this.now + ms;
    while (this.fireNext(end));
    this.now = end;
  }

  /**
   * As advance(), but lets promises settle before each firing and after the
   * last, for code whose timers start asynchronous work (a health probe).
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.now + ms;
    do {
      await settle();
    } while (this.fireNext(end));
    this.now = end;
    await settle();
  }

  private fireNext(end: number): boolean {
    const [id, timer] = [...this.due].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0] ?? [];
    if (id === undefined || !timer) return false;
    this.due.delete(id);
    this.now = timer.at;
    timer.fn();
    return true;
  }
}
