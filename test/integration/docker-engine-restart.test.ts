// A Docker engine restart under a running agent, on engines of the test's own
// (test/harness/docker-engine.ts): the shared engine is never touched. The
// master runs in this process; two agents run as real processes, one on an
// engine with --live-restore, one on an engine without.
//
// With live-restore the tasks keep running through the restart and the agent
// keeps watching them: no update while the engine is away, health checks and
// statistics work after it, and a later exit or kill is reported as usual.
// Without it, the engine stops the containers (a SIGKILLed engine when it
// restarts; a SIGTERMed one on its way down, the task seeing SIGTERM): each
// task is reported TASK_LOST with REASON_EXECUTOR_TERMINATED (what Mesos
// reports for an executor that ended with no state of its own), never
// TASK_FAILED with the signal's exit status, and can be replaced; while
// the engine is down a launch fails with a message naming it, and the agent
// stays up and launches again once the engine is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { ProcessGroup, type AgentProc } from '../harness/processes.js';
import { freePort } from '../harness/zookeeper.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { DockerEngine } from '../harness/docker-engine.js';
import { waitUntil } from '../harness/wait-until.js';
import { sandboxPath } from '../../agent/task-spec.js';
import type { EventOut, OfferOut, TaskInfoIn } from '../../proto/index.js';

let group: ProcessGroup;
let master: RunningMaster;
let grpcPort: number;
let live: DockerEngine;
let plain: DockerEngine;
let liveAgent: AgentProc;
let plainAgent: AgentProc;
let scheduler: RawScheduler;
const masterLog: string[] = [];
const used = new Set<string>();

beforeAll(async () => {
  group = new ProcessGroup();
  grpcPort = await freePort();
  master = await startMaster({ port: 0, grpc_port: grpcPort, allocation_interval: 0.1 }, (l) => masterLog.push(l));
  [live, plain] = await Promise.all([DockerEngine.start({ liveRestore: true }), DockerEngine.start({ liveRestore: false })]);
  const flags = (engine: DockerEngine, ports: string) => [
    `--master=127.0.0.1:${grpcPort}`, `--resources=cpus:2;mem:512;disk:100;ports:[${ports}]`, '--status_update_retry_interval=0.5s', `--docker_socket=${engine.socketPath}`,
  ];
  [liveAgent, plainAgent] = await Promise.all([group.spawnAgent('live', flags(live, '31950-31954')), group.spawnAgent('plain', flags(plain, '31955-31959'))]);
  scheduler = new RawScheduler(`127.0.0.1:${grpcPort}`);
  scheduler.autoAcknowledge = true;
  expect((await scheduler.subscribe({ name: 'engine-restart', user: 'root', failover_timeout: 600 })).type).toBe('SUBSCRIBED');
}, 120_000);

afterAll(async () => {
  if (process.env.DEBUG_TEST) for (const p of group.processes()) console.error(`--- ${p.name}\n${p.lines.join('\n')}`);
  scheduler?.close();
  await master?.stop();
  await group?.stopAll();
  await Promise.all([live?.stop(), plain?.stop()]);
}, 120_000);

async function agentIdOf(agent: AgentProc): Promise<string> {
  let id = '';
  await waitUntil(() => {
    id = [...master.master.agents.values()].find((a) => a.connected && a.info.port === agent.httpPort)?.id ?? '';
    return id !== '';
  }, 30_000, `agent ${agent.name} to register`);
  return id;
}

async function offerOn(agentId: string): Promise<OfferOut> {
  const rescinded = new Set(scheduler.events.filter((e) => e.type === 'RESCIND').map((e) => e.rescind?.offer_id?.value));
  const fresh = (o: OfferOut) => o.agent_id?.value === agentId && !used.has(o.id!.value) && !rescinded.has(o.id!.value);
  const e = await scheduler.next((ev) => ev.type === 'OFFERS' && ev.offers!.offers.some(fresh), 30_000);
  const offer = e.offers!.offers.find(fresh)!;
  used.add(offer.id!.value);
  return offer;
}

