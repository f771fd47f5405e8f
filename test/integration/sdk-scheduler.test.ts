// The SDK's Scheduler against a real master: it re-subscribes with its
// FrameworkID when the master comes back on the same address, and stops for
// good when another scheduler takes its framework over.
import { afterAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { Scheduler, silentLogger } from '../../framework/sdk/index.js';

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
});
