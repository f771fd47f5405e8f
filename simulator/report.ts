// A run's results as files and text: the summary (summary.json's entry for
// one policy), the CSVs and the table printed to stdout. Definitions of the
// metrics are in metrics.ts.
import type { SimulationResult } from './engine.js';
import { percentile, type Sample } from './metrics.js';

export interface PolicySummary {
  /** Dominant-resource utilization, time-averaged over [0, end_s]. */
  readonly utilization: number;
  /** Jain's index over weighted dominant shares, averaged while ≥ 2 frameworks have demand; null if never. */
  readonly jain: number | null;
  readonly wait_p50_s: number | null;
  readonly wait_p95_s: number | null;
  readonly pass_ms_p50: number | null;
  /** Each resource's utilization, time-averaged over [0, end_s]. */
  readonly utilization_by_resource: Readonly<Record<string, number>>;
  readonly tasks: number;
  readonly tasks_started: number;
  readonly tasks_finished: number;
  /** End of the measured period (end_s, or when the last task finished). */
  readonly end_s: number;
  readonly passes: number;
}

export function summarize(result: SimulationResult): PolicySummary {
  const { timeline, endS } = result;
  const submitted = result.tasks.filter((r) => r.task.submitS <= endS);
  const waits = submitted.map((r) => Math.min(r.startS ?? endS, endS) - r.task.submitS);
  const byResource = Object.fromEntries(timeline.resources.map((name, i) => [name, round(timeline.average(endS, (s) => s.utilization[i]!) ?? 0, 4)]));
  return {
    utilization: round(timeline.average(endS, (s) => s.dominantUtilization) ?? 0, 4),
    jain: roundOrNull(timeline.average(endS, (s) => s.jain), 4),
    wait_p50_s: roundOrNull(percentile(waits, 50), 3),
    wait_p95_s: roundOrNull(percentile(waits, 95), 3),
    pass_ms_p50: roundOrNull(percentile(result.passMs, 50), 4),
    utilization_by_resource: byResource,
    tasks: result.tasks.length,
    tasks_started: result.tasks.filter((r) => r.startS !== undefined).length,
    tasks_finished: result.tasks.filter((r) => r.finishS !== undefined).length,
    end_s: round(endS, 3),
    passes: result.passMs.length,
  };
}

/** time_s, then each framework's dominant share; one row per change, and one at the end. */
export function sharesCsv(result: SimulationResult): string {
  const { timeline } = result;
  return csv(['time_s', ...timeline.frameworks], stepRows(result, (s) => s.shares.map((v) => round(v, 5))));
}

/** time_s, each resource's utilization, then the dominant-resource utilization. */
export function utilizationCsv(result: SimulationResult): string {
  const { timeline } = result;
  return csv(['time_s', ...timeline.resources, 'dominant'], stepRows(result, (s) => [...s.utilization, s.dominantUtilization].map((v) => round(v, 5))));
}

/** One row per task; start, finish and wait are empty for a task that never started. */
export function tasksCsv(result: SimulationResult): string {
  const rows = result.tasks.map((r) => [
    r.task.id, r.task.framework, r.agentId ?? '', r.task.demand.toString(), r.task.submitS, optional(r.startS), optional(r.finishS),
    r.startS === undefined ? '' : round(r.startS - r.task.submitS, 3),
  ]);
  return csv(['task', 'framework', 'agent', 'demand', 'submit_s', 'start_s', 'finish_s', 'wait_s'], rows);
}

/** The table printed after a run, one line per policy. */
export function summaryTable(summaries: ReadonlyMap<string, PolicySummary>): string {
  const header = ['policy', 'utilization', 'jain', 'wait p50 (s)', 'wait p95 (s)', 'pass p50 (ms)', 'tasks started', 'end (s)'];
  const show = (v: number | null, digits: number): string => (v === null ? '-' : v.toFixed(digits));
  const rows = [...summaries].map(([policy, s]) => [
    policy, show(s.utilization, 3), show(s.jain, 3), show(s.wait_p50_s, 1), show(s.wait_p95_s, 1), show(s.pass_ms_p50, 3),
    `${s.tasks_started}/${s.tasks}`, show(s.end_s, 0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

function stepRows(result: SimulationResult, values: (s: Sample) => number[]): (string | number)[][] {
  const samples = result.timeline.samples.filter((s) => s.t <= result.endS);
  const rows = samples.map((s) => [round(s.t, 3), ...values(s)]);
  const last = samples.at(-1);
  if (last && last.t < result.endS) rows.push([round(result.endS, 3), ...values(last)]);
  return rows;
}

function csv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number): string => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : String(v));
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));
const optional = (v: number | undefined): number | string => (v === undefined ? '' : round(v, 3));
const roundOrNull = (v: number | null, digits: number): number | null => (v === null ? null : round(v, digits));
