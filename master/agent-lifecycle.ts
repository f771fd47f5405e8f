// Agents joining, leaving and reporting: (re-)registration, disconnection
// and the wait for re-registration, unreachable agents, status updates.
import type { AgentMessageOut, TaskState } from '../proto/index.js';
import type { RegisterAgent__Output } from '../proto/gen/mesos_ts/internal/RegisterAgent.js';
import { isTerminal } from '../common/task-state.js';
import { adoptReportedTasks, validateAgentInfo } from './agent-registration.js';
import { FailedPrecondition, Unavailable } from '../common/errors.js';
import type { Master } from './master.js';
import { taskFromRegistry } from './recovery.js';
import { taskKeyOf } from './registry/registry.js';
import { withDynamicReservations } from './reservations.js';
import type { AgentConnection, AgentRecord } from './records.js';

type AgentStatus = NonNullable<NonNullable<AgentMessageOut['status_update']>['status']>;

export async function registerAgent(master: Master, message: RegisterAgent__Output, conn: AgentConnection): Promise<AgentRecord> {
  const info = message.agent_info!;
  const total = validateAgentInfo(message);
  const requested = info.id?.value ?? '';
  if (requested && master.registry.agents.get(requested)?.gone_time != null) {
    throw new FailedPrecondition(
      `agent ${requested} is gone (unreachable longer than --registry_max_agent_age) and may not return; start it with an empty --work_dir to join as a new agent`,
    );
  }
  const id = requested || master.ids.agent();
  // Admitted only once the registry holds it: a successor must know every agent that might run tasks.
  await master.registry.admitAgent(id, { ...info, id: { value: id } }, master.now());
  if (!master.acting) throw new Unavailable('this master stopped leading while the agent registered; register with the new leader');
  let agent = master.agents.get(id);
  let wasUnreachable = false;
  if (agent) {
    if (agent.reregisterTimer) clearTimeout(agent.reregisterTimer);
    if (agent.goneTimer) clearTimeout(agent.goneTimer);
    agent.reregisterTimer = null;
    agent.goneTimer = null;
    wasUnreachable = agent.unreachableSince !== null;
    agent.unreachableSince = null;
    agent.recovered = false;
    agent.conn?.close('agent re-registered on a new connection');
    agent.draining = false; // A draining agent says so again once registered.
    agent.info = { ...info, id: { value: agent.id } };
    agent.total = withDynamicReservations(master, agent, total);
    agent.conn = conn;
    agent.reregisteredTime = master.now();
    master.log(`agent ${agent.id} (${info.hostname}) re-registered with ${message.tasks.length} task(s)${wasUnreachable ? ' after being unreachable' : ''}`);
  } else {
    agent = {
      id, info: { ...info, id: { value: id } }, total, conn, registeredTime: master.now(), reregisteredTime: requested ? master.now() : null,
      reregisterTimer: null, recovered: false, unreachableSince: null, goneTimer: null, pendingKills: new Map(),
    };
    master.agents.set(id, agent);
    master.log(`agent ${id} (${info.hostname}) ${requested ? 're-registered' : 'registered'} with ${total.toString()} and ${message.tasks.length} task(s)`);
  }
  adoptReportedTasks(master, agent, message, wasUnreachable);
  master.allocator.addAgent(agent.id, agent.total, master.usedOnAgent(agent.id));
  for (const kill of agent.pendingKills.values()) {
    conn.send({ kill_task: { framework_id: { value: kill.frameworkId }, task_id: { value: kill.taskId } } });
  }
  agent.pendingKills.clear();
  conn.send({
    registered: { agent_id: { value: agent.id }, master_info: master.options.info, ping_interval_seconds: master.options.agentPingInterval },
  });
  master.changed();
  master.scheduleAllocation();
  // The link may have gone while the registry was written.
  if (!conn.open) agentDisconnected(master, agent.id, conn);
  return agent;
}

/**
 * The agent's link went. An agent that stopped answering pings has been
 * silent for max_agent_ping_timeouts pings already: it is unreachable now.
 * One whose link just closed (a restart, a network blip) gets as long again
 * (agent_ping_timeout x max_agent_ping_timeouts, 75 s by default, as Mesos's
 * health checks give it) to come back.
 */
export function agentDisconnected(master: Master, agentId: string, conn: AgentConnection, silent = false): void {
  const agent = master.agents.get(agentId);
  if (!agent || agent.conn !== conn) return;
  agent.conn = null;
  for (const offer of master.offers.ofAgent(agentId)) master.rescindOffer(offer.id, `agent ${agentId} disconnected`);
  master.allocator.removeAgent(agentId);
  const grace = silent ? 0 : master.options.agentDisconnectTimeout;
  master.log(`agent ${agentId} ${silent ? 'stopped answering pings' : `disconnected; waiting ${grace}s for it to come back`}`);
  awaitReregistration(master, agent, grace);
  master.changed();
}

