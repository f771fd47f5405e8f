// Offers: made from an allocation pass, taken back (rescinded, expired,
// declined). Each offer holds its resources allocated to the framework
// until it is used or comes back.
import type { AllocationDecision } from '../allocator/allocator.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentId, AgentRecord, FrameworkId, FrameworkRecord, OfferRecord } from '../state/records.js';
import type { Effects, OpContext } from './effects.js';

/**
 * Offers per OFFERS event at most: a pass's offers to one framework go out in
 * events of this many. Each offer costs a scheduler about 0.1 ms of CPU to
 * decode (the SDK), and a first subscriber on an idle cluster is offered every
 * agent a pass reaches (hundreds): in one event, it acts on none until it has
 * decoded all (round 8b in docs/scale/README.md). 64 offers are about 17 KiB.
 */
export const OFFERS_PER_EVENT = 64;

/** Turns an allocation pass's decisions into offers; decisions for a framework or agent that went away go back. */
export function makeOffers(state: ClusterState, fx: Effects, ctx: OpContext, decisions: readonly AllocationDecision[]): void {
  const byFramework = new Map<string, AllocationDecision[]>();
  for (const d of decisions) {
    const list = byFramework.get(d.frameworkId) ?? [];
    list.push(d);
    byFramework.set(d.frameworkId, list);
  }
  for (const [frameworkId, list] of byFramework) {
    const fw = state.framework(frameworkId);
    const offers: { offer: OfferRecord; agent: AgentRecord }[] = [];
    for (const d of list) {
      const agent = state.agent(d.agentId);
      if (!fw?.connected || !agent?.connected) {
        fx.allocator({ call: 'recoverResources', frameworkId: d.frameworkId as FrameworkId, agentId: d.agentId as AgentId, resources: d.resources, refuseSeconds: 0 });
        continue;
      }
      const offer: OfferRecord = {
        id: ctx.ids.offer(), frameworkId: fw.id, agentId: d.agentId as AgentId, role: d.role, resources: d.resources, createdAt: ctx.now,
      };
      state.offers.add(offer);
      if (ctx.config.offerTimeout > 0) fx.arm({ kind: 'offer-timeout', offerId: offer.id }, ctx.now + ctx.config.offerTimeout);
      offers.push({ offer, agent });
    }
    for (let i = 0; fw && i < offers.length; i += OFFERS_PER_EVENT) fx.toFramework(fw.id, { kind: 'offers', offers: offers.slice(i, i + OFFERS_PER_EVENT) });
  }
}

/** Takes an offer back: its resources return to the pool and the framework hears RESCIND. */
export function rescindOffer(state: ClusterState, fx: Effects, ctx: OpContext, offerId: string, why: string): void {
  const offer = state.offers.take(offerId);
  if (!offer) return;
  ctx.logger.info({ offer_id: offerId, framework_id: offer.frameworkId, agent_id: offer.agentId }, `rescinding offer ${offerId} of framework ${offer.frameworkId}: ${why}`);
  fx.cancel({ kind: 'offer-timeout', offerId: offer.id });
  fx.allocator({ call: 'recoverResources', frameworkId: offer.frameworkId, agentId: offer.agentId, resources: offer.resources, refuseSeconds: 0 });
  if (state.framework(offer.frameworkId)) fx.toFramework(offer.frameworkId, { kind: 'rescind', offerId: offer.id });
  fx.allocate();
}

/** Every outstanding offer of a framework goes back; `notify` tells it (RESCIND) when it is still listening. */
export function rescindOffersOf(state: ClusterState, fx: Effects, fw: FrameworkRecord, notify: boolean): void {
  for (const offer of state.offers.ofFramework(fw.id)) {
    state.offers.take(offer.id);
    fx.cancel({ kind: 'offer-timeout', offerId: offer.id });
    fx.allocator({ call: 'recoverResources', frameworkId: fw.id, agentId: offer.agentId, resources: offer.resources, refuseSeconds: 0 });
    if (notify) fx.toFramework(fw.id, { kind: 'rescind', offerId: offer.id });
  }
  fx.allocate();
}

/** DECLINE: the offers go back, filtered from this framework for `refuseSeconds`. */
export function declineOffers(state: ClusterState, fx: Effects, ctx: OpContext, fw: FrameworkRecord, offerIds: readonly string[], refuseSeconds: number): void {
  for (const id of offerIds) {
    const offer = state.offers.get(id);
    if (!offer || offer.frameworkId !== fw.id) {
      ctx.logger.warn({ framework_id: fw.id, offer_id: id }, `framework ${fw.id} declined unknown offer ${id}; ignored`);
      continue;
    }
    state.offers.take(id);
    fx.cancel({ kind: 'offer-timeout', offerId: offer.id });
    fx.allocator({ call: 'recoverResources', frameworkId: fw.id, agentId: offer.agentId, resources: offer.resources, refuseSeconds });
  }
  fx.allocate();
}
