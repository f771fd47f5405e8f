// Task operations after launch: status updates from agents, acknowledgements
// and kills from schedulers, and reconciliation answers.
import type { AgentMessageOut, KillPolicyOut, TaskStatusIn } from '../../proto/index.js';
import { FailedPrecondition, NotFound } from '../../common/errors.js';
import { isTerminal } from '../../common/task-state.js';
import { taskKeyOf } from '../registry/registry.js';
import { masterStatus, reconciliationStatus } from '../status.js';
import { checkDrained } from './operator-calls.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentId, FrameworkId, FrameworkRecord, TaskRecord } from '../state/records.js';
import type { Effects, OpContext } from './effects.js';
import { masterUpdate, moveTask, recoverTask, setStatus } from './task-changes.js';

type AgentStatus = NonNullable<NonNullable<AgentMessageOut['status_update']>['status']>;

/** An update from an agent: applied to the task and forwarded to its framework, which acknowledges it. */
export function applyStatusUpdate(state: ClusterState, fx: Effects, ctx: OpContext, agentId: string, frameworkId: string, status: AgentStatus): void {
  const taskId = status.task_id!.value;
  const key = taskKeyOf(frameworkId, taskId);
  const task = state.tasks.get(frameworkId, taskId);
  if (task && task.agentId !== agentId) {
    // An agent reports only its own tasks: one forging another's update would free resources a container still holds.
    ctx.logger.warn(
      { agent_id: agentId, framework_id: frameworkId, task_id: taskId },
      `agent ${agentId} sent ${status.state} for task ${taskId} of framework ${frameworkId}, which runs on agent ${task.agentId}: ignored`,
    );
    return;
  }
  if (state.wasRemoved(frameworkId) || state.silenced.has(key)) {
    // The framework is gone, or was told the task is lost: nobody will acknowledge, so the master does.
    acknowledgeToAgent(fx, agentId as AgentId, frameworkId, taskId, status.uuid);
    if (isTerminal(status.state)) state.silenced.delete(key);
    return;
  }
  if (task) {
    const result = moveTask(state, fx, task, status.state);
    if (result === 'illegal') {
      // Routine after a failover: an agent redelivers the updates it had not had acknowledged, behind the state it
      // reported when it re-registered. One line each, at INFO: thousands of them at once are no warning.
      ctx.logger.info({ agent_id: agentId, framework_id: task.frameworkId, task_id: task.taskId },
        `agent ${agentId}: task ${task.taskId} stays ${task.state} (${status.state} cannot follow it); the update is forwarded to its framework for acknowledgement`);
    } else {
      setStatus(task, status);
      if (isTerminal(task.state)) recoverTask(state, fx, task);
    }
    // As Mesos's Master::forward: the update forwarded is now the latest the framework will hear, even one
    // behind the task's state (an agent redelivering what it had not had acknowledged when it re-registered).
    task.statusUuid = status.uuid.length > 0 ? status.uuid : null;
    task.statusUpdateState = status.uuid.length > 0 ? status.state : null;
  }
  fx.status(frameworkId as FrameworkId, status);
  const agent = state.agent(agentId);
  if (agent?.drain && isTerminal(status.state)) checkDrained(state, fx, ctx, agent);
}

/** ACKNOWLEDGE: passed on to the agent; the final update acknowledged, the task leaves the active set. */
export function acknowledgeUpdate(state: ClusterState, fx: Effects, fw: FrameworkRecord, ack: { agentId: string; taskId: string; uuid: Buffer }): void {
  const agentId = ack.agentId as AgentId;
  const taskId = ack.taskId;
  if (!state.agent(agentId)) throw new NotFound(`acknowledge: agent ${agentId} is unknown`);
  acknowledgeToAgent(fx, agentId, fw.id, taskId, ack.uuid);
  const task = state.tasks.get(fw.id, taskId);
  // As Mesos: the task leaves once the terminal update is acknowledged, not an earlier one still redelivered.
  if (task && isTerminal(task.state) && isTerminal(task.statusUpdateState ?? task.state) && task.statusUuid?.equals(ack.uuid)) state.tasks.complete(task);
}

function acknowledgeToAgent(fx: Effects, agentId: AgentId, frameworkId: string, taskId: string, uuid: Buffer): void {
  if (uuid.length === 0) return;
  fx.toAgent(agentId, { kind: 'acknowledge', frameworkId, taskId, uuid });
}

/** KILL: sent to the task's agent (or kept until it comes back); a task not yet sent is killed here. */
export interface Kill {
  readonly taskId: string;
  readonly agentId?: string;
  readonly killPolicy?: KillPolicyOut;
}

