// A new leader takes over what the registry holds. Frameworks come back
// disconnected, with their failover_timeout running again: a scheduler that
// re-subscribes with its FrameworkID in time keeps its tasks. Agents come
// back "recovered": their tasks' states are unknown until they re-register
// (reconciliation stays silent about them meanwhile, as in Mesos), and an
// agent that does not re-register within --agent_reregister_timeout is
// marked unreachable, its indexed tasks reported TASK_UNREACHABLE.
import type { TaskState } from '../proto/index.js';
import { Resources } from '../common/resources.js';
import type { Master } from './master.js';
import type { AgentRecord, FrameworkRecord } from './records.js';
import type { RegistryTask } from './registry/registry.js';
import type { TaskRecord } from './task-book.js';
import { frameworkRoles } from './validation.js';
import { awaitReregistration, startGoneTimer } from './agent-lifecycle.js';

export function recoverFromRegistry(master: Master): string {
  const registry = master.registry;
  let frameworks = 0;
  for (const [id, entry] of registry.frameworks) {
    if (master.frameworks.has(id)) continue;
    const info = { ...entry.info, id: { value: id } };
    const fw: FrameworkRecord = {
      id, info, roles: frameworkRoles(info), partitionAware: info.capabilities?.some((c) => c.type === 'PARTITION_AWARE') ?? false,
      sink: null, streamId: null, heartbeat: null, failoverTimer: null, registeredTime: entry.registered_time, reregisteredTime: null,
      unregisteredTime: entry.removed_time,
    };
    if (entry.removed_time !== null) {
      master.rememberRemoved(fw);
      continue;
    }
    master.frameworks.set(id, fw);
    master.startFailoverTimer(fw);
    frameworks++;
  }
  let agents = 0;
  let unreachable = 0;
  let tasks = 0;
  for (const [id, entry] of registry.agents) {
    if (entry.gone_time !== null || master.agents.has(id)) continue; // Gone agents stay in the registry only, to be refused.
    const agent: AgentRecord = {
      id, info: entry.info, total: Resources.fromProto(entry.info.resources), conn: null, registeredTime: entry.registered_time,
      reregisteredTime: null, reregisterTimer: null, recovered: entry.unreachable_time === null, unreachableSince: entry.unreachable_time,
      goneTimer: null, pendingKills: new Map(),
      ...(entry.reservations.length > 0 ? { dynamicReservations: Resources.fromProto(entry.reservations) } : {}),
    };
    master.agents.set(id, agent);
    agents++;
    tasks += entry.tasks.size;
    if (agent.unreachableSince !== null) {
      // The previous leader reported these tasks unreachable: keep answering so.
      for (const t of entry.tasks.values()) master.tasks.add(taskFromRegistry(master, id, t, 'TASK_UNREACHABLE'));
      startGoneTimer(master, agent);
      unreachable++;
    } else {
      awaitReregistration(master, agent);
    }
  }
  master.changed();
  return `${frameworks} framework(s), ${agents} agent(s) (${unreachable} unreachable) with ${tasks} task(s)`;
}

/** A task known only from the registry index: enough to report on it and to count its resources. */
export function taskFromRegistry(master: Master, agentId: string, t: RegistryTask, state: TaskState): TaskRecord {
  let resources = Resources.EMPTY;
  try {
    resources = t.resources ? Resources.parse(t.resources) : Resources.EMPTY;
  } catch {
    master.log(`registry: task ${t.task_id} on agent ${agentId} has unreadable resources '${t.resources}'; counted as none`);
  }
  return {
    frameworkId: t.framework_id, agentId, taskId: t.task_id, resources, state,
    info: { name: t.name, task_id: { value: t.task_id }, agent_id: { value: agentId }, resources: resources.toProto() },
    status: null, statusUuid: null, recovered: false, createdAt: master.now(),
  };
}
