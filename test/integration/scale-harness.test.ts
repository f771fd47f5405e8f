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
import { SimAgent } from '../../bench/scale/sim-agent.js';
import { startMaster } from '../../master/main.js';
import { Resources } from '../../common/resources.js';
import type { TaskState } from '../../proto/index.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'mesos-ts-scale-test-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bench/scale simulated agent', () => {
  it('reports STARTING, RUNNING, then FINISHED for each task, each acknowledged once and in order', async () => {
    const master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.05, quiet: true });
    const acks: { taskId: string; state: TaskState }[] = [];
    let registered = 0;
    const agent = new SimAgent({
      master: master.grpcAddress, hostname: 'agent-00007', resources: 'cpus:4;mem:1024', attributes: 'rack:r1;index:7', finishAfterMs: 50,
      observer: { registered: () => void registered++, taskReceived: () => {}, acknowledged: (state, taskId) => void acks.push({ taskId, state }) },
    });
    const scheduler = new RawScheduler(master.grpcAddress);
    scheduler.autoAcknowledge = true;
    try {
      agent.start();
      await scheduler.subscribe({ name: 'sim-agent-test', user: 'test' });
      const offer = (await scheduler.next((e) => e.type === 'OFFERS')).offers!.offers[0]!;
      expect(offer.hostname).toBe('agent-00007');
      expect(offer.attributes.map((a) => a.name).sort()).toEqual(['index', 'rack']);
      const ids = ['t0', 't1', 't2', 't3', 't4'];
      const demand = Resources.parse('cpus:0.1;mem:32').toProto();
      await scheduler.launch(offer, ids.map((id) => ({ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: demand, command: { value: 'true' } })));
      const deadline = Date.now() + 15_000;
      while (acks.length < ids.length * 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(registered).toBe(1);
      for (const id of ids) expect(acks.filter((a) => a.taskId === id).map((a) => a.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
      expect(acks).toHaveLength(ids.length * 3);
      expect(agent.pending()).toBe(0);
    } finally {
      scheduler.close();
      agent.stop();
      await master.stop();
    }
  }, 30_000);

  it('lists its tasks and their frameworks when it re-registers, as a real agent does', async () => {
    const master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.05, quiet: true });
    const acks: string[] = [];
    const agent = new SimAgent({
      master: master.grpcAddress, hostname: 'agent-00008', resources: 'cpus:4;mem:1024', attributes: 'rack:r1', finishAfterMs: 0,
      observer: { registered: () => {}, taskReceived: () => {}, acknowledged: (state, taskId) => void acks.push(`${taskId}:${state}`) },
    });
    const scheduler = new RawScheduler(master.grpcAddress);
    scheduler.autoAcknowledge = true;
    try {
      agent.start();
      const frameworkId = (await scheduler.subscribe({ name: 'sim-agent-reregister', user: 'test' })).subscribed!.framework_id!.value;
      const offer = (await scheduler.next((e) => e.type === 'OFFERS')).offers!.offers[0]!;
      const demand = Resources.parse('cpus:0.5;mem:64').toProto();
      await scheduler.launch(offer, ['r0', 'r1'].map((id) => ({ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: demand, command: { value: 'true' } })));
      const deadline = Date.now() + 15_000;
      while (acks.filter((a) => a.endsWith('TASK_RUNNING')).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(acks.sort()).toEqual(['r0:TASK_RUNNING', 'r0:TASK_STARTING', 'r1:TASK_RUNNING', 'r1:TASK_STARTING']);
      const again = agent.registration();
      const tasks = again.tasks ?? [];
      expect(again.agent_info?.id?.value).toBe(agent.agentId);
      expect(tasks.map((t) => `${t.task_id?.value}:${t.state}:${t.framework_id?.value}`).sort()).toEqual([`r0:TASK_RUNNING:${frameworkId}`, `r1:TASK_RUNNING:${frameworkId}`]);
      expect(Resources.fromProto(tasks[0]!.resources ?? []).toString()).toBe(Resources.fromProto(demand).toString());
      expect(tasks.every((t) => t.status_update_state === undefined)).toBe(true); // Every update acknowledged: none in flight.
      expect((again.frameworks ?? []).map((f) => f.id?.value)).toEqual([frameworkId]);
    } finally {
      scheduler.close();
      agent.stop();
      await master.stop();
    }
  }, 30_000);
});

describe('bench/scale harness', () => {
  it('measures 20 agents and 2 frameworks over the real wire, from the master and the agents', async () => {
    const args = ['--import', 'tsx', 'bench/scale/main.ts', '--agents', '20', '--frameworks', '2', '--seconds', '4', '--task-seconds', '1', '--tasks-per-offer', '2', '--master-trace', '--out', out];
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
    // The stages of the first offer, on both sides; the master's timers counted both subscriptions.
    expect(run.offers.subscribeToSubscribedMs?.n).toBe(2);
    expect(run.offers.masterSubscribeToSubscribedMs?.n).toBe(2);
    expect(run.offers.masterSubscribedToFirstOfferMs?.n).toBe(2);
    expect(run.throughput.allocationRunMs.n).toBeGreaterThan(0);
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
    // Every tenth task traced across the scheduler, agent and (--master-trace) master processes; ZooKeeper probed during the window.
    expect(tp.hopsMs?.['launch (ACCEPT sent) -> ACCEPT at master']?.n).toBeGreaterThan(0);
    expect(tp.hopsMs?.['RunTask sent by master -> RunTask at agent']?.n).toBeGreaterThan(0);
    expect(tp.hopsMs?.['STARTING UPDATE queued by master -> STARTING at scheduler (ACKNOWLEDGE sent)']?.n).toBeGreaterThan(0);
    expect(tp.hopsMs?.['whole: launch (ACCEPT sent) -> RUNNING ack at agent']?.n).toBeGreaterThan(0);
    expect(tp.frameworkEventsWaiting?.n).toBeGreaterThan(0);
    expect(tp.zkWriteMs?.n).toBeGreaterThan(0);
  }, 60_000);
});
