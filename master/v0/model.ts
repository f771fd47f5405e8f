// The snapshot every v0 JSON endpoint answers from: /master/state as Mesos
// 1.11 writes it (Master::ReadOnlyHandler::state in
// src/master/readonly_handler.cpp), plus what the other endpoints need and
// /state does not show (the roles, each agent's resources as values for
// the `_full` fields). Built in one pass over the master's records; the
// endpoints then filter, page and reshape this data (views.ts), never the
// live records.
import { Resources } from '../../common/resources.js';
import { isTerminal } from '../../common/task-state.js';
import type { Master } from '../master.js';
import type { FrameworkRecord, TaskRecord } from '../state/records.js';
import { quantitiesJson, quantitiesJsonOf } from './resources-json.js';
import { agentInfoJson, agentJson, frameworkJson, offerJson, TaskJsonCache, type FrameworkTasks } from './writers.js';

type Json = Record<string, unknown>;

/** What the snapshot needs besides the master's records. */
export interface V0Context {
  /** The master's flags as Mesos's flags endpoint writes them: name -> string value. */
  readonly flags: Readonly<Record<string, string>>;
  /** When this master was elected (seconds), null before. */
  readonly electedTime: () => number | null;
  readonly build: BuildInfo;
}

/** Mesos's build fields (version.hpp, version()): `git_*` only when known. */
export interface BuildInfo {
  readonly version: string;
  readonly build_date: string;
  readonly build_time: number;
  readonly build_user: string;
  readonly git_sha?: string;
}

/** An agent's resources as values: its total, and what its tasks use and its offers hold, one value each. */
export interface AgentResources {
  readonly total: Resources;
  readonly used: readonly Resources[];
  readonly offered: readonly Resources[];
}

export interface V0Model {
  /** /master/state. */
  readonly state: Json & { readonly slaves: readonly Json[]; readonly frameworks: readonly Json[]; readonly completed_frameworks: readonly Json[] };
  /** /master/roles' `roles`. */
  readonly roles: readonly Json[];
  /** Per registered agent, for /master/slaves' `_full` fields. */
  readonly agentResources: ReadonlyMap<string, AgentResources>;
  readonly flags: Readonly<Record<string, string>>;
  readonly build: BuildInfo;
}

/** Resources gathered by key, summed only as they are written (adding each to a running total costs a copy per add). */
const add = <K>(map: Map<K, Resources[]>, key: K, r: Resources) => push(map, key, r);
const push = <K, V>(map: Map<K, V[]>, key: K, v: V) => {
  const list = map.get(key);
  if (list) list.push(v);
  else map.set(key, [v]);
};

