// Frameworks: subscribing (new, or failing over to a new stream), losing
// the stream (the failover timeout starts), changing FrameworkInfo, and
// removal (TEARDOWN, or the failover timeout expired).
//
//            subscribeFramework               disconnectFramework
//   (new) ────────────────────> connected ─────────────────────────> disconnected
//                                   ^   <────────────────────────────    │
//                                   │        subscribeFramework          │ failover timeout
//                                   │                                    v
//                              removeFramework (TEARDOWN) ──────────> removed
import type { FrameworkInfoOut } from '../../proto/index.js';
import { FailedPrecondition, PermissionDenied } from '../../common/errors.js';
import { isTerminal } from '../../common/task-state.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentId, FrameworkId, FrameworkRecord } from '../state/records.js';
import { frameworkRoles } from '../validation.js';
import { requireAllowed } from '../../common/acls.js';
import type { Effects, OpContext } from './effects.js';
import { rescindOffersOf } from './offers.js';
import { moveTask, recoverTask } from './task-changes.js';

/** SUBSCRIBE (already validated): registers the framework or fails it over to the new stream `streamId`. */
/** SUBSCRIBE's content: the FrameworkInfo (with an id when failing over) and the roles it starts suppressed. */
export interface Subscription {
  readonly info: FrameworkInfoOut;
  readonly suppressedRoles: readonly string[];
}

export function subscribeFramework(state: ClusterState, fx: Effects, ctx: OpContext, subscribe: Subscription, streamId: string): FrameworkRecord {
  const info = subscribe.info;
  const roles = frameworkRoles(info);
  authorizeRoles(ctx, info, roles);
  const id = (info.id?.value || ctx.ids.framework()) as FrameworkId;
  if (state.wasRemoved(id)) {
    // As Mesos: a torn-down framework (or one past its failover_timeout) may not come back under its id. Its
    // stream opens only to carry the ERROR event (clients then stop, rather than retry), and nothing is kept.
    ctx.logger.warn({ framework_id: id }, `framework ${id} (${info.name}) tried to subscribe again, but it has been removed`);
    fx.add({ type: 'openStream', frameworkId: id, streamId });
    fx.add({ type: 'closeStream', frameworkId: id, streamId, error: 'Framework has been removed' });
    return { id, info, roles, partitionAware: false, connected: false, streamId: null, registeredTime: ctx.now, reregisteredTime: null, unregisteredTime: ctx.now };
  }
  let fw = state.framework(id);
  const principal = (p: string | null | undefined) => p ?? '';
  if (fw && principal(fw.info.principal) !== principal(info.principal)) {
    // As Mesos: a framework is taken over (failed over) only by its own principal, never by whoever learnt its id.
    throw new PermissionDenied(`framework ${id} is registered with principal '${principal(fw.info.principal)}'; a SUBSCRIBE under its id must come from the same principal`);
  }
  // A successor must know the framework (and its failover_timeout) before it hears SUBSCRIBED.
  fx.write({ op: 'putFramework', id, info: { ...info, id: { value: id } }, now: ctx.now });
  if (fw) {
    ctx.logger.info({ framework_id: id }, `framework ${id} (${info.name}) re-subscribed${fw.connected ? ', replacing its previous stream' : ''}`);
    fx.cancel({ kind: 'failover-timeout', frameworkId: id });
    if (fw.connected) fx.add({ type: 'closeStream', frameworkId: id, streamId: fw.streamId!, error: 'Framework failed over' });
    detach(fw);
    rescindOffersOf(state, fx, fw, false);
    fx.allocator({ call: 'removeFramework', frameworkId: id });
    fw.reregisteredTime = ctx.now;
  } else {
    fw = {
      id, info, roles, partitionAware: false, connected: false, streamId: null, registeredTime: ctx.now, reregisteredTime: null, unregisteredTime: null,
    };
    state.frameworks.set(id, fw);
    ctx.logger.info({ framework_id: id, roles }, `framework ${id} (${info.name}) subscribed with roles ${roles.join(',')}`);
  }
  fw.info = { ...info, id: { value: id } };
  fw.roles = roles;
  fw.partitionAware = info.capabilities.some((c) => c.type === 'PARTITION_AWARE');
  fx.allocator({ call: 'addFramework', frameworkId: id, spec: { roles, suppressedRoles: subscribe.suppressedRoles }, used: state.usedByFramework(id) });
  if (subscribe.suppressedRoles.length > 0) fx.allocator({ call: 'suppress', frameworkId: id, roles: subscribe.suppressedRoles });
  fw.connected = true;
  fw.streamId = streamId;
  fx.add({ type: 'openStream', frameworkId: id, streamId });
  fx.toFramework(id, { kind: 'subscribed', frameworkId: id });
  fx.emit({ type: fw.reregisteredTime === null ? 'FRAMEWORK_ADDED' : 'FRAMEWORK_UPDATED', framework: fw });
  fx.allocate(); // Its first offers come now, not at the next periodic pass.
  return fw;
}

/** The scheduler's stream went away: its tasks are kept for failover_timeout. */
export function disconnectFramework(state: ClusterState, fx: Effects, ctx: OpContext, frameworkId: string, streamId: string): void {
  const fw = state.framework(frameworkId);
  if (!fw || fw.streamId !== streamId) return;
  fx.add({ type: 'dropStream', frameworkId: fw.id, streamId });
  detach(fw);
  rescindOffersOf(state, fx, fw, false);
  fx.allocator({ call: 'setFrameworkActive', frameworkId: fw.id, active: false });
  ctx.logger.info({ framework_id: fw.id }, `framework ${fw.id} disconnected; its tasks are kept for failover_timeout=${fw.info.failover_timeout}s`);
  startFailoverTimeout(fx, ctx, fw);
  fx.emit({ type: 'FRAMEWORK_UPDATED', framework: fw });
}

