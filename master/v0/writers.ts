// One master record as Mesos 1.11's v0 JSON writes it: a task (json(Task)
// in src/common/http.cpp), a framework (FullFrameworkWriter and
// json(Summary<Framework>) in src/master/readonly_handler.cpp), an agent
// (SlaveWriter and json(SlaveInfo)), an offer. Pure functions of a record
// and the resources already summed for it; the snapshot (model.ts) calls
// them once per build. Presence as Mesos's: a key Mesos writes only when a
// field is set is left out, never written as null.
import { protoRoot } from '../../proto/index.js';
import { Resources, UNRESERVED } from '../../common/resources.js';
import { toMesosJson } from '../http-api/proto-json.js';
import type { AgentRecord, FrameworkRecord, OfferRecord, TaskRecord } from '../state/records.js';
import { agentPid } from '../rpc/wire.js';
import { reservedJson, resourcesJson, resourcesJsonOf, resourcesJsonOfBoth, type ResourcesJson } from './resources-json.js';
import { agentInputs, KeptByInputs } from '../state/kept-by-inputs.js';
import type { JsonTexts } from './json-text.js';

type Json = Record<string, unknown>;

/** JSON::Protobuf(message), as Mesos writes a nested message it does not model by hand. */
function protobufJson(type: string, message: object): Json {
  return toMesosJson(protoRoot.lookupType(type), message);
}

/**
 * Leaves out empty strings: messages decoded with defaults (every TaskInfo the
 * master keeps) carry '' for optional strings nobody set, which Mesos would
 * not write (DiscoveryInfo.environment, NetworkInfo.name, ...).
 */
function withoutEmptyStrings(value: unknown): Json {
  if (Array.isArray(value)) return value.map(withoutEmptyStrings) as unknown as Json;
  if (!value || typeof value !== 'object') return value as Json;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== '').map(([k, v]) => [k, withoutEmptyStrings(v)])) as Json;
}

/** json(Labels): an array of {key, value}. */
function labelsJson(labels: { labels?: readonly object[] | null } | null | undefined): Json[] {
  return (labels?.labels ?? []).map((l) => protobufJson('mesos.v1.Label', l));
}

/** The role a task's resources were allocated to (Mesos writes resources[0].allocation_info.role). */
function taskRole(task: TaskRecord, framework: FrameworkRecord | undefined): string {
  const allocated = task.info.resources?.[0]?.allocation_info?.role;
  if (allocated) return allocated;
  const reserved = task.resources.roles().find((r) => r !== UNRESERVED);
  return reserved ?? framework?.roles[0] ?? UNRESERVED;
}

/** json(TaskStatus): state, timestamp, labels, container_status and healthy when set. */
function statusJson(status: NonNullable<TaskRecord['status']>): Json {
  const out: Json = { state: status.state, timestamp: Number(status.timestamp ?? 0) };
  if (status.labels) out.labels = labelsJson(status.labels);
  if (status.container_status) out.container_status = containerStatusJson(status.container_status);
  if (status.healthy !== undefined && status.healthy !== null) out.healthy = status.healthy;
  return out;
}

/** json(ContainerStatus): container_id, network_infos (when any) and cgroup_info, each when set. */
function containerStatusJson(status: NonNullable<NonNullable<TaskRecord['status']>['container_status']>): Json {
  const full = withoutEmptyStrings(protobufJson('mesos.v1.ContainerStatus', status));
  const out: Json = {};
  for (const key of ['container_id', 'network_infos', 'cgroup_info']) if (full[key] !== undefined) out[key] = full[key];
  return out;
}

/** json(Task). `statuses` as the master keeps them (setStatus); a task adopted from an agent has its latest only. */
export function taskJson(task: TaskRecord, framework: FrameworkRecord | undefined): Json {
  const info = task.info as typeof task.info & { discovery?: object | null };
  const out: Json = {
    id: task.taskId,
    name: info.name ?? '',
    framework_id: task.frameworkId,
    executor_id: info.executor?.executor_id?.value ?? '',
    slave_id: task.agentId,
    state: task.state,
    resources: resourcesJson(task.resources),
    role: taskRole(task, framework),
    statuses: (task.statuses ?? (task.status ? [task.status] : [])).map(statusJson),
  };
  // As createTask copies it: the command's user, else the executor's.
  const user = info.command?.user || info.executor?.command?.user;
  if (user) out.user = user;
  if (info.labels) out.labels = labelsJson(info.labels);
  if (info.discovery) out.discovery = withoutEmptyStrings(protobufJson('mesos.v1.DiscoveryInfo', info.discovery));
  if (info.container) out.container = protobufJson('mesos.v1.ContainerInfo', info.container);
  if (info.health_check) out.health_check = protobufJson('mesos.v1.HealthCheck', info.health_check);
  return out;
}

/**
 * Task JSON kept between builds: a task's JSON changes only with its state,
 * its latest status (a new object per update) or its framework's roles, so
 * on a large cluster a rebuild writes only the tasks that changed.
 */
