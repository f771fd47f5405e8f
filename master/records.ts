// What the master keeps about frameworks and agents, and the two narrow
// interfaces through which it talks to them (an event stream to a
// scheduler, a message stream to an agent). The rpc adapters implement
// those interfaces; the master never sees gRPC.
import type { EventIn, FrameworkInfoOut, AgentInfoOut, MasterMessageIn } from '../proto/index.js';
import type { Resources } from '../common/resources.js';

/** A subscribed scheduler's event stream. */
export interface EventSink {
  send(event: EventIn): void;
  /** Ends the stream; with `error` an ERROR event goes first. */
  close(error?: string): void;
}

/** An agent's open link. */
export interface AgentConnection {
  /** False once the link has gone (checked after waiting for the registry). */
  readonly open: boolean;
  send(message: MasterMessageIn): void;
  close(reason: string): void;
}

export interface FrameworkRecord {
  readonly id: string;
  info: FrameworkInfoOut;
  roles: string[];
  partitionAware: boolean;
  /** Set while subscribed; null while disconnected (failover timer running). */
  sink: EventSink | null;
  streamId: string | null;
  heartbeat: NodeJS.Timeout | null;
  failoverTimer: NodeJS.Timeout | null;
  readonly registeredTime: number;
  reregisteredTime: number | null;
  unregisteredTime: number | null;
}

export interface AgentRecord {
  readonly id: string;
  info: AgentInfoOut;
  total: Resources;
  conn: AgentConnection | null;
  readonly registeredTime: number;
  reregisteredTime: number | null;
  /** Runs while the agent is disconnected; when it fires, its tasks are unreachable. */
  reregisterTimer: NodeJS.Timeout | null;
  /** Known from the registry, not yet re-registered with this master: its tasks' states are unknown. */
  recovered: boolean;
  /** When the agent was marked unreachable (ms), null while reachable. */
  unreachableSince: number | null;
  /** Runs while the agent is unreachable; when it fires, the agent is gone. */
  goneTimer: NodeJS.Timeout | null;
  /** The agent is draining: its resources are not offered; its tasks run on. */
  draining?: boolean;
  /** Kills asked for while the agent was away, sent when it comes back. */
  pendingKills: Map<string, { frameworkId: string; taskId: string }>;
  /** Made by RESERVE operations (already part of `total`); in this master's memory only. */
  dynamicReservations?: Resources;
}
