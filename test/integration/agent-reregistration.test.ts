// The agent and the master losing each other, all real: a master that
// restarts on the same port gets the agent back with its running task, the
// framework re-subscribes with its id and reconciles, and an agent starting
// on a work_dir with leftover containers removes them.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { startAgent, type RunningAgent } from '../../agent/main.js';
import { RawScheduler, commandTask } from '../harness/grpc-scheduler.js';
import { containersUnder, TEST_IMAGE } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';

const base = mkdtempSync(join(tmpdir(), 'mesos-ts-rereg-'));
const docker = new Docker();
const cleanups: (() => Promise<void> | void)[] = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const c of await containersUnder(base)) await docker.getContainer(c.Id).remove({ force: true });
  rmSync(base, { recursive: true, force: true });
});


const quiet = () => {};

describe('agent and master losing each other', () => {
  it('keeps a task running across a master restart; the agent re-registers with it', async () => {
    let master: RunningMaster = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.1 }, quiet);
    const grpcPort = Number(master.grpcAddress.split(':')[1]);
    const agent: RunningAgent = await startAgent({
      master: master.grpcAddress, port: 0, work_dir: join(base, 'a1'), resources: 'cpus:1;mem:256;disk:100;ports:[31400-31409]',
      docker_pull: 'never', log: quiet,
    });
    cleanups.push(() => agent.stop({ killTasks: true }));
    await waitUntil(() => agent.agentId() !== null, 10_000, 'registration');
    const agentId = agent.agentId()!;

    const s1 = new RawScheduler(master.grpcAddress);
    s1.autoAcknowledge = true;
    await s1.subscribe({ name: 'survivor', user: 'root', failover_timeout: 300, capabilities: [{ type: 'PARTITION_AWARE' }] });
    const frameworkId = s1.frameworkId;
    const offer = (await s1.next((e) => e.type === 'OFFERS')).offers!.offers[0]!;
    await s1.launch(offer, [commandTask('long', offer, 'sleep 120')]);
    await s1.next((e) => e.update?.status?.state === 'TASK_RUNNING', 20_000);
    await new Promise((r) => setTimeout(r, 200)); // let the acknowledgement reach the agent
    s1.close();

    // The master goes away; the container does not.
    await master.stop();
    await new Promise((r) => setTimeout(r, 500));
    expect((await containersUnder(join(base, 'a1'))).filter((c) => c.State === 'running')).toHaveLength(1);

    master = await startMaster({ port: 0, grpc_port: grpcPort, allocation_interval: 0.1 }, quiet);
    cleanups.push(() => master.stop());
    await waitUntil(() => master.master.agents.get(agentId)?.connected === true, 15_000, 'agent re-registration');
    expect(master.master.tasks.get(frameworkId, 'long')?.state).toBe('TASK_RUNNING');

    // The framework comes back with its id and asks what became of its task.
    const s2 = new RawScheduler(master.grpcAddress);
    s2.autoAcknowledge = true;
    cleanups.push(() => s2.close());
    const sub = await s2.subscribe({ name: 'survivor', user: 'root', id: { value: frameworkId }, failover_timeout: 300, capabilities: [{ type: 'PARTITION_AWARE' }] });
    expect(sub.subscribed!.framework_id!.value).toBe(frameworkId);
    await s2.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [] } });
    const answer = await s2.next((e) => e.update?.status?.task_id?.value === 'long');
    expect(answer.update!.status).toMatchObject({ state: 'TASK_RUNNING', reason: 'REASON_RECONCILIATION' });

    await s2.call('Kill', { type: 'KILL', kill: { task_id: { value: 'long' } } });
    await s2.next((e) => e.update?.status?.task_id?.value === 'long' && e.update.status.state === 'TASK_KILLED', 20_000);
  });

  it('removes containers left under its work_dir by an earlier run', async () => {
    const workDir = join(base, 'a2');
    const orphan = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ['sleep', '300'], Labels: { 'mesos-ts.work_dir': workDir, 'mesos-ts.task_id': 'old' } });
    await orphan.start();
    const master = await startMaster({ port: 0, grpc_port: 0 }, quiet);
    cleanups.push(() => master.stop());
    const agent = await startAgent({ master: master.grpcAddress, port: 0, work_dir: workDir, resources: 'cpus:1;mem:128', docker_pull: 'never', log: quiet });
    cleanups.push(() => agent.stop({ killTasks: true }));
    expect(await containersUnder(workDir)).toEqual([]);
  });
});
