// Roles as a policy reports them (Allocator.roles(), shown in /state): weight,
// quota and consumption, what the role holds and which frameworks it has.
// What roles hold and which frameworks they have take a walk over every
// agent and framework, so they are computed only when read: the master
// checks guarantees against the cluster on every pass and reads neither.
import { Resources } from '../../common/resources.js';
import type { RoleSummary } from './allocator.js';
import type { QuotaBook } from './quota.js';

export interface RoleBook {
  /** Roles with frameworks, or a weight; roles with quota or reservations are added from `quota`. */
  readonly roles: Iterable<string>;
  readonly weights: ReadonlyMap<string, number>;
  readonly quota: QuotaBook;
  readonly total: Resources;
  share(role: string): number;
  /** Each framework's id and roles. */
  frameworks(): Iterable<readonly [string, readonly string[]]>;
  /** What frameworks hold on agents, role -> resources, one map per framework and agent. */
  holdings(): Iterable<ReadonlyMap<string, Resources>>;
}

export function summarizeRoles(book: RoleBook): RoleSummary[] {
  let allocated: Map<string, Resources> | null = null;
  let frameworks: Map<string, string[]> | null = null;
  const names = new Set([...book.roles, ...book.quota.quotaRoles(), ...book.quota.reservedRoles()]);
  return [...names].sort().map((role) => ({
    role,
    weight: book.weights.get(role) ?? 1,
    quota: book.quota.quota(role),
    get allocated() {
      return (allocated ??= allocatedByRole(book.holdings())).get(role) ?? Resources.EMPTY;
    },
    reserved: Resources.scalars(Object.fromEntries(book.quota.reserved(role)), role),
    consumed: Resources.scalars(Object.fromEntries(book.quota.consumed(role))),
    guaranteeAboveTotal: book.quota.guaranteeAbove(role, book.total),
    share: book.share(role),
    get frameworks() {
      return (frameworks ??= frameworksByRole(book.frameworks())).get(role) ?? [];
    },
  }));
}

/** Scalars held per role (ranges do not add up across agents). */
export function allocatedByRole(holdings: Iterable<ReadonlyMap<string, Resources>>): Map<string, Resources> {
  const out = new Map<string, Resources>();
  for (const byRole of holdings) {
    for (const [role, r] of byRole) out.set(role, (out.get(role) ?? Resources.EMPTY).add(r.filter((e) => e.value.kind === 'scalar')));
  }
  return out;
}

function frameworksByRole(frameworks: Iterable<readonly [string, readonly string[]]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [id, roles] of frameworks) for (const role of roles) out.set(role, out.get(role) ?? []).get(role)!.push(id);
  return out;
}
