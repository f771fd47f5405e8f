// What tells the built-in policies apart: where work lands (binpack,
// spread), who is served first (fifo), and the agent orders themselves.
// Frameworks here receive tasks one at a time and launch each pending task
// into the first offer it fits, as a framework working through its queue does.
import { describe, expect, it } from 'vitest';
import { Resources } from '../../common/resources.js';
import type { Allocator } from '../../master/allocator/allocator.js';
import { leastUsedFirst, mostUsedFirst, usage } from '../../master/allocator/agent-order.js';
import { createAllocator, HierarchicalAllocator } from '../../master/allocator/index.js';
import { DrfSorter } from '../../master/allocator/sorter/drf.js';

const R = (text: string) => Resources.parse(text);

/** `arrivals` tasks of `demand`, one per pass; each goes into the first offer it fits. Tasks per agent. */
function oneAtATime(alloc: Allocator, arrivals: number, demand = 'cpus:1;mem:512'): Map<string, number> {
  const task = R(demand);
  const perAgent = new Map<string, number>();
  let pending = 0;
  for (let t = 0; t < arrivals * 3 && (pending > 0 || t < arrivals); t++) {
    if (t < arrivals) pending++;
    for (const d of alloc.allocate(t)) {
      let left = d.resources;
      if (pending > 0 && left.contains(task)) {
        left = left.subtract(task);
        pending--;
        perAgent.set(d.agentId, (perAgent.get(d.agentId) ?? 0) + 1);
      }
      alloc.recoverResources(d.frameworkId, d.agentId, left, 0, t);
    }
  }
  return perAgent;
}

function fourAgents(name: string): Allocator {
  const alloc = createAllocator(name);
  for (const id of ['s1', 's2', 's3', 's4']) alloc.addAgent(id, R('cpus:4;mem:4096'));
  alloc.addFramework('f', { roles: ['*'] });
  return alloc;
}

describe('where work lands', () => {
  it('binpack fills the fewest agents: 8 one-cpu tasks on two 4-cpu agents', () => {
    const placed = oneAtATime(fourAgents('binpack'), 8);
    expect([...placed.values()].reduce((a, b) => a + b)).toBe(8);
    expect(placed.size).toBe(2);
    expect([...placed.values()]).toEqual([4, 4]);
  });

  it('spread uses the most agents: 8 tasks, 2 on each of 4 agents', () => {
    const placed = oneAtATime(fourAgents('spread'), 8);
    expect(placed.size).toBe(4);
    expect([...placed.values()]).toEqual([2, 2, 2, 2]);
  });

  it('binpack and spread rank agents by their dominant use', () => {
    const agents = [
      { id: 'empty', total: R('cpus:4;mem:4096'), free: R('cpus:4;mem:4096') },
      { id: 'mem-heavy', total: R('cpus:4;mem:4096'), free: R('cpus:4;mem:1024') }, // 3/4 of mem used
      { id: 'cpu-half', total: R('cpus:4;mem:4096'), free: R('cpus:2;mem:4096') }, // 1/2 of cpus used
    ];
    expect(usage(agents[1]!)).toBeCloseTo(0.75);
    expect(mostUsedFirst(agents, Math.random)).toEqual(['mem-heavy', 'cpu-half', 'empty']);
    expect(leastUsedFirst(agents, Math.random)).toEqual(['empty', 'cpu-half', 'mem-heavy']);
  });

  it('binpack still shares by DRF: two frameworks each get half the agents', () => {
    const alloc = fourAgents('binpack');
    alloc.addFramework('g', { roles: ['*'] });
    const counts = new Map<string, number>();
    for (const d of alloc.allocate(0)) counts.set(d.frameworkId, (counts.get(d.frameworkId) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ f: 2, g: 2 });
  });
});

describe('fifo', () => {
  it('serves frameworks in subscription order, whatever they already hold', () => {
    const alloc = createAllocator('fifo');
    for (const id of ['s1', 's2', 's3']) alloc.addAgent(id, R('cpus:1;mem:1024'));
    alloc.addFramework('zeta', { roles: ['*'] }); // first to subscribe
    alloc.addFramework('alpha', { roles: ['*'] });
    expect(alloc.allocate(0).map((d) => d.frameworkId)).toEqual(['zeta', 'zeta', 'zeta']);
    // zeta declines s1 for a while: alpha, next in line, gets it.
    alloc.recoverResources('zeta', 's1', R('cpus:1;mem:1024'), 60, 0);
    expect(alloc.allocate(1)).toEqual([expect.objectContaining({ frameworkId: 'alpha', agentId: 's1' })]);
  });

  it('serves roles in the order their first framework subscribed, ignoring weights', () => {
    const alloc = createAllocator('fifo', { weights: new Map([['late', 100]]) });
    alloc.addAgent('s1', R('cpus:1;mem:1024'));
    alloc.addFramework('a', { roles: ['early'] });
    alloc.addFramework('b', { roles: ['late'] });
    expect(alloc.allocate(0)).toEqual([expect.objectContaining({ frameworkId: 'a', role: 'early' })]);
  });
});

describe('random', () => {
  it('gives every framework some agents over many passes, with no regard to shares', () => {
    const alloc = createAllocator('random');
    for (let i = 0; i < 10; i++) alloc.addAgent(`s${i}`, R('cpus:1;mem:1024'));
    for (const f of ['a', 'b', 'c']) alloc.addFramework(f, { roles: [f] });
    const got = new Map<string, number>();
    for (let t = 0; t < 50; t++) {
      for (const d of alloc.allocate(t)) {
        got.set(d.frameworkId, (got.get(d.frameworkId) ?? 0) + 1);
        alloc.recoverResources(d.frameworkId, d.agentId, d.resources, 0, t);
      }
    }
    expect([...got.keys()].sort()).toEqual(['a', 'b', 'c']);
    for (const n of got.values()) expect(n).toBeGreaterThan(100); // 500 offers, ~167 each
  });
});

describe('policy knobs of the hierarchical allocator', () => {
  it('caps offers per framework and role per pass with offersPerFramework', () => {
    const alloc = new HierarchicalAllocator('one-each', { sorter: () => new DrfSorter(), offersPerFramework: 1 });
    for (let i = 0; i < 5; i++) alloc.addAgent(`s${i}`, R('cpus:1;mem:1024'));
    alloc.addFramework('f', { roles: ['a', 'b'] });
    alloc.addFramework('g', { roles: ['a'] });
    const first = alloc.allocate(0);
    expect(first.map((d) => `${d.frameworkId}/${d.role}`).sort()).toEqual(['f/a', 'f/b', 'g/a']); // 3 of 5 agents
    expect(alloc.allocate(0)).toHaveLength(2); // the next pass hands out the other two
  });

  it('takes a custom agent order', () => {
    const byId = (agents: readonly { id: string }[]) => agents.map((a) => a.id).sort().reverse();
    const alloc = new HierarchicalAllocator('last-first', { sorter: () => new DrfSorter(), agentOrder: byId });
    for (const id of ['a', 'b', 'c']) alloc.addAgent(id, R('cpus:1;mem:1024'));
    alloc.addFramework('f', { roles: ['*'] });
    expect(alloc.allocate(0).map((d) => d.agentId)).toEqual(['c', 'b', 'a']);
  });
});
