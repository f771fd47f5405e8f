// What the master knows of frameworks, agents, tasks and offers: plain data.
// No timers, sockets or promises live here: the driver (master.ts) keeps the
// links to schedulers and agents, and deadlines.ts every timer. Ids are
// branded so an agent id cannot be passed where a framework id is meant.
//
// FrameworkInfo, AgentInfo, TaskInfo and TaskStatus are kept as the messages
// they arrived in (the master reports them back verbatim in /state and
// reconciliation); everything the master decides on is a field of its own.
import type { AgentInfoOut, FrameworkInfoOut, TaskInfoIn, TaskState, TaskStatusIn } from '../../proto/index.js';
import type { AgentId, FrameworkId, OfferId, TaskId } from '../../common/ids.js';
import type { Resources } from '../../common/resources.js';

export type { AgentId, FrameworkId, OfferId, TaskId } from '../../common/ids.js';

export interface FrameworkRecord {
  readonly id: FrameworkId;
  info: FrameworkInfoOut;
  roles: string[];
  partitionAware: boolean;
  /** True while a scheduler stream is attached; false while disconnected (its failover timeout runs). */
  connected: boolean;
  /** The Mesos-Stream-Id of the attached stream; null while disconnected. */
  streamId: string | null;
  readonly registeredTime: number;
  reregisteredTime: number | null;
  unregisteredTime: number | null;
}

export interface AgentRecord {
  readonly id: AgentId;
  info: AgentInfoOut;
  /** The IP address of its HTTP endpoint ('' when unknown). */
  ip: string;
  total: Resources;
  /** True while the agent's link is open. */
  connected: boolean;
  /** The driver's number for the open link; null while disconnected. */
  linkId: number | null;
  readonly registeredTime: number;
  reregisteredTime: number | null;
  /** Known from the registry, not yet re-registered with this master: its tasks' states are unknown. */
  recovered: boolean;
  /** When the agent was marked unreachable (seconds), null while reachable. */
  unreachableSince: number | null;
  /** The agent said it is draining (its own --drain): its resources are not offered; its tasks run on. */
  draining?: boolean;
  /** An operator deactivated it (DEACTIVATE_AGENT or DRAIN_AGENT): its resources are not offered. */
  deactivated?: boolean;
  /** An operator's DRAIN_AGENT, under way or done. */
  drain?: AgentDrain | null;
  /** Its machine's maintenance window, while it is in a schedule (offers carry it). */
  unavailability?: { readonly start: number; readonly duration: number | null } | null;
  /** Kills asked for while the agent was away, sent when it comes back. */
  readonly pendingKills: Map<string, { readonly frameworkId: FrameworkId; readonly taskId: TaskId }>;
  /** Made by RESERVE operations (already part of `total`). */
  dynamicReservations?: Resources;
  /** The agent's software version, as it registered (unknown for an agent recovered from the registry). */
  version?: string;
}

export interface AgentDrain {
  state: 'DRAINING' | 'DRAINED';
  /** Caps each task's kill grace period (seconds); null: the task's own. */
  readonly maxGracePeriod: number | null;
  /** Once drained, the agent is marked gone. */
  readonly markGone: boolean;
}

export interface TaskRecord {
  readonly frameworkId: FrameworkId;
  readonly agentId: AgentId;
  readonly taskId: TaskId;
  readonly info: TaskInfoIn;
  readonly resources: Resources;
  state: TaskState;
  /** The latest status the master saw (from the agent, or made by the master). */
  status: TaskStatusIn | null;
  /** Its statuses as Mesos keeps Task.statuses (one per run of a state, the latest last); set by setStatus. */
  statuses?: TaskStatusIn[];
  /** uuid of the latest status update forwarded; the framework acks it (Mesos's Task.status_update_uuid). */
  statusUuid: Buffer | null;
  /**
   * The state of that update (Mesos's Task.status_update_state); null when the master made the
   * latest update itself, or knows of none in flight. It lags `state` when the agent reported a
   * later state (at re-registration) than the update it is still delivering: reconciliation then
   * answers with this one, so that an answer never runs ahead of the updates in flight.
   */
  statusUpdateState?: TaskState | null;
  /** Resources went back to the allocator when the task turned terminal. */
  recovered: boolean;
  readonly createdAt: number;
}

export interface OfferRecord {
  readonly id: OfferId;
  readonly frameworkId: FrameworkId;
  readonly agentId: AgentId;
  readonly role: string;
  readonly resources: Resources;
  readonly createdAt: number;
}
