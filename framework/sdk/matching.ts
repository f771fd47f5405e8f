// Fitting task demands into offers. Pure functions over common/resources.ts.
//
// A demand is resource text (`cpus:0.1;mem:32`) plus a number of ports to
// pick. Matching returns the exact resources to put in TaskInfo: the
// scalars, taken from the roles the offer holds (resources reserved for our
// role first, then unreserved '*'), and concrete port ranges. A demand that
// names a role (`cpus(analytics):1`) only takes from that role.
import type { ResourceIn, ResourceOut } from '../../proto/index.js';
import { InvalidArgument } from '../../common/errors.js';
import { Resources, UNRESERVED, rangesSize, takeFromRanges, type Range, type ResourceEntry } from '../../common/resources.js';

/** What one task needs from an offer: resources, plus a number of ports picked from the offer's ranges. Make one with {@link parseDemand}. */
export interface Demand {
  /** cpus, mem, disk, ... as Mesos resource text parses them. */
  readonly resources: Resources;
  /** How many ports to pick from the offer's `ports` ranges. */
  readonly ports: number;
}

/** Parses `cpus:0.1;mem:32` (Mesos resource text) and a port count; throws InvalidArgument naming the bad part. */
export function parseDemand(text: string, ports = 0): Demand {
  if (!Number.isInteger(ports) || ports < 0) throw new InvalidArgument(`ports must be a whole number >= 0, got ${ports}`);
  const resources = Resources.parse(text);
  if (resources.isEmpty() && ports === 0) throw new InvalidArgument(`the demand '${text}' asks for nothing`);
  return { resources, ports };
}

/** What {@link fitDemand} answers: the resources to take, or the reason the demand does not fit. */
export type Fit = { readonly resources: Resources; readonly reason?: undefined } | { readonly resources?: undefined; readonly reason: string };

/** The resources to take from `offered` for `demand`, or why it does not fit. */
export function fitDemand(offered: Resources, demand: Demand): Fit {
  let picked = Resources.EMPTY;
  let left = offered;
  for (const entry of demand.resources.list()) {
    const got = takeEntry(left, entry);
    if (typeof got === 'string') return { reason: got };
    picked = picked.add(got);
    left = left.subtract(got);
  }
  if (demand.ports > 0) {
    const got = takePorts(left, demand.ports);
    if (typeof got === 'string') return { reason: got };
    picked = picked.add(got);
  }
  return { resources: picked };
}

/** fitDemand without the reason: the resources for TaskInfo, or null. */
export function matchDemand(offered: Resources, demand: Demand): Resources | null {
  return fitDemand(offered, demand).resources ?? null;
}

/** Reserved roles (alphabetically) before '*', among those holding `name`. */
function rolePreference(left: Resources, name: string): string[] {
  const roles = [...new Set(left.list().filter((e) => e.name === name).map((e) => e.role))];
  return roles.sort((a, b) => Number(a === UNRESERVED) - Number(b === UNRESERVED) || a.localeCompare(b));
}

function takeEntry(left: Resources, entry: ResourceEntry): Resources | string {
  const offeredText = (): string => left.filter((e) => e.name === entry.name).toString() || `no ${entry.name}`;
  if (entry.role !== UNRESERVED) {
    const want = Resources.fromEntries([entry]);
    return left.contains(want) ? want : `needs ${want.toString()}, the offer has ${offeredText()}`;
  }
  const roles = rolePreference(left, entry.name);
  if (entry.value.kind === 'scalar') {
    let need = entry.value.value;
    let got = Resources.EMPTY;
    for (const role of roles) {
      const take = Math.min(left.scalar(entry.name, role), need);
      if (take <= 0) continue;
      got = got.add(Resources.scalars({ [entry.name]: take }, role));
      need = Math.round((need - take) * 1000) / 1000;
      if (need <= 0) return got;
    }
    return `needs ${entry.name}:${entry.value.value}, the offer has ${offeredText()}`;
  }
  // Explicit ranges or set items must all come from one role.
  for (const role of roles) {
    const want = Resources.fromEntries([{ ...entry, role }]);
    if (left.contains(want)) return want;
  }
  return `needs ${Resources.fromEntries([entry]).toString()}, the offer has ${offeredText()}`;
}

