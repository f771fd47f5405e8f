// Agent (re-)registration: checking what an agent says about itself and
// merging the tasks it reports with what the master already knows.
import type { RegisterAgent__Output } from '../../proto/gen/mesos_ts/internal/RegisterAgent.js';
import { InvalidArgument } from '../../common/errors.js';
import { Resources } from '../../common/resources.js';
import { isTerminal } from '../../common/task-state.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentRecord, FrameworkId, TaskId } from '../state/records.js';
import { taskKeyOf, type RegistryTask } from '../registry/registry.js';
import { masterStatus } from '../status.js';
import type { Effects, OpContext } from './effects.js';
import { addTask, masterUpdate, moveTask, taskFromRegistry } from './task-changes.js';

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
 * have (including those a predecessor sent, known from the registry) were
 * lost on the way and are reported dropped. An agent back from being
 * unreachable may report tasks the master already reported lost to their
 * (not partition-aware) framework: those are killed, not adopted, so that
 * what the framework was told stays true.
 */
export function adoptReportedTasks(
  state: ClusterState, fx: Effects, ctx: OpContext, agent: AgentRecord, message: RegisterAgent__Output, wasUnreachable: boolean,
): void {
  const reported = new Set<string>();
  const adopted: RegistryTask[] = [];
  for (const t of message.tasks) {
    const frameworkId = t.framework_id!.value as FrameworkId;
    const taskId = t.task_id!.value as TaskId;
    reported.add(taskKeyOf(frameworkId, taskId));
    const known = state.tasks.get(frameworkId, taskId);
    if (known) {
      const before = known.state;
      const result = moveTask(state, fx, known, t.state);
      if (result === 'illegal') {
        ctx.log(`agent ${agent.id} reports task ${taskId} as ${t.state}, master has ${known.state}; keeping the master's`);
      } else if (before === 'TASK_UNREACHABLE' && result === 'changed') {
        // A partition-aware framework was told the task is unreachable: tell it the task is back.
        const status = t.statuses[t.statuses.length - 1];
        fx.status(frameworkId, masterStatus({
          taskId, state: t.state, now: ctx.now, agentId: agent.id, reason: 'REASON_AGENT_REREGISTERED',
          message: `agent ${agent.id} is reachable again${status?.message ? `: ${status.message}` : ''}`,
        }));
      }
      continue;
    }
    const fw = state.framework(frameworkId);
    if (state.wasRemoved(frameworkId)) {
      // Nobody will acknowledge its updates (the master does, see statusUpdate); a live one is killed.
      if (isTerminal(t.state)) continue;
      ctx.log(`agent ${agent.id} came back with task ${taskId} of framework ${frameworkId}, which was removed; killing it`);
      fx.toAgent(agent.id, { kill_task: { framework_id: { value: frameworkId }, task_id: { value: taskId } } });
      continue;
    }
    if (wasUnreachable && !isTerminal(t.state) && (!fw || !fw.partitionAware)) {
      ctx.log(`agent ${agent.id} came back with task ${taskId} of framework ${frameworkId}, which was reported lost; killing it`);
      state.silenced.add(taskKeyOf(frameworkId, taskId)); // Its framework heard TASK_LOST: it hears nothing more of it.
      fx.toAgent(agent.id, { kill_task: { framework_id: { value: frameworkId }, task_id: { value: taskId } } });
      continue;
    }
    addTask(state, fx, {
      frameworkId, agentId: agent.id, taskId, resources: Resources.fromProto(t.resources), state: t.state,
      info: { name: t.name, task_id: t.task_id, agent_id: { value: agent.id }, resources: t.resources, container: t.container },
      status: t.statuses[t.statuses.length - 1] ?? null, statusUuid: null, recovered: false, createdAt: ctx.now,
    });
    if (!isTerminal(t.state)) adopted.push({ framework_id: frameworkId, task_id: taskId, name: t.name, resources: Resources.fromProto(t.resources).toString() });
  }
  if (adopted.length > 0) fx.write({ op: 'addTasks', agentId: agent.id, tasks: adopted });
  // What a predecessor sent this agent is known from the registry index.
  for (const t of ctx.registry.agents.get(agent.id)?.tasks.values() ?? []) {
    if (!reported.has(taskKeyOf(t.framework_id, t.task_id)) && !state.tasks.get(t.framework_id, t.task_id)) {
      addTask(state, fx, taskFromRegistry(ctx, agent.id, t, 'TASK_STAGING'));
    }
  }
  for (const task of state.tasks.ofAgent(agent.id)) {
    if (isTerminal(task.state) || reported.has(taskKeyOf(task.frameworkId, task.taskId))) continue;
    if (state.isLaunching(task.frameworkId, task.taskId)) continue; // Not sent yet: it will go on this link.
    const fw = state.framework(task.frameworkId);
    masterUpdate(
      state, fx, ctx, task, fw?.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST', 'REASON_AGENT_REREGISTERED',
      `agent ${agent.id} re-registered without task ${task.taskId}`,
    );
  }
}
