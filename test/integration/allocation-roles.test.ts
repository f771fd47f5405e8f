// Allocation policies through a real master and agent: --weights and --quota
// as /state shows them and the master logs them, and dynamic reservations
// (ACCEPT with RESERVE / UNRESERVE) from a scheduler speaking the raw
// protocol. No container is started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { Resources } from '../../common/resources.js';
import type { OfferOut, ResourceIn } from '../../proto/index.js';
import { startMaster } from '../../master/main.js';

let cluster: TestCluster;
let s: RawScheduler;
const used = new Set<string>();

beforeAll(async () => {
  cluster = await startCluster({
    agents: ['cpus:2;mem:1024;disk:1024;ports:[31300-31309]'],
    master: { weights: 'ops=2,dev=0.5', quota: 'ops:cpus:8;mem:128,dev:/cpus:1' },
  });
  s = new RawScheduler(cluster.master.grpcAddress);
  await s.subscribe({ name: 'reserver', user: 'root', role: 'ops', capabilities: [{ type: 'PARTITION_AWARE' }] });
}, 60_000);

afterAll(async () => {
  s?.close();
  await cluster?.stop();
});

async function state(): Promise<any> {
  return (await fetch(`http://${cluster.master.httpAddress}/master/state`)).json();
}

async function roles(): Promise<any[]> {
  return ((await (await fetch(`http://${cluster.master.httpAddress}/master/roles`)).json()) as { roles: any[] }).roles;
}

/** The next offer this test has not used yet. */
async function nextOffer(): Promise<OfferOut> {
  const ev = await s.next((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => !used.has(o.id!.value)));
  const offer = ev.offers!.offers.find((o) => !used.has(o.id!.value))!;
  used.add(offer.id!.value);
  return offer;
}

/** Mesos's form of a dynamic reservation for `role`. */
const reservedFor = (text: string, role: string): ResourceIn[] =>
  Resources.parse(text).toProto().map((r) => ({ ...r, reservations: [{ type: 'DYNAMIC', role }] }));

function accept(offer: OfferOut, operations: unknown[]): Promise<void> {
  return s.call('Accept', { type: 'ACCEPT', accept: { offer_ids: [offer.id!], operations: operations as never, filters: { refuse_seconds: 0 } } });
}

describe('roles, weights and quota in /master/roles', () => {
  it('lists each role with its weight, quota and what it holds, and reports a guarantee above the cluster', async () => {
    const offer = await nextOffer(); // the cluster is up and ops holds the agent
    const known = await roles();
    const ops = known.find((r) => r.name === 'ops');
    // As Mesos writes it: no limit is an empty object; what is offered is not counted as allocated.
    expect(ops).toMatchObject({ weight: 2, quota: { role: 'ops', guarantee: { cpus: 8, mem: 128 }, limit: {} }, frameworks: [s.frameworkId] });
    expect(ops.offered).toMatchObject({ cpus: 2, mem: 1024 });
    expect(ops.allocated).toEqual({});
    expect(ops.resources).toMatchObject({ cpus: 2, mem: 1024 });
    expect(known.find((r) => r.name === 'dev')).toMatchObject({ weight: 0.5, quota: { guarantee: {}, limit: { cpus: 1 } }, frameworks: [] });
    expect(cluster.logs.some((l) => l.includes("quota: role ops's guarantee (cpus:8;mem:128) is above the cluster's total resources"))).toBe(true);
    await s.call('Decline', { type: 'DECLINE', decline: { offer_ids: [offer.id!], filters: { refuse_seconds: 0 } } });
  });
});

describe('dynamic reservations', () => {
  it('RESERVE makes the resources role-specific on the agent and offers them back to the role', async () => {
    const offer = await nextOffer();
    expect(offer.allocation_info?.role).toBe('ops');
    await accept(offer, [{ type: 'RESERVE', reserve: { resources: reservedFor('cpus:1;mem:256', 'ops') } }]);
    const again = await nextOffer();
    const reserved = again.resources.filter((r) => r.reservations.length > 0);
    expect(reserved.map((r) => [r.name, r.scalar?.value, r.reservations[0]!.role, r.reservations[0]!.type])).toEqual([
      ['cpus', 1, 'ops', 'DYNAMIC'],
      ['mem', 256, 'ops', 'DYNAMIC'],
    ]);
    expect(Resources.fromProto(again.resources).toString()).toBe('cpus:1;cpus(ops):1;disk:1024;mem:768;mem(ops):256;ports:[31300-31309]');
    const st = await state();
    // Mesos sums each resource over roles and lists the reservations apart.
    expect(st.slaves[0].resources).toMatchObject({ cpus: 2, mem: 1024 });
    expect(st.slaves[0].reserved_resources).toEqual({ ops: { cpus: 1, mem: 256, gpus: 0, disk: 0 } });
    expect(st.slaves[0].unreserved_resources).toMatchObject({ cpus: 1, mem: 768 });
    expect((await roles()).find((r: any) => r.name === 'ops').reserved).toEqual({ cpus: 1, mem: 256 });
    expect(cluster.logs.some((l) => l.includes(`framework ${s.frameworkId} reserved cpus(ops):1;mem(ops):256 on agent`))).toBe(true);
    used.delete(again.id!.value); // the next test uses it
  });

  it('drops a bad RESERVE with a log line naming why; the resources come back unchanged', async () => {
    const offer = await nextOffer();
    await accept(offer, [{ type: 'RESERVE', reserve: { resources: reservedFor('cpus:1', 'dev') } }]);
    await waitUntil(() => cluster.logs.some((l) => l.includes("(RESERVE) dropped: ") && l.includes("role 'dev' is not the offers' role 'ops'")), 5000, 'the log line');
    const again = await nextOffer();
    expect(Resources.fromProto(again.resources).toString()).toBe(Resources.fromProto(offer.resources).toString());
    used.delete(again.id!.value);
  });

  it('UNRESERVE gives the resources back to every role', async () => {
    const offer = await nextOffer();
    await accept(offer, [{ type: 'UNRESERVE', unreserve: { resources: reservedFor('cpus:1;mem:256', 'ops') } }]);
    const again = await nextOffer();
    expect(again.resources.every((r) => r.reservations.length === 0)).toBe(true);
    expect((await state()).slaves[0]).toMatchObject({ resources: { cpus: 2, mem: 1024 }, reserved_resources: {} });
  });
});

describe('--allocator with a module path', () => {
  it('starts a master on the shipped example policy, and refuses a module that is not a policy', async () => {
    const running = await startMaster({ port: 0, grpc_port: 0, quiet: true, allocator: './examples/allocator/round-robin.js' });
    try {
      expect(running.master.allocator.name).toBe('round-robin');
      const st = (await (await fetch(`http://${running.httpAddress}/master/roles`)).json()) as { roles: unknown[] };
      expect(st.roles).toEqual([]);
    } finally {
      await running.stop();
    }
    await expect(startMaster({ port: 0, grpc_port: 0, quiet: true, allocator: './test/fixtures/allocator/no-factory.js' })).rejects.toThrow(
      /--allocator \.\/test\/fixtures\/allocator\/no-factory\.js .*exports no factory/,
    );
  });
});
