// The agent's v1 operator API (Mesos's include/mesos/v1/agent/agent.proto):
// the answer to each read-only call, as a mesos.v1.agent.Response object.
// operator-http.ts puts it on POST /api/v1 in JSON and protobuf. The
// answers reuse what /state, /containers and /files serve, so the two APIs
// never disagree.
import type { Agent } from './agent.js';
import type { TaskRunner } from './task-runner.js';
import { containerStatus } from './task-runner.js';
import { InvalidArgument } from '../common/errors.js';
import { isTerminal } from '../common/task-state.js';
import { VERSION } from '../common/version.js';
import { flagsJson, type AgentIdentity } from './state-json.js';
import { containerUsage, executorName } from './containers.js';
import type { SandboxCheck, SandboxFiles } from './files.js';
import type { AgentHttpSecurity, AgentView } from './http-security.js';
import type { AgentMetrics } from './metrics.js';
import { HttpError } from '../master/http-api/http-status.js';

/** Calls of Mesos's agent API that mesos-ts serves. */
export const SERVED_CALLS = [
  'GET_HEALTH', 'GET_FLAGS', 'GET_VERSION', 'GET_METRICS', 'GET_STATE', 'GET_CONTAINERS', 'GET_FRAMEWORKS', 'GET_EXECUTORS', 'GET_TASKS',
  'GET_AGENT', 'LIST_FILES', 'READ_FILE',
] as const;
export type ServedCall = (typeof SERVED_CALLS)[number];

/** Answers built from the agent's state only: cached while Agent.version holds. */
export const STATE_CALLS: ReadonlySet<ServedCall> = new Set(['GET_FLAGS', 'GET_STATE', 'GET_FRAMEWORKS', 'GET_EXECUTORS', 'GET_TASKS', 'GET_AGENT']);

export function isServed(type: string): type is ServedCall {
  return (SERVED_CALLS as readonly string[]).includes(type);
}

/** The decoded Call's fields operator calls read (proto field names). */
export interface AgentCall {
  readonly type: string;
  readonly list_files?: { readonly path?: string } | null;
  readonly read_file?: { readonly path?: string; readonly offset?: number | string; readonly length?: number | string } | null;
}

export interface AgentApiOptions {
  readonly agent: Agent;
  readonly identity: AgentIdentity;
  readonly files: SandboxFiles;
  readonly metrics: AgentMetrics;
  /** Authentication and --acls on the agent's HTTP endpoints (none when omitted). */
  readonly security?: AgentHttpSecurity;
}

type Response = Record<string, unknown>;

/** `check`: access_sandboxes for this caller (LIST_FILES, READ_FILE); `view`: what it may see of frameworks and tasks (everything when omitted). */
export async function answer(options: AgentApiOptions, call: AgentCall & { type: ServedCall }, check?: SandboxCheck, view?: AgentView): Promise<Response> {
  const { agent } = options;
  const seen = visibleRunners(agent, view);
  switch (call.type) {
    case 'GET_HEALTH':
      return { type: 'GET_HEALTH', get_health: { healthy: true } };
    case 'GET_FLAGS':
      return { type: 'GET_FLAGS', get_flags: { flags: Object.entries(flagsJson(options.identity.flags).flags).map(([name, value]) => ({ name, value })) } };
    case 'GET_VERSION': {
      const b = options.identity.build;
      return { type: 'GET_VERSION', get_version: { version_info: { version: VERSION, build_date: b.date, build_time: b.time, build_user: b.user } } };
    }
    case 'GET_METRICS':
      return { type: 'GET_METRICS', get_metrics: { metrics: Object.entries(options.metrics.snapshot()).map(([name, value]) => ({ name, value })) } };
    case 'GET_STATE':
      return { type: 'GET_STATE', get_state: { get_tasks: getTasks(agent, seen), get_executors: getExecutors(seen), get_frameworks: getFrameworks(agent, seen) } };
    case 'GET_TASKS':
      return { type: 'GET_TASKS', get_tasks: getTasks(agent, seen) };
    case 'GET_EXECUTORS':
      return { type: 'GET_EXECUTORS', get_executors: getExecutors(seen) };
    case 'GET_FRAMEWORKS':
      return { type: 'GET_FRAMEWORKS', get_frameworks: getFrameworks(agent, seen) };
    case 'GET_AGENT': {
      const o = agent.options;
      const info = { hostname: o.hostname, port: o.httpPort(), resources: o.resources.toProto(), attributes: [...o.attributes], ...(agent.id ? { id: { value: agent.id } } : {}) };
      return { type: 'GET_AGENT', get_agent: { agent_info: info } };
    }
    case 'GET_CONTAINERS':
      return { type: 'GET_CONTAINERS', get_containers: { containers: await getContainers(agent) } };
    case 'LIST_FILES':
      return { type: 'LIST_FILES', list_files: { file_infos: await listFiles(options.files, call, check) } };
    case 'READ_FILE':
      return { type: 'READ_FILE', read_file: await readFile(options.files, call, check) };
  }
}

