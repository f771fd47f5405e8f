// The master's records as Mesos's v1 operator API shows them
// (mesos.v1.master.Response): agents, frameworks, tasks, roles and the whole
// state. Pure functions of the Master; `OperatorViews` keeps the state built
// for the current Master.version and rebuilds it at a bounded rate, as /state
// does (../bounded-staleness.ts), so polling never costs more than one build
// per change, nor more than a small share of the event loop.
import type { TaskState, TaskStatusIn } from '../../proto/index.js';
import type {
  _mesos_v1_master_Response_GetAgents as GetAgents,
  _mesos_v1_master_Response_GetAgents_Agent as AgentView,
  _mesos_v1_master_Response_GetFrameworks as GetFrameworks,
  _mesos_v1_master_Response_GetFrameworks_Framework as FrameworkView,
  _mesos_v1_master_Response_GetMaster as GetMaster,
  _mesos_v1_master_Response_GetRoles as GetRoles,
  _mesos_v1_master_Response_GetState as GetState,
  _mesos_v1_master_Response_GetTasks as GetTasks,
} from '../../proto/gen/mesos/v1/master/Response.js';
import type { Task } from '../../proto/gen/mesos/v1/Task.js';
import type { TimeInfo } from '../../proto/gen/mesos/v1/TimeInfo.js';
import { Resources } from '../../common/resources.js';
import type { Master } from '../master.js';
import type { AgentRecord, FrameworkRecord } from '../state/records.js';
import type { TaskRecord } from '../state/records.js';
import type { OfferRecord } from '../state/records.js';
import { agentPid } from '../rpc/wire.js';
import { BoundedStaleness, STATE_BOUNDS, type StalenessBounds } from '../bounded-staleness.js';

export type { AgentView, FrameworkView, GetAgents, GetFrameworks, GetMaster, GetRoles, GetState, GetTasks };

/** Seconds since the epoch (the master's clock) as Mesos's TimeInfo. */
export function timeInfo(seconds: number): TimeInfo {
  return { nanoseconds: Math.round(seconds * 1e9) };
}

/** `state` defaults to the task's current one; events pass the state they report. */
export function taskView(task: TaskRecord, state: TaskState = task.state): Task {
  const info = task.info;
  return {
    name: info.name ?? '',
    task_id: { value: task.taskId },
    framework_id: { value: task.frameworkId },
    agent_id: { value: task.agentId },
    state,
    resources: task.resources.toProto(),
    statuses: task.status ? [task.status] : [],
    // The update the framework hears next or heard last, when the master knows it (with its uuid), else the latest status's state.
    ...(task.statusUpdateState && task.statusUuid
      ? { status_update_state: task.statusUpdateState, status_update_uuid: task.statusUuid }
      : task.status?.state !== undefined ? { status_update_state: task.status.state } : {}),
    // As Mesos's createTask: the command's user, else the executor's (view_tasks filters by it, else by the framework's).
    ...(info.command?.user || info.executor?.command?.user ? { user: info.command?.user || info.executor?.command?.user } : {}),
    ...(info.labels ? { labels: info.labels } : {}),
    ...(info.container ? { container: info.container } : {}),
    ...(info.health_check ? { health_check: info.health_check } : {}),
    ...(info.kill_policy ? { kill_policy: info.kill_policy } : {}),
    ...(info.discovery ? { discovery: info.discovery } : {}),
  };
}

/** The status behind a TASK_UPDATED: the one the master stored, or one made from the state alone. */
export function statusOf(task: TaskRecord, state: TaskState, stored: TaskStatusIn | null, now: number): TaskStatusIn {
  return stored ?? { task_id: { value: task.taskId }, agent_id: { value: task.agentId }, state, source: 'SOURCE_MASTER', timestamp: now };
}

/** Resources held by the tasks of each agent (or framework): tasks whose resources went back are not counted. */
function usedBy(master: Master, key: (t: TaskRecord) => string): Map<string, Resources> {
  const used = new Map<string, Resources>();
  for (const t of master.tasks.all()) {
    if (t.recovered) continue;
    used.set(key(t), (used.get(key(t)) ?? Resources.EMPTY).add(t.resources));
  }
  return used;
}

function offersBy(master: Master, key: (o: OfferRecord) => string): Map<string, OfferRecord[]> {
  const out = new Map<string, OfferRecord[]>();
  for (const o of master.offers.view().values()) {
    const list = out.get(key(o));
    if (list) list.push(o);
    else out.set(key(o), [o]);
  }
  return out;
}

export function agentView(agent: AgentRecord, used: Resources, offered: Resources): AgentView {
  return {
    agent_info: agent.info,
    active: agent.connected && !agent.draining && !agent.deactivated,
    deactivated: agent.draining === true || agent.deactivated === true,
    ...(agent.drain
      ? {
          drain_info: {
            state: agent.drain.state,
            config: {
              mark_gone: agent.drain.markGone,
              ...(agent.drain.maxGracePeriod !== null ? { max_grace_period: { nanoseconds: Math.round(agent.drain.maxGracePeriod * 1e9) } } : {}),
            },
          },
        }
      : {}),
    pid: agentPid(agent),
    registered_time: timeInfo(agent.registeredTime),
    ...(agent.reregisteredTime !== null ? { reregistered_time: timeInfo(agent.reregisteredTime) } : {}),
    total_resources: agent.total.toProto(),
    allocated_resources: used.toProto(),
    offered_resources: offered.toProto(),
  };
}

/** An agent's view from the resources of its tasks and of its offers, one value each (summed here). */
export function agentViewOf(agent: AgentRecord, used: readonly Resources[], offered: readonly Resources[]): AgentView {
  return agentView(agent, Resources.sum(used), Resources.sum(offered));
}

