// The operator's write calls (v1 operator API, and the v0 endpoints that
// map to them), as operations: each checks the state, changes it, writes
// the registry and only then acts, as every operation does. A refused call
// throws (InvalidArgument, NotFound, FailedPrecondition) before changing
// anything. Maintenance schedules live next door (maintenance.ts).
//
//   agent:  active ──DEACTIVATE_AGENT──> deactivated ──REACTIVATE_AGENT──> active
//             └──DRAIN_AGENT──> DRAINING ──(no task left)──> DRAINED ──(mark_gone)──> gone
//           any ──MARK_AGENT_GONE──> gone (tasks TASK_GONE_BY_OPERATOR; the agent shuts down)
import { FailedPrecondition, InvalidArgument, NotFound } from '../../common/errors.js';
import { isTerminal } from '../../common/task-state.js';
import { Resources } from '../../common/resources.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentRecord } from '../state/records.js';
import type { RegistryDrain } from '../registry/registry.js';
import type { Effects, OpContext } from './effects.js';
import { removeFramework } from './frameworks.js';
import { rescindOffer } from './offers.js';
import { masterUpdate } from './task-changes.js';

/** UPDATE_WEIGHTS: each role's new weight (others keep theirs). */
export function updateWeights(state: ClusterState, fx: Effects, ctx: OpContext, weights: ReadonlyMap<string, number>): void {
  for (const [role, weight] of weights) state.weights.set(role, weight);
  fx.write({ op: 'setWeights', weights });
  fx.allocator({ call: 'updateWeights', weights });
  ctx.logger.info(`weights updated: ${[...weights].map(([r, w]) => `${r}=${w}`).join(', ')}`);
  fx.allocate();
}

export interface QuotaChange {
  readonly role: string;
  readonly guarantee: Resources;
  /** null: no limit. */
  readonly limit: Resources | null;
}

/** UPDATE_QUOTA: a role with neither guarantee nor limit has its quota removed. */
export function updateQuota(state: ClusterState, fx: Effects, ctx: OpContext, changes: readonly QuotaChange[]): void {
  for (const { role, guarantee, limit } of changes) {
    const none = guarantee.isEmpty() && limit === null;
    if (none) state.quotas.delete(role);
    else state.quotas.set(role, { guarantee, limit });
    fx.write({ op: 'setQuota', role, quota: none ? null : { guarantee: guarantee.toString(), limit: limit?.toString() ?? '' } });
    fx.allocator({
      call: 'setQuota', role, quota: none ? null : { ...(guarantee.isEmpty() ? {} : { guarantee }), ...(limit ? { limit } : {}) },
    });
    ctx.logger.info({ role }, none ? `quota of role ${role} removed` : `quota of role ${role}: guarantee ${guarantee.toString() || 'none'}, limit ${limit?.toString() ?? 'none'}`);
  }
  fx.allocate();
}

/** TEARDOWN by the operator: the framework is removed and its tasks killed. */
export function teardownFramework(state: ClusterState, fx: Effects, ctx: OpContext, frameworkId: string): void {
  const fw = state.framework(frameworkId);
  if (!fw) throw new InvalidArgument(`No framework found with ID ${frameworkId}`);
  removeFramework(state, fx, ctx, fw, 'TEARDOWN by the operator');
}

/** The agent named by a call; as Mesos answers, an unknown one makes the call a bad request (400). */
function agentOf(state: ClusterState, agentId: string): AgentRecord {
  const agent = state.agent(agentId);
  if (!agent) throw new InvalidArgument(`No agent found with ID ${agentId}`);
  return agent;
}

/**
 * RESERVE_RESOURCES / UNRESERVE_RESOURCES by the operator: the agent's
 * offers are rescinded (as Mesos does, so the resources can be free), then
 * the change is made if the agent has them unused.
 */
