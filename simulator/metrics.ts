// What a run measures. The engine records the cluster's state at every
// instant it changes (a step function: each sample holds until the next),
// so time averages are exact integrals, not averages of samples.
//
// - utilization of a resource: what running tasks use / what joined agents
//   have. The headline `utilization` is the *dominant-resource*
//   utilization, max over resources at each instant, averaged over time:
//   a cluster whose memory is all taken is full even with idle cpus.
// - dominant share of a framework: max over resources of its running
//   tasks' use / the cluster's total (DRF's measure).
// - Jain's index over the frameworks that have demand (tasks queued or
//   running): (Σx)² / (n·Σx²) with x = dominant share / role weight; 1 when
//   they are equal, 1/n when one holds everything. Averaged over the time
//   when at least two frameworks have demand.
// - wait of a task: start − submit; a task still queued at the end counts
//   with end − submit (a lower bound), so starving policies are not flattered.

export interface Sample {
  readonly t: number;
  /** Per resource (Timeline.resources order), used / total. */
  readonly utilization: readonly number[];
  readonly dominantUtilization: number;
  /** Per framework (Timeline.frameworks order). */
  readonly shares: readonly number[];
  /** null while fewer than two frameworks have demand. */
  readonly jain: number | null;
}

export class Timeline {
  private readonly list: Sample[] = [];

  constructor(
    readonly resources: readonly string[],
    readonly frameworks: readonly string[],
    private readonly weights: readonly number[],
  ) {}

  get samples(): readonly Sample[] {
    return this.list;
  }

  /** The state from `t` on; a second record at the same `t` replaces the first. */
  record(t: number, total: readonly number[], used: readonly (readonly number[])[], hasDemand: readonly boolean[]): void {
    const utilization = this.resources.map((_, r) => (total[r]! > 0 ? sum(used.map((u) => u[r]!)) / total[r]! : 0));
    const shares = used.map((u) => dominantShare(u, total));
    const x = shares.flatMap((s, f) => (hasDemand[f] ? [s / this.weights[f]!] : []));
    const sample: Sample = { t, utilization, dominantUtilization: Math.max(0, ...utilization), shares, jain: x.length >= 2 ? jain(x) : null };
    const last = this.list.at(-1);
    if (last?.t === t) this.list[this.list.length - 1] = sample;
    else if (!last || !sameState(last, sample)) this.list.push(sample);
  }

  /** The sample in force at `t` (the last one at or before it). */
  at(t: number): Sample | undefined {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid]!.t <= t) lo = mid + 1;
      else hi = mid;
    }
    return this.list[lo - 1];
  }

  /** Time average over [0, end] of `value`; samples where it is null are left out of both sums. */
  average(end: number, value: (s: Sample) => number | null): number | null {
    let area = 0;
    let span = 0;
    this.list.forEach((s, i) => {
      const next = Math.min(this.list[i + 1]?.t ?? end, end);
      const v = value(s);
      if (next <= s.t || v === null) return;
      area += v * (next - s.t);
      span += next - s.t;
    });
    return span > 0 ? area / span : null;
  }
}

export function dominantShare(used: readonly number[], total: readonly number[]): number {
  let share = 0;
  used.forEach((u, r) => {
    if (total[r]! > 0) share = Math.max(share, u / total[r]!);
  });
  return share;
}

/** Jain's fairness index; all-zero allocations are equal, hence 1. */
export function jain(x: readonly number[]): number {
  const squares = sum(x.map((v) => v * v));
  return squares === 0 ? 1 : sum(x) ** 2 / (x.length * squares);
}

/** Nearest-rank percentile (p in [0, 100]) of unsorted values; null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function sameState(a: Sample, b: Sample): boolean {
  return a.jain === b.jain && a.utilization.every((u, r) => u === b.utilization[r]) && a.shares.every((s, f) => s === b.shares[f]);
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