async function launch(agent: AgentProc, id: string, command: string, extra: Partial<TaskInfoIn> = {}): Promise<void> {
  const offer = await offerOn(await agentIdOf(agent));
  await scheduler.launch(offer, [{ ...commandTask(id, offer, command), ...extra }]);
}

/** A health update of `taskId` saying `healthy`, among the events from index `from` on. */
const healthUpdate = (taskId: string, healthy: boolean, from: number) => (e: EventOut) =>
  scheduler.events.indexOf(e) >= from && isUpdate(taskId, 'TASK_RUNNING')(e) && e.update!.status!.reason === 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' && e.update!.status!.healthy === healthy;
const updatesOf = (taskId: string) => scheduler.events.filter((e) => e.type === 'UPDATE' && e.update?.status?.task_id?.value === taskId).map((e) => e.update!.status!);
const running = (engine: DockerEngine, taskId: string) => engine.containers(`mesos-ts.task_id=${taskId}`).then((cs) => cs.filter((c) => c.State === 'running'));

describe('a Docker engine restart with --live-restore', () => {
  it('leaves the tasks running and watched: health, statistics, a later exit and a kill all work after it', async () => {
    const sandbox = (taskId: string) => sandboxPath(liveAgent.workDir, scheduler.frameworkId, taskId);
    // Ends with status 3 once the test drops a file in its sandbox; probed every 0.5 s, healthy while there is no file 'sick'.
    await launch(liveAgent, 'exits-later', 'while [ ! -f /mnt/mesos/sandbox/go ]; do sleep 0.2; done; echo leaving; exit 3', {
      health_check: {
        type: 'COMMAND', command: { value: 'test ! -f /mnt/mesos/sandbox/sick', shell: true },
        delay_seconds: 0, interval_seconds: 0.5, timeout_seconds: 5, grace_period_seconds: 0, consecutive_failures: 1000,
      },
    });
    await launch(liveAgent, 'killed-later', 'sleep 300');
    await scheduler.next(isUpdate('exits-later', 'TASK_RUNNING'), 30_000);
    await scheduler.next(isUpdate('killed-later', 'TASK_RUNNING'), 30_000);
    await scheduler.next(healthUpdate('exits-later', true, 0), 30_000);
    const before = await Promise.all([running(live, 'exits-later'), running(live, 'killed-later')]);
    expect(before.map((cs) => cs.length)).toEqual([1, 1]);

    await live.terminate();
    expect(live.running()).toBe(false);
    // The task's own process outlives the engine (its init pid is still there).
    const listed = (await fetch(`http://${liveAgent.httpAddress}/containers`).then((r) => r.json())) as { executor_id: string; status: { executor_pid?: number } }[];
    const pid = listed.find((c) => c.executor_id === 'killed-later')?.status.executor_pid;
    expect(pid).toBeGreaterThan(0);
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    await live.restart();

    // Nothing was reported for either task while the engine was away.
    expect([...updatesOf('exits-later'), ...updatesOf('killed-later')].map((s) => s.state).filter((s) => s !== 'TASK_STARTING' && s !== 'TASK_RUNNING')).toEqual([]);
    // Nor did the health check count the engine's absence as a failure.
    expect(updatesOf('exits-later').filter((s) => s.reason === 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' && !s.healthy).map((s) => s.message)).toEqual([]);
    // The health check runs again after the restart: it sees the task fall sick and recover.
    const seen = scheduler.events.length;
    writeFileSync(join(sandbox('exits-later'), 'sick'), '');
    await scheduler.next(healthUpdate('exits-later', false, seen), 30_000);
    rmSync(join(sandbox('exits-later'), 'sick'));
    await scheduler.next(healthUpdate('exits-later', true, seen), 30_000);
    const after = await Promise.all([running(live, 'exits-later'), running(live, 'killed-later')]);
    expect(after.map((cs) => cs.map((c) => c.Id))).toEqual(before.map((cs) => cs.map((c) => c.Id)));
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    const stats = (await fetch(`http://${liveAgent.httpAddress}/monitor/statistics`).then((r) => r.json())) as { executor_id: string; statistics: Record<string, number> }[];
    expect(stats.find((s) => s.executor_id === 'killed-later')?.statistics.mem_limit_bytes).toBeGreaterThan(0);

    writeFileSync(join(sandbox('exits-later'), 'go'), '');
    const failed = (await scheduler.next(isUpdate('exits-later', 'TASK_FAILED'), 30_000)).update!.status!;
    expect(failed).toMatchObject({ reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exited with status 3' });
    await waitUntil(() => readFileSync(join(sandbox('exits-later'), 'stdout'), 'utf8').includes('leaving'), 10_000, 'the output printed after the restart in the sandbox');

    await scheduler.call('Kill', { type: 'KILL', kill: { task_id: { value: 'killed-later' } } });
    await scheduler.next(isUpdate('killed-later', 'TASK_KILLED'), 30_000);
  }, 120_000);
});

describe('a Docker engine restart without live-restore', () => {
  it('reports the stopped tasks LOST, fails launches loudly while the engine is down, and launches again once it is back', async () => {
    await launch(plainAgent, 'lost-1', 'sleep 300');
    await scheduler.next(isUpdate('lost-1', 'TASK_RUNNING'), 30_000);

    await plain.kill();
    await launch(plainAgent, 'while-down', 'sleep 300');
    const refused = (await scheduler.next(isUpdate('while-down', 'TASK_FAILED'), 30_000)).update!.status!;
    expect(refused.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
    expect(refused.message).toContain(`the Docker engine at ${plain.socketPath} does not answer`);
    expect(plainAgent.alive()).toBe(true);

    await plain.restart();
    const lost = (await scheduler.next((e) => e.type === 'UPDATE' && e.update?.status?.task_id?.value === 'lost-1' && e.update.status.state !== 'TASK_RUNNING' && e.update.status.state !== 'TASK_STARTING', 30_000)).update!.status!;
    expect(lost).toMatchObject({ state: 'TASK_LOST', reason: 'REASON_EXECUTOR_TERMINATED', source: 'SOURCE_AGENT' });
    expect(lost.message).toContain('restart of the container engine');

    // The framework replaces it; exactly one container runs for the replacement, none for the lost task.
    await launch(plainAgent, 'lost-1-again', 'sleep 300');
    await scheduler.next(isUpdate('lost-1-again', 'TASK_RUNNING'), 30_000);
    expect(await running(plain, 'lost-1-again')).toHaveLength(1);
    expect(await running(plain, 'lost-1')).toHaveLength(0);
    expect(plainAgent.alive()).toBe(true);
  }, 120_000);

  it('reports a task the engine stopped on its way down (stopped gracefully) LOST, not FAILED with the exit status of the signal', async () => {
    await launch(plainAgent, 'stopped-by-engine', 'sleep 300');
    await scheduler.next(isUpdate('stopped-by-engine', 'TASK_RUNNING'), 30_000);
    // SIGTERM: the engine stops its containers itself (SIGTERM to the task, exit status 143), then exits.
    await plain.terminate();
    await plain.restart();
    const ended = (await scheduler.next((e) => e.type === 'UPDATE' && e.update?.status?.task_id?.value === 'stopped-by-engine' && e.update.status.state !== 'TASK_RUNNING' && e.update.status.state !== 'TASK_STARTING', 60_000)).update!.status!;
    expect(ended).toMatchObject({ state: 'TASK_LOST', reason: 'REASON_EXECUTOR_TERMINATED', source: 'SOURCE_AGENT' });
    expect(ended.message).toContain('restart of the container engine');
    expect(updatesOf('stopped-by-engine').map((s) => s.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_LOST']);
    expect(plainAgent.alive()).toBe(true);
  }, 120_000);
});
