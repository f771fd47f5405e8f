// bench/launch's tables: single launches (median, p95, the ratios the
// targets are set on), bursts, the launch trace per containerizer and the
// split between the runtime's part and what mesos-ts adds.
import { loadavg } from 'node:os';
import { percentile as nearestRank } from '../common/timer-window.js';
import { RUNNING_SEEN, type Containerizer, type Hops } from './launch-tasks.js';

export const WAYS = ['mesos-ts docker', 'mesos-ts mesos', 'dockerode create+start', 'runc run -d', "runc run -d, agent's seccomp"] as const;
export type Way = (typeof WAYS)[number];

export interface Results {
  readonly times: Map<Way, number[]>;
  readonly bursts: { way: string; times: number[] }[];
  readonly traced: Record<Containerizer, Hops>;
  /** The hops of each containerizer's burst (empty without bursts). */
  readonly tracedBurst: Record<Containerizer, Hops>;
}

/** Nearest-rank percentile (p in 0..100) of unsorted times. */
const percentile = (xs: readonly number[], p: number) => nearestRank([...xs].sort((a, b) => a - b), p / 100);
const say = (line = '') => process.stdout.write(line + '\n');

export function report(
  flags: { tasks: number; rounds: number; tls: boolean; authenticate: boolean; root_pool: number; launch_parallelism: number },
  { times, bursts, traced, tracedBurst }: Results,
): void {
  const m = (way: Way) => percentile(times.get(way) ?? [], 50);
  const ratio = (a: Way, b: Way, line: string) => times.has(a) && times.has(b) && say(line.replace('X', `${(m(a) / m(b)).toFixed(2)}x`));
  say(`\n${'launch, one at a time (ms)'.padEnd(34)}${'median'.padStart(10)}${'p95'.padStart(10)}`);
  for (const way of WAYS.filter((w) => times.has(w))) say(`${way.padEnd(34)}${m(way).toFixed(1).padStart(10)}${percentile(times.get(way)!, 95).toFixed(1).padStart(10)}`);
  say(`${flags.tasks} launches each way in ${flags.rounds} interleaved rounds; --oci_root_pool ${flags.root_pool}, --oci_launch_parallelism ${flags.launch_parallelism}; TLS ${flags.tls ? 'on (mutual)' : 'off'}, authentication ${flags.authenticate ? 'on' : 'off'}; load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  ratio('mesos-ts mesos', 'runc run -d', 'mesos-ts mesos / runc run -d:        X   (target: <= 1.2)');
  ratio('mesos-ts mesos', "runc run -d, agent's seccomp", 'mesos-ts mesos / runc, agent seccomp: X   (like with like: the same filter and capabilities)');
  ratio("runc run -d, agent's seccomp", 'runc run -d', 'runc, agent seccomp / runc run -d:   X   (what the filter costs runc)');
  ratio('mesos-ts docker', 'mesos-ts mesos', 'mesos-ts docker / mesos-ts mesos:    X   (target: >= 4)');
  ratio('mesos-ts docker', 'dockerode create+start', 'mesos-ts docker / dockerode:         X');
  if (bursts.length > 0) {
    say(`\n${'burst (ms)'.padEnd(56)}${'median'.padStart(10)}${'all running'.padStart(13)}`);
    for (const b of bursts) say(`${b.way.padEnd(56)}${percentile(b.times, 50).toFixed(0).padStart(10)}${Math.max(...b.times).toFixed(0).padStart(13)}`);
  }
  for (const containerizer of ['docker', 'mesos'] as const) printHops(containerizer, traced[containerizer]);
  for (const containerizer of ['docker', 'mesos'] as const) printHops(containerizer, tracedBurst[containerizer], 'burst');
  printOwnTime(traced, times);
}

/**
 * Each single launch minus the runtime's own part as the agent timed it (Docker: the engine's create and
 * start calls; mesos: from handing the bundle to the supervisor until the runtime wrote the pid): what
 * mesos-ts adds, much steadier than the ratios on a busy machine.
 */
function printOwnTime(traced: Record<Containerizer, Hops>, times: Map<Way, number[]>): void {
  const phases: Record<Containerizer, readonly (readonly [string, string])[]> = {
    docker: [['docker: creating', 'docker: created'], ['docker: starting', 'docker: started']],
    mesos: [['oci: starting', 'oci: started']],
  };
  say(`\n${'split (ms)'.padEnd(54)}${'median'.padStart(8)}${'p95'.padStart(9)}`);
  const row = (name: string, xs: number[]) => xs.length > 0 && say(`  ${name.padEnd(52)}${percentile(xs, 50).toFixed(1).padStart(8)}${percentile(xs, 95).toFixed(1).padStart(9)}`);
  for (const containerizer of ['docker', 'mesos'] as const) {
    const runtime: number[] = [];
    const own: number[] = [];
    for (const seen of traced[containerizer].values()) {
      const spans = phases[containerizer].map(([from, to]) => (seen.get(to) ?? NaN) - (seen.get(from) ?? NaN));
      const total = seen.get(RUNNING_SEEN);
      if (spans.some(Number.isNaN) || total === undefined) continue;
      runtime.push(spans.reduce((a, b) => a + b, 0));
      own.push(total - runtime.at(-1)!);
    }
    row(`${containerizer}: the runtime's part, made by the agent`, runtime);
    row(`${containerizer}: the rest of ACCEPT -> TASK_RUNNING (mesos-ts)`, own);
  }
  row('plain dockerode create+start', times.get('dockerode create+start') ?? []);
  row('plain runc run -d', times.get('runc run -d') ?? []);
  row("plain runc run -d, the agent's seccomp and capabilities", times.get("runc run -d, agent's seccomp") ?? []);
}

