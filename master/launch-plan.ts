// Turns an ACCEPT call into a plan, without changing anything: which tasks
// launch with which resources, which are refused and why, which RESERVE and
// UNRESERVE operations apply, and what part of the offered resources goes
// back to the pool. The master applies the plan.
//
// Mesos's rules: the offers must exist, be distinct, belong to the caller
// and come from one agent and one role; if not, every task is dropped
// (TASK_DROPPED, or TASK_LOST for frameworks that are not partition aware)
// with REASON_INVALID_OFFERS and any valid offer among them is recovered. A
// bad task gets TASK_ERROR on its own and the others still launch.
// Operations apply in order, each to what the ones before it left: a LAUNCH
// after a RESERVE may use the reserved resources. A bad RESERVE or UNRESERVE
// is dropped (the master logs why) and changes nothing.
import type { Call, ResourceOut, TaskInfoOut, TaskState } from '../proto/index.js';
import { InvalidArgument, errorMessage } from '../common/errors.js';
import { Resources, UNRESERVED } from '../common/resources.js';

export interface OfferView {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  /** The role the offer is allocated to ('*' when omitted). */
  readonly role?: string;
  readonly resources: Resources;
}

export interface PlanContext {
  readonly frameworkId: string;
  readonly partitionAware: boolean;
  /** Outstanding offers by id. */
  readonly offers: ReadonlyMap<string, OfferView>;
  /** Task ids of this framework that are not terminal. */
  /** The framework's task ids still in use (not terminal): asked per task id, never listed. */
  readonly activeTaskIds: { has(taskId: string): boolean };
  /** What is dynamically reserved on an agent: UNRESERVE releases only that (none when omitted). */
  readonly dynamicReservations?: (agentId: string) => Resources;
  /** False when the allocator cannot apply RESERVE/UNRESERVE: they are dropped. */
  readonly reservationsSupported?: boolean;
  /** Authorization (--acls): why a task may not launch, or a RESERVE/UNRESERVE not apply; null when allowed (everything, when omitted). */
  readonly authorize?: PlanAuthorization;
}

export interface PlanAuthorization {
  /** run_tasks, for the user the task runs as. */
  readonly task: (task: TaskInfoOut) => string | null;
  /** reserve_resources for `role`; unreserve_resources of what `reserver` (a reservation's principal, '' when unset) reserved. */
  readonly reservation: (type: 'RESERVE' | 'UNRESERVE', roleOrReserver: string) => string | null;
}

export interface Rejection {
  readonly task: TaskInfoOut;
  readonly state: TaskState;
  readonly reason: 'REASON_TASK_INVALID' | 'REASON_INVALID_OFFERS' | 'REASON_TASK_UNAUTHORIZED';
  readonly message: string;
}

/** RESERVE: `from` (unreserved) becomes `to` (reserved for the offers' role); UNRESERVE the reverse. */
export interface ReservationChange {
  readonly type: 'RESERVE' | 'UNRESERVE';
  readonly from: Resources;
  readonly to: Resources;
}

export interface LaunchPlan {
  readonly agentId: string | null;
  /** Offers consumed by this call (valid ones); they leave the offer book. */
  readonly usedOfferIds: readonly string[];
  readonly launches: readonly { task: TaskInfoOut; resources: Resources }[];
  readonly rejected: readonly Rejection[];
  /** RESERVE / UNRESERVE operations to apply, in order. */
  readonly reservations: readonly ReservationChange[];
  /** Why each dropped operation was dropped, for the master's log. */
  readonly dropped: readonly string[];
  /** Offered but not launched (after the operations): recovered with the call's refuse filter. */
  readonly unused: Resources;
}

type Operation = NonNullable<Call['accept']>['operations'][number];

