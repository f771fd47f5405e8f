// Building the scheduler Calls. Pure: each function returns the Call body
// with `type` set; the Scheduler adds framework_id and sends it. Inputs are
// checked here, once, with messages naming the argument.
import { userInfo } from 'node:os';
import type { CallIn, FrameworkInfoIn, TaskInfoIn, TaskStatusOut } from '../../proto/index.js';
import type { _mesos_v1_Offer_Operation as OperationIn } from '../../proto/gen/mesos/v1/Offer.js';
import type { KillPolicy as KillPolicyIn } from '../../proto/gen/mesos/v1/KillPolicy.js';
import type { _mesos_v1_FrameworkInfo_Capability_Type as CapabilityType } from '../../proto/gen/mesos/v1/FrameworkInfo.js';
import { InvalidArgument } from '../../common/errors.js';

export type { OperationIn, KillPolicyIn, CapabilityType };

/** An offer given by id or as the Offer itself (as OFFERS events carry it). */
export type OfferRef = string | { readonly id?: { readonly value?: string } | null; readonly agent_id?: { readonly value?: string } | null };

/** The FrameworkInfo a scheduler subscribes with, in plain fields; {@link frameworkInfo} builds the message. */
export interface FrameworkOptions {
  /** Shown in the web UI and /master/frameworks. Required. */
  readonly name: string;
  /** Unix user tasks run as. Default: the user running this process. */
  readonly user?: string;
  /** Roles to receive offers for. Giving any adds the MULTI_ROLE capability. Default: the '*' role. */
  readonly roles?: readonly string[];
  /**
   * How long the master keeps this framework's tasks after its stream breaks.
   * Default 0 (Mesos's default): the tasks are killed as soon as it disconnects,
   * so a reconnection finds nothing. Set it > 0 to survive disconnects.
   */
  readonly failoverTimeoutSeconds?: number;
  /** FrameworkInfo capabilities (e.g. 'PARTITION_AWARE', 'TASK_KILLING_STATE'); MULTI_ROLE is added for you when roles are given. */
  readonly capabilities?: readonly CapabilityType[];
  /** The principal the framework authenticates as, when the master checks one. */
  readonly principal?: string;
  /** The host the scheduler runs on, as the master shows it. */
  readonly hostname?: string;
  /** A link to the framework's own UI, shown by the master's web UI. */
  readonly webuiUrl?: string;
  /** Ask agents to checkpoint this framework's tasks so they survive an agent restart. */
  readonly checkpoint?: boolean;
  /** Free-form key/value labels, shown in /state. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Resume an existing framework (failover of a scheduler process). */
  readonly id?: string;
}

/** The FrameworkInfo message for SUBSCRIBE (the Scheduler builds it for you). Throws InvalidArgument naming a bad field. */
export function frameworkInfo(options: FrameworkOptions, frameworkId?: string): FrameworkInfoIn {
  if (!options.name) throw new InvalidArgument('framework.name is required');
  const roles = [...(options.roles ?? [])];
  const capabilities = new Set<CapabilityType>(options.capabilities ?? []);
  if (roles.length > 0) capabilities.add('MULTI_ROLE');
  const failover = options.failoverTimeoutSeconds ?? 0;
  if (!(failover >= 0)) throw new InvalidArgument(`framework.failoverTimeoutSeconds must be >= 0, got ${failover}`);
  const id = frameworkId ?? options.id;
  return {
    name: options.name,
    user: options.user ?? currentUser(),
    roles,
    failover_timeout: failover,
    capabilities: [...capabilities].map((type) => ({ type })),
    ...(options.principal !== undefined && { principal: options.principal }),
    ...(options.hostname !== undefined && { hostname: options.hostname }),
    ...(options.webuiUrl !== undefined && { webui_url: options.webuiUrl }),
    ...(options.checkpoint !== undefined && { checkpoint: options.checkpoint }),
    ...(options.labels && { labels: { labels: Object.entries(options.labels).map(([key, value]) => ({ key, value })) } }),
    ...(id ? { id: { value: id } } : {}),
  };
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for our uid (common in containers).
    return process.env.USER ?? 'root';
  }
}

/** The id of an offer given as an Offer or an id; throws InvalidArgument when there is none. */
export function offerIdOf(offer: OfferRef): string {
  const id = typeof offer === 'string' ? offer : (offer.id?.value ?? '');
  if (!id) throw new InvalidArgument('an offer without an id was given (pass the Offer from an OFFERS event or its id)');
  return id;
}

const asList = <T>(x: T | readonly T[]): readonly T[] => (Array.isArray(x) ? (x as readonly T[]) : [x as T]);

export function filtersOf(refuseSeconds: number | undefined): { refuse_seconds: number } | undefined {
  if (refuseSeconds === undefined) return undefined;
  if (!(refuseSeconds >= 0)) throw new InvalidArgument(`refuseSeconds must be a non-negative number, got ${refuseSeconds}`);
  return { refuse_seconds: refuseSeconds };
}

