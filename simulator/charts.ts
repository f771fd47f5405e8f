// The charts of a run, from its results: shares over time, utilization
// over time, and the comparison of policies. svg.ts draws them.
import type { SimulationResult } from './engine.js';
import type { Sample } from './metrics.js';
import type { PolicySummary } from './report.js';
import { svgPage, type LineSeries } from './svg.js';

/** Above this many changes a line is resampled on a grid (a browser draws a few thousand points well). */
const MAX_POINTS = 1500;

export function sharesSvg(policy: string, result: SimulationResult): string {
  const { timeline } = result;
  const series = timeline.frameworks.map((name, f): LineSeries => ({ name, points: points(result, (s) => s.shares[f]!) }));
  return svgPage([{ kind: 'line', chart: { title: `${policy}: dominant share of each framework`, xLabel: 'simulated time (s)', yLabel: 'dominant share', series, xMax: result.endS, yMax: 1, step: true } }]);
}

export function utilizationSvg(policy: string, result: SimulationResult): string {
  const { timeline } = result;
  const series: LineSeries[] = timeline.resources.map((name, r) => ({ name, points: points(result, (s) => s.utilization[r]!) }));
  series.push({ name: 'dominant resource', points: points(result, (s) => s.dominantUtilization), dashed: true });
  return svgPage([{ kind: 'line', chart: { title: `${policy}: cluster utilization`, xLabel: 'simulated time (s)', yLabel: 'used / total', series, xMax: result.endS, yMax: 1, step: true } }]);
}

/** Utilization and Jain's index per policy, and the task wait percentiles. */
export function compareSvg(summaries: ReadonlyMap<string, PolicySummary>): string {
  const policies = [...summaries];
  return svgPage(
    [
      {
        kind: 'bar',
        chart: {
          title: 'utilization and fairness', yLabel: '0 to 1 (higher is better)', categories: ['utilization', "Jain's index"],
          groups: policies.map(([label, s]) => ({ label, values: [s.utilization, s.jain] })), yMax: 1, digits: 3,
        },
      },
      {
        kind: 'bar',
        chart: {
          title: 'task wait (start − submit)', yLabel: 'seconds (lower is better)', categories: ['p50', 'p95'],
          groups: policies.map(([label, s]) => ({ label, values: [s.wait_p50_s, s.wait_p95_s] })), digits: 1,
        },
      },
    ],
    'policies compared on the same workload',
  );
}

/** The step function's points up to the end, resampled when there are too many. */
function points(result: SimulationResult, value: (s: Sample) => number): [number, number][] {
  const { timeline, endS } = result;
  const samples = timeline.samples.filter((s) => s.t <= endS);
  let out: [number, number][];
  if (samples.length <= MAX_POINTS) out = samples.map((s) => [s.t, value(s)]);
  else {
    out = [];
    for (let i = 0; i <= MAX_POINTS; i++) {
      const t = (endS * i) / MAX_POINTS;
      const s = timeline.at(t);
      if (s) out.push([t, value(s)]);
    }
  }
  const last = out.at(-1);
  if (last && last[0] < endS) out.push([endS, last[1]]);
  return out;
}
