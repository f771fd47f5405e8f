// Agents joining, leaving and coming back:
//
//   admitAgent ──> connected ──disconnectAgent──> disconnected ──(grace)──> unreachable ──(max age)──> gone
//                      ^                               │                        │
//                      └──────── admitAgent ───────────┴────────────────────────┘
//
// A recovered agent (known from the registry after a failover) waits in
// "disconnected" for --agent_reregister_timeout. An unreachable agent's
// tasks are TASK_UNREACHABLE (TASK_LOST for frameworks that are not
// partition aware); a gone agent may never register again under its id.
import type { TaskState } from '../../proto/index.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { FailedPrecondition, PermissionDenied } from '../../common/errors.js';
import { isTerminal } from '../../common/task-state.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentId, AgentRecord } from '../state/records.js';
import { adoptReportedTasks, type AgentRegistration } from './agent-registration.js';
import type { Effects, OpContext } from './effects.js';
import { rescindOffer } from './offers.js';
import { applyUnavailability } from './maintenance.js';
import { checkDrained } from './operator-calls.js';
import { withDynamicReservations } from './reservations.js';
import { addTask, masterUpdate, taskFromRegistry } from './task-changes.js';

/** A gone agent tried to come back: the link tells it to shut down (kill its tasks, forget its id), as Mesos's master does. */
export class AgentGone extends FailedPrecondition {}

/** RegisterAgent on link `linkId`: a new agent is admitted, a known one re-registers (after a restart, a failover, a partition). */
export function admitAgent(state: ClusterState, fx: Effects, ctx: OpContext, registration: AgentRegistration, linkId: number): AgentRecord {
  const { info, total } = registration;
  const requested = registration.requestedId ?? '';
  if (requested && ctx.registry.agents.get(requested)?.gone_time != null) {
    throw new AgentGone(
      `agent ${requested} is gone (unreachable longer than --registry_max_agent_age) and may not return; start it with an empty --work_dir to join as a new agent`,
    );
  }
  const down = state.maintenance.isDown(info.hostname, registration.ip);
  if (down) {
    throw new FailedPrecondition(`the machine of this agent (${JSON.stringify(down)}) is DOWN for maintenance; it may register once an operator brings it up (STOP_MAINTENANCE)`);
  }
  const id = (requested || ctx.ids.agent()) as AgentId;
  const issued = checkAgentSecret(ctx, id, registration.secret);
  // Admitted before anything else happens: a successor must know every agent that might run tasks.
  fx.write({ op: 'admitAgent', id, info: { ...info, id: { value: id } }, ip: registration.ip, now: ctx.now, ...(issued ? { secretHash: issued.hash } : {}) });
  let agent = state.agent(id);
  const joining = !agent || agent.recovered || agent.unreachableSince !== null;
  let wasUnreachable = false;
  if (agent) {
    fx.cancel({ kind: 'reregister-timeout', agentId: id, waited: 0 });
    fx.cancel({ kind: 'agent-gone', agentId: id });
    wasUnreachable = agent.unreachableSince !== null;
    agent.unreachableSince = null;
    agent.recovered = false;
    if (agent.linkId !== null) fx.add({ type: 'closeAgent', agentId: id, linkId: agent.linkId, reason: 'agent re-registered on a new connection' });
    // Offers still out (it came back on a new link before the old one was seen to close) would outlive the
    // allocator's view of the agent, which starts afresh from its total below: their resources would be out twice.
    for (const offer of state.offers.ofAgent(id)) rescindOffer(state, fx, ctx, offer.id, `agent ${id} re-registered`);
    agent.draining = false; // A draining agent says so again once registered.
    agent.info = { ...info, id: { value: agent.id } };
    agent.ip = registration.ip;
    agent.total = withDynamicReservations(fx, ctx, agent, total);
    agent.reregisteredTime = ctx.now;
    agent.version = registration.version;
    ctx.logger.info({ agent_id: agent.id, hostname: info.hostname }, `agent ${agent.id} (${info.hostname}) re-registered with ${registration.tasks.length} task(s)${wasUnreachable ? ' after being unreachable' : ''}`);
  } else {
    agent = {
      id, info: { ...info, id: { value: id } }, ip: registration.ip, total, connected: false, linkId: null, registeredTime: ctx.now,
      reregisteredTime: requested ? ctx.now : null, recovered: false, unreachableSince: null, pendingKills: new Map(),
      version: registration.version,
    };
    state.agents.set(id, agent);
    ctx.logger.info({ agent_id: id, hostname: info.hostname }, `agent ${id} (${info.hostname}) ${requested ? 're-registered' : 'registered'} with ${total.toString()} and ${registration.tasks.length} task(s)`);
  }
  agent.connected = true;
  agent.linkId = linkId;
  fx.add({ type: 'attachAgent', agentId: id, linkId });
  adoptReportedTasks(state, fx, ctx, agent, registration, wasUnreachable);
  // A deactivated or draining agent is known but offers nothing; a drain under way is asked for again.
  if (state.offersFrom(agent)) fx.allocator({ call: 'addAgent', agentId: id, total: agent.total, used: state.usedOnAgent(id) });
  if (agent.drain?.state === 'DRAINING') fx.toAgent(id, { kind: 'drain', maxGracePeriod: agent.drain.maxGracePeriod });
  for (const kill of agent.pendingKills.values()) {
    fx.toAgent(id, { kind: 'killTask', frameworkId: kill.frameworkId, taskId: kill.taskId });
  }
  agent.pendingKills.clear();
  fx.toAgent(id, { kind: 'registered', agentId: id, ...(issued ? { secret: issued.secret } : {}) });
  fx.emit({ type: 'AGENT_REGISTERED', agent, reregistered: requested !== '' });
  if (joining) fx.emit({ type: 'AGENT_ADDED', agent });
  applyUnavailability(state, fx, ctx, agent);
  checkDrained(state, fx, ctx, agent);
  fx.allocate();
  return agent;
}

