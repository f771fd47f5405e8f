// Roles as the master reports them: the `roles` section of /state (weight,
// quota, what is allocated and offered) and a log line whenever a role's
// quota guarantee stops or starts fitting in the cluster. A guarantee above
// the cluster's total is not an error: the cluster is empty when the master
// starts and agents join later; until they add up to it, the role gets what
// there is and other roles are held back from what it lacks.
import { Resources, UNRESERVED } from '../common/resources.js';
import type { Master } from './master.js';

export function rolesJson(master: Master) {
  const summaries = new Map((master.allocator.roles?.() ?? []).map((s) => [s.role, s]));
  const offered = new Map<string, Resources>();
  for (const o of master.offers.view().values()) offered.set(o.role, (offered.get(o.role) ?? Resources.EMPTY).add(o.resources));
  const frameworks = new Map<string, string[]>();
  for (const f of master.frameworks.values()) {
    for (const role of f.roles) frameworks.set(role, frameworks.get(role) ?? []).get(role)!.push(f.id);
  }
  const names = [...new Set([...summaries.keys(), ...frameworks.keys(), ...offered.keys()])].sort();
  return names.map((name) => {
    const s = summaries.get(name);
    return {
      name,
      weight: s?.weight ?? 1,
      quota: s?.quota
        ? {
            guarantee: s.quota.guarantee?.toJSON() ?? {},
            limit: s.quota.limit?.toJSON() ?? null,
            consumed: s.consumed.toJSON(),
            guarantee_above_cluster: s.guaranteeAboveTotal,
          }
        : null,
      share: s?.share ?? 0,
      allocated: (s?.allocated ?? Resources.EMPTY).toJSON(),
      offered: (offered.get(name) ?? Resources.EMPTY).toJSON(),
      reserved: (s?.reserved ?? Resources.EMPTY).withRole(UNRESERVED).toJSON(),
      frameworks: frameworks.get(name) ?? [],
    };
  });
}

/** Logs each role whose guarantee starts or stops exceeding the cluster's total; `above` remembers which do. */
export function reportQuotaFit(master: Master, above: Set<string>): void {
  for (const s of master.allocator.roles?.() ?? []) {
    const guarantee = s.quota?.guarantee;
    if (!guarantee || s.guaranteeAboveTotal === above.has(s.role)) continue;
    if (s.guaranteeAboveTotal) {
      above.add(s.role);
      master.log(
        `quota: role ${s.role}'s guarantee (${guarantee.toString()}) is above the cluster's total resources${master.agents.size === 0 ? ' (no agents yet)' : ''}; ` +
          'it gets what there is, and what it lacks is held back from other roles',
      );
    } else {
      above.delete(s.role);
      master.log(`quota: the cluster now holds role ${s.role}'s guarantee (${guarantee.toString()})`);
    }
  }
}
