// The allocator registry: policies by name. `--allocator NAME` picks one;
// an unknown name is an error listing the known ones.
import { InvalidArgument } from '../../common/errors.js';
import type { Allocator, AllocatorOptions } from './allocator.js';
import { HierarchicalAllocator } from './hierarchical.js';
import { DrfSorter } from './sorter/drf.js';
import { RandomSorter } from './sorter/random.js';

const FACTORIES: Record<AllocatorName, (options: AllocatorOptions) => Allocator> = {
  drf: (options) => new HierarchicalAllocator('drf', () => new DrfSorter(), options),
  random: (options) => new HierarchicalAllocator('random', (random) => new RandomSorter(random), options),
};

export const ALLOCATOR_NAMES = ['drf', 'random'] as const;
export type AllocatorName = (typeof ALLOCATOR_NAMES)[number];

export function createAllocator(name: string, options: AllocatorOptions = {}): Allocator {
  const factory = (ALLOCATOR_NAMES as readonly string[]).includes(name) ? FACTORIES[name as AllocatorName] : undefined;
  if (!factory) throw new InvalidArgument(`unknown allocator '${name}'; known: ${ALLOCATOR_NAMES.join(', ')}`);
  return factory(options);
}

export type { Allocator, AllocatorOptions, AllocationDecision, FrameworkSpec } from './allocator.js';
