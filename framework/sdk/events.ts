// The events a Scheduler hands to its user: Mesos's scheduler events, made
// plain (ids as strings, one object per event), plus the client's own
// connection events. The same objects reach EventEmitter listeners
// (`scheduler.on('offers', e => ...)`) and `for await` consumers.
import type { EventOut, InverseOfferOut, MasterInfoOut, OfferOut, TaskStatusOut } from '../../proto/index.js';
import type { MesosError } from '../../common/errors.js';

/**
 * What a Scheduler delivers, to `for await` consumers of events() and to
 * listeners (`scheduler.on(type, ...)`) alike: Mesos's scheduler events made
 * plain, and the client's own connection events (disconnected, reconnected,
 * closed). Switch on `type`.
 */
export type SchedulerEvent =
  /** Subscribed (first time or again after a reconnection). */
  | { readonly type: 'subscribed'; readonly frameworkId: string; readonly heartbeatIntervalSeconds: number; readonly masterInfo: MasterInfoOut | null }
  | { readonly type: 'offers'; readonly offers: readonly OfferOut[] }
  /** The offer is gone: accepting it now would drop the tasks. */
  | { readonly type: 'rescind'; readonly offerId: string }
  /** Maintenance: the machines of these agents go down during each one's `unavailability`; answer with acceptInverseOffers / declineInverseOffers. */
  | { readonly type: 'inverseOffers'; readonly inverseOffers: readonly InverseOfferOut[] }
  | { readonly type: 'rescindInverseOffer'; readonly inverseOfferId: string }
  /** A task status. With autoAcknowledge (the default) the client acknowledges it right after delivery. */
  | { readonly type: 'update'; readonly status: TaskStatusOut }
  | { readonly type: 'message'; readonly agentId: string; readonly executorId: string; readonly data: Buffer }
  /** An agent (executorId null) or an executor was lost. */
  | { readonly type: 'failure'; readonly agentId: string; readonly executorId: string | null; readonly status: number | null }
  | { readonly type: 'heartbeat' }
  /** The subscription broke; the client is reconnecting. Offers held until now are void. */
  | { readonly type: 'disconnected'; readonly reason: MesosError }
  /** Subscribed again with the same FrameworkID (failover): reconcile your tasks now. */
  | { readonly type: 'reconnected'; readonly frameworkId: string }
  /** Mesos's ERROR event: the master removed this framework. The client closes; it does not reconnect. */
  | { readonly type: 'removed'; readonly message: string }
  /** The client stopped: close() (reason null), removal, or too many failed attempts. Always the last event. */
  | { readonly type: 'closed'; readonly reason: MesosError | null };

/** The `type` of a {@link SchedulerEvent}: the event names listeners subscribe to. */
export type SchedulerEventType = SchedulerEvent['type'];

/** Listener arguments per event name, for the typed EventEmitter. */
export type SchedulerEventMap = { [E in SchedulerEvent as E['type']]: [event: E] };

/**
 * Converts a wire event other than SUBSCRIBED and ERROR (the connection
 * handles those). Returns null for events this client does not surface
 * (operation updates, unknown types).
 */
export function fromWireEvent(event: EventOut): SchedulerEvent | null {
  switch (event.type) {
    case 'OFFERS':
      return { type: 'offers', offers: event.offers?.offers ?? [] };
    case 'RESCIND':
      return { type: 'rescind', offerId: event.rescind?.offer_id?.value ?? '' };
    case 'INVERSE_OFFERS':
      return { type: 'inverseOffers', inverseOffers: event.inverse_offers?.inverse_offers ?? [] };
    case 'RESCIND_INVERSE_OFFER':
      return { type: 'rescindInverseOffer', inverseOfferId: event.rescind_inverse_offer?.inverse_offer_id?.value ?? '' };
    case 'UPDATE':
      return event.update?.status ? { type: 'update', status: event.update.status } : null;
    case 'MESSAGE':
      return {
        type: 'message',
        agentId: event.message?.agent_id?.value ?? '',
        executorId: event.message?.executor_id?.value ?? '',
        data: event.message?.data ?? Buffer.alloc(0),
      };
    case 'FAILURE':
      return {
        type: 'failure',
        agentId: event.failure?.agent_id?.value ?? '',
        executorId: event.failure?.executor_id?.value || null,
        status: event.failure?.executor_id?.value ? (event.failure.status ?? null) : null,
      };
    case 'HEARTBEAT':
      return { type: 'heartbeat' };
    default:
      return null;
  }
}

/** True when Mesos expects an ACKNOWLEDGE for this status (it carries a uuid). */
export function needsAcknowledgement(status: TaskStatusOut): boolean {
  return status.uuid !== undefined && status.uuid !== null && status.uuid.length > 0;
}
