// The short seeded fault run of the suite (the long one is `npm run nemesis`),
// on simulated hosts: 3 masters, 2 agents and a 3-member ZooKeeper ensemble,
// each on a network namespace of its own, each agent with a Docker engine of
// its own (agent-1 with live-restore, agent-2 without) and its work_dir on a
// small tmpfs; 2 load frameworks as processes. A fixed list of faults, once
// each in order (gaps, holds and choices drawn from the seed): a host
// isolated, each engine stopped and started again, an agent's disk filled
// while it has a task's end to write down, the leader or a standby SIGKILLed,
// a wall clock jumped; then the checker over the recorded history. It must
// find no violation, and the run must have done something: every fault
// injected, tasks launched and killed, tasks ended while the disk was full,
// every invariant (the engine and disk rules too) checked on real data.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { formatReport, runNemesis, type RunReport } from '../nemesis/run.js';
import { FAKETIME_LIB } from '../nemesis/machines.js';
import type { NemesisCluster } from '../nemesis/cluster.js';

const SEED = 16;
const FAULTS = [
  'isolate-host', 'restart-engine-live-restore', 'fill-disk', 'kill-master', 'restart-engine', ...(FAKETIME_LIB ? ['jump-clock'] : []),
];
const out = mkdtempSync(join(tmpdir(), 'mesos-ts-nemesis-test-'));
const lines: string[] = [];

let passed = false;
let cluster: NemesisCluster | null = null;
let finished = false;

// A run cut short (the test's timeout) stops its processes here; a failed run keeps its history and logs for a look.
afterAll(async () => {
  if (!finished) await cluster?.stop();
  if (passed) rmSync(out, { recursive: true, force: true });
}, 120_000);

it(`seeded faults on hosts (seed ${SEED}: ${FAULTS.join(', ')}) break no invariant`, async () => {
  let report: RunReport;
  try {
    report = await runNemesis({
      seconds: 300, seed: SEED, out, agents: 2, frameworks: 2, hosts: true, faults: FAULTS, inOrder: true, log: (line) => lines.push(line),
      timing: { minGapMs: 1000, maxGapMs: 3000, minHoldMs: 2000, maxHoldMs: 5000 }, started: (c) => (cluster = c),
    });
    finished = true;
  } catch (err) {
    finished = true;
    throw new Error(`the run failed: ${String(err)}\n${lines.join('\n')}`);
  }
  const why = lines.join('\n');
  console.log(formatReport(report)); // What the run did, in the test's output.
  expect(report.verdicts.filter((v) => !v.ok), why).toEqual([]);
  expect(report.violations).toBe(0);
  expect(report.settled, why).toBe(true);
  expect(Object.keys(report.faultsByKind).sort(), why).toEqual([...FAULTS].sort());
  expect(report.operations['LAUNCH'] ?? 0, why).toBeGreaterThan(5);
  expect(report.operations['KILL'] ?? 0, why).toBeGreaterThan(0);
  expect(report.updates, why).toBeGreaterThan(10);
  // Ends to write down on the full disk; whether one fails (ENOSPC, reported) depends on tmpfs pages and on a launch landing there.
  expect(report.diskFillEnded, `the fill ended no task\n${why}`).toBeGreaterThan(0);
  for (const v of report.verdicts) expect(v.checked, `${v.invariant} checked nothing\n${why}`).toBeGreaterThan(0);
  passed = true;
}, 900_000);
