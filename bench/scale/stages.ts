// A traced task's way from launch to its RUNNING acknowledged, stage by
// stage, joined from what three kinds of process saw on one machine's wall
// clock: its scheduler (scheduler-worker.ts), its simulated agent
// (agent-worker.ts) and, with --master_trace, the master itself
// (master-trace.mjs writes the master's launch-trace hops).
//
//   s launch ─> m ACCEPT received ─> m ACCEPT handled ─> m RunTask sent ─> a RunTask
//     ─> a STARTING sent ─> m STARTING received ─> m UPDATE queued ─> s UPDATE (the SDK acknowledges at once)
//     ─> m ACKNOWLEDGE received ─> m acknowledgement sent ─> a acked ─> the same for RUNNING
import type { Distribution } from './result.js';

export type Side = 's' | 'a' | 'm';

/** One point of the chain: the process that saw it and the hop's name there. */
export interface Point {
  readonly side: Side;
  readonly hop: string;
  readonly label: string;
}

const p = (side: Side, hop: string, label: string): Point => ({ side, hop, label });

function updateLeg(state: 'STARTING' | 'RUNNING'): Point[] {
  return [
    p('a', `TASK_${state} sent`, `${state} sent by agent`),
    p('m', `master: TASK_${state} received`, `${state} at master`),
    p('m', `master: TASK_${state} UPDATE queued`, `${state} UPDATE queued by master`),
    p('s', `TASK_${state}`, `${state} at scheduler (ACKNOWLEDGE sent)`),
    p('m', 'master: ACKNOWLEDGE received', `${state} ACKNOWLEDGE at master`),
    p('m', 'master: acknowledgement sent', `${state} ack sent by master`),
    p('a', `TASK_${state} acked`, `${state} ack at agent`),
  ];
}

export const CHAIN: readonly Point[] = [
  p('s', 'launch', 'launch (ACCEPT sent)'),
  p('m', 'master: ACCEPT received', 'ACCEPT at master'),
  p('m', 'master: ACCEPT handled', 'ACCEPT handled'),
  p('m', 'master: RunTask sent', 'RunTask sent by master'),
  p('a', 'runTask', 'RunTask at agent'),
  ...updateLeg('STARTING'),
  ...updateLeg('RUNNING'),
];

/** What one process saw of one task: a time per hop; the master's hops may repeat (acknowledgements), so it keeps them all. */
export interface TaskSightings {
  readonly s?: Readonly<Record<string, number>>;
  readonly a?: Readonly<Record<string, number>>;
  readonly m?: Readonly<Record<string, readonly number[]>>;
}

/**
 * The times of the chain's points for one task (undefined where unseen). A
 * master hop that repeats (the ACKNOWLEDGE of STARTING, then of RUNNING)
 * counts from its first time at or after the master's previous point, so
 * each state gets its own.
 */
export function pointTimes(task: TaskSightings, chain: readonly Point[] = CHAIN): (number | undefined)[] {
  let lastMaster = -Infinity;
  return chain.map((pt) => {
    if (pt.side !== 'm') return (pt.side === 's' ? task.s : task.a)?.[pt.hop];
    const at = task.m?.[pt.hop]?.find((t) => t >= lastMaster);
    if (at !== undefined) lastMaster = at;
    return at;
  });
}

export interface Stage {
  readonly name: string;
  readonly ms: Distribution;
}

/**
 * The stages between consecutive points, over every task; points no task
 * was seen at (the master's, without --master_trace) are left out, so their
 * neighbours join. The last row is the whole way, launch to RUNNING acked.
 */
export function stages(tasks: readonly TaskSightings[], distribution: (xs: number[]) => Distribution, chain: readonly Point[] = CHAIN): Stage[] {
  const times = tasks.map((t) => pointTimes(t, chain));
  const seen = chain.map((_, i) => times.some((ts) => ts[i] !== undefined));
  const kept = chain.flatMap((pt, i) => (seen[i] ? [{ pt, i }] : []));
  const out: Stage[] = [];
  for (let k = 1; k < kept.length; k++) {
    const [from, to] = [kept[k - 1]!, kept[k]!];
    const xs = times.flatMap((ts) => (ts[from.i] !== undefined && ts[to.i] !== undefined ? [ts[to.i]! - ts[from.i]!] : []));
    out.push({ name: `${from.pt.label} -> ${to.pt.label}`, ms: distribution(xs) });
  }
  if (kept.length > 1) {
    const [first, last] = [kept[0]!, kept.at(-1)!];
    const xs = times.flatMap((ts) => (ts[first.i] !== undefined && ts[last.i] !== undefined ? [ts[last.i]! - ts[first.i]!] : []));
    out.push({ name: `whole: ${first.pt.label} -> ${last.pt.label}`, ms: distribution(xs) });
  }
  return out;
}

/** The master-trace file's lines (`taskId<TAB>hop<TAB>wall ms`), by task and hop, each hop's times in order. */
export function parseMasterTrace(text: string): Map<string, Record<string, number[]>> {
  const byTask = new Map<string, Record<string, number[]>>();
  for (const line of text.split('\n')) {
    const [taskId, hop, at] = line.split('\t');
    if (!taskId || !hop || at === undefined || !Number.isFinite(Number(at))) continue;
    let hops = byTask.get(taskId);
    if (!hops) byTask.set(taskId, (hops = {}));
    (hops[hop] ??= []).push(Number(at));
  }
  for (const hops of byTask.values()) for (const ts of Object.values(hops)) ts.sort((x, y) => x - y);
  return byTask;
}