/** After `seconds` without re-registering (--agent_reregister_timeout after a failover) the agent is unreachable. */
export function awaitReregistration(master: Master, agent: AgentRecord, seconds = master.options.agentReregisterTimeout): void {
  if (agent.reregisterTimer) clearTimeout(agent.reregisterTimer);
  master.at(master.now() + seconds, master.safelyAsync(() => markAgentUnreachable(master, agent, seconds)), (t) => (agent.reregisterTimer = t));
}

async function markAgentUnreachable(master: Master, agent: AgentRecord, waited: number): Promise<void> {
  agent.reregisterTimer = null;
  const now = master.now();
  await master.registry.markAgentUnreachable(agent.id, now);
  if (!master.acting || agent.conn || master.agents.get(agent.id) !== agent) return; // Came back meanwhile.
  master.log(`agent ${agent.id} did not come back within ${waited}s: it is unreachable, and so are its tasks`);
  agent.recovered = false;
  agent.unreachableSince = now;
  master.events.emit({ type: 'AGENT_REMOVED', agent }); // As Mesos: an unreachable agent leaves the registered ones.
  // Tasks a predecessor sent there are known only from the registry's index.
  for (const t of master.registry.agents.get(agent.id)?.tasks.values() ?? []) {
    if (!master.tasks.get(t.framework_id, t.task_id)) master.tasks.add(taskFromRegistry(master, agent.id, t, 'TASK_STAGING'));
  }
  for (const task of master.tasks.ofAgent(agent.id)) {
    if (isTerminal(task.state)) continue;
    const fw = master.frameworks.get(task.frameworkId);
    const state: TaskState = fw?.partitionAware ? 'TASK_UNREACHABLE' : 'TASK_LOST';
    master.masterUpdate(task, state, 'REASON_AGENT_REMOVED', `agent ${agent.id} is unreachable`);
  }
  startGoneTimer(master, agent);
  master.changed();
}

/** After --registry_max_agent_age unreachable, the agent is gone and so are its tasks (TASK_GONE). */
export function startGoneTimer(master: Master, agent: AgentRecord): void {
  const due = (agent.unreachableSince ?? master.now()) + master.options.registryMaxAgentAge; // Seconds, as the clock counts.
  const gone = () => {
    agent.goneTimer = null;
    master.safelyAsync(() => markAgentGone(master, agent))();
  };
  master.at(due, gone, (t) => (agent.goneTimer = t));
}

async function markAgentGone(master: Master, agent: AgentRecord): Promise<void> {
  await master.registry.markAgentGone(agent.id, master.now());
  if (!master.acting || agent.conn || master.agents.get(agent.id) !== agent) return;
  master.log(`agent ${agent.id} was unreachable for ${master.options.registryMaxAgentAge}s: it is gone, and so are its tasks`);
  for (const task of master.tasks.ofAgent(agent.id)) {
    if (!isTerminal(task.state)) master.masterUpdate(task, 'TASK_GONE', 'REASON_AGENT_REMOVED', `agent ${agent.id} is gone`);
  }
  master.agents.delete(agent.id);
  master.changed();
}

/** The agent takes no more tasks: what it has is not offered again; its tasks run on until they end. */
function agentDraining(master: Master, agentId: string, reason: string): void {
  const agent = master.agents.get(agentId);
  if (!agent || agent.draining) return;
  agent.draining = true;
  master.log(`agent ${agentId} is draining${reason ? ` (${reason})` : ''}: its resources are no longer offered`);
  for (const offer of master.offers.ofAgent(agentId)) master.rescindOffer(offer.id, `agent ${agentId} is draining`);
  master.allocator.removeAgent(agentId);
  master.changed();
}

export function agentMessage(master: Master, agentId: string, message: AgentMessageOut): void {
  if (message.kind === 'draining') return agentDraining(master, agentId, message.draining?.reason ?? '');
  if (message.kind === 'status_update' && message.status_update) {
    const { framework_id, status } = message.status_update;
    if (!framework_id?.value || !status?.task_id?.value) {
      master.log(`agent ${agentId} sent a status update without framework_id or task_id; ignored`);
      return;
    }
    statusUpdate(master, agentId, framework_id.value, status);
  }
}

/** An update from an agent: apply it to the task, forward it to the framework. */
function statusUpdate(master: Master, agentId: string, frameworkId: string, status: AgentStatus): void {
  const key = taskKeyOf(frameworkId, status.task_id!.value);
  if (master.wasRemoved(frameworkId) || master.silenced.has(key)) {
    // The framework is gone, or was told the task is lost: nobody will acknowledge, so the master does.
    master.acknowledgeToAgent(agentId, frameworkId, status.task_id!.value, status.uuid);
    if (isTerminal(status.state)) master.silenced.delete(key);
    return;
  }
  const task = master.tasks.get(frameworkId, status.task_id!.value);
  if (task) {
    const result = master.tasks.apply(task, status.state);
    if (result === 'illegal') {
      master.log(`agent ${agentId}: ignoring ${status.state} for task ${task.taskId} in ${task.state} (illegal transition)`);
    } else {
      task.status = status;
      task.statusUuid = status.uuid.length > 0 ? status.uuid : null;
      if (isTerminal(task.state)) master.recoverTask(task);
    }
  }
  master.forwardStatus(frameworkId, status);
  master.changed();
}
