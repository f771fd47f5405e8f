// Weights and quota, driven through the Allocator interface. Expected
// shares and amounts are in comments beside the assertions. Properties of
// the hierarchical machinery run against every policy built on DRF sorters;
// random and fifo ignore weights by design.
import { describe, expect, it } from 'vitest';
import { Resources } from '../../common/resources.js';
import type { Allocator, AllocatorOptions, RoleSummary } from '../../master/allocator/allocator.js';
import { createAllocator } from '../../master/allocator/index.js';
import { capUnreserved } from '../../master/allocator/quota.js';
import { drain, place, runToCompletion } from '../harness/allocation.js';

const R = (text: string) => Resources.parse(text);
const DRF_SORTED = ['drf', 'binpack', 'spread'] as const;
const ALL = ['drf', 'binpack', 'spread', 'fifo', 'random'] as const;

function cluster(name: string, agents: number, agent: string, options: AllocatorOptions = {}): Allocator {
  const alloc = createAllocator(name, options);
  for (let i = 0; i < agents; i++) alloc.addAgent(`s${String(i).padStart(2, '0')}`, R(agent));
  return alloc;
}

const summary = (alloc: Allocator, role: string): RoleSummary => alloc.roles!().find((r) => r.role === role)!;

describe.each(DRF_SORTED)('weights (%s)', (name) => {
  it('skews role shares as configured: weight 2 gets twice the agents', () => {
    const alloc = cluster(name, 30, 'cpus:1;mem:1024', { weights: new Map([['a', 2]]) });
    alloc.addFramework('fa', { roles: ['a'] });
    alloc.addFramework('fb', { roles: ['b'] });
    expect(runToCompletion(alloc, { fa: 'cpus:1;mem:1024', fb: 'cpus:1;mem:1024' })).toEqual({ fa: 20, fb: 10 });
    expect(summary(alloc, 'a').share).toBeCloseTo(1 / 3); // 20/30 of the cluster / weight 2
    expect(summary(alloc, 'b').share).toBeCloseTo(1 / 3); // 10/30 / weight 1
  });

  it('takes new weights at run time for what is allocated next', () => {
    const alloc = cluster(name, 12, 'cpus:1;mem:1024');
    alloc.addFramework('fa', { roles: ['a'] });
    alloc.addFramework('fb', { roles: ['b'] });
    alloc.updateWeights!(new Map([['b', 3]]));
    expect(runToCompletion(alloc, { fa: 'cpus:1;mem:1024', fb: 'cpus:1;mem:1024' })).toEqual({ fa: 3, fb: 9 });
    expect(summary(alloc, 'b').weight).toBe(3);
  });
});