/**
 * An agent re-registering under a known id must present the secret issued
 * with it (the registry keeps its hash): nobody else may take its place and
 * report its tasks lost. A new id, or one issued before secrets existed,
 * gets a secret now; it is returned to be stored and sent.
 */
function checkAgentSecret(ctx: OpContext, id: string, presented: string): { secret: string; hash: string } | null {
  const stored = ctx.registry.agents.get(id)?.secret_hash ?? '';
  if (stored) {
    const given = createHash('sha256').update(presented).digest();
    const expected = Buffer.from(stored, 'hex');
    if (!presented || expected.length !== given.length || !timingSafeEqual(given, expected)) {
      throw new PermissionDenied(`agent ${id} did not prove it is that agent (its secret is missing or wrong); an agent with a new work_dir registers as a new agent`);
    }
    return null;
  }
  const secret = ctx.newSecret();
  return { secret, hash: createHash('sha256').update(secret).digest('hex') };
}

/**
 * The agent's link `linkId` went. An agent that stopped answering pings
 * (`silent`) has been silent for max_agent_ping_timeouts pings already: it
 * is unreachable now. One whose link closed (a restart, a network blip, a
 * gRPC keepalive timeout) gets that long (75 s by default, as Mesos's health
 * checks give it) to come back, counted from when it was last heard
 * (`heardAgo` seconds before): an agent silent for 35 s before keepalive
 * dropped its link has 40 s left, so a stopped agent is unreachable after
 * 75 s either way.
 */
export function disconnectAgent(state: ClusterState, fx: Effects, ctx: OpContext, agentId: string, linkId: number, silent: boolean, heardAgo = 0): void {
  const agent = state.agent(agentId);
  if (!agent || agent.linkId !== linkId) return;
  agent.connected = false;
  agent.linkId = null;
  for (const offer of state.offers.ofAgent(agentId)) rescindOffer(state, fx, ctx, offer.id, `agent ${agentId} disconnected`);
  fx.allocator({ call: 'removeAgent', agentId: agent.id });
  const grace = silent ? 0 : Math.max(0, ctx.config.agentDisconnectTimeout - heardAgo);
  ctx.logger.warn({ agent_id: agentId }, `agent ${agentId} ${silent ? 'stopped answering pings' : `disconnected; waiting ${grace}s for it to come back`}`);
  awaitReregistration(fx, ctx, agent, grace);
}