/** The lowest `count` ports, from reserved roles first. */
function takePorts(left: Resources, count: number): Resources | string {
  let need = count;
  const picked: ResourceEntry[] = [];
  for (const role of rolePreference(left, 'ports')) {
    const ranges = left.ranges('ports', role);
    const n = Math.min(need, rangesSize(ranges));
    if (n <= 0) continue;
    const taken: Range[] = takeFromRanges(ranges, n);
    picked.push({ name: 'ports', role, value: { kind: 'ranges', ranges: taken } });
    need -= n;
    if (need === 0) return Resources.fromEntries(picked);
  }
  return `needs ${count} ports, the offer has ${rangesSize(left.ranges('ports'))}`;
}

/** Packs several tasks into one offer, subtracting as it goes. */
export class OfferPacker {
  private left: Resources;

  /** Packs into `offered`; see {@link OfferPacker.of} to start from an Offer. */
  constructor(offered: Resources) {
    this.left = offered;
  }

  /** A packer over an offer's resources (throws InvalidArgument on malformed ones). */
  static of(offer: OfferLike): OfferPacker {
    return new OfferPacker(Resources.fromProto(offer.resources ?? [], 'offer.resources'));
  }

  /** What is left of the offer after the takes so far. */
  get remaining(): Resources {
    return this.left;
  }

  /** Takes the demand from what is left; null (and nothing taken) if it does not fit. */
  take(demand: Demand): Resources | null {
    const got = matchDemand(this.left, demand);
    if (got) this.left = this.left.subtract(got);
    return got;
  }
}

/** Anything with an offer's resources: an Offer from an OFFERS event, or your own wrapper. */
export interface OfferLike {
  readonly resources?: readonly (ResourceIn | ResourceOut)[] | null;
}

/** One item placed into an offer, with the resources it takes there. */
export interface Placement<T> {
  readonly item: T;
  readonly resources: Resources;
}

/** What {@link packOffers} decided: launch the `used`, decline the `unused`, keep the `unplaced` for later offers. */
export interface PackResult<O, T> {
  /** Offers that got at least one item, with what each item takes. */
  readonly used: readonly { readonly offer: O; readonly placements: readonly Placement<T>[] }[];
  /** Offers that got nothing: decline them. */
  readonly unused: readonly O[];
  /** Items no offer could take (or beyond `limit`), in their original order. */
  readonly unplaced: readonly T[];
}

/**
 * 'pack' (first fit): each item goes to the first offer with room left, so
 * few agents are used. 'spread': the search starts at the offer after the
 * one that took the previous item, so items go round the agents.
 */
export type PackStrategy = 'pack' | 'spread';

/** Options of {@link packOffers}. */
export interface PackOptions {
  /** Most items to place (a concurrency cap). Default: no limit. */
  readonly limit?: number;
  /** Default 'pack'. */
  readonly strategy?: PackStrategy;
}

/** Places items, in order, into the offers; see PackStrategy. */
export function packOffers<O extends OfferLike, T>(offers: readonly O[], items: readonly T[], demandOf: (item: T) => Demand, options: PackOptions = {}): PackResult<O, T> {
  const packers = offers.map((offer) => ({ offer, packer: OfferPacker.of(offer), placements: [] as Placement<T>[] }));
  const limit = options.limit ?? Infinity;
  const unplaced: T[] = [];
  let placed = 0;
  let start = 0;
  for (const item of items) {
    const demand = demandOf(item);
    let resources: Resources | null = null;
    for (let i = 0; placed < limit && i < packers.length && !resources; i++) {
      const index = (start + i) % packers.length;
      const p = packers[index]!;
      resources = p.packer.take(demand);
      if (resources) {
        p.placements.push({ item, resources });
        if (options.strategy === 'spread') start = index + 1;
      }
    }
    if (resources) placed++;
    else unplaced.push(item);
  }
  return {
    used: packers.filter((p) => p.placements.length > 0).map(({ offer, placements }) => ({ offer, placements })),
    unused: packers.filter((p) => p.placements.length === 0).map((p) => p.offer),
    unplaced,
  };
}
