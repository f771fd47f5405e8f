// A new leader takes over what the registry holds. Frameworks come back
// disconnected, with their failover_timeout running again: a scheduler that
// re-subscribes with its FrameworkID in time keeps its tasks. Agents come
// back "recovered": their tasks' states are unknown until they re-register
// (reconciliation stays silent about them meanwhile, as in Mesos), and an
// agent that does not re-register within --agent_reregister_timeout is
// marked unreachable, its indexed tasks reported TASK_UNREACHABLE.
import { Resources } from '../../common/resources.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentId, AgentRecord, FrameworkId, FrameworkRecord } from '../state/records.js';
import { frameworkRoles } from '../validation.js';
import { awaitReregistration, startGoneTimeout } from './agents.js';
import type { Effects, OpContext } from './effects.js';
import { startFailoverTimeout } from './frameworks.js';
import { addTask, taskFromRegistry } from './task-changes.js';

/** Returns a summary for the log. */
export function recoverFromRegistry(state: ClusterState, fx: Effects, ctx: OpContext): string {
  recoverSettings(state, fx, ctx);
  let frameworks = 0;
  for (const [key, entry] of ctx.registry.frameworks) {
    const id = key as FrameworkId;
    if (state.frameworks.has(id)) continue;
    const info = { ...entry.info, id: { value: id } };
    const fw: FrameworkRecord = {
      id, info, roles: frameworkRoles(info), partitionAware: info.capabilities?.some((c) => c.type === 'PARTITION_AWARE') ?? false,
      connected: false, streamId: null, registeredTime: entry.registered_time, reregisteredTime: null, unregisteredTime: entry.removed_time,
    };
    if (entry.removed_time !== null) {
      state.rememberRemoved(fw);
      continue;
    }
    state.frameworks.set(id, fw);
    startFailoverTimeout(fx, ctx, fw);
    frameworks++;
  }
  let agents = 0;
  let unreachable = 0;
  let tasks = 0;
  for (const [key, entry] of ctx.registry.agents) {
    const id = key as AgentId;
    if (entry.gone_time !== null || state.agents.has(id)) continue; // Gone agents stay in the registry only, to be refused.
    const agent: AgentRecord = {
      id, info: entry.info, ip: entry.ip, total: Resources.fromProto(entry.info.resources), connected: false, linkId: null, registeredTime: entry.registered_time,
      reregisteredTime: null, recovered: entry.unreachable_time === null, unreachableSince: entry.unreachable_time, pendingKills: new Map(),
      ...(entry.reservations.length > 0 ? { dynamicReservations: Resources.fromProto(entry.reservations) } : {}),
      deactivated: entry.deactivated,
      drain: entry.drain ? { state: entry.drain.state, maxGracePeriod: entry.drain.max_grace_period, markGone: entry.drain.mark_gone } : null,
    };
    state.agents.set(id, agent);
    agents++;
    tasks += entry.tasks.size;
    if (agent.unreachableSince !== null) {
      // The previous leader reported these tasks unreachable: keep answering so.
      for (const t of entry.tasks.values()) addTask(state, fx, taskFromRegistry(ctx, id, t, 'TASK_UNREACHABLE'));
      startGoneTimeout(fx, ctx, agent);
      unreachable++;
    } else {
      awaitReregistration(fx, ctx, agent);
    }
  }
  return `${frameworks} framework(s), ${agents} agent(s) (${unreachable} unreachable) with ${tasks} task(s)`;
}

/** Weights, quotas and maintenance as operators last set them (over the flags' values). */
function recoverSettings(state: ClusterState, fx: Effects, ctx: OpContext): void {
  const settings = ctx.registry.settings;
  if (settings.weights.size > 0) {
    for (const [role, weight] of settings.weights) state.weights.set(role, weight);
    fx.allocator({ call: 'updateWeights', weights: new Map(settings.weights) });
  }
  for (const [role, q] of settings.quotas) {
    try {
      const guarantee = q.guarantee ? Resources.parse(q.guarantee) : Resources.EMPTY;
      const limit = q.limit ? Resources.parse(q.limit) : null;
      state.quotas.set(role, { guarantee, limit });
      fx.allocator({ call: 'setQuota', role, quota: { ...(guarantee.isEmpty() ? {} : { guarantee }), ...(limit ? { limit } : {}) } });
    } catch (err) {
      ctx.logger.warn({ role }, `registry: the quota of role ${role} is unreadable (${err instanceof Error ? err.message : String(err)}); skipped`);
    }
  }
  state.maintenance.windows = settings.windows.map((w) => ({ machines: w.machines, start: w.start, duration: w.duration }));
  state.maintenance.down = settings.down;
}