export function planAccept(accept: NonNullable<Call['accept']>, ctx: PlanContext): LaunchPlan {
  accept.operations.forEach(checkOperation);
  const offerIds = accept.offer_ids.map((o) => o.value);
  const valid = offerIds.map((id) => ctx.offers.get(id)).filter((o): o is OfferView => o?.frameworkId === ctx.frameworkId);
  const problem = offersProblem(offerIds, ctx);
  const offered = valid.reduce((sum, o) => sum.add(o.resources), Resources.EMPTY);
  const usedOfferIds = [...new Set(valid.map((o) => o.id))];
  if (problem) {
    const state: TaskState = ctx.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
    const tasks = accept.operations.flatMap((op) => op.launch?.task_infos ?? []);
    const rejected = tasks.map((task) => ({ task, state, reason: 'REASON_INVALID_OFFERS' as const, message: problem }));
    const dropped = accept.operations.flatMap((op, i) => (op.type === 'LAUNCH' ? [] : [`${label(op, i)} dropped: ${problem}`]));
    return { agentId: null, usedOfferIds, launches: [], rejected, reservations: [], dropped, unused: offered };
  }

  const agentId = valid[0]!.agentId;
  const role = valid[0]!.role ?? UNRESERVED;
  const launches: { task: TaskInfoOut; resources: Resources }[] = [];
  const rejected: Rejection[] = [];
  const reservations: ReservationChange[] = [];
  const dropped: string[] = [];
  const seen = new Set<string>();
  let remaining = offered;
  let dynamic = ctx.dynamicReservations?.(agentId) ?? Resources.EMPTY;
  for (const [i, op] of accept.operations.entries()) {
    if (op.type !== 'LAUNCH') {
      const change = reservationChange(op, i, { role, remaining, dynamic, agentId, supported: ctx.reservationsSupported ?? true });
      const refused = typeof change === 'string' ? change : reservationRefusal(op, change, role, ctx.authorize);
      if (typeof change === 'string' || refused !== null) {
        dropped.push(`${label(op, i)} dropped: ${refused ?? ''}`);
        continue;
      }
      remaining = remaining.subtract(change.from).add(change.to);
      dynamic = change.type === 'RESERVE' ? dynamic.add(change.to) : dynamic.subtract(change.from);
      reservations.push(change);
      continue;
    }
    for (const task of op.launch!.task_infos) {
      const error = taskProblem(task, agentId, ctx, seen);
      const resources = error ? Resources.EMPTY : parseTaskResources(task);
      const message = error ?? resourcesProblem(resources, remaining);
      const id = task.task_id?.value ?? '';
      if (id) seen.add(id);
      if (message) {
        rejected.push({ task, state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID', message });
        continue;
      }
      const unauthorized = ctx.authorize?.task(task) ?? null;
      if (unauthorized !== null) {
        rejected.push({ task, state: 'TASK_ERROR', reason: 'REASON_TASK_UNAUTHORIZED', message: unauthorized });
        continue;
      }
      remaining = remaining.subtract(resources);
      launches.push({ task, resources });
    }
  }
  return { agentId, usedOfferIds, launches, rejected, reservations, dropped, unused: remaining };
}

/** A valid RESERVE or UNRESERVE the ACLs refuse: reserve_resources asks about the role, unreserve_resources about each reservation's principal. */
function reservationRefusal(op: Operation, change: ReservationChange, role: string, authorize: PlanAuthorization | undefined): string | null {
  if (!authorize) return null;
  if (change.type === 'RESERVE') return authorize.reservation('RESERVE', role);
  const reservers = new Set((op.unreserve?.resources ?? []).map((r) => r.reservations?.at(-1)?.principal ?? ''));
  for (const reserver of reservers) {
    const refused = authorize.reservation('UNRESERVE', reserver);
    if (refused !== null) return refused;
  }
  return null;
}

const PAYLOAD = { LAUNCH: 'launch', RESERVE: 'reserve', UNRESERVE: 'unreserve' } as const;

/** Operation types and payloads: a malformed call is refused whole, before anything changes. */
function checkOperation(op: Operation, i: number): void {
  const field = `Call.accept.operations[${i}]`;
  const payload = PAYLOAD[op.type as keyof typeof PAYLOAD] as (typeof PAYLOAD)[keyof typeof PAYLOAD] | undefined;
  if (!payload) throw new InvalidArgument(`${field}.type ${op.type}: only LAUNCH, RESERVE and UNRESERVE are supported`);
  if (!op[payload]) throw new InvalidArgument(`${field}.${payload} is required for a ${op.type} operation`);
}

const label = (op: Operation, i: number): string => `Call.accept.operations[${i}] (${op.type})`;

interface ReservationScope {
  /** The offers' role: the only one a framework may reserve for or unreserve from here. */
  readonly role: string;
  /** Offered resources left by the operations before. */
  readonly remaining: Resources;
  readonly dynamic: Resources;
  readonly agentId: string;
  readonly supported: boolean;
}

/** A RESERVE or UNRESERVE as a change, or why it is dropped. */
function reservationChange(op: Operation, i: number, scope: ReservationScope): ReservationChange | string {
  const field = `Call.accept.operations[${i}].${op.type === 'RESERVE' ? 'reserve' : 'unreserve'}`;
  if (!scope.supported) return "this master's allocator does not support dynamic reservations (it has no updateAllocation)";
  const list = (op.type === 'RESERVE' ? op.reserve!.resources : op.unreserve!.resources) ?? [];
  if (list.length === 0) return `${field}.resources is empty`;
  if (scope.role === UNRESERVED) return "the offers are allocated to role '*'; only a framework's own role can hold reservations";
  let resources: Resources;
  try {
    resources = Resources.fromProto(list, `${field}.resources`);
  } catch (err) {
    return errorMessage(err);
  }
  return op.type === 'RESERVE' ? reserve(op.reserve!, list, resources, field, scope) : unreserve(resources, field, scope);
}

function reserve(op: NonNullable<Operation['reserve']>, list: ResourceOut[], to: Resources, field: string, scope: ReservationScope): ReservationChange | string {
  for (const [j, r] of list.entries()) {
    const where = `${field}.resources[${j}] ('${r.name}')`;
    const reservations = r.reservations ?? [];
    if (reservations.length === 0) return `${where} has no reservations; give [{ type: DYNAMIC, role: '${scope.role}' }]`;
    if (reservations.length > 1) return `${where}: reservation refinement (several reservations) is not supported`;
    const { type, role } = reservations[0]!;
    if (type !== 'DYNAMIC') return `${where}.reservations[0].type must be DYNAMIC, got ${String(type)}`;
    if (role !== scope.role) return `${where}.reservations[0].role '${role}' is not the offers' role '${scope.role}'`;
  }
  const from = to.withRole(UNRESERVED);
  if (op.source.length > 0) {
    let source: Resources;
    try {
      source = Resources.fromProto(op.source, `${field}.source`);
    } catch (err) {
      return errorMessage(err);
    }
    if (!source.equals(from)) return `${field}.source (${source.toString()}) is not the unreserved form of ${field}.resources (${from.toString()})`;
  }
  if (scope.remaining.contains(from)) return { type: 'RESERVE', from, to };
  const unreserved = scope.remaining.filter((e) => e.role === UNRESERVED);
  return `reserving ${to.toString()} needs ${from.toString()} but the offers hold only ${unreserved.toString() || 'nothing'} unreserved (after the operations before it)`;
}

function unreserve(from: Resources, field: string, scope: ReservationScope): ReservationChange | string {
  for (const e of from.list()) {
    if (e.role === UNRESERVED) return `${field}.resources: '${e.name}' is not reserved`;
    if (e.role !== scope.role) return `${field}.resources: '${e.name}' is reserved for '${e.role}', not for the offers' role '${scope.role}'`;
  }
  if (!scope.remaining.contains(from)) {
    return `unreserving ${from.toString()} but the offers hold only ${scope.remaining.toString() || 'nothing'} (after the operations before it)`;
  }
  if (!scope.dynamic.contains(from)) {
    return `${from.toString()} is not dynamically reserved on agent ${scope.agentId} (reservations from the agent's --resources cannot be unreserved)`;
  }
  return { type: 'UNRESERVE', from, to: from.withRole(UNRESERVED) };
}

function offersProblem(offerIds: readonly string[], ctx: PlanContext): string | null {
  if (new Set(offerIds).size !== offerIds.length) return `the offer ids are not distinct: ${offerIds.join(', ')}`;
  const agents = new Set<string>();
  const roles = new Set<string>();
  for (const id of offerIds) {
    const offer = ctx.offers.get(id);
    if (!offer) return `offer ${id} is unknown, already used, declined or rescinded`;
    if (offer.frameworkId !== ctx.frameworkId) return `offer ${id} belongs to another framework`;
    agents.add(offer.agentId);
    roles.add(offer.role ?? UNRESERVED);
  }
  if (agents.size > 1) return `the offers come from more than one agent (${[...agents].join(', ')}); an ACCEPT takes offers of one agent`;
  if (roles.size > 1) return `the offers are allocated to more than one role (${[...roles].join(', ')}); an ACCEPT takes offers of one role`;
  return null;
}

const TASK_ID = /^[^\s/]+$/;

function taskProblem(task: TaskInfoOut, agentId: string, ctx: PlanContext, seen: ReadonlySet<string>): string | null {
  const id = task.task_id?.value ?? '';
  if (!id) return 'TaskInfo.task_id is required';
  if (!TASK_ID.test(id) || id === '.' || id === '..') return `task id '${id}' must be non-empty and hold no whitespace or '/'`;
  if (ctx.activeTaskIds.has(id) || seen.has(id)) return `task id '${id}' is already in use by a task of this framework`;
  if (!task.name) return `task '${id}': TaskInfo.name is required`;
  const target = task.agent_id?.value ?? '';
  if (target !== agentId) return `task '${id}': TaskInfo.agent_id '${target}' is not the agent of the offers ('${agentId}')`;
  if (task.executor) return `task '${id}': custom executors are not supported; give TaskInfo.command (and TaskInfo.container)`;
  const container = task.container;
  if (container && container.type !== 'DOCKER' && container.type !== 'MESOS') return `task '${id}': ContainerInfo.type must be DOCKER or MESOS, got ${container.type}`;
  if (container?.type === 'DOCKER' && !container.docker?.image) return `task '${id}': ContainerInfo.docker.image is required`;
  if (container?.type === 'MESOS') {
    const image = container.mesos?.image;
    if (image && image.type !== 'DOCKER') return `task '${id}': ContainerInfo.mesos.image.type must be DOCKER, got ${String(image.type ?? 'none')}`;
    if (image && !image.docker?.name) return `task '${id}': ContainerInfo.mesos.image.docker.name is required`;
    if (!task.command) return `task '${id}': TaskInfo.command is required for a MESOS container`;
  }
  if (!task.command && !container) return `task '${id}': TaskInfo.command or TaskInfo.container is required`;
  if (task.command && task.command.shell && !task.command.value) return `task '${id}': CommandInfo.value is required for a shell command`;
  try {
    const resources = parseTaskResources(task);
    if (resources.scalar('cpus') <= 0) return `task '${id}': TaskInfo.resources must include cpus > 0`;
    if (resources.scalar('mem') <= 0) return `task '${id}': TaskInfo.resources must include mem > 0`;
  } catch (err) {
    return `task '${id}': ${errorMessage(err)}`;
  }
  return null;
}

function parseTaskResources(task: TaskInfoOut): Resources {
  return Resources.fromProto(task.resources, 'TaskInfo.resources');
}

function resourcesProblem(asked: Resources, remaining: Resources): string | null {
  if (remaining.contains(asked)) return null;
  return `task asks for ${asked.toString()} but the offers hold only ${remaining.toString() || 'nothing'} (after the tasks before it)`;
}
