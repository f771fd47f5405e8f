// Drives an Allocator the way frameworks would, for unit tests: allocate,
// launch tasks into what was offered, give the rest back, repeat. Tasks
// never end, so every run converges on the allocation a policy settles on.
import { Resources } from '../../common/resources.js';
import type { AllocationDecision, Allocator } from '../../master/allocator/allocator.js';

/** Passes at `now` until one offers nothing; every decision made. */
export function drain(alloc: Allocator, now: number): AllocationDecision[] {
  const all: AllocationDecision[] = [];
  for (let i = 0; i < 1000; i++) {
    const ds = alloc.allocate(now);
    if (ds.length === 0) break;
    all.push(...ds);
  }
  return all;
}

export interface Placement {
  /** Tasks per framework. */
  readonly tasks: Record<string, number>;
  /** Tasks per agent (agents without tasks are absent). */
  readonly agents: Map<string, number>;
}

/**
 * Each framework launches tasks of its demand into the offers it gets (one
 * per offer, or as many as fit with `fill`), up to `want` tasks, and returns
 * what it does not use. Stops when a pass launches nothing.
 */
export function place(
  alloc: Allocator,
  demands: Record<string, { demand: string; want?: number }>,
  mode: 'one-per-offer' | 'fill' = 'one-per-offer',
): Placement {
  const tasks: Record<string, number> = Object.fromEntries(Object.keys(demands).map((f) => [f, 0]));
  const agents = new Map<string, number>();
  for (let round = 0; round < 1000; round++) {
    let launched = 0;
    for (const d of alloc.allocate(round)) {
      const { demand, want = Infinity } = demands[d.frameworkId]!;
      const task = Resources.parse(demand);
      let left = d.resources;
      while (tasks[d.frameworkId]! < want && left.contains(task)) {
        left = left.subtract(task);
        tasks[d.frameworkId]!++;
        agents.set(d.agentId, (agents.get(d.agentId) ?? 0) + 1);
        launched++;
        if (mode === 'one-per-offer') break;
      }
      alloc.recoverResources(d.frameworkId, d.agentId, left, 0, round);
    }
    if (launched === 0) break;
  }
  return { tasks, agents };
}

/** The DRF paper's loop: one task per offer if it fits, the rest back, until nothing fits. Tasks per framework. */
export function runToCompletion(alloc: Allocator, demands: Record<string, string>): Record<string, number> {
  return place(alloc, Object.fromEntries(Object.entries(demands).map(([f, demand]) => [f, { demand }]))).tasks;
}
