// UPDATE_FRAMEWORK changing a framework's roles: outstanding offers are
// rescinded and the next offers carry the new role, over a real master and
// agent (whose resources are partly reserved for the new role).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import type { EventOut } from '../../proto/index.js';

let cluster: TestCluster;
let s: RawScheduler;

beforeAll(async () => {
  cluster = await startCluster({ agents: ['cpus:2;mem:512;cpus(b):1;disk:10;ports:[31400-31409]'] });
  s = new RawScheduler(cluster.master.grpcAddress);
  await s.subscribe({ name: 'mover', user: 'root', roles: ['a'], capabilities: [{ type: 'MULTI_ROLE' }] });
});
afterAll(async () => {
  s?.close();
  await cluster?.stop();
});

const roleOf = (e: EventOut) => e.offers!.offers[0]!.allocation_info?.role;

describe('UPDATE_FRAMEWORK', () => {
  it('moves a framework to other roles: its offers are rescinded and come back for the new role, reservations included', async () => {
    const first = await s.next((e) => e.type === 'OFFERS');
    expect(roleOf(first)).toBe('a');
    expect(first.offers!.offers[0]!.resources.some((r) => r.reservations.length > 0)).toBe(false); // cpus(b) is not a's.
    const seen = s.events.length;
    await s.call('UpdateFramework', {
      type: 'UPDATE_FRAMEWORK',
      update_framework: { framework_info: { id: { value: s.frameworkId }, name: 'mover', user: 'root', roles: ['b'], capabilities: [{ type: 'MULTI_ROLE' }] } },
    });
    await s.next((e) => e.type === 'RESCIND' && e.rescind?.offer_id?.value === first.offers!.offers[0]!.id!.value);
    const next = await s.next((e) => e.type === 'OFFERS' && s.events.indexOf(e) >= seen);
    expect(roleOf(next)).toBe('b');
    expect(next.offers!.offers[0]!.resources.filter((r) => r.reservations.some((x) => x.role === 'b')).map((r) => r.name)).toEqual(['cpus']);
    const state = (await (await fetch(`http://${cluster.master.httpAddress}/state`)).json()) as { frameworks: { id: string; roles: string[] }[] };
    expect(state.frameworks.find((f) => f.id === s.frameworkId)?.roles).toEqual(['b']);
  });

  it('refuses invalid roles and changes nothing', async () => {
    const call = s.call('UpdateFramework', {
      type: 'UPDATE_FRAMEWORK',
      update_framework: { framework_info: { id: { value: s.frameworkId }, name: 'mover', user: 'root', roles: ['bad role'], capabilities: [{ type: 'MULTI_ROLE' }] } },
    });
    await expect(call).rejects.toThrow(/role/);
    expect(cluster.master.master.frameworks.get(s.frameworkId)?.roles).toEqual(['b']);
  });
});