describe.each(DRF_SORTED)('quota (%s)', (name) => {
  it('satisfies a guarantee before fair share: 6 of 10 agents instead of 5', () => {
    const quotas = new Map([['a', { guarantee: R('cpus:6') }]]);
    const fair = cluster(name, 10, 'cpus:1;mem:1024');
    const guaranteed = cluster(name, 10, 'cpus:1;mem:1024', { quotas });
    for (const alloc of [fair, guaranteed]) {
      alloc.addFramework('fb', { roles: ['b'] }); // subscribes first: no head start for a
      alloc.addFramework('fa', { roles: ['a'] });
    }
    const demands = { fa: 'cpus:1;mem:1024', fb: 'cpus:1;mem:1024' };
    expect(runToCompletion(fair, demands)).toEqual({ fa: 5, fb: 5 });
    expect(runToCompletion(guaranteed, demands)).toEqual({ fa: 6, fb: 4 });
  });

  it('holds a guarantee even against a heavier weight', () => {
    const options = { quotas: new Map([['a', { guarantee: R('cpus:4') }]]), weights: new Map([['b', 9]]) };
    const alloc = cluster(name, 10, 'cpus:1;mem:1024', options);
    alloc.addFramework('fa', { roles: ['a'] });
    alloc.addFramework('fb', { roles: ['b'] });
    expect(runToCompletion(alloc, { fa: 'cpus:1;mem:1024', fb: 'cpus:1;mem:1024' })).toEqual({ fa: 4, fb: 6 });
  });

  it('offers in the guarantee stage what the role lacks, and beyond it only the headroom surplus', () => {
    const quotas = new Map([['a', { guarantee: R('cpus:1.5') }], ['b', { guarantee: R('cpus:2') }]]);
    const alloc = cluster(name, 1, 'cpus:4;mem:4096', { quotas });
    alloc.addFramework('fa', { roles: ['a'] });
    alloc.addFramework('fb', { roles: ['b'] });
    alloc.addFramework('fc', { roles: ['c'] });
    const [first, second, third] = alloc.allocate(0);
    // Stage 1, a: the 1.5 it lacks + 0.5 of surplus (4 free - 3.5 required), and mem nobody's guarantee needs.
    expect(first).toMatchObject({ frameworkId: 'fa', role: 'a' });
    expect(first!.resources.toString()).toBe('cpus:2;mem:4096');
    // Stage 1, b: the 2 it lacks. Nothing is left for c.
    expect(second).toMatchObject({ frameworkId: 'fb', role: 'b' });
    expect(second!.resources.toString()).toBe('cpus:2');
    expect(third).toBeUndefined();
  });

  it('bursts above a guarantee in the guarantee stage only up to the limit', () => {
    const alloc = cluster(name, 1, 'cpus:4;mem:4096', { quotas: new Map([['a', { guarantee: R('cpus:1.5'), limit: R('cpus:1.75') }]]) });
    alloc.addFramework('fa', { roles: ['a'] });
    alloc.addFramework('fb', { roles: ['b'] });
    const [first, second] = alloc.allocate(0);
    expect(first!.resources.toString()).toBe('cpus:1.75;mem:4096'); // a
    expect(second).toMatchObject({ frameworkId: 'fb' }); // b, by fair share: the rest
    expect(second!.resources.toString()).toBe('cpus:2.25');
  });

  it('counts reservations towards the guarantee: nothing is held back once they cover it', () => {
    const alloc = cluster(name, 4, 'cpus:1;mem:256', { quotas: new Map([['a', { guarantee: R('cpus:2') }]]) });
    alloc.addAgent('reserved', R('cpus(a):2;mem(a):512'));
    alloc.addFramework('fa', { roles: ['a'], suppressedRoles: ['a'] });
    alloc.addFramework('fb', { roles: ['b'] });
    const toB = drain(alloc, 0).filter((d) => d.frameworkId === 'fb');
    expect(toB.reduce((n, d) => n + d.resources.scalar('cpus'), 0)).toBe(4); // every unreserved cpu
    expect(summary(alloc, 'a').consumed.toString()).toBe('cpus:2;mem:512'); // reserved, unallocated, still consumed
  });

  it('caps a role at its limit even when it has the cluster to itself', () => {
    const quotas = new Map([['a', { guarantee: R('cpus:2'), limit: R('cpus:3;mem:3072') }]]);
    const alloc = cluster(name, 8, 'cpus:1;mem:1024', { quotas });
    alloc.addFramework('fa', { roles: ['a'] });
    expect(runToCompletion(alloc, { fa: 'cpus:1;mem:1024' })).toEqual({ fa: 3 });
    expect(summary(alloc, 'a').consumed.toString()).toBe('cpus:3;mem:3072');
  });

  it('gives guarantees in role share order when the cluster cannot hold them all', () => {
    const quotas = new Map([['a', { guarantee: R('cpus:3') }], ['b', { guarantee: R('cpus:3') }]]);
    const alloc = cluster(name, 4, 'cpus:1;mem:1024', { quotas });
    alloc.addFramework('fa', { roles: ['a'] });
    alloc.addFramework('fb', { roles: ['b'] });
    alloc.addFramework('fc', { roles: ['c'] });
    // 4 cpus for 6 guaranteed: a and b alternate by share; c gets none of what they lack.
    expect(runToCompletion(alloc, { fa: 'cpus:1', fb: 'cpus:1', fc: 'cpus:1' })).toEqual({ fa: 2, fb: 2, fc: 0 });
  });
});

