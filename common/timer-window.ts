// A timer metric as libprocess keeps one (process/metrics/timer.hpp): the
// last value, how many were timed, and percentiles over a window of the
// most recent samples. Mesos's snapshot names them `<name>`, `<name>/count`,
// `<name>/min`, `<name>/max`, `<name>/p50`, `<name>/p90`, `<name>/p95`,
// `<name>/p99`, `<name>/p999`, `<name>/p9999`; min and max are over the same
// window. Pure: the caller passes each duration it measured.

/** Percentiles as libprocess's Statistics names them. */
export const TIMER_PERCENTILES = [
  ['p50', 0.5], ['p90', 0.9], ['p95', 0.95], ['p99', 0.99], ['p999', 0.999], ['p9999', 0.9999],
] as const;

/** Samples kept by default: enough for p99 to mean something, bounded in memory (8 KB). */
export const DEFAULT_TIMER_WINDOW = 1000;

export class TimerWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private kept = 0;
  private last = 0;
  /** Every value timed since the start, not only those in the window. */
  count = 0;

  constructor(readonly capacity = DEFAULT_TIMER_WINDOW) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`a timer window holds a positive whole number of samples, got ${capacity}`);
    this.samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    this.kept = Math.min(this.kept + 1, this.capacity);
    this.last = ms;
    this.count++;
  }

  /**
   * `name` (the last value), `/count`, then `/min`, `/max` and the
   * percentiles over the window; with nothing timed yet, only `/count` (0)
   * and `name` (0), as a metric that exists before its first sample.
   */
  snapshot(name: string): Record<string, number> {
    const out: Record<string, number> = { [name]: this.last, [`${name}/count`]: this.count };
    if (this.kept === 0) return out;
    const sorted = this.samples.slice(0, this.kept).sort();
    out[`${name}/min`] = sorted[0]!;
    out[`${name}/max`] = sorted[this.kept - 1]!;
    for (const [suffix, p] of TIMER_PERCENTILES) out[`${name}/${suffix}`] = percentile(sorted, p);
    return out;
  }
}

/** Nearest rank on an ascending array: the smallest value with at least `p` of the samples at or below it. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}
