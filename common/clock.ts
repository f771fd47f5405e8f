// Time, injected: core logic asks a Clock, never Date.now(). Seconds since
// the epoch as a float, as Mesos's TaskStatus.timestamp uses.

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() / 1000 };

/**
 * Seconds on a clock that only moves forward at the pace of real time, from an arbitrary origin
 * (CLOCK_MONOTONIC through performance.now()). Durations and deadlines are measured on it: the
 * wall clock can be set back or forward (NTP, an operator) and must then neither expire a timeout
 * early nor hold it off for as long as the jump.
 */
export const monotonicClock: Clock = { now: () => performance.now() / 1000 };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private seconds = 1_000_000) {}
  now(): number {
    return this.seconds;
  }
  advance(seconds: number): void {
    this.seconds += seconds;
  }
}

/** One-shot timers, injected where a unit test drives time by hand (test/harness/fake-timers.ts). */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Real timers that do not keep the process alive on their own. */
export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};
