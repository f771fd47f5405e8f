// Reconciliation after a master failover does not run ahead of the status
// updates an agent still delivers, through real components over gRPC: a
// master with a work_dir restarted on the same port, an agent link with the
// real status update manager that reports its task (latest state FINISHED,
// STARTING still unacknowledged) when it re-registers, and the SDK's
// scheduler. As in Mesos, the master answers with the state of the update in
// flight (Task.status_update_state), not with the latest state.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { Scheduler, silentLogger, type SchedulerEvent } from '../../framework/sdk/index.js';
import { canTransition, type TaskState } from '../../common/task-state.js';
import type { TaskStatusOut } from '../../proto/index.js';
import { LinkAgent } from '../harness/link-agent.js';
import { waitUntil } from '../harness/wait-until.js';

const base = mkdtempSync(join(tmpdir(), 'mesos-ts-recon-'));
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(base, { recursive: true, force: true });
});
const quiet = () => {};
const recon = (s: TaskStatusOut) => s.reason === 'REASON_RECONCILIATION';

describe('reconciliation and the status update stream', () => {
  it('after a master failover, answers with the update still in flight, and the framework sees the states in order', async () => {
    const flags = { port: 0, grpc_port: 0, work_dir: base, allocation_interval: 0.1 };
    let master: RunningMaster = await startMaster(flags, quiet);
    cleanups.push(() => master.stop());
    const port = Number(master.grpcAddress.split(':')[1]);
    const agent = new LinkAgent({
      master: master.grpcAddress, resources: 'cpus:1;mem:128', script: ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED'], reportTasks: true, retrySeconds: 3600,
    });
    cleanups.push(() => agent.stop());
    await agent.start();
    const scheduler = new Scheduler({
      master: master.grpcAddress, framework: { name: 'recon', failoverTimeoutSeconds: 600 }, logger: silentLogger, autoAcknowledge: false,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    cleanups.push(() => scheduler.close());
    const events = scheduler.events();
    const { frameworkId } = await scheduler.start();
    const seen: TaskStatusOut[] = [];
    const next = async (pred: (s: TaskStatusOut) => boolean): Promise<TaskStatusOut> => {
      for (;;) {
        const { value, done } = (await events.next()) as IteratorResult<SchedulerEvent>;
        if (done) throw new Error('the scheduler closed');
        if (value.type === 'offers' && seen.length === 0) {
          const offer = value.offers[0]!;
          await scheduler.launch(offer.id!.value, [{
            name: 't', task_id: { value: 't' }, agent_id: offer.agent_id!, command: { value: 'true' },
            resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 16 } }],
          }]);
        }
        if (value.type !== 'update') continue;
        seen.push(value.status);
        if (pred(value.status)) return value.status;
      }
    };
    const starting = await next((s) => s.state === 'TASK_STARTING');
    // Not acknowledged: the agent holds RUNNING and FINISHED behind it. A new master takes over the same registry.
    expect(agent.pending()).toBe(3);
    const reconnected = once(scheduler, 'reconnected');
    await master.stop();
    master = await startMaster({ ...flags, grpc_port: port }, quiet);
    await reconnected;
    await waitUntil(() => master.master.tasks.get(frameworkId, 't') !== undefined, 30_000, 'the agent re-registering with its task');
    expect(master.master.tasks.get(frameworkId, 't')!.state).toBe('TASK_FINISHED');

    await scheduler.reconcile();
    expect((await next(recon)).state).toBe('TASK_STARTING');
    await scheduler.reconcile([{ taskId: 't' }]);
    expect((await next(recon)).state).toBe('TASK_STARTING');
    // Acknowledged one by one, the agent's updates follow; then the answer is the latest state.
    await scheduler.acknowledge(starting);
    await scheduler.acknowledge(await next((s) => !recon(s) && s.state === 'TASK_RUNNING'));
    const finished = await next((s) => !recon(s) && s.state === 'TASK_FINISHED');
    await scheduler.reconcile();
    expect((await next(recon)).state).toBe('TASK_FINISHED');
    // Its terminal update acknowledged, the task is complete: explicit reconciliation still knows it.
    await scheduler.acknowledge(finished);
    await waitUntil(() => master.master.tasks.get(frameworkId, 't') === undefined, 30_000, 'the task to complete');
    await scheduler.reconcile([{ taskId: 't' }]);
    expect((await next(recon)).state).toBe('TASK_FINISHED');
    await waitUntil(() => agent.pending() === 0, 30_000, 'every update acknowledged');

    // Every status the framework saw, answers included, in lifecycle order (a repeat is fine).
    const states = seen.map((s) => s.state as TaskState);
    for (let i = 1; i < states.length; i++) {
      if (states[i] !== states[i - 1]) expect(canTransition(states[i - 1]!, states[i]!), states.join(' ')).toBe(true);
    }
  });
});