export class TaskJsonCache {
  private readonly entries = new WeakMap<TaskRecord, { state: unknown; status: unknown; role: string | undefined; json: Json }>();

  /** `texts`: where the JSON made here is kept as text too (json-text.ts). */
  constructor(private readonly texts?: JsonTexts) {}

  get(task: TaskRecord, framework: FrameworkRecord | undefined): Json {
    const role = framework?.roles[0];
    const hit = this.entries.get(task);
    if (hit && hit.state === task.state && hit.status === task.status && hit.role === role) return hit.json;
    const json = taskJson(task, framework);
    this.texts?.keep(json);
    this.entries.set(task, { state: task.state, status: task.status, role, json });
    return json;
  }
}

/** json(Offer), kept per offer (an offer record never changes). */
const offers = new WeakMap<OfferRecord, Json>();
export function offerJson(offer: OfferRecord): Json {
  let json = offers.get(offer);
  if (!json) {
    json = { id: offer.id, framework_id: offer.frameworkId, allocation_info: { role: offer.role }, slave_id: offer.agentId, resources: resourcesJson(offer.resources) };
    offers.set(offer, json);
  }
  return json;
}

/** What the snapshot has summed for a framework. */
export interface FrameworkTotals {
  /** The resources of its tasks that hold them (summed as they are written). */
  readonly used: readonly Resources[];
  readonly offered: readonly Resources[];
  /** Known from the registry after a failover and not re-subscribed since. */
  readonly recovered: boolean;
}

/** json(Summary<Framework>): the part /master/state-summary shares with /master/state. */
export function frameworkSummaryJson(fw: FrameworkRecord, totals: FrameworkTotals, sums = resourcesJsonOfBoth(totals.used, totals.offered)): Json {
  const info = fw.info;
  // HTTP and gRPC frameworks have no libprocess pid: Mesos leaves `pid` out.
  return {
    id: fw.id,
    name: info.name ?? '',
    used_resources: sums.first,
    offered_resources: sums.then,
    capabilities: (info.capabilities ?? []).map((c) => String(c.type)),
    hostname: info.hostname ?? '',
    webui_url: info.webui_url ?? '',
    active: fw.connected,
    connected: fw.connected,
    recovered: totals.recovered,
  };
}

export interface FrameworkTasks {
  readonly tasks: readonly Json[];
  readonly unreachable: readonly Json[];
  readonly completed: readonly Json[];
  readonly offers: readonly Json[];
}

/** FullFrameworkWriter: the summary, then the FrameworkInfo fields, resources, tasks and offers. */
export function frameworkJson(fw: FrameworkRecord, totals: FrameworkTotals, tasks: FrameworkTasks, sums = resourcesJsonOfBoth(totals.used, totals.offered)): Json {
  const info = fw.info;
  const multiRole = (info.capabilities ?? []).some((c) => String(c.type) === 'MULTI_ROLE');
  const out: Json = {
    ...frameworkSummaryJson(fw, totals, sums),
    user: info.user ?? '',
    failover_timeout: info.failover_timeout ?? 0,
    checkpoint: info.checkpoint ?? false,
    registered_time: fw.registeredTime,
    unregistered_time: fw.unregisteredTime ?? 0,
  };
  if (info.principal) out.principal = info.principal;
  out.resources = sums.both;
  if (fw.reregisteredTime !== null && fw.reregisteredTime !== fw.registeredTime) out.reregistered_time = fw.reregisteredTime;
  if (multiRole) out.roles = info.roles ?? fw.roles;
  else out.role = info.role || fw.roles[0] || UNRESERVED;
  out.tasks = tasks.tasks;
  out.unreachable_tasks = tasks.unreachable;
  out.completed_tasks = tasks.completed;
  out.offers = tasks.offers;
  // Command tasks only: the master tracks no executors of its own.
  out.executors = [];
  if (info.labels) out.labels = labelsJson(info.labels);
  out.offer_constraints = {};
  return out;
}

/** json(Attributes): name -> number (scalar) or string (text, ranges, set). */
export function attributesJson(agent: AgentRecord): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const a of agent.info.attributes ?? []) {
    if (a.scalar) out[a.name] = Number(a.scalar.value);
    else if (a.text) out[a.name] = a.text.value;
    else if (a.ranges) out[a.name] = `[${(a.ranges.range ?? []).map((r) => `${r.begin}-${r.end}`).join(', ')}]`;
    else if (a.set) out[a.name] = `{${(a.set.item ?? []).join(', ')}}`;
  }
  return out;
}

/** json(SlaveInfo): what /master/state's `recovered_slaves` holds; kept per AgentInfo (a new one comes with each registration). */
const infos = new WeakMap<object, Json>();
export function agentInfoJson(agent: AgentRecord): Json {
  let json = infos.get(agent.info);
  if (!json || json.id !== agent.id) infos.set(agent.info, (json = { id: agent.id, hostname: agent.info.hostname, port: agent.info.port, attributes: attributesJson(agent) }));
  return json;
}

