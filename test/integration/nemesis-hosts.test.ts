// A short seeded fault run on simulated hosts (the long one is `npm run
// nemesis -- --hosts`): 3 masters, 2 agents and a 3-member ZooKeeper ensemble,
// each on a network namespace of its own, 2 partition-aware load frameworks,
// real processes, real ZooKeeper and Docker; 45 s of faults, up to two at
// once (seed 26 begins with the leader cut off from ZooKeeper, a one-way
// partition, a ZooKeeper member killed, the masters split from each other and
// an isolated host), then the checker over the recorded history. It must find
// no violation, and the run must have done something: partitions and process
// faults injected, tasks launched and killed, every invariant checked on real
// data. Needs root (namespaces, iptables), as the other host tests do.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { formatReport, runNemesis, type RunReport } from '../nemesis/run.js';
import type { NemesisCluster } from '../nemesis/cluster.js';

const SEED = 26;
const NETWORK_FAULTS = ['partition-pair', 'partition-one-way', 'isolate-host', 'leader-from-zookeeper', 'split-masters'];
const out = mkdtempSync(join(tmpdir(), 'mesos-ts-nemesis-hosts-test-'));
const lines: string[] = [];

let passed = false;
let cluster: NemesisCluster | null = null;
let finished = false;

// A run cut short (the test's timeout) stops its processes and hosts here; a failed run keeps its history and logs.
afterAll(async () => {
  if (!finished) await cluster?.stop();
  if (passed) rmSync(out, { recursive: true, force: true });
}, 90_000);

it(`45 s of seeded faults on hosts, two at a time (seed ${SEED}), break no invariant`, async () => {
  let report: RunReport;
  try {
    report = await runNemesis({
      seconds: 45, seed: SEED, out, agents: 2, frameworks: 2, hosts: true, concurrency: 2, log: (line) => lines.push(line),
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
  const count = (kinds: readonly string[]) => kinds.reduce((n, k) => n + (report.faultsByKind[k] ?? 0), 0);
  // Restarts that take 30 s and more on a loaded machine leave room for few faults: two, one a partition, at least.
  expect(count(NETWORK_FAULTS), why).toBeGreaterThanOrEqual(1);
  expect(count(Object.keys(report.faultsByKind)), why).toBeGreaterThanOrEqual(2);
  expect(report.operations['LAUNCH'] ?? 0, why).toBeGreaterThan(5);
  expect(report.operations['KILL'] ?? 0, why).toBeGreaterThan(0);
  expect(report.updates, why).toBeGreaterThan(10);
  for (const v of report.verdicts) expect(v.checked, `${v.invariant} checked nothing`).toBeGreaterThan(0);
  passed = true;
}, 600_000);