export function killTask(state: ClusterState, fx: Effects, ctx: OpContext, fw: FrameworkRecord, kill: Kill): void {
  const taskId = kill.taskId;
  const task = state.tasks.get(fw.id, taskId);
  if (task && isTerminal(task.state)) {
    // Already ended: tell the framework what we know, as Mesos does.
    return fx.status(fw.id, latestTaskState(task, ctx.now));
  }
  if (!task) {
    // Unknown: answered as an explicit reconciliation is (Mesos reconciles it). Not at all while the task's agent has not
    // re-registered since this master took over: a TASK_LOST then would be followed by the task's real end.
    const answer = unknownTaskAnswer(state, ctx, fw, taskId, kill.agentId);
    if (!answer) return;
    return fx.status(fw.id, masterStatus({ taskId, now: ctx.now, agentId: kill.agentId, reason: 'REASON_RECONCILIATION', ...answer, message: `kill: task ${taskId} is unknown to the master` }));
  }
  if (state.isLaunching(fw.id, taskId)) {
    // Not yet sent to its agent: it never will be.
    return masterUpdate(state, fx, ctx, task, 'TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', `task ${taskId} was killed before it reached its agent`);
  }
  const agent = state.agent(task.agentId);
  if (agent?.connected) fx.toAgent(agent.id, { kind: 'killTask', frameworkId: fw.id, taskId: task.taskId, ...(kill.killPolicy ? { killPolicy: kill.killPolicy } : {}) });
  else agent?.pendingKills.set(taskId, { frameworkId: fw.id, taskId: task.taskId });
}

/**
 * Explicit reconciliation answers for each named task; implicit (no tasks)
 * answers for every task the master knows of this framework. Answers carry
 * REASON_RECONCILIATION and no uuid.
 */
export function reconcileTasks(state: ClusterState, fx: Effects, ctx: OpContext, fw: FrameworkRecord, tasks: readonly { taskId: string; agentId?: string }[]): void {
  const now = ctx.now;
  if (tasks.length === 0) {
    for (const task of state.tasks.ofFramework(fw.id)) fx.status(fw.id, latestTaskState(task, now));
    return;
  }
  for (const { taskId, agentId } of tasks) {
    const task = state.tasks.get(fw.id, taskId) ?? state.tasks.completedTasks().find((t) => t.frameworkId === fw.id && t.taskId === taskId);
    if (task) {
      fx.status(fw.id, latestTaskState(task, now));
      continue;
    }
    const answer = unknownTaskAnswer(state, ctx, fw, taskId, agentId);
    if (!answer) continue; // On an agent that has not re-registered since this master took over: no answer yet, as in Mesos.
    fx.status(fw.id, masterStatus({ taskId, now, agentId, reason: 'REASON_RECONCILIATION', ...answer }));
  }
}

/**
 * "Reconciliation: Latest task state", as Mesos's Master::reconcile makes it: the state of the
 * update the framework hears next or heard last (status_update_state) when there is one, else the
 * task's state. An agent that re-registers reports its task's latest state while it is still
 * delivering earlier updates: answering that state would have the framework see, say, FINISHED
 * and then the STARTING and RUNNING still on their way.
 */
function latestTaskState(task: TaskRecord, now: number): TaskStatusIn {
  const answer = reconciliationStatus(task.status ?? masterStatus({ taskId: task.taskId, state: task.state, now, agentId: task.agentId }), now);
  return { ...answer, state: task.statusUpdateState ?? task.state };
}

/** What the master can say of a task it does not know, given the agent the framework names. */
function unknownTaskAnswer(state: ClusterState, ctx: OpContext, fw: FrameworkRecord, taskId: string, agentId: string | undefined) {
  const pa = fw.partitionAware;
  if (agentId === undefined) {
    const pending = [...state.agents.values()].some((a) => a.recovered && ctx.registry.agents.get(a.id)?.tasks.has(taskKeyOf(fw.id, taskId)));
    return pending ? null : { state: pa ? ('TASK_UNKNOWN' as const) : ('TASK_LOST' as const), message: 'Reconciliation: Task is unknown' };
  }
  const agent = state.agent(agentId);
  if (agent?.recovered) return null;
  if (ctx.registry.agents.get(agentId)?.gone_time != null) {
    return { state: pa ? ('TASK_GONE' as const) : ('TASK_LOST' as const), message: 'Reconciliation: Task is gone' };
  }
  if (agent && agent.unreachableSince !== null) {
    return { state: pa ? ('TASK_UNREACHABLE' as const) : ('TASK_LOST' as const), message: 'Reconciliation: Task is unreachable' };
  }
  if (agent?.connected) return { state: pa ? ('TASK_GONE' as const) : ('TASK_LOST' as const), message: 'Reconciliation: Task is unknown to the agent' };
  return { state: pa ? ('TASK_UNKNOWN' as const) : ('TASK_LOST' as const), message: 'Reconciliation: Task is unknown' };
}

/**
 * MESSAGE and SHUTDOWN address executors. mesos-ts runs each task as a
 * plain container; as with Mesos's command executor, a task's executor id
 * is its task id. SHUTDOWN of that executor kills the task; MESSAGE has no
 * executor process to deliver to, and says so rather than drop the data.
 */
export function executorCall(
  state: ClusterState, fx: Effects, ctx: OpContext, fw: FrameworkRecord, call: { type: 'MESSAGE' | 'SHUTDOWN'; agentId: string; executorId: string },
): void {
  const { agentId, executorId } = call;
  if (!state.agent(agentId)) throw new NotFound(`${call.type.toLowerCase()}: agent ${agentId} is unknown`);
  const task = state.tasks.get(fw.id, executorId);
  if (!task || task.agentId !== agentId || isTerminal(task.state)) {
    throw new NotFound(`${call.type.toLowerCase()}: no executor '${executorId}' of framework ${fw.id} runs on agent ${agentId}`);
  }
  if (call.type === 'SHUTDOWN') return killTask(state, fx, ctx, fw, { taskId: executorId, agentId });
  throw new FailedPrecondition(`message: task '${executorId}' runs without an executor process; framework messages cannot be delivered to it`);
}
