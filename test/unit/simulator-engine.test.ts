// The simulator driving the real allocators (no test doubles): known
// results (the DRF paper), how simulated frameworks answer offers, the
// metrics' definitions, and determinism.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { SimulationResult, TaskRun } from '../../simulator/engine.js';
import { jain, percentile, Timeline } from '../../simulator/metrics.js';
import { checkPolicies, runPolicy, outputFiles } from '../../simulator/run.js';
import { parseWorkload, type Workload } from '../../simulator/workload.js';

const example = (name: string): Workload => parseWorkload(readFileSync(`examples/workloads/${name}.json`, 'utf8'), name);
const inline = (value: unknown): Workload => parseWorkload(JSON.stringify(value), 'inline');
const run = async (policy: string, workload: Workload): Promise<SimulationResult> => (await runPolicy(policy, policy, workload)).result;

/** Tasks of each framework running at time t. */
function runningAt(tasks: readonly TaskRun[], t: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of tasks) if (r.startS !== undefined && r.startS <= t && (r.finishS === undefined || r.finishS > t)) out[r.task.framework] = (out[r.task.framework] ?? 0) + 1;
  return out;
}

describe('the DRF paper example under drf', () => {
  it('settles at 3 tasks of A and 2 of B, both at a dominant share of 2/3', async () => {
    const result = await run('drf', example('drf-paper'));
    for (const t of [5, 30, 60.5, 100]) {
      expect(runningAt(result.tasks, t)).toEqual({ A: 3, B: 2 });
      const [a, b] = result.timeline.at(t)!.shares;
      expect(a).toBeCloseTo(2 / 3); // A: 12 GB of 18
      expect(b).toBeCloseTo(2 / 3); // B: 6 CPUs of 9
    }
    expect(result.timeline.at(30)!.utilization).toEqual([1, 14 / 18]); // cpus 9/9, mem 14/18 GB
  });

  it('is reached step by step: the framework with the lower share gets the next offer', async () => {
    const result = await run('drf', example('drf-paper'));
    const starts = result.tasks.filter((r) => r.startS !== undefined && r.startS < 5).map((r) => [r.startS!, r.task.framework] as const);
    starts.sort((x, y) => x[0] - y[0]);
    // Shares after each launch: A 2/9, B 1/3, A 4/9, B 2/3, A 2/3.
    expect(starts).toEqual([[0, 'A'], [1, 'B'], [2, 'A'], [3, 'B'], [4, 'A']]);
  });
});

describe('simulated frameworks', () => {
  const base = { agents: { count: 1, resources: 'cpus:4;mem:4096' }, refuse_seconds: 0 };

  it('launch every queued task that fits an offer (first fit) and wait for the rest', async () => {
    const result = await run('drf', inline({
      ...base,
      frameworks: [{ name: 'f', tasks: [{ demand: 'cpus:3', duration_s: 10 }, { demand: 'cpus:2', duration_s: 10 }, { demand: 'cpus:1', duration_s: 10 }] }],
    }));
    // cpus:3 fits, cpus:2 does not (1 left), cpus:1 does: it overtakes the second task.
    expect(result.tasks.map((r) => [r.task.id, r.startS, r.finishS])).toEqual([['f-0', 0, 10], ['f-1', 10, 20], ['f-2', 0, 10]]);
    expect(result.endS).toBe(20); // no end_s: the run ends when the last task finishes
  });

  it('launch at most max_tasks_per_offer from one offer', async () => {
    const result = await run('drf', inline({ ...base, frameworks: [{ name: 'f', max_tasks_per_offer: 2, tasks: { count: 4, demand: 'cpus:1', duration_s: 10 } }] }));
    expect(result.tasks.map((r) => r.startS)).toEqual([0, 0, 1, 1]);
  });

  it('suppress with nothing queued (no passes run while every queue is empty) and revive when tasks arrive', async () => {
    const result = await run('drf', inline({
      ...base,
      frameworks: [{ name: 'f', tasks: [{ demand: 'cpus:1', duration_s: 5 }, { submit_s: 100.5, demand: 'cpus:1', duration_s: 5 }] }],
    }));
    expect(result.tasks.map((r) => [r.startS, r.finishS])).toEqual([[0, 5], [101, 106]]); // the pass after its submission
    expect(result.passMs.length).toBe(2); // at 0 and at 101, nothing in between
  });

  it("decline with refuse_seconds: the agent's rest is offered to the others first", async () => {
    const result = await run('fifo', inline({
      agents: { count: 1, resources: 'cpus:4;mem:4096' },
      refuse_seconds: 30,
      frameworks: [
        { name: 'first', tasks: { count: 2, demand: 'cpus:3', duration_s: 100 } },
        { name: 'second', arrival_s: 1, tasks: { demand: 'cpus:1', duration_s: 10 } },
      ],
    }));
    // fifo offers to 'first' before 'second'; 'first' declined the leftover cpus:1 at t=0 for 30 s.
    expect(result.tasks.find((r) => r.task.framework === 'second')!.startS).toBe(1);
  });

  it('agents that join later add to the cluster', async () => {
    const result = await run('drf', inline({
      agents: [{ name: 'a', resources: 'cpus:1;mem:1024' }, { name: 'b', resources: 'cpus:1;mem:1024', join_s: 50 }],
      frameworks: [{ name: 'f', tasks: { count: 2, demand: 'cpus:1', duration_s: 100 } }],
    }));
    expect(result.tasks.map((r) => [r.agentId, r.startS])).toEqual([['a', 0], ['b', 50]]);
    expect(result.timeline.at(10)!.utilization[0]).toBe(1); // 1 of 1 cpu
    expect(result.timeline.at(60)!.utilization[0]).toBe(1); // 2 of 2
  });
});

