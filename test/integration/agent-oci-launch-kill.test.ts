// An agent on the mesos containerizer SIGKILLed in the middle of a launch,
// then started again on the same work_dir. Two steps of a launch leave a
// container root mounted that no running container owns: the root mounted
// before the bundle records its container (meta.json), which only the next
// start's sweep can find; and a bundle written and its root mounted while the
// launch waits for its start slot (--oci_launch_parallelism), which recovery
// finds by its labels. The agent is stopped in exactly that step by a held
// call of a command it runs (test/harness/held-command.ts: `mount` held once
// it mounted, the runtime held before it runs), never by a sleep. Checked:
// the task is reported as the recovery rules say, and no mount, cgroup,
// bundle or process of its container is left. And a task killed (not the
// agent) while it waits for its slot: its root, mounted from the pool, goes
// with its bundle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { LABEL } from '../../agent/task-spec.js';
import { basename, dirname, join } from 'node:path';
import { mountsUnder } from '../../common/hosts/engine-leftovers.js';
import { HeldCommand } from '../harness/held-command.js';
import { NOTHING, leftovers } from '../harness/leftovers.js';
import { OciAgents, mesosTask, settles } from '../harness/oci-agents.js';
import { isUpdate } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';

let cluster: OciAgents;
const held: HeldCommand[] = [];

beforeAll(async () => {
  cluster = await OciAgents.start();
});

afterAll(async () => {
  for (const h of held) h.release(); // A call still held (a failed test) goes on, so that nothing waits on it.
  await cluster?.stop();
}, 60_000);

/** The task's checkpoint (agent/checkpoint.ts): written before its container may start. */
function checkpointed(workDir: string, taskId: string): boolean {
  const frameworks = join(workDir, 'meta', 'tasks');
  return existsSync(frameworks) && readdirSync(frameworks).some((f) => existsSync(join(frameworks, f, taskId, 'task.json')));
}

