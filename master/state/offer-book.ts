// Outstanding offers, indexed by framework and by agent. Each offer expires
// after the offer timeout (a deadline the driver arms): mesos-ts rescinds
// offers by default, so no framework can hoard resources by sitting on them
// (a long-standing complaint against Mesos, where offers lived forever
// unless --offer_timeout was set).
import type { Resources } from '../../common/resources.js';
import { index, unindex } from './indexes.js';
import type { AgentId, FrameworkId, OfferId, OfferRecord } from './records.js';

export class OfferBook {
  private readonly offers = new Map<string, OfferRecord>();
  private readonly byFramework = new Map<string, Set<OfferId>>();
  private readonly byAgent = new Map<string, Set<OfferId>>();

  add(offer: OfferRecord): void {
    this.offers.set(offer.id, offer);
    index(this.byFramework, offer.frameworkId, offer.id);
    index(this.byAgent, offer.agentId, offer.id);
  }

  get(id: string): OfferRecord | undefined {
    return this.offers.get(id);
  }

  /** Removes and returns the offer. */
  take(id: string): OfferRecord | undefined {
    const offer = this.offers.get(id);
    if (!offer) return undefined;
    this.offers.delete(id);
    unindex(this.byFramework, offer.frameworkId, offer.id);
    unindex(this.byAgent, offer.agentId, offer.id);
    return offer;
  }

  view(): ReadonlyMap<string, OfferRecord> {
    return this.offers;
  }

  ofFramework(frameworkId: FrameworkId | string): OfferRecord[] {
    return [...(this.byFramework.get(frameworkId) ?? [])].map((id) => this.offers.get(id)!);
  }

  ofAgent(agentId: AgentId | string): OfferRecord[] {
    return [...(this.byAgent.get(agentId) ?? [])].map((id) => this.offers.get(id)!);
  }

  offeredOn(agentId: AgentId | string): Resources[] {
    return this.ofAgent(agentId).map((o) => o.resources);
  }

  get size(): number {
    return this.offers.size;
  }
}
