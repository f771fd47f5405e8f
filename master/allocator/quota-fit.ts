// A log line whenever a role's quota guarantee stops or starts fitting in
// the cluster. A guarantee above the cluster's total is not an error: the
// cluster is empty when the master starts and agents join later; until they
// add up to it, the role gets what there is and other roles are held back
// from what it lacks.
import type { Allocator } from './allocator.js';
import type { Logger } from '../../common/log/logger.js';

/** Logs each role whose guarantee starts or stops exceeding the cluster's total; `above` remembers which do. */
export function reportQuotaFit(allocator: Allocator, agents: number, above: Set<string>, logger: Logger): void {
  for (const s of allocator.roles?.() ?? []) {
    const guarantee = s.quota?.guarantee;
    if (!guarantee || s.guaranteeAboveTotal === above.has(s.role)) continue;
    if (s.guaranteeAboveTotal) {
      above.add(s.role);
      logger.warn(
        { role: s.role },
        `quota: role ${s.role}'s guarantee (${guarantee.toString()}) is above the cluster's total resources${agents === 0 ? ' (no agents yet)' : ''}; ` +
          'it gets what there is, and what it lacks is held back from other roles',
      );
    } else {
      above.delete(s.role);
      logger.info({ role: s.role }, `quota: the cluster now holds role ${s.role}'s guarantee (${guarantee.toString()})`);
    }
  }
}
