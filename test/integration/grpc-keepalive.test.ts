// gRPC keepalive with real sockets: a scheduler or an agent that vanishes
// without closing its connection (here a loopback proxy that stops
// forwarding, as a SIGSTOPped process looks from outside) is noticed by the
// master's keepalive pings (--grpc_keepalive_interval/_timeout), long before
// any application-level timer would: the framework is disconnected and its
// failover_timeout runs; the agent is disconnected and awaits
// re-registration. A healthy connection answers the pings and stays. The
// other way round, the SDK's scheduler notices a master gone silent by its
// own pings (SchedulerOptions.keepalive) and subscribes again elsewhere.
import { afterAll, describe, expect, it } from 'vitest';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { Scheduler, silentLogger, type SchedulerEvent } from '../../framework/sdk/index.js';
import { LinkAgent } from '../harness/link-agent.js';
import { TcpProxy } from '../harness/tcp-proxy.js';
import { waitUntil } from '../harness/wait-until.js';
import type { AgentId } from '../../master/state/records.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Keepalive every 0.5 s, 0.5 s to answer: a silent peer is dropped within about a second. */
const KEEPALIVE = { grpc_keepalive_interval: 0.5, grpc_keepalive_timeout: 0.5 };

async function master(): Promise<RunningMaster> {
  // Pings of agents every 60 s (x5): too slow to be what notices the agent in this test.
  const m = await startMaster({ port: 0, grpc_port: 0, agent_ping_timeout: 60, heartbeat_interval: 60, ...KEEPALIVE }, () => {});
  cleanups.push(() => m.stop());
  return m;
}

async function proxyTo(m: RunningMaster): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(m.grpcAddress);
  cleanups.push(() => proxy.close());
  return proxy;
}

describe('gRPC keepalive on long-lived streams', () => {
  it('disconnects a scheduler whose connection goes silent, then its failover_timeout removes the framework', async () => {
    const m = await master();
    const agentProxy = await proxyTo(m);
    const agent = new LinkAgent({ master: agentProxy.address, resources: 'cpus:4;mem:1024' });
    cleanups.push(() => agent.stop());
    const agentId = await agent.start();

    const schedulerProxy = await proxyTo(m);
    const scheduler = new RawScheduler(schedulerProxy.address);
    cleanups.push(() => scheduler.close());
    await scheduler.subscribe({ name: 'silent', user: 'root', failover_timeout: 1 });
    await scheduler.next((e) => e.type === 'OFFERS');
    const frameworkId = scheduler.frameworkId;
    expect(m.master.frameworks.get(frameworkId)?.connected).toBe(true);

    schedulerProxy.freeze();
    await waitUntil(() => m.master.frameworks.get(frameworkId)?.connected === false, 15_000, 'the silent scheduler to be disconnected');
    await waitUntil(() => m.master.completedFrameworkList().some((f) => f.id === frameworkId), 15_000, 'its failover_timeout to remove it');

    // The agent's connection answered every ping meanwhile (more than two intervals passed): it is still linked.
    expect(m.master.agents.get(agentId)?.connected).toBe(true);
  });

  it('disconnects an agent whose link goes silent and waits for it to re-register', async () => {
    const m = await master();
    const proxy = await proxyTo(m);
    const agent = new LinkAgent({ master: proxy.address, resources: 'cpus:4;mem:1024' });
    cleanups.push(() => agent.stop());
    const agentId = await agent.start();
    expect(m.master.agents.get(agentId)?.connected).toBe(true);

    proxy.freeze();
    await waitUntil(() => m.master.agents.get(agentId)?.connected === false, 15_000, 'the silent agent to be disconnected');
    // Disconnected, not yet unreachable: the re-registration deadline runs (agent_ping_timeout x max_agent_ping_timeouts).
    expect(m.master.agents.get(agentId)?.unreachableSince).toBeNull();
    expect(m.master.deadline({ kind: 'reregister-timeout', agentId: agentId as AgentId, waited: 300 })).toBeGreaterThan(m.master.now());
  });

  it("the SDK's scheduler notices a silent master by its keepalive, reports it disconnected and subscribes again", async () => {
    // The master pings nobody and sends no heartbeat within the test (5 x 60 s to miss), so only the SDK's own pings can notice.
    const m = await startMaster({ port: 0, grpc_port: 0, heartbeat_interval: 60, grpc_keepalive_interval: 60, grpc_keepalive_timeout: 60 }, () => {});
    cleanups.push(() => m.stop());
    const proxy = await proxyTo(m);
    const scheduler = new Scheduler({
      // Through the proxy first; after a failed attempt there, straight to the master.
      master: `${proxy.address},${m.grpcAddress}`,
      framework: { name: 'keepalive', failoverTimeoutSeconds: 600 },
      keepalive: { intervalSeconds: 0.5, timeoutSeconds: 0.5 },
      reconnect: { initialDelayMs: 50, maxDelayMs: 200, subscribeTimeoutMs: 2000 },
      logger: silentLogger,
    });
    cleanups.push(() => scheduler.close());
    const seen: SchedulerEvent[] = [];
    scheduler.on('disconnected', (e: SchedulerEvent) => seen.push(e));
    scheduler.on('reconnected', (e: SchedulerEvent) => seen.push(e));
    const { frameworkId } = await scheduler.start();
    expect(proxy.connections).toBe(1);

    proxy.freeze();
    await waitUntil(() => seen.some((e) => e.type === 'disconnected'), 15_000, 'the SDK to notice the silent master');
    const disconnected = seen.find((e) => e.type === 'disconnected') as Extract<SchedulerEvent, { type: 'disconnected' }>;
    expect(disconnected.reason.code).toBe('UNAVAILABLE');
    // (The frozen proxy passes no close: the master still holds the old stream when the SDK subscribes again, straight to it.)

    await waitUntil(() => seen.some((e) => e.type === 'reconnected'), 20_000, 'the SDK to subscribe again');
    expect(scheduler.state).toBe('subscribed');
    expect(scheduler.frameworkId).toBe(frameworkId);
    expect(m.master.frameworks.get(frameworkId)?.connected).toBe(true);
  });

  it('refuses a keepalive setting that is not a positive duration', async () => {
    await expect(startMaster({ port: 0, grpc_port: 0, grpc_keepalive_timeout: 0 }, () => {})).rejects.toThrow(/--grpc_keepalive timeout must be a positive number of seconds, got 0/);
    expect(() => new Scheduler({ master: '127.0.0.1:1', framework: { name: 'x' }, keepalive: { intervalSeconds: -1, timeoutSeconds: 1 } })).toThrow(/keepalive interval must be a positive number of seconds, got -1/);
  });
});
