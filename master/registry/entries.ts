// What the registry holds, entry by entry: the types shared by the registry
// (registry.ts), its JSON documents (documents.ts) and the task shards
// (task-shards.ts), kept apart so none of those imports another back.
import type { AgentInfoOut, FrameworkInfoOut, ResourceIn } from '../../proto/index.js';

/** A task the master sent to an agent, as much as a successor needs to report on it. */
export interface RegistryTask {
  readonly framework_id: string;
  readonly task_id: string;
  readonly name: string;
  /** In Mesos's text form (`cpus:0.1;mem:32`): compact, as an agent's whole index shares one ZooKeeper node. */
  readonly resources: string;
}

export interface RegistryAgent {
  info: AgentInfoOut;
  /** The IP address of the agent's HTTP endpoint ('' when unknown). */
  ip: string;
  registered_time: number;
  /** Set while the agent is unreachable (seconds since the epoch). */
  unreachable_time: number | null;
  /** Set once the agent is gone for good: it may not register again under its id. */
  gone_time: number | null;
  /** The agent's tasks, by `framework_id/task_id`. */
  tasks: Map<string, RegistryTask>;
  /** How many `tasks/<id>/<k>of<n>` entries hold the tasks; 0: they are inline in the agent's entry (task-shards.ts). */
  task_shards: number;
  /** Dynamic reservations made on the agent (RESERVE), applied again when it re-registers. */
  reservations: ResourceIn[];
  /** Deactivated by an operator (DEACTIVATE_AGENT or DRAIN_AGENT): its resources are not offered. */
  deactivated: boolean;
  /** SHA-256 (hex) of the secret issued to the agent with its id; '' for an agent registered before secrets. */
  secret_hash: string;
  /** Set while an operator's DRAIN_AGENT is under way or done. */
  drain: RegistryDrain | null;
}

export interface RegistryDrain {
  state: 'DRAINING' | 'DRAINED';
  /** Caps each task's kill grace period (seconds); null: the task's own. */
  max_grace_period: number | null;
  mark_gone: boolean;
}

/** A maintenance window: machines (hostname and/or ip) that go down together. */
export interface RegistryWindow {
  machines: { hostname: string; ip: string }[];
  /** Seconds since the epoch. */
  start: number;
  /** Seconds; null: indefinitely. */
  duration: number | null;
}

/** What operators set at run time; replaces the flags' values (--weights, --quota) once set. */
export interface RegistrySettings {
  weights: Map<string, number>;
  /** Role -> guarantee and limit in Mesos's text form ('' for none). */
  quotas: Map<string, { guarantee: string; limit: string }>;
  windows: RegistryWindow[];
  /** Machines an operator brought down (START_MAINTENANCE), until STOP_MAINTENANCE. */
  down: { hostname: string; ip: string }[];
}

export interface RegistryFramework {
  info: FrameworkInfoOut;
  registered_time: number;
  /** Set once the framework was torn down or timed out: agents coming back with its tasks have them killed. */
  removed_time: number | null;
}
