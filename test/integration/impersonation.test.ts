// Acting as someone else, tried against a real master, a real agent and a
// real container task, with authentication off: taking over a framework by
// its id, registering as an existing agent, and sending an update for a
// task of another agent. Each is refused, and afterwards the framework is
// still subscribed, the agent still registered and the task still RUNNING.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { LinkAgent } from '../harness/link-agent.js';
import { waitUntil } from '../harness/wait-until.js';

let cluster: TestCluster;
let owner: RawScheduler;
const others: { close(): void }[] = [];
let agentId = '';

beforeAll(async () => {
  cluster = await startCluster({ agents: ['cpus:2;mem:512;disk:100'] });
  agentId = cluster.agents[0]!.agentId()!;
  owner = new RawScheduler(cluster.master.grpcAddress);
  owner.autoAcknowledge = true;
  await owner.subscribe({ name: 'payments', user: 'root', principal: 'alice', failover_timeout: 600 });
  const offer = (await owner.next((e) => e.type === 'OFFERS')).offers!.offers[0]!;
  await owner.launch(offer, [commandTask('ledger', offer, 'sleep 600', 'cpus:0.5;mem:32')]);
  await owner.next(isUpdate('ledger', 'TASK_RUNNING'), 30_000);
}, 60_000);

afterAll(async () => {
  owner?.close();
  for (const o of others) o.close();
  await cluster?.stop();
});

/** The cluster as it must still be after each attempt. */
function unchanged(): void {
  const fw = cluster.master.master.frameworks.get(owner.frameworkId);
  expect(fw?.connected).toBe(true);
  expect(fw?.streamId).toBe(owner.streamId);
  expect(cluster.master.master.agents.get(agentId)?.connected).toBe(true);
  expect(cluster.master.master.tasks.get(owner.frameworkId, 'ledger')?.state).toBe('TASK_RUNNING');
}

describe('acting as someone else', () => {
  it('a scheduler of another principal cannot take the framework over by its id', async () => {
    const thief = new RawScheduler(cluster.master.grpcAddress);
    others.push(thief);
    const stream = thief.client.Subscribe({
      type: 'SUBSCRIBE', subscribe: { framework_info: { id: { value: owner.frameworkId }, name: 'payments', user: 'root', principal: 'mallory', failover_timeout: 600 } },
    });
    const err = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err.details).toMatch(/registered with principal 'alice'/);
    unchanged();
  });

  it('another process cannot register as the agent (it has not the agent\'s secret), so the task is not reported lost', async () => {
    const impostor = new LinkAgent({ master: cluster.master.grpcAddress, resources: 'cpus:2;mem:512' });
    others.push({ close: () => impostor.stop() });
    impostor.agentId = agentId;
    const registered = impostor.start().then(() => 'registered');
    const outcome = await Promise.race([registered, new Promise((resolve) => setTimeout(() => resolve('refused'), 2000))]);
    expect(outcome).toBe('refused');
    impostor.stop();
    unchanged();
    expect(cluster.logs.some((l) => l.includes(`agent ${agentId} did not prove it is that agent`))).toBe(true);
  });

  it('an agent cannot send updates for a task another agent runs', async () => {
    const other = new LinkAgent({ master: cluster.master.grpcAddress, resources: 'cpus:1;mem:128' });
    others.push({ close: () => other.stop() });
    await other.start();
    const before = owner.events.length;
    other.sendUpdate(owner.frameworkId, 'ledger', 'TASK_FAILED');
    await waitUntil(() => cluster.logs.some((l) => l.includes('for task ledger') && l.includes('ignored')), 5000, 'the forged update to be ignored');
    expect(owner.events.slice(before).filter((e) => e.type === 'UPDATE')).toEqual([]);
    unchanged();
    other.stop();
  });
});
