import { describe, expect, it } from 'vitest';
import { createAllocator, ALLOCATOR_NAMES } from '../../master/allocator/index.js';
import { DrfSorter } from '../../master/allocator/sorter/drf.js';
import { HierarchicalAllocator, seededRandom } from '../../master/allocator/hierarchical.js';
import { Resources } from '../../common/resources.js';

const R = (text: string) => Resources.parse(text);

describe('DRF sorter', () => {
  it('orders by dominant share divided by weight, ties by name', () => {
    const s = new DrfSorter();
    s.setTotal(R('cpus:10;mem:100'));
    s.add('a');
    s.add('b');
    s.add('c', 2);
    s.allocated('a', R('cpus:5;mem:10')); // a: max(5/10, 10/100) = 0.5
    s.allocated('b', R('cpus:1;mem:30')); // b: max(0.1, 0.3) = 0.3
    s.allocated('c', R('cpus:8')); // c: 0.8 / weight 2 = 0.4
    expect(s.sort()).toEqual(['b', 'c', 'a']);
    s.unallocated('a', R('cpus:5;mem:10')); // a: 0
    expect(s.sort()).toEqual(['a', 'b', 'c']);
    expect(s.share('c')).toBeCloseTo(0.4);
  });
});

/** Runs frameworks with one task shape each until nothing fits; returns tasks per framework. */
function runToCompletion(alloc: HierarchicalAllocator, demands: Record<string, string>): Record<string, number> {
  const tasks: Record<string, number> = Object.fromEntries(Object.keys(demands).map((f) => [f, 0]));
  for (let round = 0; round < 100; round++) {
    const decisions = alloc.allocate(round);
    if (decisions.length === 0) break;
    for (const d of decisions) {
      const demand = R(demands[d.frameworkId]!);
      if (d.resources.contains(demand)) {
        tasks[d.frameworkId]!++;
        alloc.recoverResources(d.frameworkId, d.agentId, d.resources.subtract(demand), 0, round);
      } else {
        // Does not fit: refuse these resources for good.
        alloc.recoverResources(d.frameworkId, d.agentId, d.resources, 1e9, round);
      }
    }
  }
  return tasks;
}

