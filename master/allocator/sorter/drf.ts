// Dominant Resource Fairness (Ghodsi et al., NSDI 2011): a client's share
// is its largest fraction of any resource in the cluster, divided by its
// weight; the client with the smallest share goes first (ties by name, so
// the order is deterministic). The order is kept sorted incrementally: an
// allocation moves one client, it does not re-sort everyone.
import type { Resources } from '../../../common/resources.js';
import type { Sorter } from './sorter.js';

/** Resources that count towards shares; ports and sets do not. */
const SHARED_NAMES = ['cpus', 'mem', 'disk', 'gpus'] as const;

interface Client {
  readonly name: string;
  weight: number;
  readonly allocated: number[];
  share: number;
}

export class DrfSorter implements Sorter {
  private readonly clients = new Map<string, Client>();
  private order: Client[] = [];
  private names: string[] = [];
  private readonly total = SHARED_NAMES.map(() => 0);
  private dirty = false;

  add(name: string, weight = 1): void {
    if (this.clients.has(name)) return;
    const client: Client = { name, weight, allocated: SHARED_NAMES.map(() => 0), share: 0 };
    this.clients.set(name, client);
    this.insert(client);
  }

  remove(name: string): void {
    const client = this.clients.get(name);
    if (!client) return;
    this.clients.delete(name);
    this.order.splice(this.indexOf(client), 1);
    this.names = [];
  }

  has(name: string): boolean {
    return this.clients.has(name);
  }

  updateWeight(name: string, weight: number): void {
    const client = this.clients.get(name);
    if (!client || client.weight === weight) return;
    if (!this.dirty) this.order.splice(this.indexOf(client), 1);
    client.weight = weight;
    if (!this.dirty) this.insert(client);
  }

  allocated(name: string, resources: Resources): void {
    this.change(name, resources, 1);
  }

  unallocated(name: string, resources: Resources): void {
    this.change(name, resources, -1);
  }

  setTotal(total: Resources): void {
    SHARED_NAMES.forEach((n, i) => (this.total[i] = total.scalar(n)));
    this.dirty = true;
  }

  sort(): readonly string[] {
    if (this.dirty) {
      for (const c of this.order) c.share = this.computeShare(c);
      this.order.sort(compare);
      this.dirty = false;
      this.names = [];
    }
    if (this.names.length !== this.order.length) this.names = this.order.map((c) => c.name);
    return this.names;
  }

  share(name: string): number {
    const c = this.clients.get(name);
    return c ? this.computeShare(c) : 0;
  }

  private change(name: string, resources: Resources, sign: 1 | -1): void {
    const client = this.clients.get(name);
    if (!client) return;
    const amounts = amountsOf(resources);
    for (let i = 0; i < SHARED_NAMES.length; i++) client.allocated[i] = Math.max(0, client.allocated[i]! + sign * amounts[i]!);
    if (this.dirty) return;
    this.order.splice(this.indexOf(client), 1);
    client.share = this.computeShare(client);
    this.insert(client);
  }

  private computeShare(c: Client): number {
    let share = 0;
    for (let i = 0; i < SHARED_NAMES.length; i++) {
      const total = this.total[i]!;
      if (total > 0) share = Math.max(share, c.allocated[i]! / total);
    }
    return share / c.weight;
  }

  private insert(client: Client): void {
    client.share = this.computeShare(client);
    this.order.splice(this.lowerBound(client), 0, client);
    this.names = [];
  }

  private indexOf(client: Client): number {
    // Shares can tie with other clients' only if names differ, so the key is unique.
    const i = this.lowerBound(client);
    return this.order[i] === client ? i : this.order.indexOf(client);
  }

  /** First position whose client does not sort before `client`. */
  private lowerBound(client: Client): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(this.order[mid]!, client) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * The SHARED_NAMES amounts of a Resources value. Resources are immutable and
 * one offer is booked in two sorters and later recovered, so computing the
 * vector once per object saves most of the scans.
 */
const amountsCache = new WeakMap<Resources, readonly number[]>();
function amountsOf(resources: Resources): readonly number[] {
  let amounts = amountsCache.get(resources);
  if (!amounts) {
    amounts = SHARED_NAMES.map((n) => resources.scalar(n));
    amountsCache.set(resources, amounts);
  }
  return amounts;
}

function compare(a: Client, b: Client): number {
  return a.share - b.share || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
