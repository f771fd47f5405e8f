// What an operation asks the driver to do. An operation changes the
// cluster state (../state/) and returns its effects as data; the driver
// (../master.ts) persists the registry changes first and carries out the
// rest, in order, only once the registry holds them ("write before act").
// Cluster events (for the operator stream and the metrics) describe the
// state itself: they are emitted as the operation returns, so a subscriber's
// snapshot of the state and the events after it never overlap.
import type { FrameworkInfoOut, KillPolicyOut, MasterInfoIn, TaskInfoIn, TaskStatusIn } from '../../proto/index.js';
import type { IdGenerator } from '../../common/ids.js';
import type { Resources } from '../../common/resources.js';
import type { RegistryOp, RegistryView } from '../registry/registry.js';
import type { FrameworkSpec } from '../allocator/allocator.js';
import type { MasterEvent } from '../cluster-events.js';
import type { AgentId, AgentRecord, FrameworkId, OfferId, OfferRecord, TaskId } from '../state/records.js';
import type { Logger } from '../../common/log/logger.js';
import type { Acls } from '../../common/acls.js';

/**
 * What the master tells an agent; the adapter (../rpc/wire.ts) writes the
 * wire message. FrameworkInfo, TaskInfo and kill policies travel as the
 * master received them.
 */
export type AgentMessage =
  /** With `secret` when one was issued now: the agent keeps it and presents it when it re-registers. */
  | { readonly kind: 'registered'; readonly agentId: AgentId; readonly secret?: string }
  | { readonly kind: 'runTask'; readonly framework: FrameworkInfoOut; readonly task: TaskInfoIn }
  | { readonly kind: 'killTask'; readonly frameworkId: FrameworkId; readonly taskId: TaskId | string; readonly killPolicy?: KillPolicyOut }
  | { readonly kind: 'acknowledge'; readonly frameworkId: FrameworkId | string; readonly taskId: TaskId | string; readonly uuid: Buffer }
  | { readonly kind: 'shutdownFramework'; readonly frameworkId: FrameworkId }
  /** DRAIN_AGENT: kill every task (grace capped at maxGracePeriod seconds), take no new one. */
  | { readonly kind: 'drain'; readonly maxGracePeriod: number | null }
  /** The agent was removed (machine DOWN, marked gone): kill everything and exit. */
  | { readonly kind: 'shutdown'; readonly message: string };

/** What the master tells a scheduler besides status updates; the adapter (../rpc/wire.ts) writes the event. */
export type FrameworkMessage =
  | { readonly kind: 'subscribed'; readonly frameworkId: FrameworkId }
  /** Each offer with the agent it is on, as the agent was when the offer was made. */
  | { readonly kind: 'offers'; readonly offers: readonly { readonly offer: OfferRecord; readonly agent: AgentRecord }[] }
  | { readonly kind: 'rescind'; readonly offerId: OfferId }
  /** Maintenance: the agent's machine goes down during `unavailability`; the framework may accept or decline. */
  | { readonly kind: 'inverseOffers'; readonly frameworkId: FrameworkId; readonly offers: readonly { readonly id: string; readonly agent: AgentRecord }[] }
  | { readonly kind: 'rescindInverseOffer'; readonly id: string };

/** A fact for the allocator (the Allocator interface's calls, as data). */
export type AllocatorFact =
  | { readonly call: 'addFramework'; readonly frameworkId: FrameworkId; readonly spec: FrameworkSpec; readonly used: ReadonlyMap<string, Resources> }
  | { readonly call: 'removeFramework'; readonly frameworkId: FrameworkId }
  | { readonly call: 'setFrameworkActive'; readonly frameworkId: FrameworkId; readonly active: boolean }
  | { readonly call: 'suppress'; readonly frameworkId: FrameworkId; readonly roles?: readonly string[] }
  | { readonly call: 'revive'; readonly frameworkId: FrameworkId; readonly roles?: readonly string[] }
  | { readonly call: 'addAgent'; readonly agentId: AgentId; readonly total: Resources; readonly used: ReadonlyMap<string, Resources> }
  | { readonly call: 'removeAgent'; readonly agentId: AgentId }
  | {
      readonly call: 'recoverResources';
      readonly frameworkId: FrameworkId;
      readonly agentId: AgentId;
      readonly resources: Resources;
      readonly refuseSeconds: number;
    }
  | { readonly call: 'updateAllocation'; readonly frameworkId: FrameworkId; readonly agentId: AgentId; readonly from: Resources; readonly to: Resources }
  | { readonly call: 'updateWeights'; readonly weights: ReadonlyMap<string, number> }
  | { readonly call: 'setQuota'; readonly role: string; readonly quota: { readonly guarantee?: Resources; readonly limit?: Resources } | null };

/** A timer the driver's deadlines service keeps; when it fires, the driver applies the matching operation. */
export type Deadline =
  | { readonly kind: 'offer-timeout'; readonly offerId: OfferId }
  | { readonly kind: 'failover-timeout'; readonly frameworkId: FrameworkId }
  | { readonly kind: 'reregister-timeout'; readonly agentId: AgentId; readonly waited: number }
  | { readonly kind: 'agent-gone'; readonly agentId: AgentId };

