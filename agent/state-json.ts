// The agent's read-only views in Mesos's v0 JSON, as a Mesos 1.11 agent
// writes them (src/slave/http.cpp, src/common/http.cpp): /state, /flags,
// /version. Pure functions of the agent: http.ts builds them once per
// Agent.version. Each task runs as its own executor (executor id = task id),
// so a framework's executors are its tasks.
//
// One key Mesos does not write: `work_dir` at the top of /state, which the
// master's web UI reads to find sandboxes (Mesos has it in flags.work_dir).
import { shownFlagValue } from '../common/credentials.js';
import type { Agent } from './agent.js';
import type { TaskRunner } from './task-runner.js';
import type { AgentView } from './http-security.js';
import type { FrameworkInfoOut, TaskStatusIn, TaskStatusOut } from '../proto/index.js';
import { protoRoot } from '../proto/index.js';
import { Resources, UNRESERVED, unionRanges, type Range } from '../common/resources.js';
import { isTerminal } from '../common/task-state.js';
import { VERSION } from '../common/version.js';
import { toMesosJson } from '../master/http-api/proto-json.js';
import { AGENT_FLAGS } from './flags.js';

export type Json = string | number | boolean | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** What the views need beyond the agent itself. */
export interface AgentIdentity {
  /** Flags by name, as given (undefined: not set). */
  readonly flags: Readonly<Record<string, unknown>>;
  /** Seconds since the epoch. */
  readonly startTime: number;
  /** ip:port of the HTTP endpoint (the agent's pid is slave(1)@ip:port). */
  readonly address: () => string;
  readonly build: BuildInfo;
}

export interface BuildInfo {
  readonly date: string;
  readonly time: number;
  readonly user: string;
}

/** GET /version. */
export function versionJson(build: BuildInfo): JsonObject {
  return { version: VERSION, build_date: build.date, build_time: build.time, build_user: build.user };
}

/** GET /flags: every flag that has a value, as a string (durations as Mesos writes them). */
export function flagsJson(flags: Readonly<Record<string, unknown>>): { flags: Record<string, string> } {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(flags)) {
    const spec = (AGENT_FLAGS as Record<string, { type: string } | undefined>)[name];
    if (value === undefined || !spec) continue;
    out[name] = spec.type === 'duration' && typeof value === 'number' ? mesosDuration(value) : shownFlagValue(name, String(value));
  }
  return { flags: out };
}

/** GET /state; `view`: what the caller may see of frameworks and tasks (everything when omitted). */
export function stateJson(agent: Agent, identity: AgentIdentity, view?: AgentView): JsonObject {
  const total = agent.options.resources;
  const live = [...agent.runners.values()];
  const allocated = live.filter((r) => !isTerminal(r.state)).reduce((sum, r) => sum.add(r.resources), Resources.EMPTY);
  const roles = reservedRoles(total);
  const flags = flagsJson(identity.flags).flags;
  const master = agent.options.leader?.() ?? agent.options.master;
  return {
    version: VERSION,
    build_date: identity.build.date,
    build_time: identity.build.time,
    build_user: identity.build.user,
    start_time: identity.startTime,
    id: agent.id ?? '',
    pid: `slave(1)@${identity.address()}`,
    hostname: agent.options.hostname,
    capabilities: ['MULTI_ROLE'],
    resources: v0Resources(total),
    reserved_resources: Object.fromEntries(roles.map((role) => [role, v0Resources(total.filter((e) => e.role === role))])),
    unreserved_resources: v0Resources(total.filter((e) => e.role === UNRESERVED)),
    reserved_resources_full: Object.fromEntries(roles.map((role) => [role, fullResources(total.filter((e) => e.role === role))])),
    unreserved_resources_full: fullResources(total.filter((e) => e.role === UNRESERVED)),
    reserved_resources_allocated: Object.fromEntries(reservedRoles(allocated).map((role) => [role, v0Resources(allocated.filter((e) => e.role === role))])),
    unreserved_resources_allocated: v0Resources(allocated.filter((e) => e.role === UNRESERVED)),
    resource_providers: [],
    attributes: Object.fromEntries(agent.options.attributes.map((a) => [a.name, attributeValue(a)])),
    ...(master.startsWith('zk://') ? {} : { master_hostname: master.replace(/:\d+$/, '') }),
    flags,
    work_dir: agent.options.workDir,
    ...frameworksJson(agent, view),
  };
}

