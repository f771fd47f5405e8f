// Roles as the master reports them: the `roles` section of /state (weight,
// quota, what is allocated and offered).
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
