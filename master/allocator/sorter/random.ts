// A baseline without fairness: clients in a fresh random order every time
// (weighted: a client of weight w is w times as likely to come first).
// What clients hold changes nothing.
import type { Resources } from '../../../common/resources.js';
import type { Sorter } from './sorter.js';

export class RandomSorter implements Sorter {
  private readonly weights = new Map<string, number>();
  /** The last order, reshuffled in place by sort(); rebuilt when clients change. */
  private order: string[] | null = null;
  /** For weighted shuffles, reused across calls: one key per client. */
  private keyed: { name: string; exponent: number; key: number }[] | null = null;
  /** Clients whose weight is not 1: without them an unweighted shuffle does. */
  private weighted = 0;

  constructor(private readonly random: () => number) {}

  add(name: string, weight = 1): void {
    this.remove(name);
    this.weights.set(name, weight);
    if (weight !== 1) this.weighted++;
    this.order = null;
    this.keyed = null;
  }
  remove(name: string): void {
    const weight = this.weights.get(name);
    if (weight === undefined) return;
    if (weight !== 1) this.weighted--;
    this.weights.delete(name);
    this.order = null;
    this.keyed = null;
  }
  has(name: string): boolean {
    return this.weights.has(name);
  }
  updateWeight(name: string, weight: number): void {
    if (this.weights.has(name)) this.add(name, weight);
  }
  allocated(_name: string, _resources: Resources): void {}
  unallocated(_name: string, _resources: Resources): void {}
  setTotal(_total: Resources): void {}
  share(): number {
    return 0;
  }

  sort(): readonly string[] {
    const order = (this.order ??= [...this.weights.keys()]);
    if (this.weighted > 0) {
      // Weighted shuffle (Efraimidis–Spirakis): key = u^(1/w), largest first.
      const keyed = (this.keyed ??= [...this.weights].map(([name, w]) => ({ name, exponent: 1 / w, key: 0 })));
      for (const k of keyed) k.key = Math.pow(this.random(), k.exponent);
      keyed.sort((a, b) => b.key - a.key);
      for (let i = 0; i < keyed.length; i++) order[i] = keyed[i]!.name;
      return order;
    }
    // All weights equal: a Fisher–Yates shuffle of the previous order, in place.
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  }
}
