// Turns an ACCEPT call into a plan, without changing anything: which tasks
// launch with which resources, which are refused and why, and what part of
// the offered resources goes back to the pool. The master applies the plan.
//
// Mesos's rules: the offers must exist, be distinct, belong to the caller
// and come from one agent; if not, every task is dropped (TASK_DROPPED, or
// TASK_LOST for frameworks that are not partition aware) with
// REASON_INVALID_OFFERS and any valid offer among them is recovered. A bad
// task gets TASK_ERROR on its own and the others still launch.
import type { Call, TaskInfoOut, TaskState } from '../proto/index.js';
import { InvalidArgument, errorMessage } from '../common/errors.js';
import { Resources } from '../common/resources.js';

export interface OfferView {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly resources: Resources;
}

export interface PlanContext {
  readonly frameworkId: string;
  readonly partitionAware: boolean;
  /** Outstanding offers by id. */
  readonly offers: ReadonlyMap<string, OfferView>;
  /** Task ids of this framework that are not terminal. */
  readonly activeTaskIds: ReadonlySet<string>;
}

export interface Rejection {
  readonly task: TaskInfoOut;
  readonly state: TaskState;
  readonly reason: 'REASON_TASK_INVALID' | 'REASON_INVALID_OFFERS';
  readonly message: string;
}

export interface LaunchPlan {
  readonly agentId: string | null;
  /** Offers consumed by this call (valid ones); they leave the offer book. */
  readonly usedOfferIds: readonly string[];
  readonly launches: readonly { task: TaskInfoOut; resources: Resources }[];
  readonly rejected: readonly Rejection[];
  /** Offered but not launched: recovered with the call's refuse filter. */
  readonly unused: Resources;
}

export function planAccept(accept: NonNullable<Call['accept']>, ctx: PlanContext): LaunchPlan {
  const tasks: TaskInfoOut[] = [];
  accept.operations.forEach((op, i) => {
    if (op.type !== 'LAUNCH') {
      throw new InvalidArgument(`Call.accept.operations[${i}].type ${op.type}: only LAUNCH is supported`);
    }
    if (!op.launch) throw new InvalidArgument(`Call.accept.operations[${i}].launch is required for a LAUNCH operation`);
    tasks.push(...op.launch.task_infos);
  });

  const offerIds = accept.offer_ids.map((o) => o.value);
  const valid = offerIds.map((id) => ctx.offers.get(id)).filter((o): o is OfferView => o?.frameworkId === ctx.frameworkId);
  const problem = offersProblem(offerIds, ctx);
  const offered = valid.reduce((sum, o) => sum.add(o.resources), Resources.EMPTY);
  const usedOfferIds = [...new Set(valid.map((o) => o.id))];
  if (problem) {
    const state: TaskState = ctx.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
    const rejected = tasks.map((task) => ({ task, state, reason: 'REASON_INVALID_OFFERS' as const, message: problem }));
    return { agentId: null, usedOfferIds, launches: [], rejected, unused: offered };
  }

  const agentId = valid[0]!.agentId;
  const launches: { task: TaskInfoOut; resources: Resources }[] = [];
  const rejected: Rejection[] = [];
  const seen = new Set<string>();
  let remaining = offered;
  for (const task of tasks) {
    const error = taskProblem(task, agentId, ctx, seen);
    const resources = error ? Resources.EMPTY : parseTaskResources(task);
    const message = error ?? resourcesProblem(resources, remaining);
    const id = task.task_id?.value ?? '';
    if (id) seen.add(id);
    if (message) {
      rejected.push({ task, state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID', message });
      continue;
    }
    remaining = remaining.subtract(resources);
    launches.push({ task, resources });
  }
  return { agentId, usedOfferIds, launches, rejected, unused: remaining };
}

function offersProblem(offerIds: readonly string[], ctx: PlanContext): string | null {
  if (new Set(offerIds).size !== offerIds.length) return `the offer ids are not distinct: ${offerIds.join(', ')}`;
  const agents = new Set<string>();
  for (const id of offerIds) {
    const offer = ctx.offers.get(id);
    if (!offer) return `offer ${id} is unknown, already used, declined or rescinded`;
    if (offer.frameworkId !== ctx.frameworkId) return `offer ${id} belongs to another framework`;
    agents.add(offer.agentId);
  }
  if (agents.size > 1) return `the offers come from more than one agent (${[...agents].join(', ')}); an ACCEPT takes offers of one agent`;
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
  if (container && container.type !== 'DOCKER') return `task '${id}': only ContainerInfo.type DOCKER is supported, got ${container.type}`;
  if (container && !container.docker?.image) return `task '${id}': ContainerInfo.docker.image is required`;
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
