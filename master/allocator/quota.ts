// Quota as Apache Mesos's hierarchical allocator applies it (1.9+):
//
// - A role's consumption is what it is allocated of unreserved resources
//   plus every resource reserved for it (allocated or not): reservations
//   count whether or not they are in use.
// - Guarantee: a role below it is offered resources in a first stage, before
//   fair sharing, up to what it lacks. The resources every role still lacks
//   (the "required headroom") are kept out of other roles' offers, so a
//   guarantee is honoured as soon as its role's frameworks want it.
// - Limit: a role is never allocated unreserved resources that would bring
//   its consumption above the limit.
//
// Only scalar resources take part (cpus, mem, disk, gpus, custom scalars);
// quantities are plain name -> amount maps.
import { Resources, UNRESERVED, type ResourceEntry } from '../../common/resources.js';
import type { RoleQuota } from './allocator.js';

export type Quantities = ReadonlyMap<string, number>;

interface QuotaState {
  readonly quota: RoleQuota;
  readonly guarantee: Quantities;
  readonly limit: Quantities | null;
  /** Unreserved scalars allocated to the role. */
  readonly allocated: Map<string, number>;
}

/** Scalar quantities of `resources`, of one role's entries only when `role` is given. */
export function quantitiesOf(resources: Resources, role?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of resources.list()) {
    if (e.value.kind === 'scalar' && (role === undefined || e.role === role)) out.set(e.name, (out.get(e.name) ?? 0) + e.value.value);
  }
  return out;
}

function addInto(target: Map<string, number>, amounts: Quantities, sign: 1 | -1): void {
  for (const [name, v] of amounts) {
    const next = round((target.get(name) ?? 0) + sign * v);
    if (next > 0) target.set(name, next);
    else target.delete(name);
  }
}

const NONE: Quantities = new Map();
const round = (v: number): number => Math.round(v * 1000) / 1000;
/** Down to Mesos's three decimals, so a capped amount never exceeds its cap. */
const floor3 = (v: number): number => Math.floor(v * 1000 + 1e-6) / 1000;

export class QuotaBook {
  private readonly states = new Map<string, QuotaState>();
  private readonly reservedByRole = new Map<string, Map<string, number>>();
  private guaranteed = 0;

  /** True when some role has a guarantee: passes then compute headroom. */
  get hasGuarantees(): boolean {
    return this.guaranteed > 0;
  }

  /** True when some role has a quota: allocations are then booked per role. */
  get active(): boolean {
    return this.states.size > 0;
  }

  /** `allocated`: what the role already holds (its unreserved part is booked). */
  set(role: string, quota: RoleQuota | null, allocated: Resources): void {
    const prior = this.states.get(role);
    if (prior && prior.guarantee.size > 0) this.guaranteed--;
    this.states.delete(role);
    if (!quota || (!quota.guarantee && !quota.limit)) return;
    const guarantee = quota.guarantee ? quantitiesOf(quota.guarantee) : new Map<string, number>();
    const limit = quota.limit ? quantitiesOf(quota.limit) : null;
    this.states.set(role, { quota, guarantee, limit, allocated: quantitiesOf(allocated, UNRESERVED) });
    if (guarantee.size > 0) this.guaranteed++;
  }

  quota(role: string): RoleQuota | null {
    return this.states.get(role)?.quota ?? null;
  }

  has(role: string): boolean {
    return this.states.has(role);
  }

  guarantee(role: string): Quantities {
    return this.states.get(role)?.guarantee ?? NONE;
  }

  /** Scalars reserved for the role on agents, allocated or not. */
  reserved(role: string): Quantities {
    return this.reservedByRole.get(role) ?? NONE;
  }

  quotaRoles(): IterableIterator<string> {
    return this.states.keys();
  }

  /** Books resources allocated to (sign 1) or recovered from (-1) a role. */
  allocate(role: string, resources: Resources, sign: 1 | -1): void {
    const state = this.states.get(role);
    if (state) addInto(state.allocated, quantitiesOf(resources, UNRESERVED), sign);
  }

  /** Books reservations appearing on (1) or leaving (-1) agents, for whichever roles they are reserved. */
  reserve(resources: Resources, sign: 1 | -1): void {
    for (const e of resources.list()) {
      if (e.role === UNRESERVED || e.value.kind !== 'scalar') continue;
      let amounts = this.reservedByRole.get(e.role);
      if (!amounts) this.reservedByRole.set(e.role, (amounts = new Map()));
      addInto(amounts, new Map([[e.name, e.value.value]]), sign);
      if (amounts.size === 0) this.reservedByRole.delete(e.role);
    }
  }

  reservedRoles(): IterableIterator<string> {
    return this.reservedByRole.keys();
  }

  consumed(role: string): Map<string, number> {
    const out = new Map(this.reservedByRole.get(role) ?? []);
    const state = this.states.get(role);
    if (state) addInto(out, state.allocated, 1);
    return out;
  }