export interface AgentTotals {
  readonly used: readonly Resources[];
  readonly offered: readonly Resources[];
}

/** An agent's total as SlaveWriter writes it, kept per Resources value (a total changes only when the agent or a reservation does). */
const totals = new WeakMap<Resources, Json>();
function totalJson(total: Resources): Json {
  let json = totals.get(total);
  if (!json) {
    json = { resources: resourcesJson(total), reserved_resources: reservedJson(total), unreserved_resources: resourcesJson(total.filter((e) => e.role === UNRESERVED)) };
    totals.set(total, json);
  }
  return json;
}

/**
 * Agent JSON kept between builds: written again only when something it is
 * made from changed (../state/kept-by-inputs.ts's agentInputs, which lists
 * every field agentJson reads), not with every allocation elsewhere.
 */
export class AgentJsonCache {
  private readonly kept = new KeptByInputs<AgentRecord, Json>();
  /** The agent's JSON with no resources held, and its text before used_resources and after offered_resources. */
  private readonly outer = new KeptByInputs<AgentRecord, { readonly json: Json; readonly head: string; readonly tail: string }>();

  /** `texts`: where the JSON made here is kept as text too (json-text.ts). */
  constructor(private readonly texts?: JsonTexts) {}

  /**
   * Under churn an agent's JSON is made again mostly because its tasks or its
   * offers changed: only used_resources and offered_resources are written then,
   * the rest (AgentInfo, totals, ...) copied from what was kept for the agent.
   */
  get(agent: AgentRecord, held: AgentTotals): Json {
    return this.kept.get(agent, agentInputs(agent, held.used, held.offered), () => {
      const outer = this.outer.get(agent, agentInputs(agent, NONE, NONE), () => outerJson(agent));
      // The keys are outer.json's, in its order: the two replaced keep their places.
      const json: Json = { ...outer.json, used_resources: resourcesJsonOf(held.used), offered_resources: resourcesJsonOf(held.offered) };
      this.texts?.keepWritten(json, () =>
        `{${outer.head}"used_resources":${JSON.stringify(json.used_resources)},"offered_resources":${JSON.stringify(json.offered_resources)}${outer.tail}}`);
      return json;
    });
  }
}

const NONE: readonly Resources[] = [];

/** agentJson with nothing held, and its text split around used_resources and offered_resources (with their commas). */
function outerJson(agent: AgentRecord): { json: Json; head: string; tail: string } {
  const json = agentJson(agent, { used: NONE, offered: NONE });
  const keys = Object.keys(json);
  const used = keys.indexOf('used_resources');
  if (keys[used + 1] !== 'offered_resources') throw new Error('agentJson writes offered_resources right after used_resources');
  const text = (from: number, to: number) => JSON.stringify(Object.fromEntries(keys.slice(from, to).map((k) => [k, json[k]]))).slice(1, -1);
  const head = text(0, used);
  const tail = text(used + 2, keys.length);
  return { json, head: head === '' ? '' : `${head},`, tail: tail === '' ? '' : `,${tail}` };
}

/** SlaveWriter. A draining agent is deactivated, as Mesos deactivates one it drains. Reads only what agentInputs lists. */
export function agentJson(agent: AgentRecord, held: AgentTotals): Json {
  const total = totalJson(agent.total);
  const out: Json = {
    ...agentInfoJson(agent),
    pid: agentPid(agent),
    registered_time: agent.registeredTime,
    ...(agent.reregisteredTime !== null ? { reregistered_time: agent.reregisteredTime } : {}),
    resources: total.resources,
    used_resources: resourcesJsonOf(held.used),
    offered_resources: resourcesJsonOf(held.offered),
    reserved_resources: total.reserved_resources,
    unreserved_resources: total.unreserved_resources,
    active: agent.connected && agent.draining !== true && agent.deactivated !== true,
    deactivated: agent.draining === true || agent.deactivated === true,
    version: agent.version ?? '',
    capabilities: agentCapabilities(agent),
  };
  // DrainInfo as JSON::protobuf writes it: an operator's DRAIN_AGENT, or the agent draining itself.
  if (agent.drain) {
    const grace = agent.drain.maxGracePeriod;
    out.drain_info = {
      state: agent.drain.state,
      config: { ...(grace !== null ? { max_grace_period: { nanoseconds: Math.round(grace * 1e9) } } : {}), mark_gone: agent.drain.markGone },
    };
  } else if (agent.draining === true) {
    out.drain_info = { state: 'DRAINING', config: { mark_gone: false } };
  }
  return out;
}

/** SlaveInfo.Capability names the agent declared (our AgentInfo carries none yet: Mesos agents of 1.11 declare a fixed set). */
function agentCapabilities(agent: AgentRecord): string[] {
  const declared = (agent.info as { capabilities?: readonly { type?: unknown }[] }).capabilities;
  return (declared ?? []).map((c) => String(c.type));
}

export type { ResourcesJson };
