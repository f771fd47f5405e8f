// Refuse filters of one framework: DECLINE (or the unused part of an
// ACCEPT) with refuse_seconds hides that agent's resources from the
// framework, for the role they were offered to, until the filter expires or
// the framework revives. As in Mesos, a filter hides only offers holding
// nothing but refused resources: what a finishing task frees on that agent
// is offered again at once.
import type { Resources } from '../../common/resources.js';

interface Filter {
  readonly until: number;
  readonly refused: Resources;
}

export class RefuseFilters {
  /** agent -> role -> filter */
  private readonly byAgent = new Map<string, Map<string, Filter>>();

  get size(): number {
    return this.byAgent.size;
  }

  /** Refuses `refused` on the agent for the role until `until`; a live filter there grows and lasts the longer of both. */
  add(agentId: string, role: string, refused: Resources, until: number, now: number): void {
    let byRole = this.byAgent.get(agentId);
    if (!byRole) this.byAgent.set(agentId, (byRole = new Map()));
    const prior = byRole.get(role);
    const live = prior && prior.until > now;
    byRole.set(role, { until: Math.max(until, live ? prior.until : 0), refused: live ? prior.refused.add(refused) : refused });
  }

  /** True while a filter for this agent and role covers everything in `offer`; expired filters are dropped on the way. */
  hides(agentId: string, role: string, offer: Resources, now: number): boolean {
    const byRole = this.byAgent.get(agentId);
    const filter = byRole?.get(role);
    if (!byRole || !filter) return false;
    if (filter.until > now) return filter.refused.contains(offer);
    byRole.delete(role);
    if (byRole.size === 0) this.byAgent.delete(agentId);
    return false;
  }

  /** REVIVE: drops the filters of these roles (all when omitted). */
  clear(roles?: readonly string[]): void {
    if (!roles) return this.byAgent.clear();
    for (const [agentId, byRole] of this.byAgent) {
      for (const role of roles) byRole.delete(role);
      if (byRole.size === 0) this.byAgent.delete(agentId);
    }
  }

  forgetAgent(agentId: string): void {
    this.byAgent.delete(agentId);
  }
}