export const deadlineKey = (d: Deadline): string =>
  `${d.kind}:${'offerId' in d ? d.offerId : 'frameworkId' in d ? d.frameworkId : d.agentId}`;

export type Effect =
  | { readonly type: 'toAgent'; readonly agentId: AgentId; readonly message: AgentMessage }
  | { readonly type: 'toFramework'; readonly frameworkId: FrameworkId; readonly message: FrameworkMessage }
  /** A status update for a framework (an UPDATE event), counted for the metrics. */
  | { readonly type: 'status'; readonly frameworkId: FrameworkId; readonly status: TaskStatusIn }
  /** Attach the subscribing scheduler's stream (SUBSCRIBED follows; the driver sends HEARTBEATs while it is open). */
  | { readonly type: 'openStream'; readonly frameworkId: FrameworkId; readonly streamId: string }
  /** End the framework's stream; with `error`, an ERROR event goes first. */
  | { readonly type: 'closeStream'; readonly frameworkId: FrameworkId; readonly streamId: string; readonly error?: string }
  /** Forget the framework's stream, which its scheduler already closed. */
  | { readonly type: 'dropStream'; readonly frameworkId: FrameworkId; readonly streamId: string }
  /** Bind the agent's link `linkId` (it receives the agent's messages from now on). */
  | { readonly type: 'attachAgent'; readonly agentId: AgentId; readonly linkId: number }
  /** Close the agent's link `linkId` (a newer one replaced it), telling the agent why. */
  | { readonly type: 'closeAgent'; readonly agentId: AgentId; readonly linkId: number; readonly reason: string }
  | { readonly type: 'allocator'; readonly fact: AllocatorFact }
  /** Run an allocation pass soon (coalesced). */
  | { readonly type: 'allocate' }
  | { readonly type: 'arm'; readonly deadline: Deadline; readonly at: number }
  | { readonly type: 'cancel'; readonly deadline: Deadline }
  /** The registry holds these tasks: send them to their agent (the dispatchLaunch operation). */
  | { readonly type: 'dispatch'; readonly frameworkId: FrameworkId; readonly taskIds: readonly TaskId[] };

/** The master's settings operations consult. */
export interface MasterConfig {
  readonly info: MasterInfoIn;
  /** Seconds before an unused offer is rescinded; 0 keeps offers until used. */
  readonly offerTimeout: number;
  readonly heartbeatInterval: number;
  /** Seconds a recovered agent has to re-register after a failover before its tasks are unreachable. */
  readonly agentReregisterTimeout: number;
  readonly agentPingInterval: number;
  /** Seconds an agent whose link closed has to come back before it is unreachable. */
  readonly agentDisconnectTimeout: number;
  /** Seconds an agent may stay unreachable before it is gone (its tasks TASK_GONE). */
  readonly registryMaxAgentAge: number;
  /** The scheme of agents' HTTP endpoints in Offer.url: 'https' when the cluster speaks TLS. */
  readonly agentScheme: 'http' | 'https';
}

/** What an operation may use besides the state: time, ids, settings, the registry's model. */
export interface OpContext {
  readonly now: number;
  readonly ids: IdGenerator;
  /** A new agent secret (random; injected so tests may fix it). */
  readonly newSecret: () => string;
  readonly config: MasterConfig;
  readonly registry: RegistryView;
  /** False when the allocator cannot apply RESERVE/UNRESERVE: they are dropped. */
  readonly reservationsSupported: boolean;
  /** The master's logger: an operation names its ids as fields (framework_id, agent_id, task_id, offer_id). */
  readonly logger: Logger;
  /** The --acls (common/acls.ts): operations refuse, changing nothing, what they deny. */
  readonly acls: Acls;
}

/** Collects an operation's registry changes, effects and events, each in order. */
export class Effects {
  readonly persist: RegistryOp[] = [];
  readonly effects: Effect[] = [];
  readonly events: MasterEvent[] = [];

  write(change: RegistryOp): void {
    this.persist.push(change);
  }

  add(effect: Effect): void {
    this.effects.push(effect);
  }

  toAgent(agentId: AgentId, message: AgentMessage): void {
    this.add({ type: 'toAgent', agentId, message });
  }

  toFramework(frameworkId: FrameworkId, message: FrameworkMessage): void {
    this.add({ type: 'toFramework', frameworkId, message });
  }

  status(frameworkId: FrameworkId, status: TaskStatusIn): void {
    this.add({ type: 'status', frameworkId, status });
  }

  allocator(fact: AllocatorFact): void {
    this.add({ type: 'allocator', fact });
  }

  allocate(): void {
    this.add({ type: 'allocate' });
  }

  arm(deadline: Deadline, at: number): void {
    this.add({ type: 'arm', deadline, at });
  }

  cancel(deadline: Deadline): void {
    this.add({ type: 'cancel', deadline });
  }

  emit(event: MasterEvent): void {
    this.events.push(event);
  }
}