/** A disconnected framework is removed (its tasks killed) unless it comes back within failover_timeout. */
export function startFailoverTimeout(fx: Effects, ctx: OpContext, fw: FrameworkRecord): void {
  fx.arm({ kind: 'failover-timeout', frameworkId: fw.id }, ctx.now + fw.info.failover_timeout);
}

/** The failover timeout expired. */
export function failoverTimeoutExpired(state: ClusterState, fx: Effects, ctx: OpContext, frameworkId: string): void {
  const fw = state.framework(frameworkId);
  if (!fw || fw.connected) return;
  removeFramework(state, fx, ctx, fw, `failover timeout (${fw.info.failover_timeout}s) expired`);
}

/** TEARDOWN or failover timeout: kill its tasks, drop its offers, forget it (the registry keeps it as removed). */
export function removeFramework(state: ClusterState, fx: Effects, ctx: OpContext, fw: FrameworkRecord, why: string): void {
  ctx.logger.info({ framework_id: fw.id }, `removing framework ${fw.id}: ${why}`);
  fx.cancel({ kind: 'failover-timeout', frameworkId: fw.id });
  rescindOffersOf(state, fx, fw, false);
  if (fw.connected) fx.add({ type: 'closeStream', frameworkId: fw.id, streamId: fw.streamId! });
  detach(fw);
  const tasks = state.tasks.ofFramework(fw.id);
  for (const agentId of new Set(tasks.map((t) => t.agentId))) {
    if (state.agent(agentId)?.connected) fx.toAgent(agentId as AgentId, { kind: 'shutdownFramework', frameworkId: fw.id });
  }
  for (const task of tasks) {
    if (!isTerminal(task.state)) moveTask(state, fx, task, 'TASK_KILLED');
    recoverTask(state, fx, task);
    state.tasks.complete(task);
  }
  fx.allocator({ call: 'removeFramework', frameworkId: fw.id });
  state.frameworks.delete(fw.id);
  fx.write({ op: 'removeFramework', id: fw.id, now: ctx.now });
  fw.unregisteredTime = ctx.now;
  state.rememberRemoved(fw);
  fx.emit({ type: 'FRAMEWORK_REMOVED', framework: fw });
  fx.allocate();
}

/** UPDATE_FRAMEWORK: new FrameworkInfo (same id); other roles rescind outstanding offers. */
export function updateFramework(state: ClusterState, fx: Effects, ctx: OpContext, fw: FrameworkRecord, update: Subscription): void {
  const info = update.info;
  if (info.id?.value !== fw.id) throw new FailedPrecondition(`update_framework: framework_info.id must be ${fw.id}`);
  if ((info.principal ?? '') !== (fw.info.principal ?? '')) throw new PermissionDenied(`update_framework: framework_info.principal cannot change (it is '${fw.info.principal ?? ''}')`);
  const roles = frameworkRoles(info); // Throws, changing nothing, when the roles are not valid.
  authorizeRoles(ctx, info, roles);
  const rolesChanged = roles.length !== fw.roles.length || roles.some((r, i) => r !== fw.roles[i]);
  fw.info = { ...info, id: { value: fw.id } };
  if (rolesChanged || update.suppressedRoles.length > 0) {
    const suppressed = update.suppressedRoles.length > 0 ? ` (suppressed: ${update.suppressedRoles.join(',')})` : '';
    ctx.logger.info({ framework_id: fw.id, roles }, `framework ${fw.id} now has roles ${roles.join(',')}${suppressed}`);
    rescindOffersOf(state, fx, fw, true);
    fx.allocator({ call: 'removeFramework', frameworkId: fw.id });
    fw.roles = roles;
    const spec = { roles, suppressedRoles: update.suppressedRoles, active: fw.connected };
    fx.allocator({ call: 'addFramework', frameworkId: fw.id, spec, used: state.usedByFramework(fw.id) });
    if (update.suppressedRoles.length > 0) fx.allocator({ call: 'suppress', frameworkId: fw.id, roles: update.suppressedRoles });
    fx.allocate();
  }
  fw.partitionAware = info.capabilities.some((c) => c.type === 'PARTITION_AWARE');
  fx.write({ op: 'putFramework', id: fw.id, info: fw.info, now: ctx.now });
  ctx.logger.info({ framework_id: fw.id }, `framework ${fw.id} updated its FrameworkInfo`);
  fx.emit({ type: 'FRAMEWORK_UPDATED', framework: fw });
}

/** register_frameworks, for each role (Mesos asks for each): PermissionDenied, changing nothing, naming the first refused. */
function authorizeRoles(ctx: OpContext, info: FrameworkInfoOut, roles: readonly string[]): void {
  const principal = info.principal || null;
  for (const role of roles) {
    requireAllowed(ctx.acls, 'register_frameworks', principal, role, `register a framework with role '${role}' as ${principal === null ? 'no principal' : `principal '${principal}'`}`);
  }
}

function detach(fw: FrameworkRecord): void {
  fw.connected = false;
  fw.streamId = null;
}