/** The runners the caller may see: live ones and those kept as completed. */
interface Seen {
  readonly live: readonly TaskRunner[];
  readonly completed: readonly TaskRunner[];
}

function visibleRunners(agent: Agent, view: AgentView | undefined): Seen {
  const live = [...agent.runners.values()];
  if (!view) return { live, completed: agent.completed };
  const visible = (r: TaskRunner) => view.runner(r) && view.framework(agent.frameworks.get(r.frameworkId) ?? r.framework);
  return { live: live.filter(visible), completed: agent.completed.filter(visible) };
}

function getTasks(agent: Agent, { live, completed }: Seen) {
  return {
    pending_tasks: [],
    queued_tasks: live.filter((r) => r.state === 'TASK_STAGING').map((r) => task(r, agent)),
    launched_tasks: live.filter((r) => r.state !== 'TASK_STAGING' && !isTerminal(r.state)).map((r) => task(r, agent)),
    terminated_tasks: live.filter((r) => isTerminal(r.state)).map((r) => task(r, agent)),
    completed_tasks: completed.map((r) => task(r, agent)),
  };
}

function task(r: TaskRunner, agent: Agent) {
  const t = r.task;
  return {
    name: t.name, task_id: t.task_id, framework_id: { value: r.frameworkId }, executor_id: { value: r.taskId }, agent_id: { value: agent.id ?? '' },
    state: r.state, resources: t.resources, statuses: r.statuses, labels: t.labels, container: t.container, health_check: t.health_check,
    kill_policy: t.kill_policy, ...(r.framework.user ? { user: r.framework.user } : {}),
  };
}

function getExecutors({ live, completed }: Seen) {
  const executor = (r: TaskRunner) => ({
    executor_info: { executor_id: { value: r.taskId }, framework_id: { value: r.frameworkId }, name: executorName(r), resources: r.task.resources },
  });
  return { executors: live.map(executor), completed_executors: completed.map(executor) };
}

function getFrameworks(agent: Agent, seen: Seen) {
  const active = new Set(seen.live.map((r) => r.frameworkId));
  const completed = new Map(seen.completed.filter((r) => !active.has(r.frameworkId)).map((r) => [r.frameworkId, r.framework]));
  const activeInfos = new Map(seen.live.map((r) => [r.frameworkId, agent.frameworks.get(r.frameworkId) ?? r.framework]));
  return {
    frameworks: [...activeInfos.values()].map((f) => ({ framework_info: f })),
    completed_frameworks: [...completed.values()].map((f) => ({ framework_info: f })),
  };
}

async function getContainers(agent: Agent) {
  return (await containerUsage(agent)).map((u) => ({
    framework_id: { value: u.runner.frameworkId }, executor_id: { value: u.runner.taskId }, executor_name: executorName(u.runner),
    container_id: { value: u.containerId }, container_status: containerStatus(u.containerId, u.runner.pid, agent.options.ip),
    ...(u.statistics ? { resource_statistics: u.statistics } : {}),
  }));
}

async function listFiles(files: SandboxFiles, call: AgentCall, check: SandboxCheck | undefined) {
  const path = call.list_files?.path;
  if (!path) throw new InvalidArgument('Call.list_files.path is required for LIST_FILES');
  const listed = await files.browse(path, check);
  if (!listed.ok) throw new HttpError(listed.status, listed.message);
  return listed.value.map((f) => ({
    path: f.path, nlink: f.nlink, size: f.size, mtime: { nanoseconds: f.mtime * 1e9 }, mode: f.rawMode, uid: f.uid, gid: f.gid,
  }));
}

async function readFile(files: SandboxFiles, call: AgentCall, check: SandboxCheck | undefined) {
  const r = call.read_file;
  if (!r?.path) throw new InvalidArgument('Call.read_file.path is required for READ_FILE');
  const offset = Number(r.offset ?? NaN);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgument(`Call.read_file.offset must be a whole number >= 0, got ${String(r.offset)}`);
  const length = r.length === undefined || r.length === null ? undefined : Number(r.length);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) throw new InvalidArgument(`Call.read_file.length must be a whole number >= 0, got ${String(r.length)}`);
  const read = await files.read(r.path, offset, length, check);
  if (!read.ok) throw new HttpError(read.status, read.message);
  return { size: read.value.size, data: read.value.data };
}