/** Active frameworks (with a runner here) and completed ones (only forgotten runners left), each with its executors. */
function frameworksJson(agent: Agent, view: AgentView | undefined): { frameworks: Json[]; completed_frameworks: Json[] } {
  const byFramework = new Map<string, { info: FrameworkInfoOut; live: TaskRunner[]; done: TaskRunner[] }>();
  const entry = (r: TaskRunner) => {
    let e = byFramework.get(r.frameworkId);
    if (!e) byFramework.set(r.frameworkId, (e = { info: agent.frameworks.get(r.frameworkId) ?? r.framework, live: [], done: [] }));
    return e;
  };
  const visible = (r: TaskRunner) => !view || (view.runner(r) && view.framework(agent.frameworks.get(r.frameworkId) ?? r.framework));
  for (const r of agent.runners.values()) if (visible(r)) entry(r).live.push(r);
  for (const r of agent.completed) if (visible(r)) entry(r).done.push(r);
  const frameworks: Json[] = [];
  const completed: Json[] = [];
  for (const [id, e] of byFramework) {
    const json = frameworkJson(id, e.info, e.live, e.done, agent.id ?? '');
    (e.live.length > 0 ? frameworks : completed).push(json);
  }
  return { frameworks, completed_frameworks: completed };
}

function frameworkJson(id: string, info: FrameworkInfoOut, live: TaskRunner[], done: TaskRunner[], agentId: string): JsonObject {
  const multiRole = info.capabilities.some((c) => c.type === 'MULTI_ROLE');
  return {
    id, name: info.name ?? '', user: info.user ?? '', failover_timeout: info.failover_timeout ?? 0, checkpoint: info.checkpoint ?? false,
    hostname: info.hostname ?? '',
    ...(info.principal ? { principal: info.principal } : {}),
    ...(multiRole ? { roles: [...info.roles] } : { role: info.role || UNRESERVED }),
    executors: live.map((r) => executorJson(r, agentId, false)),
    completed_executors: done.map((r) => executorJson(r, agentId, true)),
  };
}

/** A task's executor: the task itself, its sandbox and its container. */
function executorJson(r: TaskRunner, agentId: string, completed: boolean): JsonObject {
  const task = taskJson(r, agentId);
  const over = completed || isTerminal(r.state);
  return {
    id: r.taskId, name: `Command Executor (Task: ${r.taskId})`, source: r.taskId, container: r.containerId ?? '',
    directory: r.sandbox, resources: v0Resources(r.resources), role: roleOf(r),
    tasks: over || r.state === 'TASK_STAGING' ? [] : [task],
    queued_tasks: r.state === 'TASK_STAGING' ? [task] : [],
    completed_tasks: over ? [task] : [],
  };
}

/** Mesos's model of a Task (common/http.cpp). */
export function taskJson(r: TaskRunner, agentId: string): JsonObject {
  const t = r.task;
  return {
    id: r.taskId, name: t.name ?? '', framework_id: r.frameworkId, executor_id: r.taskId, slave_id: agentId, state: r.state,
    resources: v0Resources(r.resources), role: roleOf(r),
    statuses: r.statuses.map(statusJson),
    ...(r.framework.user ? { user: r.framework.user } : {}),
    ...(t.labels && t.labels.labels.length > 0 ? { labels: protoJson('mesos.v1.Labels', t.labels).labels as Json } : {}),
    ...(t.container ? { container: protoJson('mesos.v1.ContainerInfo', t.container) } : {}),
    ...(t.health_check ? { health_check: protoJson('mesos.v1.HealthCheck', t.health_check) } : {}),
  };
}

