// A Sorter orders the clients of one level of the hierarchy (roles, or the
// frameworks of one role) by who should be offered resources next. The
// allocator tells it what each client holds; DRF, FIFO and random are swappable.
import type { Resources } from '../../../common/resources.js';

export interface Sorter {
  add(client: string, weight?: number): void;
  remove(client: string): void;
  has(client: string): boolean;
  /** A client's new weight (sorters without weights ignore it). */
  updateWeight(client: string, weight: number): void;
  allocated(client: string, resources: Resources): void;
  unallocated(client: string, resources: Resources): void;
  /** The cluster's total, the denominator of shares. */
  setTotal(total: Resources): void;
  /** Clients, first to be offered first. The array is the sorter's own: do not keep it across changes. */
  sort(): readonly string[];
  /** For /state and tests. */
  share(client: string): number;
}

export type SorterFactory = (random: () => number) => Sorter;
