// Every timer of the master, in one place: offer timeouts, failover
// timeouts, heartbeats, agent pings, re-registration and gone deadlines.
// A deadline has a key (re-arming a key replaces it) and a due time on the
// injected clock; it fires once, never sooner. The due time is given on the
// master's wall clock but kept as a delay on the monotonic clock from the
// moment it is armed, so a wall-clock jump afterwards (back or forward)
// neither fires it early nor holds it off. setTimeout cannot wait
// longer than ~24.8 days (Mesos suggests failover timeouts of weeks), so
// longer waits go in steps.
import { monotonicClock, type Clock, type Timers } from '../common/clock.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

interface Armed {
  /** Due on the wall clock, as armed (what dueAt() answers). */
  readonly at: number;
  /** Due on the monotonic clock. */
  readonly due: number;
  readonly fire: () => void;
  handle: unknown;
}

export class Deadlines {
  private readonly armed = new Map<string, Armed>();

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly monotonic: Clock = monotonicClock,
  ) {}

  /** Calls `fire` once the clock reaches `at` (seconds), replacing whatever `key` had armed. */
  arm(key: string, at: number, fire: () => void): void {
    this.cancel(key);
    const entry: Armed = { at, due: this.monotonic.now() + (at - this.clock.now()), fire, handle: null };
    this.armed.set(key, entry);
    this.schedule(key, entry);
  }

  cancel(key: string): void {
    const entry = this.armed.get(key);
    if (!entry) return;
    this.timers.clear(entry.handle);
    this.armed.delete(key);
  }

  /** When `key` fires (seconds), or undefined when it is not armed. */
  dueAt(key: string): number | undefined {
    return this.armed.get(key)?.at;
  }

  get size(): number {
    return this.armed.size;
  }

  /** Cancels everything. */
  clear(): void {
    for (const entry of this.armed.values()) this.timers.clear(entry.handle);
    this.armed.clear();
  }

  private schedule(key: string, entry: Armed): void {
    const left = Math.max(0, Math.ceil((entry.due - this.monotonic.now()) * 1000));
    entry.handle = this.timers.set(() => {
      if (this.armed.get(key) !== entry) return;
      if (entry.due - this.monotonic.now() > 0) return this.schedule(key, entry);
      this.armed.delete(key);
      entry.fire();
    }, Math.min(left, MAX_TIMER_MS));
  }
}
