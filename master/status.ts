// Status updates the master makes itself (invalid tasks, reconciliation,
// tasks lost with their agent). They carry no uuid: the master does not
// retry them and the framework does not acknowledge them, as in Mesos.
import type { TaskStatusIn, TaskState, TaskStatusOut } from '../proto/index.js';

export type Reason = NonNullable<TaskStatusIn['reason']>;

export function masterStatus(opts: {
  taskId: string;
  state: TaskState;
  now: number;
  agentId?: string | null;
  reason?: Reason;
  message?: string;
}): TaskStatusIn {
  const status: TaskStatusIn = {
    task_id: { value: opts.taskId },
    state: opts.state,
    source: 'SOURCE_MASTER',
    timestamp: opts.now,
  };
  if (opts.agentId) status.agent_id = { value: opts.agentId };
  if (opts.reason) status.reason = opts.reason;
  if (opts.message) status.message = opts.message;
  return status;
}

/**
 * The answer to reconciliation for a task the master knows, as Mesos's
 * Master::reconcile makes it: the latest state, with the agent, executor,
 * health and container status of the stored status; no uuid, data or labels;
 * SOURCE_MASTER, REASON_RECONCILIATION and Mesos's message.
 */
export function reconciliationStatus(latest: TaskStatusIn | TaskStatusOut, now: number): TaskStatusIn {
  const status = latest as TaskStatusIn;
  return {
    task_id: status.task_id,
    state: status.state,
    source: 'SOURCE_MASTER',
    reason: 'REASON_RECONCILIATION',
    message: 'Reconciliation: Latest task state',
    timestamp: now,
    ...(status.agent_id ? { agent_id: status.agent_id } : {}),
    ...(status.executor_id ? { executor_id: status.executor_id } : {}),
    ...(status.healthy !== undefined && status.healthy !== null ? { healthy: status.healthy } : {}),
    ...(status.container_status ? { container_status: status.container_status } : {}),
  };
}
