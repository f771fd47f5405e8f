// Agent (re-)registration: checking what an agent says about itself and
// merging the tasks it reports with what the master already knows.
import type { RegisterAgent__Output } from '../proto/gen/mesos_ts/internal/RegisterAgent.js';
import { InvalidArgument } from '../common/errors.js';
import { Resources } from '../common/resources.js';
import { isTerminal } from '../common/task-state.js';
import type { Master } from './master.js';
import type { AgentRecord } from './records.js';

/** Returns the agent's total resources; throws InvalidArgument naming the bad field. */
export function validateAgentInfo(message: RegisterAgent__Output): Resources {
  const info = message.agent_info;
  if (!info) throw new InvalidArgument('RegisterAgent.agent_info is required');
  if (!info.hostname) throw new InvalidArgument('RegisterAgent.agent_info.hostname is required');
  const total = Resources.fromProto(info.resources, 'RegisterAgent.agent_info.resources');
  if (total.isEmpty()) throw new InvalidArgument('RegisterAgent.agent_info.resources is empty: an agent must offer something');
  message.tasks.forEach((t, i) => {
    if (!t.task_id?.value || !t.framework_id?.value) {
      throw new InvalidArgument(`RegisterAgent.tasks[${i}] needs task_id and framework_id`);
    }
    Resources.fromProto(t.resources, `RegisterAgent.tasks[${i}].resources`);
  });
  return total;
}

/**
 * Reconciles the master's tasks on this agent with the agent's report:
 * reported tasks the master does not know are adopted (a master that took
 * over learns them this way); tasks the master sent that the agent does not
 * have were lost on the way and are reported dropped.
 */
export function adoptReportedTasks(master: Master, agent: AgentRecord, message: RegisterAgent__Output): void {
  const reported = new Set<string>();
  for (const t of message.tasks) {
    const frameworkId = t.framework_id!.value;
    const taskId = t.task_id!.value;
    reported.add(`${frameworkId}/${taskId}`);
    const known = master.tasks.get(frameworkId, taskId);
    if (known) {
      if (master.tasks.apply(known, t.state) === 'illegal') {
        master.log(`agent ${agent.id} reports task ${taskId} as ${t.state}, master has ${known.state}; keeping the master's`);
      }
      continue;
    }
    master.tasks.add({
      frameworkId, agentId: agent.id, taskId, resources: Resources.fromProto(t.resources), state: t.state,
      info: { name: t.name, task_id: t.task_id, agent_id: { value: agent.id }, resources: t.resources, container: t.container },
      status: t.statuses[t.statuses.length - 1] ?? null, statusUuid: null, recovered: false, createdAt: master.now(),
    });
  }
  for (const task of master.tasks.ofAgent(agent.id)) {
    if (isTerminal(task.state) || reported.has(`${task.frameworkId}/${task.taskId}`)) continue;
    const fw = master.frameworks.get(task.frameworkId);
    master.masterUpdate(
      task, fw?.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST', 'REASON_AGENT_REREGISTERED',
      `agent ${agent.id} re-registered without task ${task.taskId}`,
    );
  }
}
