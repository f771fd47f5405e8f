// The allocator registry: policies by name. `--allocator NAME` picks a
// built-in one; `--allocator ./my-policy.js` loads a user's (loader.ts, which builds on this registry).
// An unknown name is an error listing the known ones.
//
// Every built-in policy is the hierarchical allocator (roles, weights,
// quota, reservations, filters, suppression) with its own sorter, agent
// order and offer cap:
//
//   drf      DRF sorters, agents shuffled                     (Mesos's default)
//   binpack  DRF sorters, fullest agents first
//   spread   DRF sorters, emptiest agents first
//   fifo     frameworks (and roles) in subscription order, agents shuffled
//   random   a fresh weighted random order each time, agents shuffled
import { InvalidArgument } from '../../common/errors.js';
import type { Allocator, AllocatorOptions } from './allocator.js';
import { leastUsedFirst, mostUsedFirst } from './agent-order.js';
import { HierarchicalAllocator } from './hierarchical.js';
import { DrfSorter } from './sorter/drf.js';
import { FifoSorter } from './sorter/fifo.js';
import { RandomSorter } from './sorter/random.js';

export const ALLOCATOR_NAMES = ['drf', 'binpack', 'spread', 'fifo', 'random'] as const;
export type AllocatorName = (typeof ALLOCATOR_NAMES)[number];

const drf = () => new DrfSorter();

const FACTORIES: Record<AllocatorName, (options: AllocatorOptions) => Allocator> = {
  drf: (options) => new HierarchicalAllocator('drf', { sorter: drf }, options),
  binpack: (options) => new HierarchicalAllocator('binpack', { sorter: drf, agentOrder: mostUsedFirst }, options),
  spread: (options) => new HierarchicalAllocator('spread', { sorter: drf, agentOrder: leastUsedFirst }, options),
  fifo: (options) => new HierarchicalAllocator('fifo', { sorter: () => new FifoSorter() }, options),
  random: (options) => new HierarchicalAllocator('random', { sorter: (random) => new RandomSorter(random) }, options),
};

export function isAllocatorName(name: string): name is AllocatorName {
  return (ALLOCATOR_NAMES as readonly string[]).includes(name);
}

export function createAllocator(name: string, options: AllocatorOptions = {}): Allocator {
  if (!isAllocatorName(name)) throw new InvalidArgument(`unknown allocator '${name}'; known: ${ALLOCATOR_NAMES.join(', ')}`);
  return FACTORIES[name](options);
}

export { HierarchicalAllocator, seededRandom, type Policy } from './hierarchical.js';
export type { Allocator, AllocatorOptions, AllocationDecision, FrameworkSpec, RoleQuota, RoleSummary } from './allocator.js';
