// The master's messages as the wire writes them: an operation's AgentMessage
// and FrameworkMessage effects become mesos_ts.internal.MasterMessage and
// mesos.v1.scheduler.Event, with what the master adds from its settings
// (MasterInfo, heartbeat and ping intervals).
import type { EventIn, MasterInfoIn, MasterMessageIn, OfferIn, ResourceIn } from '../../proto/index.js';
import type { AgentMessage, FrameworkMessage } from '../operations/effects.js';
import type { AgentRecord, OfferRecord } from '../state/records.js';

export interface WireSettings {
  readonly info: MasterInfoIn;
  readonly heartbeatInterval: number;
  readonly agentPingInterval: number;
  /** Offer.url's scheme. */
  readonly agentScheme: 'http' | 'https';
}

export function agentWire(agentId: string, message: AgentMessage, settings: WireSettings): MasterMessageIn {
  switch (message.kind) {
    case 'registered':
      return {
        registered: {
          agent_id: { value: agentId }, master_info: settings.info, ping_interval_seconds: settings.agentPingInterval, ...(message.secret ? { secret: message.secret } : {}),
        },
      };
    case 'runTask':
      return { run_task: { framework: message.framework, task: message.task } };
    case 'killTask':
      return {
        kill_task: {
          framework_id: { value: message.frameworkId }, task_id: { value: message.taskId }, ...(message.killPolicy ? { kill_policy: message.killPolicy } : {}),
        },
      };
    case 'acknowledge':
      return { acknowledgement: { agent_id: { value: agentId }, framework_id: { value: message.frameworkId }, task_id: { value: message.taskId }, uuid: message.uuid } };
    case 'shutdownFramework':
      return { shutdown_framework: { framework_id: { value: message.frameworkId } } };
    case 'drain':
      return { drain: message.maxGracePeriod === null ? {} : { max_grace_period: { nanoseconds: Math.round(message.maxGracePeriod * 1e9) } } };
    case 'shutdown':
      return { shutdown: { message: message.message } };
  }
}

export function frameworkWire(message: FrameworkMessage, settings: WireSettings): EventIn {
  switch (message.kind) {
    case 'subscribed':
      return {
        type: 'SUBSCRIBED',
        subscribed: { framework_id: { value: message.frameworkId }, heartbeat_interval_seconds: settings.heartbeatInterval, master_info: settings.info },
      };
    case 'offers':
      return { type: 'OFFERS', offers: { offers: message.offers.map(({ offer, agent }) => offerWire(offer, agent, settings.agentScheme)) } };
    case 'rescind':
      return { type: 'RESCIND', rescind: { offer_id: { value: message.offerId } } };
    case 'inverseOffers':
      return {
        type: 'INVERSE_OFFERS',
        inverse_offers: {
          inverse_offers: message.offers.map(({ id, agent }) => ({
            id: { value: id }, url: agentUrl(agent, settings.agentScheme), framework_id: { value: message.frameworkId }, agent_id: { value: agent.id }, resources: [],
            ...(agent.unavailability ? { unavailability: unavailabilityWire(agent.unavailability) } : {}),
          })),
        },
      };
    case 'rescindInverseOffer':
      return { type: 'RESCIND_INVERSE_OFFER', rescind_inverse_offer: { inverse_offer_id: { value: message.id } } };
  }
}

/** The agent's HTTP endpoint, as Mesos sets Offer.url and InverseOffer.url. */
const agentUrl = (agent: AgentRecord, scheme: 'http' | 'https') => ({ scheme, address: { hostname: agent.info.hostname, ip: agent.ip, port: agent.info.port }, path: '/slave(1)' });

/** A maintenance window as Mesos's Unavailability (nanoseconds). */
export function unavailabilityWire(u: { readonly start: number; readonly duration: number | null }) {
  return { start: { nanoseconds: Math.round(u.start * 1e9) }, ...(u.duration !== null ? { duration: { nanoseconds: Math.round(u.duration * 1e9) } } : {}) };
}

/** An agent's pid as Mesos writes it: `slave(1)@IP:PORT` (tools such as DNS servers for Mesos read it). */
export function agentPid(agent: AgentRecord): string {
  return `slave(1)@${agent.ip || agent.info.hostname}:${agent.info.port}`;
}

/** An offer's ids and hostname, the fields of its Offer message before its resources. */
export function offerIdsWire(offer: OfferRecord, agent: AgentRecord | undefined) {
  return { id: { value: offer.id }, framework_id: { value: offer.frameworkId }, agent_id: { value: offer.agentId }, hostname: agent?.info.hostname ?? '' };
}

/** An offer as Mesos's Offer message. */
export function offerWire(offer: OfferRecord, agent: AgentRecord | undefined, scheme: 'http' | 'https'): OfferIn {
  return {
    ...offerIdsWire(offer, agent),
    // Where the agent's HTTP endpoint is, as Mesos sets it on every offer (clients read it to reach the agent).
    ...(agent ? { url: agentUrl(agent, scheme) } : {}),
    ...(agent?.unavailability ? { unavailability: unavailabilityWire(agent.unavailability) } : {}),
    ...(agent?.info.domain ? { domain: agent.info.domain } : {}),
    resources: markDynamic(offer.resources.toProto(), agent).map((r) => ({ ...r, allocation_info: { role: offer.role } })),
    attributes: agent?.info.attributes ?? [],
    allocation_info: { role: offer.role },
  };
}

/** Marks, in an offer's resources, the reservations that are dynamic (Resources itself does not tell). */
export function markDynamic(resources: ResourceIn[], agent: AgentRecord | undefined): ResourceIn[] {
  const dynamic = agent?.dynamicReservations;
  if (!dynamic || dynamic.isEmpty()) return resources;
  const roles = new Set(dynamic.list().map((e) => `${e.name}(${e.role})`));
  return resources.map((r) => {
    const last = r.reservations?.[r.reservations.length - 1];
    if (!last || !roles.has(`${r.name}(${last.role})`)) return r;
    return { ...r, reservations: [{ ...last, type: 'DYNAMIC' as const }] };
  });
}