describe.each(ALL)('quota bookkeeping (%s)', (name) => {
  it('reports a guarantee above the cluster until agents add up to it', () => {
    const alloc = cluster(name, 0, '', { quotas: new Map([['ops', { guarantee: R('cpus:8;mem:1024') }]]) });
    expect(summary(alloc, 'ops')).toMatchObject({ role: 'ops', weight: 1, guaranteeAboveTotal: true });
    alloc.addAgent('s1', R('cpus:4;mem:8192'));
    expect(summary(alloc, 'ops').guaranteeAboveTotal).toBe(true); // 4 of 8 cpus
    alloc.addAgent('s2', R('cpus:4;mem:8192'));
    expect(summary(alloc, 'ops').guaranteeAboveTotal).toBe(false);
  });

  it('summarises roles: weight, quota, allocated, reserved, frameworks', () => {
    const alloc = cluster(name, 1, 'cpus:2;mem:1024;cpus(web):1', { weights: new Map([['web', 2]]) });
    alloc.setQuota!('web', { limit: R('cpus:10') });
    alloc.addFramework('site', { roles: ['web'] });
    drain(alloc, 0);
    const web = summary(alloc, 'web');
    expect(web).toMatchObject({ weight: 2, frameworks: ['site'] });
    expect(web.quota?.limit?.toString()).toBe('cpus:10');
    expect(web.allocated.toString()).toBe('cpus:2;cpus(web):1;mem:1024');
    expect(web.reserved.toString()).toBe('cpus(web):1');
    expect(web.consumed.toString()).toBe('cpus:3;mem:1024'); // 2 unreserved allocated + 1 reserved
    alloc.setQuota!('web', null);
    expect(summary(alloc, 'web').quota).toBeNull();
  });

  it('drops quota consumption with what is recovered and with the framework', () => {
    const alloc = cluster(name, 2, 'cpus:1;mem:256', { quotas: new Map([['a', { limit: R('cpus:1') }]]) });
    alloc.addFramework('fa', { roles: ['a'] });
    const [d] = alloc.allocate(0);
    expect(summary(alloc, 'a').consumed.scalar('cpus')).toBe(1);
    expect(alloc.allocate(0).filter((x) => x.resources.scalar('cpus') > 0)).toEqual([]); // at its limit
    alloc.recoverResources('fa', d!.agentId, d!.resources, 0, 0);
    expect(summary(alloc, 'a').consumed.scalar('cpus')).toBe(0);
    alloc.allocate(1);
    alloc.removeFramework('fa'); // what it held is still used on the agent, but no longer booked to a
    expect(summary(alloc, 'a').consumed.scalar('cpus')).toBe(0);
  });
});

describe('quota with frameworks that pack offers full (drf)', () => {
  it('keeps the guaranteed role within its limit; a min allocatable of cpus and mem keeps mem-only offers away from it', () => {
    const quotas = new Map([['a', { guarantee: R('cpus:2'), limit: R('cpus:4') }]]);
    // As in Mesos, a role at its cpus limit is still offered other resources (mem) unless the
    // minimum allocatable asks for cpus and mem together.
    const alloc = cluster('drf', 4, 'cpus:4;mem:4096', { quotas, minAllocatable: [R('cpus:0.01;mem:32')] });
    alloc.addFramework('fa', { roles: ['a'] });
    alloc.addFramework('fb', { roles: ['b'] });
    const { tasks } = place(alloc, { fa: { demand: 'cpus:0.5;mem:128' }, fb: { demand: 'cpus:1;mem:128' } }, 'fill');
    expect(tasks.fa).toBe(8); // 4 cpus / 0.5
    expect(tasks.fb).toBe(12); // the other 12 cpus
  });
});

describe('capUnreserved (how offers are cut to limits and headroom)', () => {
  it('cuts unreserved scalars only, down to three decimals, and keeps the same object when nothing is cut', () => {
    const offer = R('cpus:4;mem:1024;cpus(ops):2;ports:[31000-31009]');
    expect(capUnreserved(offer, new Map([['cpus', 1.23456]])).toString()).toBe('cpus:1.234;cpus(ops):2;mem:1024;ports:[31000-31009]');
    expect(capUnreserved(offer, new Map([['cpus', 0], ['mem', 0]])).toString()).toBe('cpus(ops):2;ports:[31000-31009]');
    expect(capUnreserved(offer, new Map([['cpus', 8]]))).toBe(offer);
  });
});
