// The SDK's Scheduler against a real master: it re-subscribes with its
// FrameworkID when the master comes back on the same address, and stops for
// good when another scheduler takes its framework over.
import { afterAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { Scheduler, silentLogger } from '../../framework/sdk/index.js';
import type { SchedulerEvent } from '../../framework/sdk/index.js';
import { LinkAgent } from '../harness/link-agent.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const quiet = () => {};

describe('SDK Scheduler with a real master', () => {
  it('reconnects to a restarted master and re-subscribes with the same FrameworkID', async () => {
    let master: RunningMaster = await startMaster({ port: 0, grpc_port: 0, heartbeat_interval: 0.2 }, quiet);
    const port = Number(master.grpcAddress.split(':')[1]);
    const scheduler = new Scheduler({
      master: master.grpcAddress, framework: { name: 'sturdy', failoverTimeoutSeconds: 60 }, logger: silentLogger,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    cleanups.push(() => scheduler.close());
    const first = await scheduler.start();
    const reconnected = once(scheduler, 'reconnected');
    await master.stop();
    master = await startMaster({ port: 0, grpc_port: port, heartbeat_interval: 0.2 }, quiet);
    cleanups.push(() => master.stop());
    const [event] = (await Promise.race([reconnected, new Promise((_, reject) => setTimeout(() => reject(new Error('no reconnect in 20 s')), 20_000))])) as [
      { frameworkId: string },
    ];
    expect(event.frameworkId).toBe(first.frameworkId);
    expect(master.master.frameworks.get(first.frameworkId)?.connected).toBe(true);
  });

  it('stops for good when another scheduler fails its framework over', async () => {
    const master = await startMaster({ port: 0, grpc_port: 0 }, quiet);
    cleanups.push(() => master.stop());
    const a = new Scheduler({ master: master.grpcAddress, framework: { name: 'ha', failoverTimeoutSeconds: 60 }, logger: silentLogger });
    cleanups.push(() => a.close());
    const { frameworkId } = await a.start();
    const removed = once(a, 'removed');
    const b = new Scheduler({ master: master.grpcAddress, framework: { name: 'ha', id: frameworkId, failoverTimeoutSeconds: 60 }, logger: silentLogger });
    cleanups.push(() => b.teardown());
    await b.start();
    const [event] = (await removed) as [{ message: string }];
    expect(event.message).toBe('Framework failed over');
    expect(a.state).toBe('closed');
    expect(b.frameworkId).toBe(frameworkId);
  });

  it('shows only the TaskStatus fields that were sent: no default reason, health or data', async () => {
    const master = await startMaster({ port: 0, grpc_port: 0 }, quiet);
    cleanups.push(() => master.stop());
    const agent = new LinkAgent({ master: master.grpcAddress, resources: 'cpus:1;mem:128' });
    cleanups.push(() => agent.stop());
    await agent.start();
    const scheduler = new Scheduler({ master: master.grpcAddress, framework: { name: 'presence' }, logger: silentLogger });
    cleanups.push(() => scheduler.close());
    const events = scheduler.events();
    await scheduler.start();
    const updates: Extract<SchedulerEvent, { type: 'update' }>['status'][] = [];
    for await (const event of events) {
      if (event.type === 'offers') {
        const offer = event.offers[0]!;
        await scheduler.launch(offer.id!.value, [{ name: 't', task_id: { value: 't' }, agent_id: offer.agent_id!, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 16 } }], command: { value: 'true' } }]);
      } else if (event.type === 'update') {
        updates.push(event.status);
        if (event.status.state === 'TASK_RUNNING') await scheduler.reconcile([{ taskId: 'nope' }]);
        else break;
      }
    }
    const [running, unknown] = updates;
    // The agent's TASK_RUNNING, forwarded by the master: no reason, health or data.
    expect(running, JSON.stringify(running)).toMatchObject({ state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR' });
    for (const field of ['reason', 'healthy', 'data', 'message']) expect(field in running!, field).toBe(false);
    // The master's answer for an unknown task (LOST: not partition-aware) says why, and that still shows.
    expect(unknown).toMatchObject({ task_id: { value: 'nope' }, state: 'TASK_LOST', reason: 'REASON_RECONCILIATION' });
  });
});
