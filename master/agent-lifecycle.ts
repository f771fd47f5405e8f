// Agents joining, leaving and reporting: (re-)registration, disconnection
// and the wait for re-registration, unreachable agents, status updates.
import type { AgentMessageOut, TaskState } from '../proto/index.js';
import type { RegisterAgent__Output } from '../proto/gen/mesos_ts/internal/RegisterAgent.js';
import { isTerminal } from '../common/task-state.js';
import { adoptReportedTasks, validateAgentInfo } from './agent-registration.js';
import type { Master } from './master.js';
import type { AgentConnection, AgentRecord } from './records.js';

type AgentStatus = NonNullable<NonNullable<AgentMessageOut['status_update']>['status']>;

export function registerAgent(master: Master, message: RegisterAgent__Output, conn: AgentConnection): AgentRecord {
  const info = message.agent_info!;
  const total = validateAgentInfo(message);
  const requested = info.id?.value ?? '';
  let agent = requested ? master.agents.get(requested) : undefined;
  if (agent) {
    if (agent.reregisterTimer) clearTimeout(agent.reregisterTimer);
    agent.reregisterTimer = null;
    agent.conn?.close('agent re-registered on a new connection');
    agent.info = { ...info, id: { value: agent.id } };
    agent.total = total;
    agent.conn = conn;
    agent.reregisteredTime = master.now();
    master.log(`agent ${agent.id} (${info.hostname}) re-registered with ${message.tasks.length} task(s)`);
  } else {
    const id = requested || master.ids.agent();
    agent = {
      id, info: { ...info, id: { value: id } }, total, conn, registeredTime: master.now(), reregisteredTime: requested ? master.now() : null,
      reregisterTimer: null, pendingKills: new Map(),
    };
    master.agents.set(id, agent);
    master.log(`agent ${id} (${info.hostname}) registered with ${total.toString()} and ${message.tasks.length} task(s)`);
  }
  adoptReportedTasks(master, agent, message);
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
  return agent;
}

export function agentDisconnected(master: Master, agentId: string, conn: AgentConnection): void {
  const agent = master.agents.get(agentId);
  if (!agent || agent.conn !== conn) return;
  agent.conn = null;
  for (const offer of master.offers.ofAgent(agentId)) master.rescindOffer(offer.id, `agent ${agentId} disconnected`);
  master.allocator.removeAgent(agentId);
  const timeout = master.options.agentReregisterTimeout;
  master.log(`agent ${agentId} disconnected; waiting ${timeout}s for it to come back`);
  agent.reregisterTimer = setTimeout(master.safely(() => markAgentUnreachable(master, agent)), timeout * 1000);
  agent.reregisterTimer.unref();
  master.changed();
}

function markAgentUnreachable(master: Master, agent: AgentRecord): void {
  agent.reregisterTimer = null;
  master.log(`agent ${agent.id} did not come back: its tasks are unreachable`);
  for (const task of master.tasks.ofAgent(agent.id)) {
    if (isTerminal(task.state)) continue;
    const fw = master.frameworks.get(task.frameworkId);
    const state: TaskState = fw?.partitionAware ? 'TASK_UNREACHABLE' : 'TASK_LOST';
    master.masterUpdate(task, state, 'REASON_AGENT_REMOVED', `agent ${agent.id} is unreachable`);
  }
  master.changed();
}

export function agentMessage(master: Master, agentId: string, message: AgentMessageOut): void {
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
  if (master.wasRemoved(frameworkId)) {
    // The framework is gone: nobody will acknowledge, so the master does.
    master.acknowledgeToAgent(agentId, frameworkId, status.task_id!.value, status.uuid);
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
