// Outstanding offers. Each offer expires after the offer timeout: mesos-ts
// rescinds offers by default, so no framework can hoard resources by
// sitting on them (a long-standing complaint against Mesos, where offers
// lived forever unless --offer_timeout was set).
import type { Resources } from '../common/resources.js';
import type { OfferView } from './launch-plan.js';

export interface OfferRecord extends OfferView {
  readonly role: string;
  readonly createdAt: number;
  timer: NodeJS.Timeout | null;
}

export class OfferBook {
  private readonly offers = new Map<string, OfferRecord>();

  add(offer: OfferRecord): void {
    this.offers.set(offer.id, offer);
  }

  get(id: string): OfferRecord | undefined {
    return this.offers.get(id);
  }

  /** Removes and returns the offer (cancelling its timer). */
  take(id: string): OfferRecord | undefined {
    const offer = this.offers.get(id);
    if (!offer) return undefined;
    if (offer.timer) clearTimeout(offer.timer);
    this.offers.delete(id);
    return offer;
  }

  view(): ReadonlyMap<string, OfferRecord> {
    return this.offers;
  }

  ofFramework(frameworkId: string): OfferRecord[] {
    return [...this.offers.values()].filter((o) => o.frameworkId === frameworkId);
  }

  ofAgent(agentId: string): OfferRecord[] {
    return [...this.offers.values()].filter((o) => o.agentId === agentId);
  }

  offeredOn(agentId: string): Resources[] {
    return this.ofAgent(agentId).map((o) => o.resources);
  }

  get size(): number {
    return this.offers.size;
  }
}