/** After `seconds` without re-registering (--agent_reregister_timeout after a failover) the agent is unreachable. */
export function awaitReregistration(fx: Effects, ctx: OpContext, agent: AgentRecord, seconds = ctx.config.agentReregisterTimeout): void {
  fx.arm({ kind: 'reregister-timeout', agentId: agent.id, waited: seconds }, ctx.now + seconds);
}

/** The agent did not come back in time: it is unreachable, and so are its tasks. */
export function markAgentUnreachable(state: ClusterState, fx: Effects, ctx: OpContext, agentId: string, waited: number): void {
  const agent = state.agent(agentId);
  if (!agent || agent.connected || agent.unreachableSince !== null) return;
  fx.write({ op: 'markAgentUnreachable', id: agent.id, now: ctx.now });
  ctx.logger.warn({ agent_id: agent.id }, `agent ${agent.id} did not come back within ${waited}s: it is unreachable, and so are its tasks`);
  agent.recovered = false;
  agent.unreachableSince = ctx.now;
  fx.emit({ type: 'AGENT_REMOVED', agent }); // As Mesos: an unreachable agent leaves the registered ones.
  // Tasks a predecessor sent there are known only from the registry's index.
  for (const t of ctx.registry.agents.get(agent.id)?.tasks.values() ?? []) {
    if (!state.tasks.get(t.framework_id, t.task_id)) addTask(state, fx, taskFromRegistry(ctx, agent.id, t, 'TASK_STAGING'));
  }
  for (const task of state.tasks.ofAgent(agent.id)) {
    if (isTerminal(task.state)) continue;
    const state_: TaskState = state.framework(task.frameworkId)?.partitionAware ? 'TASK_UNREACHABLE' : 'TASK_LOST';
    masterUpdate(state, fx, ctx, task, state_, 'REASON_AGENT_REMOVED', `agent ${agent.id} is unreachable`);
  }
  startGoneTimeout(fx, ctx, agent);
}

/** After --registry_max_agent_age unreachable, the agent is gone and so are its tasks (TASK_GONE). */
export function startGoneTimeout(fx: Effects, ctx: OpContext, agent: AgentRecord): void {
  fx.arm({ kind: 'agent-gone', agentId: agent.id }, (agent.unreachableSince ?? ctx.now) + ctx.config.registryMaxAgentAge);
}

export function markAgentGone(state: ClusterState, fx: Effects, ctx: OpContext, agentId: string): void {
  const agent = state.agent(agentId);
  if (!agent || agent.connected) return;
  fx.write({ op: 'markAgentGone', id: agent.id, now: ctx.now });
  ctx.logger.warn({ agent_id: agent.id }, `agent ${agent.id} was unreachable for ${ctx.config.registryMaxAgentAge}s: it is gone, and so are its tasks`);
  for (const task of state.tasks.ofAgent(agent.id)) {
    if (!isTerminal(task.state)) masterUpdate(state, fx, ctx, task, 'TASK_GONE', 'REASON_AGENT_REMOVED', `agent ${agent.id} is gone`);
  }
  state.agents.delete(agent.id);
  // An unreachable agent was announced removed when it became so.
  if (agent.unreachableSince === null) fx.emit({ type: 'AGENT_REMOVED', agent });
}

/** The agent takes no more tasks: what it has is not offered again; its tasks run on until they end. */
export function drainAgent(state: ClusterState, fx: Effects, ctx: OpContext, agentId: string, reason: string): void {
  const agent = state.agent(agentId);
  if (!agent || agent.draining) return;
  agent.draining = true;
  ctx.logger.info({ agent_id: agentId }, `agent ${agentId} is draining${reason ? ` (${reason})` : ''}: its resources are no longer offered`);
  for (const offer of state.offers.ofAgent(agentId)) rescindOffer(state, fx, ctx, offer.id, `agent ${agentId} is draining`);
  fx.allocator({ call: 'removeAgent', agentId: agent.id });
}
