// What the page knows of the cluster, and how events change it. Tasks come
// only from the operator event stream (SUBSCRIBED's state, then TASK_ADDED /
// TASK_UPDATED in order), so they never step back; agents, frameworks, the
// leader and the resource totals come from /master/state, refetched after events,
// and are patched by AGENT_* / FRAMEWORK_* events in between.

export const TERMINAL = new Set([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
]);
/** Ended tasks kept on the page (the most recent). */
const MAX_ENDED = 200;
export const KINDS = ['cpus', 'mem', 'disk'];

/** Operator API resources ([{name, type, scalar: {value}}, ...]) as { cpus, mem, disk } sums. */
export function scalars(resources) {
  const out = { cpus: 0, mem: 0, disk: 0 };
  for (const r of resources ?? []) if (r.type === 'SCALAR' && r.name in out) out[r.name] += r.scalar?.value ?? 0;
  return out;
}

/** /master/state resources (Mesos's shape: { cpus: 2, mem: 512, ports: '[...]' }, summed over roles) as { cpus, mem, disk }. */
export function stateScalars(resources) {
  const out = { cpus: 0, mem: 0, disk: 0 };
  for (const [key, value] of Object.entries(resources ?? {})) {
    const name = key.split('(')[0];
    if (name in out && typeof value === 'number') out[name] += value;
  }
  return out;
}

/** DRF's dominant share: the largest fraction of the cluster's total the framework holds, and of what. */
export function dominantShare(used, total) {
  let best = { share: 0, kind: null };
  for (const kind of KINDS) {
    const share = total[kind] > 0 ? used[kind] / total[kind] : 0;
    if (share > best.share) best = { share, kind };
  }
  return best;
}

function attributeValue(a) {
  if (a.type === 'SCALAR') return a.scalar?.value;
  if (a.type === 'RANGES') return `[${(a.ranges?.range ?? []).map((r) => `${r.begin}-${r.end}`).join(',')}]`;
  if (a.type === 'SET') return `{${(a.set?.item ?? []).join(',')}}`;
  return a.text?.value;
}

/** An agent's status word: what an operator did to it first, then whether it is connected. */
export function agentStatus(agent, machines) {
  const mode = machines.get(agent.hostname)?.mode;
  if (agent.drain) return agent.drain.toLowerCase(); // draining, drained
  if (mode === 'DRAINING') return 'maintenance';
  if (agent.deactivated) return 'deactivated';
  return agent.active ? 'active' : 'disconnected';
}

const machineName = (m) => [m.hostname, m.ip].filter(Boolean).join('/');
const scalarMap = (m) => Object.entries(m ?? {}).map(([name, v]) => `${name}:${Math.round((v.value ?? 0) * 100) / 100}`).join(';');

export class ClusterModel {
  constructor() {
    this.tasks = new Map(); // framework_id + '/' + task_id -> task
    this.agents = new Map();
    this.frameworks = new Map();
    this.leader = null; // { id, address, version, startTime }
    this.heartbeatSeconds = 15;
    /** Machines in the maintenance schedule, by hostname/ip: { name, hostname, mode, start, duration, answers }. */
    this.machines = new Map();
    /** Roles with a weight or quota: { role, weight, guarantee, limit }. */
    this.roleSettings = [];
  }

  /** The v0 maintenance schedule and status (/master/maintenance/*). */
  applyMaintenance(schedule, status) {
    const down = new Set((status.down_machines ?? []).map(machineName));
    const answers = new Map((status.draining_machines ?? []).map((d) => [machineName(d.id), d.statuses ?? []]));
    this.machines = new Map();
    for (const w of schedule.windows ?? []) {
      for (const m of w.machine_ids ?? []) {
        const name = machineName(m);
        this.machines.set(m.hostname ?? name, {
          name, hostname: m.hostname ?? '', mode: down.has(name) ? 'DOWN' : 'DRAINING',
          start: Number(w.unavailability?.start?.nanoseconds ?? 0) / 1e9,
          duration: w.unavailability?.duration ? Number(w.unavailability.duration.nanoseconds) / 1e9 : null,
          answers: (answers.get(name) ?? []).map((a) => ({ framework: a.framework_id?.value ?? '', status: a.status })),
        });
      }
    }
  }

  /** /master/weights and /master/quota: one row per role with either. */
  applyRoleSettings(weights, quota) {
    const rows = new Map();
    const row = (role) => rows.get(role) ?? rows.set(role, { role, weight: 1, guarantee: '', limit: '' }).get(role);
    for (const w of weights ?? []) row(w.role).weight = w.weight;
    for (const c of quota.configs ?? []) Object.assign(row(c.role), { guarantee: scalarMap(c.guarantees), limit: scalarMap(c.limits) });
    this.roleSettings = [...rows.values()].sort((a, b) => a.role.localeCompare(b.role));
  }

