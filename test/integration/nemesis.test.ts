// A short seeded fault run (the long one is `npm run nemesis`): 3 masters, 2
// agents and 2 load frameworks as real processes on loopback, real ZooKeeper
// and Docker; a minute of faults (SIGKILL and SIGSTOP of masters, agents and
// frameworks, ZooKeeper killed), then the checker over the recorded history.
// It must find no violation, and the run must have done something: faults
// injected, tasks launched and killed, every invariant checked on real data.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { formatReport, runNemesis, type RunReport } from '../nemesis/run.js';
import type { NemesisCluster } from '../nemesis/cluster.js';

const SEED = 16;
const out = mkdtempSync(join(tmpdir(), 'mesos-ts-nemesis-test-'));
const lines: string[] = [];

let passed = false;
let cluster: NemesisCluster | null = null;
let finished = false;

// A run cut short (the test's timeout) stops its processes here; a failed run keeps its history and logs for a look.
afterAll(async () => {
  if (!finished) await cluster?.stop();
  if (passed) rmSync(out, { recursive: true, force: true });
}, 60_000);

it(`a minute of seeded faults (seed ${SEED}) breaks no invariant`, async () => {
  let report: RunReport;
  try {
    report = await runNemesis({
      seconds: 60, seed: SEED, out, agents: 2, frameworks: 2, log: (line) => lines.push(line),
      timing: { minGapMs: 1000, maxGapMs: 4000, minHoldMs: 1000, maxHoldMs: 5000 }, started: (c) => (cluster = c),
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
  const faults = Object.values(report.faultsByKind).reduce((a, b) => a + b, 0);
  expect(faults, why).toBeGreaterThanOrEqual(3);
  expect(report.operations['LAUNCH'] ?? 0, why).toBeGreaterThan(5);
  expect(report.operations['KILL'] ?? 0, why).toBeGreaterThan(0);
  expect(report.updates, why).toBeGreaterThan(10);
  // The engine rules check the tasks of engine restarts, a fault of runs on hosts (an engine per agent).
  const onHostsOnly = ['engine-stops-reported', 'live-restore-keeps-tasks'];
  for (const v of report.verdicts) if (!onHostsOnly.includes(v.invariant)) expect(v.checked, `${v.invariant} checked nothing`).toBeGreaterThan(0);
  passed = true;
}, 300_000);
