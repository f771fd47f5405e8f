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

/** A stored status re-sent for reconciliation: same state, no uuid, reason RECONCILIATION. */
export function reconciliationStatus(latest: TaskStatusIn | TaskStatusOut, now: number): TaskStatusIn {
  const { uuid: _uuid, ...rest } = latest as TaskStatusIn;
  return { ...rest, reason: 'REASON_RECONCILIATION', source: 'SOURCE_MASTER', timestamp: now };
}