export function operatorReservation(
  state: ClusterState, fx: Effects, ctx: OpContext, type: 'RESERVE' | 'UNRESERVE', agentId: string, resources: Resources,
): void {
  const agent = agentOf(state, agentId);
  if (!agent.connected) throw new FailedPrecondition(`agent ${agentId} is not connected`);
  if (resources.isEmpty()) throw new InvalidArgument(`${type === 'RESERVE' ? 'reserve' : 'unreserve'}_resources.resources is empty`);
  const reserved = resources.list().every((e) => e.role !== '*');
  if (!reserved) throw new InvalidArgument(`${type.toLowerCase()}_resources.resources must each carry a reservation (a role other than '*'): ${resources.toString()}`);
  const from = type === 'RESERVE' ? resources.withRole('*') : resources;
  const to = type === 'RESERVE' ? resources : resources.withRole('*');
  if (type === 'UNRESERVE' && !(agent.dynamicReservations ?? Resources.EMPTY).contains(resources)) {
    throw new FailedPrecondition(`agent ${agentId} has no dynamic reservation ${resources.toString()}`);
  }
  for (const offer of state.offers.ofAgent(agent.id)) rescindOffer(state, fx, ctx, offer.id, `the operator changes reservations on agent ${agentId}`);
  const free = state.unusedOn(agent);
  if (!free.contains(from)) {
    throw new FailedPrecondition(`agent ${agentId} does not have ${from.toString()} unused (unused: ${free.toString() || 'nothing'})`);
  }
  agent.total = agent.total.subtract(from).add(to);
  const dynamic = agent.dynamicReservations ?? Resources.EMPTY;
  agent.dynamicReservations = type === 'RESERVE' ? dynamic.add(resources) : dynamic.subtract(resources);
  fx.write({ op: 'setReservations', agentId: agent.id, reservations: agent.dynamicReservations.toProto() });
  ctx.logger.info({ agent_id: agentId }, `the operator ${type === 'RESERVE' ? 'reserved' : 'unreserved'} ${resources.toString()} on agent ${agentId}`);
  readdToAllocator(state, fx, agent);
  fx.emit({ type: 'AGENT_ADDED', agent });
}

/** The allocator hears of the agent's new total (or of its coming back), if the agent offers at all. */
function readdToAllocator(state: ClusterState, fx: Effects, agent: AgentRecord): void {
  fx.allocator({ call: 'removeAgent', agentId: agent.id });
  if (state.offersFrom(agent)) fx.allocator({ call: 'addAgent', agentId: agent.id, total: agent.total, used: state.usedOnAgent(agent.id) });
  fx.allocate();
}

function persistAgentState(fx: Effects, agent: AgentRecord): void {
  const drain: RegistryDrain | null = agent.drain
    ? { state: agent.drain.state, max_grace_period: agent.drain.maxGracePeriod, mark_gone: agent.drain.markGone } : null;
  fx.write({ op: 'setAgentState', id: agent.id, deactivated: agent.deactivated === true, drain });
}

/** No more offers from the agent; what it runs runs on. */
export function deactivateAgent(state: ClusterState, fx: Effects, ctx: OpContext, agentId: string): void {
  const agent = agentOf(state, agentId);
  if (agent.deactivated) return;
  agent.deactivated = true;
  persistAgentState(fx, agent);
  for (const offer of state.offers.ofAgent(agent.id)) rescindOffer(state, fx, ctx, offer.id, `agent ${agentId} was deactivated`);
  fx.allocator({ call: 'removeAgent', agentId: agent.id });
  ctx.logger.info({ agent_id: agentId }, `agent ${agentId} deactivated by the operator: its resources are no longer offered`);
  fx.emit({ type: 'AGENT_ADDED', agent });
}

/** Offers again; a drain under way or done is over. */
export function reactivateAgent(state: ClusterState, fx: Effects, ctx: OpContext, agentId: string): void {
  const agent = agentOf(state, agentId);
  if (!agent.deactivated) throw new FailedPrecondition(`agent ${agentId} is not deactivated`);
  agent.deactivated = false;
  agent.drain = null;
  persistAgentState(fx, agent);
  ctx.logger.info({ agent_id: agentId }, `agent ${agentId} reactivated by the operator`);
  readdToAllocator(state, fx, agent);
  fx.emit({ type: 'AGENT_ADDED', agent });
}

/**
 * DRAIN_AGENT: the agent is deactivated and told to kill its tasks (each
 * with its grace period, capped at `maxGracePeriod`); they end TASK_KILLED
 * with REASON_AGENT_DRAINING. Once none is left it is DRAINED (and, with
 * `markGone`, gone).
 */
