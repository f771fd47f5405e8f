// The small steps every task-touching operation shares: adding a task,
// moving it through its lifecycle (both told to the operator event stream),
// giving a terminal task's resources back, and the statuses the master
// makes itself.
import type { TaskState, TaskStatusIn } from '../../proto/index.js';
import { isTerminal } from '../../common/task-state.js';
import { Resources } from '../../common/resources.js';
import type { ApplyResult } from '../state/task-book.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentId, TaskId, TaskRecord } from '../state/records.js';
import type { RegistryTask } from '../registry/registry.js';
import { masterStatus, type Reason } from '../status.js';
import type { Effects, OpContext } from './effects.js';

export function addTask(state: ClusterState, fx: Effects, task: TaskRecord): void {
  state.tasks.add(task);
  fx.emit({ type: 'TASK_ADDED', task, state: task.state });
}

/** Moves the task to `to` if its lifecycle allows it. */
export function moveTask(state: ClusterState, fx: Effects, task: TaskRecord, to: TaskState): ApplyResult {
  const previous = task.state;
  const result = state.tasks.apply(task, to);
  if (result === 'changed') fx.emit({ type: 'TASK_UPDATED', task, state: to, previous, status: null });
  return result;
}

/** A terminal task's resources go back to the pool (once), and the registry forgets it. */
export function recoverTask(state: ClusterState, fx: Effects, task: TaskRecord): void {
  if (task.recovered) return;
  task.recovered = true;
  fx.write({ op: 'removeTask', agentId: task.agentId, frameworkId: task.frameworkId, taskId: task.taskId });
  // The allocator returns resources of a framework it does not know (yet) to
  // the agent's pool, so a task that ends before its framework re-subscribes
  // after a failover frees its resources all the same.
  if (state.agent(task.agentId)?.connected) {
    fx.allocator({ call: 'recoverResources', frameworkId: task.frameworkId, agentId: task.agentId, resources: task.resources, refuseSeconds: 0 });
    fx.allocate();
  }
}

/** A status made by the master itself (no uuid, nothing to acknowledge), applied and forwarded. */
export function masterUpdate(state: ClusterState, fx: Effects, ctx: OpContext, task: TaskRecord, to: TaskState, reason: Reason, message: string): void {
  if (moveTask(state, fx, task, to) === 'illegal') return;
  const status = masterStatus({ taskId: task.taskId, state: to, now: ctx.now, agentId: task.agentId, reason, message });
  setStatus(task, status);
  task.statusUuid = null;
  task.statusUpdateState = null; // Sent after every update before it: reconciliation answers `state`, this one.
  if (isTerminal(to)) {
    recoverTask(state, fx, task);
    state.tasks.complete(task);
  }
  fx.status(task.frameworkId, status);
}

/** A task known only from the registry index: enough to report on it and to count its resources. */
export function taskFromRegistry(ctx: OpContext, agentId: AgentId, t: RegistryTask, state: TaskState): TaskRecord {
  let resources = Resources.EMPTY;
  try {
    resources = t.resources ? Resources.parse(t.resources) : Resources.EMPTY;
  } catch {
    ctx.logger.warn({ agent_id: agentId, task_id: t.task_id }, `registry: task ${t.task_id} on agent ${agentId} has unreadable resources '${t.resources}'; counted as none`);
  }
  return {
    frameworkId: t.framework_id as TaskRecord['frameworkId'], agentId, taskId: t.task_id as TaskId, resources, state,
    info: { name: t.name, task_id: { value: t.task_id }, agent_id: { value: agentId }, resources: resources.toProto() },
    status: null, statusUuid: null, recovered: false, createdAt: ctx.now,
  };
}

/** The task's latest status, kept as Mesos's master keeps Task.statuses: one of the same state as the last replaces it, another is appended. */
export function setStatus(task: TaskRecord, status: TaskStatusIn): void {
  task.status = status;
  const list = (task.statuses ??= []);
  if (list.length > 0 && list[list.length - 1]!.state === status.state) list[list.length - 1] = status;
  else list.push(status);
}