describe('hierarchical allocator', () => {
  it('reproduces the DRF paper: A gets 3 tasks, B gets 2, both at a dominant share of 2/3', () => {
    const alloc = createAllocator('drf') as HierarchicalAllocator;
    alloc.addAgent('s1', R('cpus:9;mem:18432'));
    alloc.addFramework('A', { roles: ['*'] });
    alloc.addFramework('B', { roles: ['*'] });
    const tasks = runToCompletion(alloc, { A: 'cpus:1;mem:4096', B: 'cpus:3;mem:1024' });
    expect(tasks).toEqual({ A: 3, B: 2 });
    expect(alloc.share('A')).toBeCloseTo(2 / 3); // 12 GB of 18
    expect(alloc.share('B')).toBeCloseTo(2 / 3); // 6 cpus of 9
  });

  it('offers an agent to the framework with the lowest share, and not again until recovered', () => {
    const alloc = createAllocator('drf');
    alloc.addAgent('s1', R('cpus:4;mem:4096'), new Map([['big', R('cpus:2;mem:2048')]]));
    alloc.addAgent('s2', R('cpus:4;mem:4096'));
    alloc.addFramework('big', { roles: ['*'] }, new Map([['s1', R('cpus:2;mem:2048')]]));
    alloc.addFramework('small', { roles: ['*'] });
    const first = alloc.allocate(0);
    // small (share 0) is first; it takes one agent, then big (0.25) < small (0.25 or 0.5) by name.
    expect(first[0]).toMatchObject({ frameworkId: 'small' });
    expect(first.map((d) => d.resources.scalar('cpus')).sort()).toEqual([2, 4]);
    expect(alloc.allocate(1)).toEqual([]);
    alloc.recoverResources(first[0]!.frameworkId, first[0]!.agentId, first[0]!.resources, 0, 1);
    expect(alloc.allocate(2)).toHaveLength(1);
  });

  it('respects a refuse filter until it expires, but offers newly freed resources', () => {
    const alloc = createAllocator('drf');
    alloc.addAgent('s1', R('cpus:2;mem:1024'));
    alloc.addFramework('f', { roles: ['*'] });
    const [offer] = alloc.allocate(0);
    const task = R('cpus:1;mem:512');
    alloc.recoverResources('f', 's1', offer!.resources.subtract(task), 5, 0);
    expect(alloc.allocate(1)).toEqual([]); // the refused half stays hidden
    alloc.recoverResources('f', 's1', task, 0, 2); // the task ended: more than the refused set
    expect(alloc.allocate(2)[0]!.resources.scalar('cpus')).toBe(2);
    alloc.recoverResources('f', 's1', R('cpus:2;mem:1024'), 5, 3);
    expect(alloc.allocate(7.9)).toEqual([]);
    expect(alloc.allocate(8)).toHaveLength(1);
  });

  it('revive clears filters and suppression; suppress and inactivity stop offers', () => {
    const alloc = createAllocator('drf');
    alloc.addAgent('s1', R('cpus:2;mem:1024'));
    alloc.addFramework('f', { roles: ['*'] });
    const [offer] = alloc.allocate(0);
    alloc.recoverResources('f', 's1', offer!.resources, 100, 0);
    expect(alloc.allocate(1)).toEqual([]);
    alloc.revive('f');
    expect(alloc.allocate(1)).toHaveLength(1);
    alloc.recoverResources('f', 's1', offer!.resources, 0, 1);
    alloc.suppress('f');
    expect(alloc.allocate(2)).toEqual([]);
    alloc.revive('f');
    alloc.setFrameworkActive('f', false);
    expect(alloc.allocate(3)).toEqual([]);
    alloc.setFrameworkActive('f', true);
    expect(alloc.allocate(4)).toHaveLength(1);
  });

  it('offers reserved resources only to their role', () => {
    const alloc = createAllocator('drf');
    alloc.addAgent('s1', R('cpus:1;mem:256;cpus(web):2;mem(web):512'));
    alloc.addFramework('batch', { roles: ['*'] });
    const toBatch = alloc.allocate(0);
    expect(toBatch).toHaveLength(1);
    expect(toBatch[0]!.resources.toString()).toBe('cpus:1;mem:256');
    alloc.addFramework('site', { roles: ['web'] });
    const toWeb = alloc.allocate(1);
    expect(toWeb).toEqual([expect.objectContaining({ frameworkId: 'site', role: 'web' })]);
    expect(toWeb[0]!.resources.toString()).toBe('cpus(web):2;mem(web):512');
  });

  it('does not offer less than the minimum allocatable', () => {
    const alloc = createAllocator('drf');
    alloc.addAgent('s1', R('cpus:0.005;mem:16'));
    alloc.addFramework('f', { roles: ['*'] });
    expect(alloc.allocate(0)).toEqual([]);
  });

  it('is deterministic for a seed', () => {
    const run = () => {
      const alloc = new HierarchicalAllocator('drf', () => new DrfSorter(), { random: seededRandom(7) });
      for (let i = 0; i < 20; i++) alloc.addAgent(`s${i}`, R('cpus:4;mem:4096'));
      for (let i = 0; i < 5; i++) alloc.addFramework(`f${i}`, { roles: ['*'] });
      return alloc.allocate(0).map((d) => `${d.frameworkId}@${d.agentId}`);
    };
    expect(run()).toEqual(run());
    expect(new Set(run().map((x) => x.split('@')[0])).size).toBe(5); // 20 agents spread over all 5
  });

  it.each(ALLOCATOR_NAMES)('%s gives every free agent to someone and removes cleanly', (name) => {
    const alloc = createAllocator(name);
    alloc.addAgent('s1', R('cpus:1;mem:512'));
    alloc.addAgent('s2', R('cpus:1;mem:512'));
    alloc.addFramework('f', { roles: ['*'] });
    alloc.addFramework('g', { roles: ['*'] });
    expect(alloc.allocate(0)).toHaveLength(2);
    alloc.removeAgent('s1');
    alloc.removeFramework('f');
    alloc.removeFramework('g');
    alloc.addFramework('h', { roles: ['*'] });
    alloc.recoverResources('f', 's2', R('cpus:1;mem:512'), 0, 1);
    expect(alloc.allocate(1)).toEqual([expect.objectContaining({ frameworkId: 'h', agentId: 's2' })]);
  });

  it('rejects an unknown policy name, listing the known ones', () => {
    expect(() => createAllocator('fastest')).toThrow("unknown allocator 'fastest'; known: drf, random");
  });
});