/** `tasks` keeps task JSON between builds (StateSnapshot passes its own); a fresh one writes every task. */
export function buildModel(master: Master, context: V0Context, tasks = new TaskJsonCache()): V0Model {
  const info = master.options.info;
  const frameworks = master.frameworks;
  // One pass over tasks and offers: what each agent and framework uses and is offered, each framework's tasks.
  const usedByAgent = new Map<string, Resources[]>();
  const usedByFramework = new Map<string, Resources[]>();
  const usedByRole = new Map<string, Resources[]>();
  const live = new Map<string, Json[]>();
  const unreachable = new Map<string, Json[]>();
  for (const t of master.tasks.all()) {
    // Terminal tasks stay in `tasks` until their last update is acknowledged, as in Mesos.
    const json = tasks.get(t, frameworks.get(t.frameworkId));
    if (!t.recovered) {
      add(usedByAgent, t.agentId, t.resources);
      add(usedByFramework, t.frameworkId, t.resources);
      add(usedByRole, json.role as string, t.resources);
    }
    push(t.state === 'TASK_UNREACHABLE' ? unreachable : live, t.frameworkId, json);
  }
  const completed = completedByFramework(master.tasks.completedTasks(), (id) => frameworks.get(id), tasks);
  const offeredByAgent = new Map<string, Resources[]>();
  const offeredByFramework = new Map<string, Resources[]>();
  const offersByFramework = new Map<string, Json[]>();
  const offeredByRole = new Map<string, Resources[]>();
  for (const o of master.offers.view().values()) {
    add(offeredByAgent, o.agentId, o.resources);
    add(offeredByFramework, o.frameworkId, o.resources);
    add(offeredByRole, o.role, o.resources);
    push(offersByFramework, o.frameworkId, offerJson(o));
  }

  const all = [...master.agents.values()];
  const registered = all.filter((a) => !a.recovered && a.unreachableSince === null);
  const agentResources = new Map<string, AgentResources>();
  const slaves = registered.map((a) => {
    const totals = { total: a.total, used: usedByAgent.get(a.id) ?? [], offered: offeredByAgent.get(a.id) ?? [] };
    agentResources.set(a.id, totals);
    return agentJson(a, totals);
  });
  const recovered = (fw: FrameworkRecord) => !fw.connected && fw.reregisteredTime === null && fw.unregisteredTime === null && fw.registeredTime < master.startTime;
  const none: Json[] = [];
  const frameworkList = [...frameworks.values()].map((f) => {
    const tasks: FrameworkTasks = { tasks: live.get(f.id) ?? none, unreachable: unreachable.get(f.id) ?? none, completed: completed.get(f.id) ?? none, offers: offersByFramework.get(f.id) ?? none };
    return frameworkJson(f, { used: usedByFramework.get(f.id) ?? [], offered: offeredByFramework.get(f.id) ?? [], recovered: recovered(f) }, tasks);
  });
  const completedFrameworks = master.completedFrameworkList().map((f) =>
    frameworkJson(f, { used: [], offered: [], recovered: false }, { tasks: none, unreachable: none, completed: completed.get(f.id) ?? none, offers: none }),
  );
  const activated = slaves.filter((s) => s.active === true).length;
  const elected = context.electedTime();
  const leader = { id: info.id, pid: info.pid, port: info.port, hostname: info.hostname };
  const state = {
    ...context.build,
    start_time: master.startTime,
    ...(elected !== null ? { elected_time: elected } : {}),
    id: info.id,
    pid: info.pid,
    hostname: info.hostname,
    // MasterInfo.Capability: this master declares none of Mesos's (AGENT_UPDATE, AGENT_DRAINING, QUOTA_V2).
    capabilities: none,
    activated_slaves: activated,
    deactivated_slaves: slaves.length - activated,
    unreachable_slaves: all.filter((a) => a.unreachableSince !== null).length,
    // The snapshot is served by the leading master only: it names itself.
    leader: info.pid,
    leader_info: leader,
    flags: context.flags,
    slaves,
    recovered_slaves: all.filter((a) => a.recovered).map(agentInfoJson),
    frameworks: frameworkList,
    completed_frameworks: completedFrameworks,
    orphan_tasks: none,
    unregistered_frameworks: none,
  };
  return { state, roles: rolesJson(master, usedByRole, offeredByRole), agentResources, flags: context.flags, build: context.build };
}

/** The master's bounded list of completed tasks, by framework, oldest first. */
function completedByFramework(list: readonly TaskRecord[], framework: (id: string) => FrameworkRecord | undefined, tasks: TaskJsonCache): Map<string, Json[]> {
  const out = new Map<string, Json[]>();
  for (const t of list) if (isTerminal(t.state)) push(out, t.frameworkId, tasks.get(t, framework(t.frameworkId)));
  return out;
}

/**
 * /master/roles (Master::ReadOnlyHandler::roles): every role known from a
 * weight, a quota, a reservation, an allocation, an offer or a framework.
 */
function rolesJson(master: Master, used: ReadonlyMap<string, readonly Resources[]>, offered: ReadonlyMap<string, readonly Resources[]>): Json[] {
  const summaries = new Map((master.allocator.roles?.() ?? []).map((s) => [s.role, s]));
  const frameworks = new Map<string, string[]>();
  for (const f of master.frameworks.values()) for (const role of f.roles) push(frameworks, role, f.id);
  const names = [...new Set([...summaries.keys(), ...frameworks.keys(), ...offered.keys(), ...used.keys()])].sort();
  return names.map((name) => {
    const s = summaries.get(name);
    const offer = offered.get(name) ?? [];
    // What the role's tasks use (Mesos's `allocated`), apart from what it is offered.
    const allocated = used.get(name) ?? [];
    return {
      name,
      weight: s?.weight ?? 1,
      quota: {
        role: name,
        guarantee: quantitiesJson(s?.quota?.guarantee ?? Resources.EMPTY),
        limit: quantitiesJson(s?.quota?.limit ?? Resources.EMPTY),
        consumed: quantitiesJson(s?.consumed ?? Resources.EMPTY),
      },
      resources: quantitiesJsonOf([...allocated, ...offer]),
      allocated: quantitiesJsonOf(allocated),
      offered: quantitiesJsonOf(offer),
      reserved: quantitiesJson(s?.reserved ?? Resources.EMPTY),
      frameworks: frameworks.get(name) ?? [],
    };
  });
}
