// The curve over N as SVG, drawn with the simulator's hand-written charts
// (simulator/svg.ts): one page of panels over N, one of throughput over
// time in the measuring window of each run.
import { svgPage, type LineSeries } from '../../simulator/svg.js';
import type { HarnessResult, RunResult } from './result.js';

/** One line per M (frameworks), so that runs with other M are not joined into one curve. */
const over = (runs: readonly RunResult[], name: string, f: (r: RunResult) => number | null | undefined): LineSeries[] => {
  const ms = [...new Set(runs.map((r) => r.frameworks))].sort((a, b) => a - b);
  return ms.map((m) => ({
    name: ms.length > 1 ? `${name}, M=${m}` : name,
    points: runs.filter((r) => r.frameworks === m).flatMap((r) => {
      const y = f(r);
      return y === null || y === undefined || !Number.isFinite(y) ? [] : [[r.agents, y] as const];
    }),
  }));
};

const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : ms / 1000);

export function curveSvg(result: HarnessResult): string {
  const runs = [...result.runs].sort((a, b) => a.agents - b.agents);
  const xMax = Math.max(...runs.map((r) => r.agents));
  return svgPage([
    { kind: 'line', chart: { title: 'Registration and failover', xLabel: 'agents', yLabel: 'seconds', xMax, series: [
      ...over(runs, 'all registered', (r) => seconds(r.registration.allRegisteredMs)),
      ...over(runs, 'agents back after failover', (r) => seconds(r.failover?.allAgentsBackMs)),
      ...over(runs, 'offers again after failover (max)', (r) => seconds(r.failover?.offersAgainMs?.max)),
    ] } },
    { kind: 'line', chart: { title: 'Throughput', xLabel: 'agents', yLabel: 'per second', xMax, series: [
      ...over(runs, 'tasks RUNNING (acked)', (r) => r.throughput.tasksRunningPerSecond),
      ...over(runs, 'updates acked', (r) => r.throughput.updatesAckedPerSecond),
    ] } },
    { kind: 'line', chart: { title: 'Latency under load (p99)', xLabel: 'agents', yLabel: 'ms', xMax, series: [
      ...over(runs, '/master/state', (r) => r.throughput.stateMs.p99),
      ...over(runs, 'GET_STATE', (r) => r.throughput.getStateMs.p99),
      ...over(runs, 'event loop delay', (r) => r.throughput.eventLoopP99Ms.max),
      ...over(runs, 'first offer', (r) => r.offers.subscribeToOfferMs.p99),
    ] } },
    { kind: 'line', chart: { title: 'Master memory', xLabel: 'agents', yLabel: 'MB RSS', xMax, series: [
      ...over(runs, 'after registration', (r) => r.registration.masterRssMb),
      ...over(runs, 'max under load', (r) => r.throughput.masterRssMbMax),
    ] } },
  ], `mesos-ts over the real wire: one master, N simulated agents (${result.startedAt.slice(0, 16)} UTC)`);
}

export function windowSvg(result: HarnessResult): string {
  const xMax = Math.max(1, ...result.runs.map((r) => r.throughput.seconds));
  return svgPage([{ kind: 'line', chart: {
    title: 'Tasks RUNNING and acknowledged per second, in the measuring window', xLabel: 'seconds', yLabel: 'tasks/s', xMax,
    series: result.runs.map((r) => ({ name: `N=${r.agents}, M=${r.frameworks}`, points: r.throughput.perSecond })),
  } }]);
}
