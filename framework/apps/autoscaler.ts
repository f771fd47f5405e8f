// The autoscaler's decision, pure and synchronous: the Kubernetes HPA rule.
//
//   ratio = value / target
//   |ratio - 1| <= tolerance   -> recommendation = current (hold)
//   otherwise                  -> recommendation = ceil(current × ratio)
//   recommendation clamped to [minInstances, maxInstances]
//   above current              -> scale up at once
//   below current              -> the highest recommendation of the last
//                                 scaleDownStabilizationSeconds (this one
//                                 included), never above current
//   no value                   -> hold, saying why
//
// The caller keeps the recommendations (`recommendation` of each decision
// that has one) and passes those of the window back; `pruneHistory` drops
// the older ones. Times are seconds from the injected clock.
import type { AutoscaleSpec } from './autoscale-spec.js';

/** One past recommendation: what the rule asked for at `at`, before stabilization. */
export interface Recommendation {
  readonly at: number;
  readonly instances: number;
}

/** A metric reading: a number, or why there is none. */
export type MetricValue = { readonly value: number } | { readonly noData: string };

export interface DecisionInput {
  readonly spec: AutoscaleSpec;
  readonly current: number;
  readonly metric: MetricValue;
  readonly history: readonly Recommendation[];
  readonly now: number;
}

export type Direction = 'up' | 'down' | 'hold';

export interface Decision {
  readonly desired: number;
  readonly direction: Direction;
  readonly reason: string;
  /** The value read, or null without one. */
  readonly value: number | null;
  /** The rule's recommendation to remember for later scale-downs; absent when there was no value. */
  readonly recommendation?: Recommendation;
}

export function decide(input: DecisionInput): Decision {
  const { spec, current, metric, now } = input;
  if ('noData' in metric) return { desired: current, direction: 'hold', reason: `no metric value: ${metric.noData}`, value: null };
  const value = metric.value;
  const ratio = value / spec.target;
  const show = `${metric_(spec)} ${round(value)} against target ${round(spec.target)} (ratio ${round(ratio)})`;
  let raw: number;
  let why: string;
  // The epsilon keeps a ratio on the boundary (110 / 100 is 1.1000000000000001 in floating point) inside.
  if (Math.abs(ratio - 1) <= spec.tolerance + 1e-9) {
    raw = current;
    why = `${show} is within the tolerance of ${round(spec.tolerance)}`;
  } else {
    raw = Math.ceil(current * ratio);
    why = `${show}: ceil(${current} × ${round(ratio)}) = ${raw}`;
  }
  const clamped = Math.min(spec.maxInstances, Math.max(spec.minInstances, raw));
  if (clamped !== raw) why += `, clamped to ${clamped} (bounds ${spec.minInstances}..${spec.maxInstances})`;
  const recommendation: Recommendation = { at: now, instances: clamped };
  if (clamped >= current) {
    const direction: Direction = clamped > current ? 'up' : 'hold';
    return { desired: clamped, direction, reason: direction === 'up' ? `scale up: ${why}` : `hold: ${why}`, value, recommendation };
  }
  // Scale-down: the highest recommendation of the window, so a short dip does not remove instances.
  const window = pruneHistory(input.history, now, spec.scaleDownStabilizationSeconds);
  const highest = Math.min(current, Math.max(clamped, ...window.map((r) => r.instances)));
  if (highest === current) {
    return { desired: current, direction: 'hold', reason: `hold: ${why}; ${current} was recommended within the last ${spec.scaleDownStabilizationSeconds} s (scale-down stabilization)`, value, recommendation };
  }
  const held = highest > clamped ? `; ${highest}, the highest recommendation of the last ${spec.scaleDownStabilizationSeconds} s` : '';
  return { desired: highest, direction: 'down', reason: `scale down: ${why}${held}`, value, recommendation };
}

/** The recommendations made within the last `windowSeconds`. */
export function pruneHistory(history: readonly Recommendation[], now: number, windowSeconds: number): Recommendation[] {
  return history.filter((r) => r.at > now - windowSeconds);
}

const metric_ = (spec: AutoscaleSpec): string => (spec.metric === 'cpu' ? 'cpu utilization' : 'requests per second per instance');
const round = (n: number): number => Math.round(n * 1000) / 1000;