export function drainAgentByOperator(
  state: ClusterState, fx: Effects, ctx: OpContext, agentId: string, maxGracePeriod: number | null, markGone: boolean,
): void {
  const agent = agentOf(state, agentId);
  if (agent.drain) throw new FailedPrecondition(`agent ${agentId} is already ${agent.drain.state.toLowerCase()}`);
  agent.deactivated = true;
  agent.drain = { state: 'DRAINING', maxGracePeriod, markGone };
  persistAgentState(fx, agent);
  for (const offer of state.offers.ofAgent(agent.id)) rescindOffer(state, fx, ctx, offer.id, `agent ${agentId} is draining`);
  fx.allocator({ call: 'removeAgent', agentId: agent.id });
  ctx.logger.info({ agent_id: agentId }, `agent ${agentId} draining by the operator${maxGracePeriod !== null ? ` (grace at most ${maxGracePeriod}s)` : ''}${markGone ? '; it will be marked gone' : ''}`);
  if (agent.connected) fx.toAgent(agent.id, { kind: 'drain', maxGracePeriod });
  fx.emit({ type: 'AGENT_ADDED', agent });
  checkDrained(state, fx, ctx, agent);
}

/** A draining agent with no task left is DRAINED; marked gone if the operator asked. */
export function checkDrained(state: ClusterState, fx: Effects, ctx: OpContext, agent: AgentRecord): void {
  if (agent.drain?.state !== 'DRAINING') return;
  if (state.tasks.ofAgent(agent.id).some((t) => !isTerminal(t.state))) return;
  agent.drain.state = 'DRAINED';
  persistAgentState(fx, agent);
  ctx.logger.info({ agent_id: agent.id }, `agent ${agent.id} is drained`);
  fx.emit({ type: 'AGENT_ADDED', agent });
  if (agent.drain.markGone) markGoneByOperator(state, fx, ctx, agent.id);
}

/**
 * MARK_AGENT_GONE, or an agent removed for maintenance (`forget`: it may
 * join again under a new id): its tasks are TASK_GONE_BY_OPERATOR (TASK_LOST
 * for frameworks that are not partition aware, when the machine went DOWN),
 * the agent is told to shut down and its link is closed.
 */
export function markGoneByOperator(state: ClusterState, fx: Effects, ctx: OpContext, agentId: string, forget?: string): void {
  const agent = state.agent(agentId);
  if (!agent) throw new NotFound(`Agent '${agentId}' not found`);
  const why = forget ?? 'marked gone by the operator';
  if (forget) fx.write({ op: 'removeAgent', id: agent.id });
  else fx.write({ op: 'markAgentGone', id: agent.id, now: ctx.now });
  ctx.logger.info({ agent_id: agentId }, `agent ${agentId} ${why}: its tasks are gone`);
  for (const offer of state.offers.ofAgent(agent.id)) rescindOffer(state, fx, ctx, offer.id, `agent ${agentId} ${why}`);
  for (const task of state.tasks.ofAgent(agent.id)) {
    if (isTerminal(task.state)) continue;
    const lost = forget && !state.framework(task.frameworkId)?.partitionAware;
    masterUpdate(state, fx, ctx, task, lost ? 'TASK_LOST' : 'TASK_GONE_BY_OPERATOR', 'REASON_AGENT_REMOVED_BY_OPERATOR', `agent ${agentId} ${why}`);
  }
  fx.cancel({ kind: 'reregister-timeout', agentId: agent.id, waited: 0 });
  fx.cancel({ kind: 'agent-gone', agentId: agent.id });
  if (agent.linkId !== null) {
    fx.toAgent(agent.id, { kind: 'shutdown', message: `this agent was ${why}` });
    fx.add({ type: 'closeAgent', agentId: agent.id, linkId: agent.linkId, reason: `agent ${agentId} ${why}` });
  }
  fx.allocator({ call: 'removeAgent', agentId: agent.id });
  state.agents.delete(agent.id);
  for (const [id, io] of state.maintenance.inverseOffers) if (io.agentId === agent.id) state.maintenance.inverseOffers.delete(id);
  if (agent.unreachableSince === null) fx.emit({ type: 'AGENT_REMOVED', agent });
  fx.allocate();
}

