// Offers expire by default, and a scheduler that stays away past its
// failover_timeout loses its tasks: both against a real cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, containersUnder, type TestCluster } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { RawScheduler, commandTask } from '../harness/grpc-scheduler.js';

let cluster: TestCluster;
const schedulers: RawScheduler[] = [];

beforeAll(async () => {
  cluster = await startCluster({ agents: ['cpus:1;mem:256;disk:100;ports:[31500-31509]'], master: { offer_timeout: 0.5 } });
}, 60_000);
afterAll(async () => {
  schedulers.forEach((s) => s.close());
  await cluster?.stop();
});

async function subscribe(name: string, failoverTimeout: number): Promise<RawScheduler> {
  const s = new RawScheduler(cluster.master.grpcAddress);
  s.autoAcknowledge = true;
  schedulers.push(s);
  await s.subscribe({ name, user: 'root', failover_timeout: failoverTimeout });
  return s;
}

describe('offers and framework failover', () => {
  it('rescinds an offer nobody answers after --offer_timeout, then offers the resources again', async () => {
    const s = await subscribe('idle', 60);
    const offered = await s.next((e) => e.type === 'OFFERS');
    const id = offered.offers!.offers[0]!.id!.value;
    const t0 = Date.now();
    await s.next((e) => e.type === 'RESCIND' && e.rescind!.offer_id!.value === id, 5000);
    expect(Date.now() - t0).toBeLessThan(2000);
    await s.next((e) => e.type === 'OFFERS' && e.offers!.offers[0]!.id!.value !== id, 5000);
    await s.call('Teardown', { type: 'TEARDOWN' });
  });

  it("kills a framework's tasks once it stays away past its failover_timeout", async () => {
    const s = await subscribe('leaver', 1);
    const offer = (await s.next((e) => e.type === 'OFFERS')).offers!.offers[0]!;
    await s.launch(offer, [commandTask('orphan-to-be', offer, 'sleep 120')]);
    await s.next((e) => e.update?.status?.state === 'TASK_RUNNING', 20_000);
    const running = async () => (await containersUnder(cluster.base)).filter((c) => c.Labels['mesos-ts.task_id'] === 'orphan-to-be').length;
    expect(await running()).toBe(1);
    s.close();
    await waitUntil(async () => (await running()) === 0, 15_000, 'the task container to be killed');
    const state: any = await (await fetch(`http://${cluster.master.httpAddress}/state`)).json();
    expect(state.frameworks.map((f: { name: string }) => f.name)).not.toContain('leaver');
    expect(state.completed_frameworks.map((f: { name: string }) => f.name)).toContain('leaver');
  });
});
