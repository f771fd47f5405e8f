// What the load scheduler (scheduler-worker.ts) does with one OFFERS event,
// decided apart from the SDK so that it can be tested alone: it packs
// `demand`-sized tasks into the offers in order, at most `perOffer` into one
// offer, while the framework has room for more tasks in flight (launched,
// not yet RUNNING; no bound when maxInFlight is 0); every offer it does not
// use is declined, all of them in one DECLINE, as a framework does that
// answers an event at once rather than offer by offer. An offer held back
// while other frameworks wait is what delays their first offer (hoarding).
import { OfferPacker, type Demand, type OfferOut, type TaskInfoIn } from '../../framework/sdk/index.js';

export interface OfferPlanLimits {
  readonly demand: Demand;
  /** Tasks into one offer at most. */
  readonly perOffer: number;
  /** Tasks in flight the framework allows itself; 0: no bound. */
  readonly maxInFlight: number;
  /** Its tasks in flight now. */
  readonly inFlight: number;
}

export interface OfferPlan {
  readonly launches: readonly { readonly offer: OfferOut; readonly tasks: readonly TaskInfoIn[] }[];
  /** Offers not used: declined together. */
  readonly decline: readonly OfferOut[];
}

/** `newTaskId` names each task (called once per task, in launch order). */
export function planOffers(offers: readonly OfferOut[], limits: OfferPlanLimits, newTaskId: () => string): OfferPlan {
  const launches: { offer: OfferOut; tasks: TaskInfoIn[] }[] = [];
  const decline: OfferOut[] = [];
  let room = limits.maxInFlight > 0 ? Math.max(0, limits.maxInFlight - limits.inFlight) : Infinity;
  for (const offer of offers) {
    const tasks = packTasks(offer, limits.demand, Math.min(room, limits.perOffer), newTaskId);
    room -= tasks.length;
    if (tasks.length > 0) launches.push({ offer, tasks });
    else decline.push(offer);
  }
  return { launches, decline };
}

function packTasks(offer: OfferOut, demand: Demand, max: number, newTaskId: () => string): TaskInfoIn[] {
  const tasks: TaskInfoIn[] = [];
  if (max <= 0) return tasks;
  const packer = OfferPacker.of(offer);
  while (tasks.length < max) {
    const resources = packer.take(demand);
    if (!resources) break;
    const id = newTaskId();
    tasks.push({ name: id, task_id: { value: id }, agent_id: offer.agent_id!, resources: resources.toProto(), command: { value: 'true' } });
  }
  return tasks;
}
