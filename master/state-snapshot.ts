// The JSON served at /state. Built from the master's records only when
// something changed since the last build (Master.version), so polling
// /state costs a string copy. On a large cluster a build takes tens of
// milliseconds on the master's one event loop; when builds are that slow
// the snapshot is rebuilt at most once per STALE_FACTOR build-times, so
// however hard /state is polled while the cluster changes, it takes at most
// 1/STALE_FACTOR of the loop from allocation (the snapshot is then up to
// that much behind).
import type { Master } from './master.js';
import type { TaskRecord } from './state/records.js';
import { agentPid } from './rpc/wire.js';
import { Resources } from '../common/resources.js';
import { isTerminal } from '../common/task-state.js';
import { rolesJson } from './roles.js';

/** Builds faster than this are always fresh. */
const SLOW_BUILD_MS = 10;
/** A slow build is done again only after this many times its own duration. */
const STALE_FACTOR = 20;

export class StateSnapshot {
  private built = -1;
  private json = '';
  private builtAt = 0;
  private buildMs = 0;

  constructor(
    private readonly master: Master,
    private readonly bounds: { readonly slowBuildMs: number; readonly staleFactor: number } = { slowBuildMs: SLOW_BUILD_MS, staleFactor: STALE_FACTOR },
  ) {}

  get(): string {
    if (this.built === this.master.version) return this.json;
    const now = performance.now();
    if (this.buildMs > this.bounds.slowBuildMs && now - this.builtAt < this.buildMs * this.bounds.staleFactor) return this.json;
    this.built = this.master.version;
    this.json = JSON.stringify(buildState(this.master));
    this.builtAt = performance.now();
    this.buildMs = this.builtAt - now;
    return this.json;
  }
}

export function buildState(master: Master) {
  const info = master.options.info;
  const offered = new Map<string, Resources>();
  for (const o of master.offers.view().values()) offered.set(o.agentId, (offered.get(o.agentId) ?? Resources.EMPTY).add(o.resources));
  // As Mesos splits them: registered agents (connected or waiting to come back), agents known
  // from the registry that have not re-registered since this master took over, and unreachable ones.
  const all = [...master.agents.values()];
  const recovered = all.filter((a) => a.recovered).map((a) => ({ id: a.id, hostname: a.info.hostname, registered_time: a.registeredTime }));
  const unreachable = all.filter((a) => a.unreachableSince !== null).map((a) => ({ id: a.id, hostname: a.info.hostname, timestamp: a.unreachableSince }));
  const agents = all.filter((a) => !a.recovered && a.unreachableSince === null).map((a) => {
    const used = master.tasks.ofAgent(a.id).filter((t) => !t.recovered).reduce((sum, t) => sum.add(t.resources), Resources.EMPTY);
    return {
      id: a.id,
      pid: agentPid(a),
      hostname: a.info.hostname,
      port: a.info.port,
      active: a.connected,
      draining: a.draining === true,
      registered_time: a.registeredTime,
      reregistered_time: a.reregisteredTime,
      attributes: Object.fromEntries(a.info.attributes.map((attr) => [attr.name, attr.text?.value ?? attr.scalar?.value ?? null])),
      resources: a.total.toJSON(),
      used_resources: used.toJSON(),
      offered_resources: (offered.get(a.id) ?? Resources.EMPTY).toJSON(),
    };
  });
  const frameworks = [...master.frameworks.values()].map((f) => {
    const tasks = master.tasks.ofFramework(f.id);
    const used = tasks.filter((t) => !t.recovered).reduce((sum, t) => sum.add(t.resources), Resources.EMPTY);
    return {
      id: f.id,
      name: f.info.name,
      user: f.info.user,
      roles: f.roles,
      active: f.connected,
      connected: f.connected,
      failover_timeout: f.info.failover_timeout,
      registered_time: f.registeredTime,
      reregistered_time: f.reregisteredTime,
      used_resources: used.toJSON(),
      offered_resources: master.offers.ofFramework(f.id).reduce((sum, o) => sum.add(o.resources), Resources.EMPTY).toJSON(),
      tasks: tasks.filter((t) => !isTerminal(t.state)).map(taskJson),
      unacknowledged_tasks: tasks.filter((t) => isTerminal(t.state)).map(taskJson),
      offers: master.offers.ofFramework(f.id).map((o) => ({ id: o.id, agent_id: o.agentId, resources: o.resources.toJSON() })),
    };
  });
  return {
    version: info.version,
    id: info.id,
    pid: info.pid,
    hostname: info.hostname,
    leader: info.pid,
    leader_info: info,
    start_time: master.startTime,
    activated_slaves: agents.filter((a) => a.active).length,
    agents,
    slaves: agents,
    recovered_slaves: recovered,
    unreachable_slaves: unreachable,
    frameworks,
    roles: rolesJson(master),
    completed_frameworks: master.completedFrameworkList().map((f) => ({ id: f.id, name: f.info.name, unregistered_time: f.unregisteredTime })),
    completed_tasks: master.tasks.completedTasks().slice(-200).map(taskJson),
  };
}

function taskJson(t: TaskRecord) {
  return {
    id: t.taskId,
    name: t.info.name,
    framework_id: t.frameworkId,
    agent_id: t.agentId,
    slave_id: t.agentId,
    state: t.state,
    resources: t.resources.toJSON(),
    statuses: t.status ? [{ state: t.status.state, timestamp: t.status.timestamp, message: t.status.message ?? '' }] : [],
  };
}
