// A value built from the master's records (a state snapshot, an encoded
// GET_STATE answer), rebuilt only when the records changed (Master.version)
// and, when a build is slow, at most once per `staleFactor` build-times.
// However hard it is polled while the cluster changes, it then takes at most
// 1/staleFactor of the master's event loop from allocation and status
// handling, and is at most staleFactor build-times behind. Builds faster than
// `slowBuildMs` are always fresh, so a small cluster never sees a stale one.
// Concurrent requests share one build: the first builds, the others reuse it.

export interface StalenessBounds {
  /** Builds faster than this (ms) are always redone after a change. */
  readonly slowBuildMs: number;
  /** A slow build is redone only after this many times its own duration. */
  readonly staleFactor: number;
}

/** /master/state, GET_STATE: at most 1/20 of the loop; at most 20 build-times behind. */
export const STATE_BOUNDS: StalenessBounds = { slowBuildMs: 10, staleFactor: 20 };

/**
 * A build's cost is the CPU time it took (a master descheduled by a busy
 * machine does not make its builds look slow); the wait after it is wall time.
 * Both decide only how stale an answer may be, never what the master does.
 */
export interface BuildClock {
  wallMs(): number;
  cpuMs(): number;
}

const PROCESS_CLOCK: BuildClock = {
  wallMs: () => performance.now(),
  cpuMs: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
};

export class BoundedStaleness<T> {
  private built = -1;
  private current: { readonly value: T } | null = null;
  private builtAt = 0;
  private buildMs = 0;

  /**
   * `freshFrom`: the oldest version an answer may be built from, whatever the bound (an operator reads its own
   * writes: Master.freshReadsFrom).
   */
  constructor(
    private readonly version: () => number,
    private readonly bounds: StalenessBounds = STATE_BOUNDS,
    private readonly clock: BuildClock = PROCESS_CLOCK,
    private readonly freshFrom: () => number = () => 0,
  ) {}

  /**
   * The value, rebuilt with `build` when the records changed and the bound
   * allows; `fresh` ignores the bound (a snapshot that an event stream
   * continues must be exactly the current state).
   */
  get(build: () => T, fresh = false): T {
    const version = this.version();
    if (this.current && this.built === version) return this.current.value;
    const now = this.clock.wallMs();
    const mayBeStale = !fresh && this.current !== null && this.built >= this.freshFrom();
    if (mayBeStale && this.buildMs > this.bounds.slowBuildMs && now - this.builtAt < this.buildMs * this.bounds.staleFactor) {
      return this.current!.value;
    }
    const cpu = this.clock.cpuMs();
    const value = build();
    this.current = { value };
    this.built = version;
    this.buildMs = this.clock.cpuMs() - cpu;
    this.builtAt = this.clock.wallMs();
    return value;
  }

  /** True when the last get() may have answered from an older version (for tests and metrics). */
  get stale(): boolean {
    return this.current !== null && this.built !== this.version();
  }
}
