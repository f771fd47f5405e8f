// ACCEPT: the launch plan (../launch-plan.ts) decides; launchTasks applies
// it. A task is indexed in the registry before its agent hears of it, so a
// successor can report on it if the agent never returns: dispatchLaunch,
// run once the registry holds the index, sends it.
import type { Call, TaskInfoIn } from '../../proto/index.js';
import { EMPTY } from '../../common/kept-bytes.js';
import { sharedAgentId, sharedResources } from '../state/shared-parts.js';
import { isTerminal } from '../../common/task-state.js';
import { Resources } from '../../common/resources.js';
import { planAccept } from '../launch-plan.js';
import { taskKeyOf } from '../registry/registry.js';
import { masterStatus } from '../status.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentId, FrameworkRecord, TaskId, TaskRecord } from '../state/records.js';
import type { Effects, OpContext } from './effects.js';
import { applyReservations } from './reservations.js';
import { addTask, masterUpdate } from './task-changes.js';
import { allowsAll, refusal, type Acls } from '../../common/acls.js';
import type { FrameworkInfoOut } from '../../proto/index.js';
import type { PlanAuthorization } from '../launch-plan.js';

const DEFAULT_REFUSE_SECONDS = 5;
/** Mesos caps refuse_seconds at one year. */
const MAX_REFUSE_SECONDS = 365 * 24 * 3600;

export function refuseSeconds(filters: { refuse_seconds: number } | null): number {
  return Math.min(filters ? filters.refuse_seconds : DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS);
}

export function launchTasks(state: ClusterState, fx: Effects, ctx: OpContext, fw: FrameworkRecord, accept: NonNullable<Call['accept']>): void {
  const now = ctx.now;
  // Asked per task id of the ACCEPT: listing the framework's tasks made every ACCEPT cost as much as its tasks.
  const activeTaskIds = { has: (taskId: string) => { const t = state.tasks.get(fw.id, taskId); return t !== undefined && !isTerminal(t.state); } };
  const plan = planAccept(accept, {
    frameworkId: fw.id, partitionAware: fw.partitionAware, offers: state.offers.view(), activeTaskIds,
    dynamicReservations: (agentId) => state.agent(agentId)?.dynamicReservations ?? Resources.EMPTY,
    reservationsSupported: ctx.reservationsSupported, authorize: planAuthorization(ctx.acls, fw.info),
  });
  const offers = plan.usedOfferIds.map((id) => state.offers.take(id)!);
  for (const offer of offers) fx.cancel({ kind: 'offer-timeout', offerId: offer.id });
  for (const why of plan.dropped) ctx.logger.warn({ framework_id: fw.id }, `framework ${fw.id}: ${why}; its resources go back unchanged`);
  const agentId = plan.agentId as AgentId | null;
  if (plan.reservations.length > 0) applyReservations(state, fx, ctx, fw.id, agentId!, plan.reservations);
  for (const r of plan.rejected) {
    const taskId = r.task.task_id?.value || '(no task id)';
    ctx.logger.warn({ framework_id: fw.id, task_id: taskId }, `framework ${fw.id}: task ${taskId} refused: ${r.message}`);
    fx.status(fw.id, masterStatus({ taskId, state: r.state, now, agentId: r.task.agent_id?.value, reason: r.reason, message: r.message }));
  }
  const records: TaskRecord[] = plan.launches.map(({ task, resources }) => ({
    frameworkId: fw.id, agentId: agentId!, taskId: task.task_id!.value as TaskId, ...compactTaskInfo(task, resources), state: 'TASK_STAGING' as const,
    status: null, statusUuid: null, recovered: false, createdAt: now,
  }));
  for (const record of records) {
    addTask(state, fx, record);
    state.launching.add(taskKeyOf(fw.id, record.taskId));
    ctx.logger.info(
      { framework_id: fw.id, agent_id: record.agentId, task_id: record.taskId, offer_ids: plan.usedOfferIds },
      `launching task ${record.taskId} of framework ${fw.id} on agent ${record.agentId} with ${record.resources.toString()}`,
    );
  }
  if (records.length > 0) {
    const tasks = records.map((r) => ({ framework_id: fw.id, task_id: r.taskId, name: r.info.name ?? '', resources: r.resources.toString() }));
    fx.write({ op: 'addTasks', agentId: agentId!, tasks });
    fx.add({ type: 'dispatch', frameworkId: fw.id, taskIds: records.map((r) => r.taskId) });
  }
  // What was offered but not used goes back, filtered for refuse_seconds.
  if (offers.length > 0) {
    const refuse = refuseSeconds(accept.filters);
    // A call that only failed (tasks refused, operations dropped) sets no filter: the framework will retry.
    const refuseNow = plan.launches.length > 0 || plan.reservations.length > 0 || (plan.rejected.length === 0 && plan.dropped.length === 0);
    fx.allocator({ call: 'recoverResources', frameworkId: fw.id, agentId: offers[0]!.agentId, resources: plan.unused, refuseSeconds: refuseNow ? refuse : 0 });
    fx.allocate();
  }
}