export function acceptCall(offers: OfferRef | readonly OfferRef[], operations: readonly OperationIn[], refuseSeconds?: number): CallIn {
  const offerIds = asList(offers).map(offerIdOf);
  if (offerIds.length === 0) throw new InvalidArgument('accept needs at least one offer');
  const filters = filtersOf(refuseSeconds);
  return { type: 'ACCEPT', accept: { offer_ids: offerIds.map((value) => ({ value })), operations: [...operations], ...(filters && { filters }) } };
}

/**
 * ACCEPT with one LAUNCH of `tasks`. A task without agent_id gets the agent
 * of the (first) offer, when offers are given as Offer objects.
 */
export function launchCall(offers: OfferRef | readonly OfferRef[], tasks: readonly TaskInfoIn[], refuseSeconds?: number): CallIn {
  const list = asList(offers);
  const first = list[0];
  const agentId = first !== undefined && typeof first !== 'string' ? (first.agent_id?.value ?? '') : '';
  const taskInfos = tasks.map((t, i) => {
    if (t.agent_id?.value) return t;
    if (!agentId) throw new InvalidArgument(`tasks[${i}] has no agent_id and the offers were given as ids only`);
    return { ...t, agent_id: { value: agentId } };
  });
  return acceptCall(list, [{ type: 'LAUNCH', launch: { task_infos: taskInfos } }], refuseSeconds);
}

export function declineCall(offers: OfferRef | readonly OfferRef[], refuseSeconds?: number): CallIn {
  const offerIds = asList(offers).map(offerIdOf);
  if (offerIds.length === 0) throw new InvalidArgument('decline needs at least one offer');
  const filters = filtersOf(refuseSeconds);
  return { type: 'DECLINE', decline: { offer_ids: offerIds.map((value) => ({ value })), ...(filters && { filters }) } };
}

/** ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS: the framework's answer to maintenance on those agents' machines. */
export function inverseOffersCall(accept: boolean, inverseOffers: OfferRef | readonly OfferRef[]): CallIn {
  const ids = asList(inverseOffers).map(offerIdOf).map((value) => ({ value }));
  if (ids.length === 0) throw new InvalidArgument(`${accept ? 'acceptInverseOffers' : 'declineInverseOffers'} needs at least one inverse offer`);
  return accept
    ? { type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: ids } }
    : { type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: ids } };
}

/** REVIVE: clears refuse filters and un-suppresses; no roles = every role of the framework. */
export function reviveCall(roles: readonly string[] = []): CallIn {
  return { type: 'REVIVE', revive: { roles: [...roles] } };
}

/** SUPPRESS: no more offers (for these roles) until REVIVE. */
export function suppressCall(roles: readonly string[] = []): CallIn {
  return { type: 'SUPPRESS', suppress: { roles: [...roles] } };
}

export function killCall(taskId: string, agentId?: string, gracePeriodSeconds?: number): CallIn {
  if (!taskId) throw new InvalidArgument('kill needs a task id');
  const killPolicy: KillPolicyIn | undefined =
    gracePeriodSeconds === undefined ? undefined : { grace_period: { nanoseconds: Math.round(gracePeriodSeconds * 1e9) } };
  return {
    type: 'KILL',
    kill: { task_id: { value: taskId }, ...(agentId && { agent_id: { value: agentId } }), ...(killPolicy && { kill_policy: killPolicy }) },
  };
}

export function acknowledgeCall(status: Pick<TaskStatusOut, 'task_id' | 'agent_id' | 'uuid'>): CallIn {
  const taskId = status.task_id?.value ?? '';
  const agentId = status.agent_id?.value ?? '';
  if (!status.uuid || status.uuid.length === 0) {
    throw new InvalidArgument(`the status of task '${taskId}' has no uuid: it needs no acknowledgement (e.g. it answers a reconciliation)`);
  }
  if (!taskId || !agentId) throw new InvalidArgument(`acknowledge needs the status's task_id and agent_id (got '${taskId}', '${agentId}')`);
  return { type: 'ACKNOWLEDGE', acknowledge: { task_id: { value: taskId }, agent_id: { value: agentId }, uuid: status.uuid } };
}

/** A task to ask the master about in {@link Scheduler.reconcile}; agentId when you know it. */
export interface ReconcileTask {
  readonly taskId: string;
  readonly agentId?: string;
}

/** RECONCILE: no tasks = implicit (the master sends the state of every task it knows). */
export function reconcileCall(tasks: readonly ReconcileTask[] = []): CallIn {
  return {
    type: 'RECONCILE',
    reconcile: { tasks: tasks.map((t) => ({ task_id: { value: t.taskId }, ...(t.agentId && { agent_id: { value: t.agentId } }) })) },
  };
}

export function messageCall(agentId: string, executorId: string, data: Uint8Array | string): CallIn {
  if (!agentId || !executorId) throw new InvalidArgument('message needs an agent id and an executor id');
  return { type: 'MESSAGE', message: { agent_id: { value: agentId }, executor_id: { value: executorId }, data: Buffer.from(data) } };
}

export function teardownCall(): CallIn {
  return { type: 'TEARDOWN' };
}