/** Mesos's model of a TaskStatus in /state: state, timestamp, labels, container_status (no pid), healthy. */
function statusJson(s: TaskStatusIn | TaskStatusOut): JsonObject {
  const c = s.container_status;
  const networks = c?.network_infos ?? [];
  return {
    state: String(s.state), timestamp: Number(s.timestamp ?? 0),
    ...(c ? {
      container_status: {
        ...(c.container_id ? { container_id: { value: c.container_id.value ?? '' } } : {}),
        ...(networks.length > 0 ? {
          network_infos: networks.map((n) => ({
            ip_addresses: (n.ip_addresses ?? []).map((a) => ({ protocol: String(a.protocol ?? 'IPv4'), ip_address: a.ip_address ?? '' })),
          })),
        } : {}),
      },
    } : {}),
    ...(s.healthy !== undefined && s.healthy !== null && s.reason === 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' ? { healthy: s.healthy } : {}),
  };
}

/** The role a task's resources are allocated to: the framework's (first) role, as Mesos writes allocation_info.role. */
function roleOf(r: TaskRunner): string {
  return r.framework.roles[0] ?? (r.framework.role || UNRESERVED);
}

function reservedRoles(resources: Resources): string[] {
  return resources.roles().filter((role) => role !== UNRESERVED).sort();
}

/** Mesos's v0 resources object: every role summed by name; cpus, gpus, mem and disk always there; ranges as "[a-b, c-d]". */
export function v0Resources(resources: Resources): JsonObject {
  const scalars: Record<string, number> = { cpus: 0, gpus: 0, mem: 0, disk: 0 };
  const ranges = new Map<string, Range[]>();
  const sets = new Map<string, Set<string>>();
  for (const e of resources.list()) {
    if (e.value.kind === 'scalar') scalars[e.name] = Math.round(((scalars[e.name] ?? 0) + e.value.value) * 1000) / 1000;
    else if (e.value.kind === 'ranges') ranges.set(e.name, unionRanges(ranges.get(e.name) ?? [], e.value.ranges));
    else sets.set(e.name, new Set([...(sets.get(e.name) ?? []), ...e.value.items]));
  }
  const out: JsonObject = { ...scalars };
  for (const [name, list] of ranges) out[name] = `[${list.map(([b, e]) => `${b}-${e}`).join(', ')}]`;
  for (const [name, items] of sets) out[name] = `{${[...items].join(', ')}}`;
  return out;
}

/** Resource protobufs in JSON (the *_full fields). */
function fullResources(resources: Resources): Json[] {
  return resources.toProto().map((r) => protoJson('mesos.v1.Resource', r));
}

function protoJson(type: string, message: object): JsonObject {
  return toMesosJson(protoRoot.lookupType(type), message) as JsonObject;
}

function attributeValue(a: Agent['options']['attributes'][number]): string | number {
  if (a.type === 'SCALAR') return a.scalar?.value ?? 0;
  if (a.type === 'RANGES') return `[${(a.ranges?.range ?? []).map((r) => `${r.begin}-${r.end}`).join(', ')}]`;
  if (a.type === 'SET') return `{${(a.set?.item ?? []).join(', ')}}`;
  return a.text?.value ?? '';
}

const UNITS: readonly [number, string][] = [[604800, 'weeks'], [86400, 'days'], [3600, 'hrs'], [60, 'mins'], [1, 'secs'], [1e-3, 'ms'], [1e-6, 'us']];

/** Seconds as Mesos's Duration prints them: the largest unit that is at least 1 (90 -> "1.5mins", 3 -> "3secs"). */
export function mesosDuration(seconds: number): string {
  const [size, unit] = UNITS.find(([s]) => seconds >= s) ?? [1e-9, 'ns'];
  return `${Number((seconds / size).toPrecision(15))}${unit}`;
}
