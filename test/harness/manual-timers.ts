// Time moved by hand: a Clock and Timers in one. advance() fires every timer
// that falls due, in due order, with the clock set to each one's due time,
// so a test of timeouts reads like the story it tells and never sleeps.
import type { Clock } from '../../common/clock.js';
import type { Timers } from '../../common/timers.js';

export class ManualTimers implements Clock, Timers {
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(private seconds = 1_000_000) {}

  now(): number {
    return this.seconds;
  }

  set(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.seconds + Math.max(0, ms) / 1000, fn });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves the clock forward, firing each timer as its time comes (timers set meanwhile fire too if due). */
  advance(seconds: number): void {
    const end = this.seconds + seconds;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.pending) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.pending.delete(next[0]);
      this.seconds = Math.max(this.seconds, next[1].at);
      next[1].fn();
    }
    this.seconds = end;
  }

  /** When the next timer falls due (seconds), or undefined when none waits. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const { at } of this.pending.values()) if (next === undefined || at < next) next = at;
    return next;
  }

  /** Timers waiting. */
  get size(): number {
    return this.pending.size;
  }
}
