// Allocation passes bounded in time: a pass that runs out of time stops
// between agents and the next pass goes on with the agents it did not visit,
// in the same order, with the sorters as the cut left them. The clock is a
// counter of agents visited (outOfTime is asked once before each agent after
// the first), so no test depends on how fast this machine is.
import { describe, expect, it } from 'vitest';
import { Resources } from '../../common/resources.js';
import type { AllocationDecision } from '../../master/allocator/allocator.js';
import { createAllocator, type HierarchicalAllocator } from '../../master/allocator/index.js';

const R = (text: string) => Resources.parse(text);

/** A pass that may visit `agents` agents: the budget runs out once that many were visited. */
function budget(agents: number): () => boolean {
  let asked = 0;
  return () => ++asked >= agents;
}

function cluster(name: string, agents: number, frameworks: readonly string[], quotas?: string): HierarchicalAllocator {
  const options = quotas ? { quotas: new Map([['q', { guarantee: R(quotas) }]]) } : {};
  const alloc = createAllocator(name, options) as HierarchicalAllocator;
  for (let i = 0; i < agents; i++) alloc.addAgent(`a${String(i).padStart(3, '0')}`, R('cpus:4;mem:4096'));
  for (const f of frameworks) alloc.addFramework(f, { roles: [f === 'Q' ? 'q' : '*'] });
  return alloc;
}

/** Runs bounded passes until the round is over; returns each pass's decisions. */
function passes(alloc: HierarchicalAllocator, perPass: number): AllocationDecision[][] {
  const out: AllocationDecision[][] = [];
  do out.push(alloc.allocate(1000, budget(perPass)));
  while (alloc.carrying && out.length < 1000);
  return out;
}

const brief = (d: AllocationDecision) => `${d.frameworkId}@${d.agentId}:${d.resources.toString()}`;

describe('allocation passes bounded in time', () => {
  it.each(['drf', 'binpack', 'spread', 'fifo', 'random'])('%s: bounded passes together decide exactly what one unbounded pass decides', (name) => {
    const whole = cluster(name, 25, ['A', 'B', 'C']).allocate(1000);
    const cut = passes(cluster(name, 25, ['A', 'B', 'C']), 4);
    expect(cut.length).toBe(7); // 25 agents, 4 a pass
    expect(cut.slice(0, -1).every((p) => p.length === 4)).toBe(true);
    expect(cut.flat().map(brief)).toEqual(whole.map(brief));
  });

  it('with quota guarantees, carries stage 1 and stage 2 alike and decides what one unbounded pass decides', () => {
    const whole = cluster('drf', 20, ['A', 'Q'], 'cpus:10').allocate(1000);
    const cut = passes(cluster('drf', 20, ['A', 'Q'], 'cpus:10'), 3);
    expect(cut.length).toBeGreaterThan(1);
    expect(cut.flat().map(brief)).toEqual(whole.map(brief));
  });

  it('visits every agent once per round even when each pass has time for one agent only', () => {
    const alloc = cluster('drf', 10, ['A']);
    const cut = passes(alloc, 1);
    expect(cut.length).toBe(10);
    expect(new Set(cut.flat().map((d) => d.agentId)).size).toBe(10);
    expect(alloc.carrying).toBe(false);
  });

  it('gives the carried agents to whoever is furthest behind, a framework that subscribed during the round included', () => {
    const alloc = cluster('drf', 12, ['A', 'B']);
    const first = alloc.allocate(1000, budget(4));
    expect(first.map((d) => d.frameworkId).sort()).toEqual(['A', 'A', 'B', 'B']);
    alloc.addFramework('C', { roles: ['*'] }); // share 0: first in line for the agents carried over
    const second = alloc.allocate(1000, budget(4));
    expect(second.map((d) => d.frameworkId)).toEqual(['C', 'C', expect.any(String), expect.any(String)]);
    const rest = alloc.allocate(1000, budget(100));
    const count = (f: string) => [...first, ...second, ...rest].filter((d) => d.frameworkId === f).length;
    expect([count('A'), count('B'), count('C')]).toEqual([4, 4, 4]);
    expect(alloc.carrying).toBe(false);
  });

  it('skips a carried agent removed since and starts a fresh round once the last one is done', () => {
    const alloc = cluster('drf', 6, ['A']);
    const first = alloc.allocate(1000, budget(2));
    const visited = new Set(first.map((d) => d.agentId));
    const left = ['a000', 'a001', 'a002', 'a003', 'a004', 'a005'].filter((a) => !visited.has(a));
    alloc.removeAgent(left[0]!);
    const rest = alloc.allocate(1000);
    expect(rest.map((d) => d.agentId).sort()).toEqual(left.slice(1).sort());
    expect(alloc.carrying).toBe(false);
    // Resources back on a visited agent: the next pass is a new round over all agents.
    alloc.recoverResources('A', first[0]!.agentId, first[0]!.resources, 0, 1000);
    expect(alloc.allocate(1000).map((d) => d.agentId)).toEqual([first[0]!.agentId]);
  });

  it('forgets the carried round when no framework is left', () => {
    const alloc = cluster('drf', 6, ['A']);
    alloc.allocate(1000, budget(2));
    expect(alloc.carrying).toBe(true);
    alloc.removeFramework('A');
    expect(alloc.allocate(1000)).toEqual([]);
    expect(alloc.carrying).toBe(false);
  });
});