describe('metrics', () => {
  it("Jain's index is 1 for equal shares and 1/n when one framework holds everything", () => {
    expect(jain([0.3, 0.3, 0.3])).toBeCloseTo(1);
    expect(jain([1, 0, 0, 0])).toBeCloseTo(1 / 4);
    expect(jain([0, 0])).toBe(1);
    expect(jain([0.2, 0.6])).toBeCloseTo(0.8); // 0.64 / (2 × 0.4)
  });

  it('percentiles are nearest-rank', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
    expect(percentile([], 50)).toBeNull();
  });

  it('time averages integrate the step function and Jain counts only while two frameworks have demand', () => {
    const tl = new Timeline(['cpus'], ['a', 'b'], [1, 1]);
    tl.record(0, [10], [[0], [0]], [true, false]); // one framework with demand: no Jain
    tl.record(10, [10], [[5], [5]], [true, true]); // jain 1, utilization 1
    tl.record(30, [10], [[8], [0]], [true, true]); // jain 1/2, utilization 0.8
    expect(tl.average(40, (s) => s.dominantUtilization)).toBeCloseTo((0 * 10 + 1 * 20 + 0.8 * 10) / 40);
    expect(tl.average(40, (s) => s.jain)).toBeCloseTo((1 * 20 + 0.5 * 10) / 30);
    expect(tl.at(29.9)!.shares).toEqual([0.5, 0.5]);
  });

  it('a framework of role weight w counts with share / w', () => {
    const tl = new Timeline(['cpus'], ['a', 'b'], [2, 1]);
    tl.record(0, [10], [[6], [3]], [true, true]); // 0.6 / 2 = 0.3 and 0.3
    expect(tl.samples[0]!.jain).toBeCloseTo(1);
  });
});

describe('comparing policies', () => {
  it("on the shipped mixed workload DRF's fairness is above fifo's", async () => {
    const workload = example('mixed');
    const [drf, fifo] = [await runPolicy('drf', 'drf', workload), await runPolicy('fifo', 'fifo', workload)];
    expect(drf.summary.jain).toBeGreaterThan(fifo.summary.jain!);
    expect(drf.summary.tasks_started).toBe(drf.summary.tasks);
  });

  it('gives the same results for the same seed (all but the measured pass time)', async () => {
    const workload = example('mixed');
    for (const policy of ['drf', 'random']) {
      const [a, b] = [await runPolicy(policy, policy, workload), await runPolicy(policy, policy, workload)];
      expect({ ...a.summary, pass_ms_p50: 0 }).toEqual({ ...b.summary, pass_ms_p50: 0 });
      const files = (r: typeof a) => [...outputFiles([r])].filter(([name]) => name.endsWith('.csv'));
      expect(files(a)).toEqual(files(b));
    }
  });

  it('rejects unknown policies before running anything, listing the known ones', async () => {
    await expect(checkPolicies('drf,fastest', example('drf-paper'))).rejects.toThrow(
      "--policies: unknown allocator 'fastest'; known: drf, binpack, spread, fifo, random",
    );
    await expect(checkPolicies('drf,drf', example('drf-paper'))).rejects.toThrow("--policies names 'drf' twice");
  });
});