/** What the ACLs let this framework do in an ACCEPT (run_tasks, reserve_resources, unreserve_resources), as the framework's principal. */
function planAuthorization(acls: Acls, info: FrameworkInfoOut): PlanAuthorization | undefined {
  if (allowsAll(acls, 'run_tasks') && allowsAll(acls, 'reserve_resources') && allowsAll(acls, 'unreserve_resources')) return undefined;
  const principal = info.principal || null;
  return {
    task: (task) => {
      // As Mesos: the command's user, else the framework's.
      const user = task.command?.user || info.user || '';
      return refusal(acls, 'run_tasks', principal, user, `launch as user '${user}'`);
    },
    reservation: (type, object) => type === 'RESERVE'
      ? refusal(acls, 'reserve_resources', principal, object, `reserve resources for role '${object}'`)
      : refusal(acls, 'unreserve_resources', principal, object, `unreserve resources reserved by principal '${object}'`),
  };
}

/** The registry holds these tasks: each goes to its agent, unless it was killed or its agent or framework left meanwhile. */
export function dispatchLaunch(state: ClusterState, fx: Effects, ctx: OpContext, frameworkId: string, taskIds: readonly string[]): void {
  for (const taskId of taskIds) {
    if (!state.launching.delete(taskKeyOf(frameworkId, taskId))) continue;
    const task = state.tasks.get(frameworkId, taskId);
    if (!task || task.state !== 'TASK_STAGING') continue;
    const fw = state.framework(frameworkId);
    const agent = state.agent(task.agentId);
    if (fw && agent?.connected) {
      fx.toAgent(agent.id, { kind: 'runTask', framework: fw.info, task: task.info });
    } else {
      const why = fw ? `agent ${task.agentId} is not connected` : `framework ${frameworkId} is gone`;
      masterUpdate(state, fx, ctx, task, fw?.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST', 'REASON_AGENT_DISCONNECTED', why);
    }
  }
}

/**
 * The TaskInfo as kept, and its resources: the parts that tasks carry alike
 * shared (state/shared-parts.ts; `resources` is parsed from the TaskInfo's
 * list alone, so equal lists give equal values), and its data, when empty,
 * one shared Buffer (the loader's default gives each an ArrayBuffer of its
 * own, about 180 bytes).
 */
function compactTaskInfo(task: TaskInfoIn, resources: Resources): { info: TaskInfoIn; resources: Resources } {
  if (task.data !== undefined && task.data !== null && task.data.length === 0 && typeof task.data !== 'string') task.data = EMPTY;
  if (task.agent_id) task.agent_id = sharedAgentId(task.agent_id);
  if (!task.resources) return { info: task, resources };
  const shared = sharedResources(task.resources, resources);
  task.resources = shared.list;
  return { info: task, resources: shared.parsed };
}
