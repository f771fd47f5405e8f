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
import type { FrameworkRecord } from '../state/records.js';
import { quantitiesJson, quantitiesJsonOfBoth, resourcesJsonOfBoth } from './resources-json.js';
import { KeptByInputs } from '../state/kept-by-inputs.js';
import { AgentJsonCache, agentInfoJson, frameworkJson, offerJson, TaskJsonCache } from './writers.js';
import { JsonTexts } from './json-text.js';
import { pushTo as push } from '../state/grouped.js';

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

/** What the tasks and offers hold, by agent, framework and role; each framework's tasks and offers as JSON. */
interface Holdings {
  readonly used: { readonly agent: Map<string, Resources[]>; readonly framework: Map<string, Resources[]>; readonly role: Map<string, Resources[]> };
  readonly offered: { readonly agent: Map<string, Resources[]>; readonly framework: Map<string, Resources[]>; readonly role: Map<string, Resources[]> };
  readonly live: Map<string, Json[]>;
  readonly unreachable: Map<string, Json[]>;
  readonly completed: Map<string, Json[]>;
  readonly offers: Map<string, Json[]>;
}

/**
 * What one build keeps for the next: each task's and agent's JSON, written
 * again only when it changed, and their texts (json-text.ts), so a build
 * at N=1,000 writes what changed rather than every agent and task.
 */
export class KeptJson {
  readonly texts = new JsonTexts();
  readonly tasks = new TaskJsonCache(this.texts);
  readonly agents = new AgentJsonCache(this.texts);
  /** A framework's used, offered and total resources, summed again only when its tasks' or offers' resources changed. */
  readonly frameworkSums = new KeptByInputs<FrameworkRecord, ReturnType<typeof resourcesJsonOfBoth>>();
}

/** One pass over tasks and one over offers. Terminal tasks stay among `live` until their last update is acknowledged, as in Mesos. */
function holdings(master: Master, { tasks, texts }: KeptJson): Holdings {
  const frameworks = master.frameworks;
  const h: Holdings = {
    used: { agent: new Map(), framework: new Map(), role: new Map() },
    offered: { agent: new Map(), framework: new Map(), role: new Map() },
    live: new Map(), unreachable: new Map(), completed: new Map(), offers: new Map(),
  };
  for (const t of master.tasks.all()) {
    const json = tasks.get(t, frameworks.get(t.frameworkId));
    if (!t.recovered) {
      add(h.used.agent, t.agentId, t.resources);
      add(h.used.framework, t.frameworkId, t.resources);
      add(h.used.role, json.role as string, t.resources);
    }
    push(t.state === 'TASK_UNREACHABLE' ? h.unreachable : h.live, t.frameworkId, json);
  }
  for (const t of master.tasks.completedTasks()) if (isTerminal(t.state)) push(h.completed, t.frameworkId, tasks.get(t, frameworks.get(t.frameworkId)));
  for (const o of master.offers.view().values()) {
    add(h.offered.agent, o.agentId, o.resources);
    add(h.offered.framework, o.frameworkId, o.resources);
    add(h.offered.role, o.role, o.resources);
    push(h.offers, o.frameworkId, texts.keep(offerJson(o)));
  }
  return h;
}

const none: Json[] = [];

/** `kept`: JSON kept between builds (StateSnapshot passes its own); a fresh one writes every task and agent. */
export function buildModel(master: Master, context: V0Context, kept = new KeptJson()): V0Model {
  const h = holdings(master, kept);
  const all = [...master.agents.values()];
  const agentResources = new Map<string, AgentResources>();
  const slaves = all.filter((a) => !a.recovered && a.unreachableSince === null).map((a) => {
    const held = { total: a.total, used: h.used.agent.get(a.id) ?? [], offered: h.offered.agent.get(a.id) ?? [] };
    agentResources.set(a.id, held);
    return kept.agents.get(a, held);
  });
  const recovered = (fw: FrameworkRecord) => !fw.connected && fw.reregisteredTime === null && fw.unregisteredTime === null && fw.registeredTime < master.startTime;
  const frameworks = [...master.frameworks.values()].map((f) => {
    const used = h.used.framework.get(f.id) ?? [];
    const offered = h.offered.framework.get(f.id) ?? [];
    return frameworkJson(
      f, { used, offered, recovered: recovered(f) },
      { tasks: h.live.get(f.id) ?? none, unreachable: h.unreachable.get(f.id) ?? none, completed: h.completed.get(f.id) ?? none, offers: h.offers.get(f.id) ?? none },
      kept.frameworkSums.get(f, [used.length, ...used, ...offered], () => resourcesJsonOfBoth(used, offered)),
    );
  });
  const completedFrameworks = master.completedFrameworkList().map((f) =>
    frameworkJson(f, { used: [], offered: [], recovered: false }, { tasks: none, unreachable: none, completed: h.completed.get(f.id) ?? none, offers: none }),
  );
  const state = {
    ...masterJson(master, context),
    activated_slaves: slaves.filter((s) => s.active === true).length,
    deactivated_slaves: slaves.filter((s) => s.active !== true).length,
    unreachable_slaves: all.filter((a) => a.unreachableSince !== null).length,
    ...leaderJson(master),
    flags: context.flags,
    slaves,
    recovered_slaves: all.filter((a) => a.recovered).map((a) => kept.texts.keep(agentInfoJson(a))),
    frameworks,
    completed_frameworks: completedFrameworks,
    orphan_tasks: none,
    unregistered_frameworks: none,
  };
  return { state, roles: rolesJson(master, h.used.role, h.offered.role), agentResources, flags: context.flags, build: context.build };
}

/** The head of /master/state: build fields, times, this master's id, pid and hostname. */
function masterJson(master: Master, context: V0Context): Json {
  const info = master.options.info;
  const elected = context.electedTime();
  return {
    ...context.build,
    start_time: master.startTime,
    ...(elected !== null ? { elected_time: elected } : {}),
    id: info.id,
    pid: info.pid,
    hostname: info.hostname,
    // MasterInfo.Capability: this master declares none of Mesos's (AGENT_UPDATE, AGENT_DRAINING, QUOTA_V2).
    capabilities: none,
  };
}

/** `leader` and `leader_info` (json(MasterInfo)): the snapshot is served by the leading master only, so it names itself. */
function leaderJson(master: Master): Json {
  const info = master.options.info;
  return { leader: info.pid, leader_info: { id: info.id, pid: info.pid, port: info.port, hostname: info.hostname } };
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
    const sums = quantitiesJsonOfBoth(allocated, offer);
    return {
      name,
      weight: s?.weight ?? 1,
      quota: {
        role: name,
        guarantee: quantitiesJson(s?.quota?.guarantee ?? Resources.EMPTY),
        limit: quantitiesJson(s?.quota?.limit ?? Resources.EMPTY),
        consumed: quantitiesJson(s?.consumed ?? Resources.EMPTY),
      },
      resources: sums.both,
      allocated: sums.first,
      offered: sums.then,
      reserved: quantitiesJson(s?.reserved ?? Resources.EMPTY),
      frameworks: frameworks.get(name) ?? [],
    };
  });
}
