// The agent's work_dir on a small tmpfs (4 MiB) that the test fills up.
// While the disk is full, the status updates and checkpoints the agent cannot
// write fail loudly (an error in its log naming the write) and are never sent
// before they are on disk; once space returns they are written and delivered,
// in order. An agent SIGKILLed while its disk is full comes back after space
// returns with a checkpoint it can read: same AgentID, its running task
// taken back, nothing half-written taken as valid (common/atomic-file.ts,
// agent/checkpoint.ts). The master runs in this process, the agent as a real
// process, tasks on the shared Docker engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { ProcessGroup, type AgentProc } from '../harness/processes.js';
import { freePort } from '../harness/zookeeper.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { containersUnder, removeContainersUnder } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import type { EventOut, OfferOut } from '../../proto/index.js';

const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-full-disk-'));
const filler = join(workDir, 'filler');
let mounted = false;
let group: ProcessGroup;
let master: RunningMaster;
let grpcPort: number;
let scheduler: RawScheduler;
const used = new Set<string>();

beforeAll(async () => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', workDir]);
  mounted = true;
  group = new ProcessGroup();
  grpcPort = await freePort();
  master = await startMaster({ port: 0, grpc_port: grpcPort, allocation_interval: 0.1 }, () => {});
  scheduler = new RawScheduler(`127.0.0.1:${grpcPort}`);
  scheduler.autoAcknowledge = true;
  expect((await scheduler.subscribe({ name: 'full-disk', user: 'root', failover_timeout: 600 })).type).toBe('SUBSCRIBED');
}, 60_000);

afterAll(async () => {
  if (process.env.DEBUG_TEST) for (const p of group.processes()) console.error(`--- ${p.name}\n${p.lines.join('\n')}`);
  scheduler?.close();
  await group?.stopAll();
  await master?.stop();
  await removeContainersUnder(workDir);
  if (mounted) execFileSync('umount', ['-l', workDir]);
  rmSync(workDir, { recursive: true, force: true });
}, 60_000);

/** An agent process named `name` with its work_dir at <tmpfs>/<dir>. */
const startAgent = (name: string, dir: string) => group.spawnAgent(name, [
  `--master=127.0.0.1:${grpcPort}`, '--resources=cpus:2;mem:512;disk:1;ports:[31965-31969]', '--status_update_retry_interval=0.5s', `--work_dir=${join(workDir, dir)}`,
]);

async function agentId(agent: AgentProc): Promise<string> {
  let id = '';
  await waitUntil(() => (id = [...master.master.agents.values()].find((a) => a.connected && a.info.port === agent.httpPort)?.id ?? '') !== '', 30_000, `agent ${agent.name} to register`);
  return id;
}

async function launch(agent: AgentProc, taskId: string): Promise<void> {
  const id = await agentId(agent);
  const rescinded = new Set(scheduler.events.filter((e) => e.type === 'RESCIND').map((e) => e.rescind?.offer_id?.value));
  const fresh = (o: OfferOut) => o.agent_id?.value === id && !used.has(o.id!.value) && !rescinded.has(o.id!.value);
  const offer = (await scheduler.next((e) => e.type === 'OFFERS' && e.offers!.offers.some(fresh), 30_000)).offers!.offers.find(fresh)!;
  used.add(offer.id!.value);
  await scheduler.launch(offer, [commandTask(taskId, offer, 'sleep 600', 'cpus:0.1;mem:16')]);
}

/** Fills the tmpfs to the last byte. */
function fillDisk(): void {
  const { bavail, bsize } = statfsSync(workDir);
  try {
    writeFileSync(filler, Buffer.alloc(Number(bavail) * Number(bsize)));
  } catch {
    // ENOSPC on the last blocks: full either way.
  }
}

const statesOf = (taskId: string) => scheduler.events.filter((e) => e.type === 'UPDATE' && e.update?.status?.task_id?.value === taskId).map((e) => e.update!.status!.state);
const terminal = (taskId: string) => (e: EventOut) =>
  e.type === 'UPDATE' && e.update?.status?.task_id?.value === taskId && !['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING'].includes(e.update.status.state);

describe('a full disk under the agent', () => {
  it('fails its writes loudly, holds the updates back until they are on disk, and delivers them in order once space returns', async () => {
    const agent = await startAgent('agent', 'one');
    await launch(agent, 'running-before');
    await scheduler.next(isUpdate('running-before', 'TASK_RUNNING'), 30_000);

    // A small append can still fit in a page the updates file holds already (tmpfs allocates by page), so the
    // writes that surely need space are a new task's: its task.json and its first update records.
    fillDisk();
    await launch(agent, 'launched-on-full');
    await agent.waitForLine(/cannot write down TASK_STARTING of task launched-on-full .*writing it again/, 30_000);
    await agent.waitForLine(/cannot write down TASK_FAILED of task launched-on-full .*writing it again/, 30_000);
    // Nothing was sent: nothing is on disk yet.
    expect(statesOf('launched-on-full')).toEqual([]);
    expect(agent.alive()).toBe(true);

    rmSync(filler);
    const failed = (await scheduler.next(terminal('launched-on-full'), 30_000)).update!.status!;
    expect(failed).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(failed.message).toMatch(/checkpoint.*ENOSPC/);
    expect(statesOf('launched-on-full')).toEqual(['TASK_STARTING', 'TASK_FAILED']);
    expect((await containersUnder(workDir)).filter((c) => c.Labels['mesos-ts.task_id'] === 'launched-on-full')).toEqual([]);
    // The task that ran before the disk filled was never disturbed, and a kill now is reported as usual.
    expect(statesOf('running-before')).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    await scheduler.call('Kill', { type: 'KILL', kill: { task_id: { value: 'running-before' } } });
    await scheduler.next(isUpdate('running-before', 'TASK_KILLED'), 30_000);
    await agent.stop();
  }, 120_000);

  it('comes back after a SIGKILL on a full disk with a checkpoint it can read, its AgentID and its running task', async () => {
    let agent = await startAgent('agent-2', 'two');
    const id = await agentId(agent);
    await launch(agent, 'survivor');
    await scheduler.next(isUpdate('survivor', 'TASK_RUNNING'), 30_000);

    fillDisk();
    await launch(agent, 'doomed');
    await agent.waitForLine(/cannot write down TASK_\w+ of task doomed/, 30_000);
    agent.signal('SIGKILL');
    await agent.exited;
    rmSync(filler);

    agent = await startAgent('agent-3', 'two');
    expect(await agentId(agent)).toBe(id);
    expect(agent.lines.some((l) => /unreadable/.test(l))).toBe(false);
    await scheduler.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [] } });
    await waitUntil(() => statesOf('survivor').at(-1) === 'TASK_RUNNING' && scheduler.events.some((e) => e.type === 'UPDATE' && e.update?.status?.task_id?.value === 'survivor' && e.update.status.reason === 'REASON_RECONCILIATION'), 30_000, 'the survivor reported running after the restart');
    expect((await containersUnder(workDir)).filter((c) => c.Labels['mesos-ts.task_id'] === 'survivor').map((c) => c.State)).toEqual(['running']);
    await agent.stop();
  }, 120_000);
});
