// The v0 endpoints other than /master/state, each a pure function of the
// snapshot's model (model.ts): filtering by id, paging and ordering tasks,
// the per-state task counts of /master/state-summary, the `_full` resources
// of /master/slaves. Shapes and query rules are Mesos 1.11's
// (Master::ReadOnlyHandler in src/master/readonly_handler.cpp).
import { Resources } from '../../common/resources.js';
import type { V0Model } from './model.js';
import { resourcesFullJson, reservedFullJson } from './resources-json.js';

type Json = Record<string, unknown>;

/** The task states state-summary counts, in Mesos's order (TaskStateSummary; it writes no TASK_DROPPED, GONE, ...). */
const SUMMARY_STATES = [
  'TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED', 'TASK_KILLED', 'TASK_FAILED', 'TASK_LOST', 'TASK_ERROR', 'TASK_UNREACHABLE',
] as const;

/** json(Summary<Framework>)'s keys: what state-summary keeps of a framework. */
const FRAMEWORK_SUMMARY_KEYS = ['id', 'name', 'pid', 'used_resources', 'offered_resources', 'capabilities', 'hostname', 'webui_url', 'active', 'connected', 'recovered'];

/** Mesos's TASK_LIMIT: /master/tasks answers this many tasks unless `limit` says otherwise. */
export const TASK_LIMIT = 100;

const tasksOf = (fw: Json): Json[] => [...(fw.tasks as Json[]), ...(fw.unreachable_tasks as Json[]), ...(fw.completed_tasks as Json[])];

/** Keeps `id` when the filter is unset (Mesos's IDAcceptor). */
const accepts = (filter: string | null, id: unknown): boolean => filter === null || filter === id;

/** /master/state-summary: agents and frameworks with task counts by state, and which frameworks run on which agents. */
export function stateSummary(model: V0Model): Json {
  const byAgent = new Map<string, Map<string, number>>();
  const byFramework = new Map<string, Map<string, number>>();
  const frameworksOnAgent = new Map<string, Set<string>>();
  const agentsOfFramework = new Map<string, Set<string>>();
  for (const fw of model.state.frameworks) {
    const counts = new Map<string, number>();
    byFramework.set(fw.id as string, counts);
    const agents = new Set<string>();
    agentsOfFramework.set(fw.id as string, agents);
    for (const t of tasksOf(fw)) {
      const agentId = t.slave_id as string;
      const state = t.state as string;
      counts.set(state, (counts.get(state) ?? 0) + 1);
      const agentCounts = byAgent.get(agentId) ?? new Map<string, number>();
      byAgent.set(agentId, agentCounts.set(state, (agentCounts.get(state) ?? 0) + 1));
      agents.add(agentId);
      frameworksOnAgent.set(agentId, (frameworksOnAgent.get(agentId) ?? new Set()).add(fw.id as string));
    }
  }
  const counted = (counts: Map<string, number> | undefined) => Object.fromEntries(SUMMARY_STATES.map((s) => [s, counts?.get(s) ?? 0]));
  return {
    hostname: model.state.hostname,
    slaves: model.state.slaves.map((s) => ({ ...s, ...counted(byAgent.get(s.id as string)), framework_ids: [...(frameworksOnAgent.get(s.id as string) ?? [])] })),
    frameworks: model.state.frameworks.map((fw) => ({
      ...pick(fw, FRAMEWORK_SUMMARY_KEYS), ...counted(byFramework.get(fw.id as string)), slave_ids: [...(agentsOfFramework.get(fw.id as string) ?? [])],
    })),
  };
}

function pick(o: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** /master/slaves (`?slave_id=`): the agents with their resources also as full Resource messages, and the recovered ones. */
export function slaves(model: V0Model, slaveId: string | null): Json {
  return {
    slaves: model.state.slaves.filter((s) => accepts(slaveId, s.id)).map((s) => {
      const r = model.agentResources.get(s.id as string);
      if (!r) return s;
      return {
        ...s,
        reserved_resources_full: reservedFullJson(r.total),
        unreserved_resources_full: resourcesFullJson(r.total.filter((e) => e.role === '*')),
        used_resources_full: resourcesFullJson(Resources.sum(r.used)),
        offered_resources_full: resourcesFullJson(Resources.sum(r.offered)),
      };
    }),
    recovered_slaves: (model.state.recovered_slaves as Json[]).filter((s) => accepts(slaveId, s.id)),
  };
}

/** /master/frameworks (`?framework_id=`). */
export function frameworks(model: V0Model, frameworkId: string | null): Json {
  return {
    frameworks: model.state.frameworks.filter((f) => accepts(frameworkId, f.id)),
    completed_frameworks: model.state.completed_frameworks.filter((f) => accepts(frameworkId, f.id)),
    // Mesos writes it empty "for the sake of backward compatibility".
    unregistered_frameworks: [],
  };
}

export interface TaskQuery {
  readonly limit: number;
  readonly offset: number;
  readonly order: 'asc' | 'des';
  readonly frameworkId: string | null;
  readonly taskId: string | null;
}

/** Mesos's reading of /master/tasks' query: a limit or offset that is not a number is the default; any order but `asc` is `des`. */
export function readTaskQuery(query: URLSearchParams): TaskQuery {
  return {
    limit: count(query.get('limit'), TASK_LIMIT),
    offset: count(query.get('offset'), 0),
    order: query.get('order') === 'asc' ? 'asc' : 'des',
    frameworkId: query.get('framework_id'),
    taskId: query.get('task_id'),
  };
}

function count(text: string | null, fallback: number): number {
  if (text === null || !/^\s*\d+\s*$/.test(text)) return fallback;
  return Number(text);
}

/** The timestamp Mesos orders tasks by: their first status's (undefined for a task with none). */
function firstStatusTime(task: Json): number | undefined {
  const first = (task.statuses as Json[] | undefined)?.[0];
  return first ? (first.timestamp as number) : undefined;
}

/**
 * Tasks ordered as TaskComparator orders them: by their first status's
 * timestamp; tasks without a status come first in `asc`, last in `des`.
 */
export function orderTasks(tasks: readonly Json[], order: 'asc' | 'des'): Json[] {
  const sign = order === 'asc' ? 1 : -1;
  return [...tasks].sort((a, b) => {
    const ta = firstStatusTime(a);
    const tb = firstStatusTime(b);
    if (ta === undefined || tb === undefined) return ta === tb ? 0 : (ta === undefined ? -1 : 1) * sign;
    return (ta - tb) * sign;
  });
}

/** /master/tasks: every task of registered and completed frameworks (live, unreachable, completed), filtered, ordered, paged. */
export function tasks(model: V0Model, query: TaskQuery, ordered: (order: 'asc' | 'des') => readonly Json[] = (o) => orderTasks(allTasks(model), o)): Json {
  const list = ordered(query.order).filter((t) => accepts(query.frameworkId, t.framework_id) && accepts(query.taskId, t.id));
  return { tasks: list.slice(query.offset, query.offset + query.limit) };
}

export function allTasks(model: V0Model): Json[] {
  return [...model.state.frameworks, ...model.state.completed_frameworks].flatMap(tasksOf);
}

/** /master/roles. */
export function roles(model: V0Model): Json {
  return { roles: model.roles };
}

/** /master/flags: `{"flags": {name: value}}`. */
export function flags(model: V0Model): Json {
  return { flags: model.flags };
}

/** /version (src/version/version.hpp, version()). */
export function version(model: V0Model): Json {
  return { ...model.build };
}
