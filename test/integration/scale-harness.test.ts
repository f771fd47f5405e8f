// The load harness (bench/scale) end to end, small: 20 simulated agents and
// 2 frameworks for a few seconds against a real master process and a real
// ZooKeeper. The figures it writes must come from what happened: every
// agent registered per the master's own metrics, tasks reached RUNNING and
// the agents received acknowledgements, latencies were sampled.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { HarnessResult } from '../../bench/scale/result.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'mesos-ts-scale-test-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bench/scale harness', () => {
  it('measures 20 agents and 2 frameworks over the real wire, from the master and the agents', async () => {
    const args = ['--import', 'tsx', 'bench/scale/main.ts', '--agents', '20', '--frameworks', '2', '--seconds', '4', '--task-seconds', '1', '--tasks-per-offer', '2', '--out', out];
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, args, { cwd: REPO, timeout: 50_000 }, (err, so, se) => (err ? reject(new Error(`${err.message}\n${so}\n${se}`)) : resolve(so))),
    );
    expect(stdout).toContain('N=20: registration');
    const result = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as HarnessResult;
    expect(result.runs).toHaveLength(1);
    const run = result.runs[0]!;
    expect(run.registration.registeredPerMaster).toBe(20);
    expect(run.registration.registeredPerWorkers).toBe(20);
    expect(run.registration.allRegisteredMs).toBeGreaterThan(0);
    expect(run.registration.masterRssMb).toBeGreaterThan(10);
    expect(run.offers.withOffer).toBe(2);
    expect(run.offers.subscribeToOfferMs.n).toBe(2);
    const tp = run.throughput;
    expect(tp.agentAcksByState.TASK_STARTING).toBeGreaterThan(0);
    expect(tp.agentAcksByState.TASK_RUNNING).toBeGreaterThan(0);
    expect(tp.schedulerCounts.running).toBeGreaterThan(0);
    expect(tp.schedulerCounts.launched).toBeGreaterThanOrEqual(tp.agentAcksByState.TASK_RUNNING!);
    expect(tp.updatesAcked).toBeGreaterThan(0);
    expect((tp.tasksRunningAtEnd ?? 0) + (tp.tasksFinishedTotal ?? 0)).toBeGreaterThan(0);
    expect(tp.stateMs.n).toBeGreaterThan(0);
    expect(tp.getStateMs.n).toBeGreaterThan(0);
    expect(tp.eventLoopP99Ms.n).toBeGreaterThan(0);
    expect(tp.cpuSeconds.master).toBeGreaterThan(0);
    // Every tenth task traced across the scheduler and agent processes; ZooKeeper probed during the window.
    expect(tp.hopsMs?.['launch -> RunTask at agent']?.n).toBeGreaterThan(0);
    expect(tp.zkWriteMs?.n).toBeGreaterThan(0);
  }, 60_000);
});
