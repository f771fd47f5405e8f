// A baseline without fairness: clients in a fresh random order every time
// (weighted: a client of weight w is w times as likely to come first).
import type { Resources } from '../../../common/resources.js';
import type { Sorter } from './sorter.js';

export class RandomSorter implements Sorter {
  private readonly weights = new Map<string, number>();

  constructor(private readonly random: () => number) {}

  add(name: string, weight = 1): void {
    this.weights.set(name, weight);
  }
  remove(name: string): void {
    this.weights.delete(name);
  }
  has(name: string): boolean {
    return this.weights.has(name);
  }
  allocated(_name: string, _resources: Resources): void {}
  unallocated(_name: string, _resources: Resources): void {}
  setTotal(_total: Resources): void {}
  share(): number {
    return 0;
  }

  sort(): readonly string[] {
    // Weighted shuffle (Efraimidis–Spirakis): key = u^(1/w), largest first.
    return [...this.weights]
      .map(([name, w]) => ({ name, key: Math.pow(this.random(), 1 / w) }))
      .sort((a, b) => b.key - a.key)
      .map((e) => e.name);
  }
}