  /** Applies one operator event; true when /state should be fetched again (totals, shares). */
  apply(event) {
    switch (event.type) {
      case 'SUBSCRIBED': {
        const state = event.subscribed?.get_state ?? {};
        this.heartbeatSeconds = event.subscribed?.heartbeat_interval_seconds ?? this.heartbeatSeconds;
        this.tasks.clear();
        const t = state.get_tasks ?? {};
        for (const task of [...(t.completed_tasks ?? []), ...(t.unreachable_tasks ?? []), ...(t.tasks ?? [])]) this.addTask(task);
        this.agents.clear();
        for (const agent of state.get_agents?.agents ?? []) this.addAgent(agent);
        this.frameworks.clear();
        for (const fw of state.get_frameworks?.frameworks ?? []) this.addFramework(fw);
        return true;
      }
      case 'TASK_ADDED':
        this.addTask(event.task_added.task);
        return true;
      case 'TASK_UPDATED': {
        const u = event.task_updated;
        const key = `${u.framework_id?.value}/${u.status?.task_id?.value}`;
        const task = this.tasks.get(key);
        if (task) Object.assign(task, { state: u.state, since: Date.now(), message: u.status?.message ?? '' });
        else this.addTask({ task_id: u.status?.task_id, framework_id: u.framework_id, agent_id: u.status?.agent_id, state: u.state, name: '' });
        this.forgetEnded();
        return true;
      }
      case 'AGENT_ADDED':
        this.addAgent(event.agent_added.agent);
        return true;
      case 'AGENT_REMOVED':
        this.agents.delete(event.agent_removed.agent_id?.value);
        return true;
      case 'FRAMEWORK_ADDED':
      case 'FRAMEWORK_UPDATED':
        this.addFramework((event.framework_added ?? event.framework_updated).framework);
        return true;
      case 'FRAMEWORK_REMOVED':
        this.frameworks.delete(event.framework_removed.framework_info?.id?.value);
        return true;
      default: // HEARTBEAT, and events this page does not show.
        return false;
    }
  }

  addTask(task) {
    const frameworkId = task.framework_id?.value ?? '';
    const id = task.task_id?.value ?? '';
    this.tasks.set(`${frameworkId}/${id}`, {
      id, frameworkId, name: task.name ?? '', agentId: task.agent_id?.value ?? '', state: task.state ?? 'TASK_STAGING',
      resources: scalars(task.resources), since: Date.now(), message: task.statuses?.at(-1)?.message ?? '',
    });
  }

  addAgent(view) {
    const info = view.agent_info ?? {};
    const id = info.id?.value ?? '';
    this.agents.set(id, {
      id, hostname: info.hostname ?? '', port: info.port ?? 0,
      attributes: Object.fromEntries((info.attributes ?? []).map((a) => [a.name, attributeValue(a)])),
      total: scalars(view.total_resources), used: scalars(view.allocated_resources), offered: scalars(view.offered_resources),
      active: view.active === true, deactivated: view.deactivated === true, drain: view.drain_info?.state ?? null,
    });
  }

  addFramework(view) {
    const info = view.framework_info ?? {};
    const id = info.id?.value ?? '';
    this.frameworks.set(id, {
      id, name: info.name ?? '', roles: info.roles?.length ? info.roles : [info.role ?? '*'], webuiUrl: info.webui_url ?? '',
      active: view.active === true, used: scalars(view.allocated_resources), offered: scalars(view.offered_resources),
    });
  }

  /** /master/state (Mesos's shape): the leader, and agents and frameworks with what they hold now. */
  applyState(state) {
    const info = state.leader_info ?? {};
    this.leader = {
      id: info.id ?? state.id, address: `${info.hostname ?? state.hostname}:${info.port}`,
      version: state.version, startTime: state.start_time,
    };
    this.agents = new Map((state.slaves ?? []).map((a) => [a.id, {
      id: a.id, hostname: a.hostname, port: a.port, attributes: a.attributes ?? {},
      total: stateScalars(a.resources), used: stateScalars(a.used_resources), offered: stateScalars(a.offered_resources),
      active: a.active === true, deactivated: a.deactivated === true, drain: a.drain_info?.state ?? null,
    }]));
    this.frameworks = new Map((state.frameworks ?? []).map((f) => [f.id, {
      id: f.id, name: f.name ?? '', roles: f.roles ?? (f.role ? [f.role] : []), webuiUrl: f.webui_url ?? '', active: f.active === true,
      used: stateScalars(f.used_resources), offered: stateScalars(f.offered_resources),
    }]));
  }

  /** Cluster totals over the registered agents. */
  totals() {
    const sum = (pick) => {
      const out = { cpus: 0, mem: 0, disk: 0 };
      for (const a of this.agents.values()) for (const k of KINDS) out[k] += pick(a)[k];
      return out;
    };
    return { total: sum((a) => a.total), used: sum((a) => a.used), offered: sum((a) => a.offered) };
  }

  /** Frameworks with their task counts and dominant shares. */
  frameworkRows() {
    const total = this.totals().total;
    const running = new Map();
    for (const t of this.tasks.values()) if (!TERMINAL.has(t.state)) running.set(t.frameworkId, (running.get(t.frameworkId) ?? 0) + 1);
    return [...this.frameworks.values()].map((f) => ({ ...f, tasks: running.get(f.id) ?? 0, dominant: dominantShare(f.used, total) }));
  }

  /** Tasks not yet ended first, then the most recently changed. */
  taskRows() {
    return [...this.tasks.values()].sort((a, b) => Number(TERMINAL.has(a.state)) - Number(TERMINAL.has(b.state)) || b.since - a.since);
  }

  forgetEnded() {
    const ended = [...this.tasks.entries()].filter(([, t]) => TERMINAL.has(t.state)).sort(([, a], [, b]) => b.since - a.since);
    for (const [key] of ended.slice(MAX_ENDED)) this.tasks.delete(key);
  }
}
