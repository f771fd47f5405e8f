// Agent (re-)registration: checking what an agent says about itself and
// merging the tasks it reports with what the master already knows.
import type { AgentInfoOut, TaskInfoIn, TaskState, TaskStatusIn } from '../../proto/index.js';
import type { Resources } from '../../common/resources.js';
import { isTerminal } from '../../common/task-state.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentId, AgentRecord, FrameworkId, TaskId } from '../state/records.js';
import { taskKeyOf, type RegistryTask } from '../registry/registry.js';
import { masterStatus } from '../status.js';
import type { Effects, OpContext } from './effects.js';
import { addTask, masterUpdate, moveTask, taskFromRegistry } from './task-changes.js';

/** What an agent says of itself when it (re-)registers, read and checked at the edge (validation.ts). */
export interface AgentRegistration {
  readonly info: AgentInfoOut;
  /** The IP address of its HTTP endpoint ('' when unknown): its pid's and its offers' URL address. */
  readonly ip: string;
  /** The id it asks for (re-registration), or null for a new agent. */
  readonly requestedId: AgentId | null;
  readonly total: Resources;
  readonly tasks: readonly ReportedTask[];
  /** The agent's software version ('' when it sent none). */
  readonly version: string;
  /** The secret issued with its id, presented when it re-registers ('' for none). */
  readonly secret: string;
}

/** A task an agent reports running (or having ended) when it (re-)registers. */
export interface ReportedTask {
  readonly frameworkId: FrameworkId;
  readonly taskId: TaskId;
  readonly name: string;
  readonly state: TaskState;
  readonly resources: Resources;
  /** Its TaskInfo as the agent knows it (name, id, resources, container). */
  readonly info: TaskInfoIn;
  /** The latest status the agent has for it. */
  readonly latest: TaskStatusIn | null;
  /** The update the agent is still delivering (Task.status_update_state/uuid), null when all are acknowledged. */
  readonly inFlight?: { readonly state: TaskState; readonly uuid: Buffer } | null;
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
  state: ClusterState, fx: Effects, ctx: OpContext, agent: AgentRecord, registration: AgentRegistration, wasUnreachable: boolean,
): void {
  const reported = new Set<string>();
  const adopted: RegistryTask[] = [];
  const indexed = ctx.registry.agents.get(agent.id)?.tasks;
  for (const t of registration.tasks) {
    const { frameworkId, taskId } = t;
    reported.add(taskKeyOf(frameworkId, taskId));
    const known = state.tasks.get(frameworkId, taskId);
    if (known && known.agentId !== agent.id) {
      // An agent reports only its own tasks: one claiming another's would move a task a container elsewhere still runs.
      ctx.logger.warn(
        { agent_id: agent.id, framework_id: frameworkId, task_id: taskId },
        `agent ${agent.id} reports task ${taskId} of framework ${frameworkId} as ${t.state}, but it runs on agent ${known.agentId}; ignored`,
      );
      continue;
    }
    if (known) {
      const before = known.state;
      // What the framework hears next from this agent, as the agent says (Mesos keeps the Task it reports, with these).
      known.statusUpdateState = t.inFlight?.state ?? null;
      known.statusUuid = t.inFlight?.uuid ?? known.statusUuid;
      const result = moveTask(state, fx, known, t.state);
      if (result === 'illegal') {
        ctx.logger.warn({ agent_id: agent.id, task_id: taskId }, `agent ${agent.id} reports task ${taskId} as ${t.state}, master has ${known.state}; keeping the master's`);
      } else if (before === 'TASK_UNREACHABLE' && result === 'changed') {
        // A partition-aware framework was told the task is unreachable: tell it the task is back, in the state of
        // the update the agent still delivers when there is one (as reconciliation answers), not ahead of it: a task
        // that ended meanwhile would otherwise be heard FINISHED, then RUNNING from the agent's redelivery.
        const heard = t.inFlight?.state ?? t.state;
        const status = heard === t.state ? t.latest : null;
        fx.status(frameworkId, masterStatus({
          taskId, state: heard, now: ctx.now, agentId: agent.id, reason: 'REASON_AGENT_REREGISTERED',
          message: `agent ${agent.id} is reachable again${status?.message ? `: ${status.message}` : ''}`,
        }));
      }
      continue;
    }
    const fw = state.framework(frameworkId);
    if (state.wasRemoved(frameworkId)) {
      // Nobody will acknowledge its updates (the master does, see statusUpdate); a live one is killed.
      if (isTerminal(t.state)) continue;
      ctx.logger.warn({ agent_id: agent.id, framework_id: frameworkId, task_id: taskId }, `agent ${agent.id} came back with task ${taskId} of framework ${frameworkId}, which was removed; killing it`);
      fx.toAgent(agent.id, { kind: 'killTask', frameworkId, taskId });
      continue;
    }
    if (wasUnreachable && !isTerminal(t.state) && (!fw || !fw.partitionAware)) {
      ctx.logger.warn({ agent_id: agent.id, framework_id: frameworkId, task_id: taskId }, `agent ${agent.id} came back with task ${taskId} of framework ${frameworkId}, which was reported lost; killing it`);
      state.silenced.add(taskKeyOf(frameworkId, taskId)); // Its framework heard TASK_LOST: it hears nothing more of it.
      fx.toAgent(agent.id, { kind: 'killTask', frameworkId, taskId });
      continue;
    }
    addTask(state, fx, {
      frameworkId, agentId: agent.id, taskId, resources: t.resources, state: t.state, info: { ...t.info, agent_id: { value: agent.id } },
      status: t.latest, statusUuid: t.inFlight?.uuid ?? null, statusUpdateState: t.inFlight?.state ?? null, recovered: false, createdAt: ctx.now,
    });
    // The registry's index has most of them already (a re-registration after a failover): their text is not made again.
    if (!isTerminal(t.state) && !indexed?.has(taskKeyOf(frameworkId, taskId))) {
      adopted.push({ framework_id: frameworkId, task_id: taskId, name: t.name, resources: t.resources.toString() });
    }
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