/** One agent, as AGENT_ADDED carries it. */
export function oneAgentView(master: Master, agent: AgentRecord): AgentView {
  const used = Resources.sum(master.tasks.ofAgent(agent.id).filter((t) => !t.recovered).map((t) => t.resources));
  return agentView(agent, used, Resources.sum(master.offers.ofAgent(agent.id).map((o) => o.resources)));
}

/** Registered agents (reachable, re-registered since a failover); those not yet back are `recovered_agents`. */
export function getAgents(master: Master): GetAgents {
  const used = usedBy(master, (t) => t.agentId);
  const offers = offersBy(master, (o) => o.agentId);
  const all = [...master.agents.values()];
  return {
    agents: all
      .filter((a) => !a.recovered && a.unreachableSince === null)
      .map((a) => agentView(a, used.get(a.id) ?? Resources.EMPTY, Resources.sum((offers.get(a.id) ?? []).map((o) => o.resources)))),
    recovered_agents: all.filter((a) => a.recovered).map((a) => a.info),
  };
}

export function frameworkView(master: Master, fw: FrameworkRecord, used: Resources, offers: readonly OfferRecord[]): FrameworkView {
  const { allocated_resources, offered_resources, ...head } = frameworkViewWithoutOffers(master, fw, used, offers);
  return { ...head, offers: offers.map((o) => master.offerMessage(o)), allocated_resources, offered_resources };
}

/**
 * A framework's view without its offers' messages (`offered_resources` still
 * sums them): GET_STATE's JSON splices in the offers' kept texts (state-json.ts).
 */
export function frameworkViewWithoutOffers(master: Master, fw: FrameworkRecord, used: Resources, offers: readonly OfferRecord[]): Omit<FrameworkView, 'offers'> {
  const connected = fw.connected;
  return {
    framework_info: fw.info,
    active: connected,
    connected,
    // Known from the registry after a failover and not re-subscribed since.
    recovered: !connected && fw.reregisteredTime === null && fw.unregisteredTime === null && fw.registeredTime < master.startTime,
    registered_time: timeInfo(fw.registeredTime),
    ...(fw.reregisteredTime !== null ? { reregistered_time: timeInfo(fw.reregisteredTime) } : {}),
    ...(fw.unregisteredTime !== null ? { unregistered_time: timeInfo(fw.unregisteredTime) } : {}),
    allocated_resources: used.toProto(),
    offered_resources: Resources.sum(offers.map((o) => o.resources)).toProto(),
  };
}

/** One framework, as FRAMEWORK_ADDED / FRAMEWORK_UPDATED carry it. */
export function oneFrameworkView(master: Master, fw: FrameworkRecord): FrameworkView {
  const used = Resources.sum(master.tasks.ofFramework(fw.id).filter((t) => !t.recovered).map((t) => t.resources));
  return frameworkView(master, fw, used, master.offers.ofFramework(fw.id));
}

export function getFrameworks(master: Master): GetFrameworks {
  const used = usedBy(master, (t) => t.frameworkId);
  const offers = offersBy(master, (o) => o.frameworkId);
  return {
    frameworks: [...master.frameworks.values()].map((f) => frameworkView(master, f, used.get(f.id) ?? Resources.EMPTY, offers.get(f.id) ?? [])),
    completed_frameworks: master.completedFrameworkList().map((f) => frameworkView(master, f, Resources.EMPTY, [])),
  };
}

/**
 * Tasks the master tracks (terminal ones stay until their last update is
 * acknowledged), unreachable ones apart, and the bounded list of completed
 * tasks, as Mesos splits them.
 */
export function getTasks(master: Master): GetTasks {
  const tasks: Task[] = [];
  const unreachable: Task[] = [];
  for (const t of master.tasks.all()) (t.state === 'TASK_UNREACHABLE' ? unreachable : tasks).push(taskView(t));
  return { tasks, unreachable_tasks: unreachable, completed_tasks: master.tasks.completedTasks().map((t) => taskView(t)) };
}

/** Every role with a weight, an allocation or a framework: its weight, what it is allocated, its frameworks. */
export function getRoles(master: Master): GetRoles {
  const summaries = new Map((master.allocator.roles?.() ?? []).map((s) => [s.role, s]));
  const frameworks = new Map<string, string[]>();
  for (const f of master.frameworks.values()) for (const role of f.roles) frameworks.set(role, [...(frameworks.get(role) ?? []), f.id]);
  const names = [...new Set([...summaries.keys(), ...frameworks.keys()])].sort();
  return {
    roles: names.map((name) => ({
      name,
      weight: summaries.get(name)?.weight ?? 1,
      frameworks: (frameworks.get(name) ?? []).map((value) => ({ value })),
      resources: (summaries.get(name)?.allocated ?? Resources.EMPTY).toProto(),
    })),
  };
}

export function getMaster(master: Master): GetMaster {
  return { master_info: master.options.info, start_time: master.startTime };
}

export class OperatorViews {
  private readonly state: BoundedStaleness<GetState>;

  constructor(private readonly master: Master, bounds: StalenessBounds = STATE_BOUNDS) {
    this.state = new BoundedStaleness(() => master.version, bounds, undefined, () => master.freshReadsFrom);
  }

  /**
   * GET_STATE: tasks, frameworks and agents, rebuilt when the master changed,
   * at a bounded rate (../bounded-staleness.ts); `fresh`: exactly as now
   * (SUBSCRIBED, which the event stream continues).
   */
  getState(fresh = false): GetState {
    const master = this.master;
    return this.state.get(() => ({ get_tasks: getTasks(master), get_frameworks: getFrameworks(master), get_agents: getAgents(master) }), fresh);
  }
}
