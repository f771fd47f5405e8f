// A baseline without fairness: clients in the order they were added (for
// frameworks, the order they subscribed; a re-subscription goes last). What
// a client holds and its weight change nothing.
import type { Resources } from '../../../common/resources.js';
import type { Sorter } from './sorter.js';

export class FifoSorter implements Sorter {
  private readonly clients = new Set<string>();
  private names: string[] | null = null;

  add(name: string): void {
    if (this.clients.has(name)) return;
    this.clients.add(name);
    this.names = null;
  }
  remove(name: string): void {
    if (this.clients.delete(name)) this.names = null;
  }
  has(name: string): boolean {
    return this.clients.has(name);
  }
  updateWeight(_name: string, _weight: number): void {}
  allocated(_name: string, _resources: Resources): void {}
  unallocated(_name: string, _resources: Resources): void {}
  setTotal(_total: Resources): void {}
  share(): number {
    return 0;
  }

  sort(): readonly string[] {
    this.names ??= [...this.clients];
    return this.names;
  }
}