/**
 * The launch trace of one containerizer's single launches (or of its burst): hops in the order of their
 * median time since ACCEPT. A hop's step is the time since the hop its task passed just before it, so along
 * one task the steps add up to its launch time. A burst's table adds the time since ACCEPT by which 95 % of
 * its tasks had passed each hop: where the last of a burst wait.
 */
function printHops(containerizer: Containerizer, hops: Hops, kind: 'single' | 'burst' = 'single'): void {
  const burst = kind === 'burst';
  if (hops.size === 0) return;
  const at = new Map<string, number[]>();
  const steps = new Map<string, number[]>();
  for (const [taskId, seen] of hops) {
    if (!taskId.startsWith(`bench-${containerizer}-`)) continue;
    let before = 0;
    for (const [hop, t] of [...seen].sort((a, b) => a[1] - b[1])) {
      at.set(hop, [...(at.get(hop) ?? []), t]);
      steps.set(hop, [...(steps.get(hop) ?? []), t - before]);
      before = t;
    }
  }
  const order = [...at].map(([hop, ts]) => ({ hop, at: percentile(ts, 50), n: ts.length })).sort((a, b) => a.at - b.at);
  const n = Math.max(0, ...order.map((o) => o.n));
  const title = burst ? `launch trace, burst of ${hops.size}, ${containerizer} (ms)` : `launch trace, mesos-ts ${containerizer} (ms, median)`;
  say(`\n${title.padEnd(42)}${'since ACCEPT'.padStart(13)}${'step'.padStart(8)}${burst ? 'p95 since'.padStart(11) : ''}`);
  for (const { hop, at: t, n: seen } of order) {
    const p95 = burst ? percentile(at.get(hop)!, 95).toFixed(1).padStart(11) : '';
    say(`  ${hop.padEnd(40)}${t.toFixed(1).padStart(13)}${percentile(steps.get(hop)!, 50).toFixed(1).padStart(8)}${p95}${seen < n ? `   (${seen} of ${n} launches)` : ''}`);
  }
}
