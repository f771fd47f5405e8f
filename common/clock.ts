// Time, injected: core logic asks a Clock, never Date.now(). Seconds since
// the epoch as a float, as Mesos's TaskStatus.timestamp uses.

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() / 1000 };

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