describe('an agent SIGKILLed in the middle of a launch on the mesos containerizer', () => {
  it('unmounts and removes, at its next start, a root mounted before its bundle recorded a container, and fails the task', async () => {
    const mount = new HeldCommand(cluster.group.dir, 'mount', 'after');
    held.push(mount);
    const first = await cluster.startAgent('oci-mounted', [], { PATH: `${mount.binDir}:${process.env.PATH}` });
    const agentId = await cluster.agentId(first);
    // The first root of an agent is mounted by the agent itself (it learns so whether overlay works here).
    mount.arm(`${join(first.workDir, 'oci', 'containers')}/`);
    const s = await cluster.subscribe('oci-mounted');
    const offer = await cluster.offerOn(s, agentId);
    await s.launch(offer, [mesosTask('mounted', offer, 'sleep 3600')]);
    const call = await mount.held(30_000, "the launch's root mount");
    const root = call.args.split(' ').at(-1)!;
    const bundle = dirname(root);
    const container = basename(bundle);
    // The step: the root mounted in the bundle, which records no container yet; the task checkpointed.
    expect(mountsUnder(bundle)).toEqual([root]);
    expect(readdirSync(bundle).sort()).toEqual(['rootfs', 'upper', 'work']);
    await waitUntil(() => checkpointed(first.workDir, 'mounted'), 15_000, 'the task checkpoint');

    first.signal('SIGKILL');
    await first.exited;
    expect(mount.release()).toBe(true); // The mount command returns, to nobody.
    expect(mountsUnder(bundle)).toEqual([root]);

    const second = await cluster.startAgent('oci-mounted');
    await second.waitForLine(/recovered agent .*1 task\(s\)/, 15_000);
    const failed = await s.next(isUpdate('mounted', 'TASK_FAILED'), 20_000);
    expect(failed.update!.status).toMatchObject({ reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: 'the agent stopped while launching it' });
    await settles(() => leftovers(first.workDir, [container], [second.pid]), NOTHING);
    s.close();
  });

  it('removes, after a restart, a bundle whose launch waited for its start slot, fails its task, and takes back the one that held the slot', async () => {
    const runc = new HeldCommand(cluster.group.dir, 'runc', 'before');
    held.push(runc);
    const first = await cluster.startAgent('oci-queued', ['--oci_launch_parallelism=1', `--oci_runtime=${runc.path}`]);
    const agentId = await cluster.agentId(first);
    // The first container's start is held inside the one start slot; the second launch waits for it.
    runc.arm(' run --keep ');
    const s = await cluster.subscribe('oci-queued');
    const offer = await cluster.offerOn(s, agentId);
    await s.launch(offer, [mesosTask('slot-0', offer, 'sleep 3600'), mesosTask('slot-1', offer, 'sleep 3600')]);
    const call = await runc.held(30_000, 'the first container start');
    const starting = call.args.split(' ').at(-1)!;
    const containers = join(first.workDir, 'oci', 'containers');
    let waiting = '';
    await waitUntil(() => (waiting = readdirSync(containers).find((c) => c !== starting && existsSync(join(containers, c, 'config.json'))) ?? '') !== '',
      30_000, 'the second bundle to be written');
    await waitUntil(() => checkpointed(first.workDir, 'slot-0') && checkpointed(first.workDir, 'slot-1'), 15_000, 'the task checkpoints');
    // The step: the waiting bundle written, its root mounted, nothing handed to the runtime.
    expect(mountsUnder(join(containers, waiting))).toEqual([join(containers, waiting, 'rootfs')]);
    expect(existsSync(join(containers, waiting, 'supervisor.pid'))).toBe(false);

    first.signal('SIGKILL');
    await first.exited;
    // The held start goes on while the agent is down, as a slow start would: that container runs.
    expect(runc.release()).toBe(true);
    await waitUntil(() => existsSync(join(containers, starting, 'pid')), 30_000, 'the held container to start');

    const second = await cluster.startAgent('oci-queued');
    await second.waitForLine(/recovered agent .*2 task\(s\)/, 15_000);
    const taskOf = (c: string) => (s.events.find((e) => e.update?.status?.container_status?.container_id?.value === c)?.update?.status?.task_id?.value);
    await waitUntil(() => taskOf(starting) !== undefined, 20_000, 'the started container to be reported RUNNING');
    const [runningTask, waitingTask] = taskOf(starting) === 'slot-0' ? ['slot-0', 'slot-1'] : ['slot-1', 'slot-0'];
    await s.next(isUpdate(runningTask, 'TASK_RUNNING'), 20_000);
    const failed = await s.next(isUpdate(waitingTask, 'TASK_FAILED'), 20_000);
    expect(failed.update!.status).toMatchObject({ reason: 'REASON_EXECUTOR_TERMINATED', message: 'its container is gone (never started, or removed while the agent was down)' });
    // Bundles are counted all: the started container keeps its own.
    await settles(() => leftovers(first.workDir, [waiting], [second.pid]), { ...NOTHING, bundles: [starting] });
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: runningTask }, agent_id: { value: agentId } } });
    await s.next(isUpdate(runningTask, 'TASK_KILLED'), 30_000);
    await settles(() => leftovers(first.workDir, [starting, waiting], [second.pid]), NOTHING);
    s.close();
  });

  it('unmounts the root of a task killed while it waits for its start slot (a pooled or pool-mounted root), as it reports TASK_KILLED', async () => {
    const runc = new HeldCommand(cluster.group.dir, 'runc', 'before');
    held.push(runc);
    const agent = await cluster.startAgent('oci-killed-waiting', ['--oci_launch_parallelism=1', `--oci_runtime=${runc.path}`]);
    const agentId = await cluster.agentId(agent);
    const s = await cluster.subscribe('oci-killed-waiting');
    // A first task, so that the next roots come from the pool (or its shell), as in a burst.
    const offer = await cluster.offerOn(s, agentId);
    await s.launch(offer, [mesosTask('warm', offer, 'true')]);
    await s.next(isUpdate('warm', 'TASK_FINISHED'), 30_000);
    const containers = join(agent.workDir, 'oci', 'containers');
    // Its container is removed after its TASK_FINISHED: gone before the bundles below are looked for.
    await waitUntil(() => readdirSync(containers).length === 0, 15_000, "the first task's container to be removed");
    runc.arm(' run --keep ');
    const next = await cluster.offerOn(s, agentId);
    await s.launch(next, [mesosTask('holder', next, 'sleep 3600'), mesosTask('waiter', next, 'sleep 3600')]);
    const call = await runc.held(30_000, 'the holder start');
    const holding = call.args.split(' ').at(-1)!;
    let waiting = '';
    await waitUntil(() => (waiting = readdirSync(containers).find((c) => c !== holding && existsSync(join(containers, c, 'config.json'))) ?? '') !== '',
      30_000, 'the second bundle to be written');
    expect(mountsUnder(join(containers, waiting))).toEqual([join(containers, waiting, 'rootfs')]);
    // The waiting bundle names its task (either may have taken the slot first).
    const waiter = JSON.parse(readFileSync(join(containers, waiting, 'meta.json'), 'utf8')).labels[LABEL.taskId] as string;
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: waiter }, agent_id: { value: agentId } } });
    const killed = await s.next(isUpdate(waiter, 'TASK_KILLED'), 30_000);
    expect(killed.update!.status!.reason).toBe('REASON_TASK_KILLED_DURING_LAUNCH');
    await settles(() => ({ ...leftovers(agent.workDir, [waiting], [agent.pid]), pooled: [] }), { ...NOTHING, bundles: [holding] });
    expect(runc.release()).toBe(true);
    const holder = waiter === 'holder' ? 'waiter' : 'holder';
    await s.next(isUpdate(holder, 'TASK_RUNNING'), 30_000);
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: holder }, agent_id: { value: agentId } } });
    await s.next(isUpdate(holder, 'TASK_KILLED'), 30_000);
    await settles(() => ({ ...leftovers(agent.workDir, [holding, waiting], [agent.pid]), pooled: [] }), NOTHING);
    s.close();
  });
});