  /** What the role still lacks of its guarantee (positive amounts only). */
  unsatisfied(role: string): Map<string, number> {
    const out = new Map<string, number>();
    const state = this.states.get(role);
    if (!state || state.guarantee.size === 0) return out;
    const reserved = this.reservedByRole.get(role);
    for (const [name, g] of state.guarantee) {
      const lack = round(g - (state.allocated.get(name) ?? 0) - (reserved?.get(name) ?? 0));
      if (lack > 0) out.set(name, lack);
    }
    return out;
  }

  /** Everything all roles still lack of their guarantees. */
  required(): Map<string, number> {
    const out = new Map<string, number>();
    for (const role of this.states.keys()) addInto(out, this.unsatisfied(role), 1);
    return out;
  }

  /** How much more unreserved of each limited resource the role may be allocated; null without a limit. */
  limitRoom(role: string): Map<string, number> | null {
    const state = this.states.get(role);
    if (!state?.limit) return null;
    const reserved = this.reservedByRole.get(role);
    const out = new Map<string, number>();
    for (const [name, l] of state.limit) out.set(name, Math.max(0, round(l - (state.allocated.get(name) ?? 0) - (reserved?.get(name) ?? 0))));
    return out;
  }

  guaranteeAbove(role: string, total: Resources): boolean {
    const state = this.states.get(role);
    if (!state) return false;
    for (const [name, g] of state.guarantee) if (g > total.scalar(name)) return true;
    return false;
  }
}

/**
 * The headroom of one pass: unreserved resources still free in the cluster
 * (`available`) against what unsatisfied guarantees need (`required`).
 * Outside a role's own guarantee, only the surplus may be allocated.
 */
export class Headroom {
  constructor(
    private readonly available: Map<string, number>,
    private readonly required: Map<string, number>,
  ) {}

  /** Sums the free unreserved amounts of the required resources over the agents' free pools. */
  static of(book: QuotaBook, freePools: Iterable<Resources>): Headroom {
    const required = book.required();
    const available = new Map<string, number>();
    for (const free of freePools) for (const name of required.keys()) available.set(name, (available.get(name) ?? 0) + free.scalar(name, UNRESERVED));
    return new Headroom(available, required);
  }

  get needed(): boolean {
    return this.required.size > 0;
  }

  /** Of a resource, what may go beyond unmet guarantees: Infinity when none needs it. */
  surplus(name: string): number {
    const req = this.required.get(name);
    return req === undefined ? Infinity : Math.max(0, round((this.available.get(name) ?? 0) - req));
  }

  /** Caps every required resource at its surplus (stage 2). */
  capAtSurplus(caps: Map<string, number>): void {
    for (const name of this.required.keys()) caps.set(name, Math.min(caps.get(name) ?? Infinity, this.surplus(name)));
  }

  /** `given` unreserved left the free pools; `guaranteed` of it went to a guarantee (stage 1). */
  taken(given: Quantities, guaranteed: Quantities = NONE): void {
    for (const [name, v] of given) if (this.available.has(name)) this.available.set(name, round(this.available.get(name)! - v));
    for (const [name, v] of guaranteed) {
      const left = round((this.required.get(name) ?? 0) - v);
      if (left > 0) this.required.set(name, left);
      else this.required.delete(name);
    }
  }
}

/** Caps unreserved scalars by name (reserved entries and non-scalars pass whole); the same object when nothing is capped. */
export function capUnreserved(resources: Resources, caps: Quantities): Resources {
  let changed = false;
  const entries: ResourceEntry[] = [];
  for (const e of resources.list()) {
    const cap = e.role === UNRESERVED && e.value.kind === 'scalar' ? caps.get(e.name) : undefined;
    if (cap === undefined || e.value.kind !== 'scalar' || e.value.value <= cap) {
      entries.push(e);
      continue;
    }
    changed = true;
    const value = floor3(cap);
    if (value > 0) entries.push({ ...e, value: { kind: 'scalar', value } });
  }
  return changed ? Resources.fromEntries(entries) : resources;
}

/**
 * Stage 1's offer to a role below its guarantee, as Mesos makes it: what
 * the role lacks (`guaranteed`), its reservations and non-scalars, and more
 * unreserved scalars up to its limit (`room`) as far as the headroom
 * surplus allows. Null unless it holds some of what the role lacks.
 */
export function guaranteeOffer(
  offerable: Resources,
  lack: Quantities,
  room: Quantities | null,
  headroom: Headroom,
): { offer: Resources; guaranteed: Quantities } | null {
  const caps = new Map<string, number>();
  const guaranteed = new Map<string, number>();
  for (const e of offerable.list()) {
    if (e.role !== UNRESERVED || e.value.kind !== 'scalar') continue;
    const toGuarantee = Math.min(e.value.value, lack.get(e.name) ?? 0);
    if (toGuarantee > 0) guaranteed.set(e.name, toGuarantee);
    const limitLeft = room?.has(e.name) ? Math.max(0, room.get(e.name)! - toGuarantee) : Infinity;
    caps.set(e.name, toGuarantee + Math.min(limitLeft, headroom.surplus(e.name)));
  }
  return guaranteed.size === 0 ? null : { offer: capUnreserved(offerable, caps), guaranteed };
}
