// GET_STATE's JSON answer, built incrementally. Encoding the whole answer
// through protobufjs (fromObject, toObject, stringify) cost about 220 ms of
// the event loop at 10,000 tasks, plus 75 ms building the task views, and a
// worker thread would not have saved much: structured-cloning the views to
// it cost 130 ms on the loop. Tasks are nearly all of the answer and few
// change between two requests, so each task's JSON (as UTF-8) is kept until its
// state or status changes (as v0/writers.ts's TaskJsonCache does for
// /master/state) and the answer is spliced from those texts. An agent's text
// is kept until the agent, its tasks' resources or its offers change, and an
// offer's until its agent changes (../state/kept-by-inputs.ts): building and
// keying every agent's view, and every framework's with its offers in it,
// took most of a build at N=1,000 (round 8a in docs/scale/README.md). A
// framework's view is built each time, without its offers' messages, and its
// encoding reused while that view is the same; its offers' texts are spliced
// in at the place protobufjs writes them. The text is
// exactly what encodeMessage writes for the same answer (test/unit/state-json.test.ts).
import type { Type } from 'protobufjs';
import { protoRoot } from '../../proto/index.js';
import type { Master } from '../master.js';
import { Resources } from '../../common/resources.js';
import type { AgentRecord, FrameworkRecord, OfferRecord, TaskRecord } from '../state/records.js';
import { agentInputs, KeptByInputs, offerInputs } from '../state/kept-by-inputs.js';
import { pushTo as push } from '../state/grouped.js';
import { agentViewOf, frameworkViewWithoutOffers, taskView } from './views.js';
import { offerIdsWire } from '../rpc/wire.js';
import { KeptBytes } from '../../common/kept-bytes.js';

const TASK = protoRoot.lookupType('mesos.v1.Task');
const GET_TASKS = protoRoot.lookupType('mesos.v1.master.Response.GetTasks');
const GET_FRAMEWORKS = protoRoot.lookupType('mesos.v1.master.Response.GetFrameworks');
const GET_AGENTS = protoRoot.lookupType('mesos.v1.master.Response.GetAgents');
const JSON_OPTIONS = { enums: String, longs: Number, bytes: String, defaults: false } as const;

const text = (s: string) => Buffer.from(s, 'utf8');
const COMMA = text(',');
const encode = (type: Type, value: object) => text(JSON.stringify(type.toObject(type.fromObject(value), JSON_OPTIONS)));

/** `{"list":[...],...}` for a message of repeated fields only, in the order protobufjs writes fields (by number), empty lists left out. */
function lists(type: Type, byName: Readonly<Record<string, readonly Buffer[]>>): Buffer[] {
  const parts: Buffer[] = [];
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    const list = byName[field.name];
    if (!list?.length) continue;
    parts.push(text(`${parts.length > 0 ? ',' : '{'}"${field.name}":[`));
    list.forEach((json, i) => (i > 0 ? parts.push(COMMA, json) : parts.push(json)));
    parts.push(text(']'));
  }
  parts.push(text(parts.length > 0 ? '}' : '{}'));
  return parts;
}

/**
 * Frameworks change with every allocation, so their views are built each
 * time; only protobufjs's encoding of a view (the costly part) is kept,
 * keyed by the view's plain JSON: the same view, the same text.
 */
class EncodedViews {
  private kept = new Map<string, Buffer>();
  private next = new Map<string, Buffer>();

  constructor(private readonly type: Type) {}

  get(view: object): Buffer {
    const key = JSON.stringify(view);
    const json = this.kept.get(key) ?? encode(this.type, view);
    this.next.set(key, json);
    return json;
  }

  /** Forgets the views not asked for since the last call. */
  turn(): void {
    this.kept = this.next;
    this.next = new Map();
  }
}

/** Texts by key, forgotten all at once when `max` are held (keys from values that come and go, such as offered amounts). */
class BoundedTexts {
  private readonly texts = new Map<string, Buffer>();

  constructor(private readonly max: number) {}

  get(key: string): Buffer | undefined {
    return this.texts.get(key);
  }

  set(key: string, text: Buffer): void {
    if (this.texts.size >= this.max) this.texts.clear();
    this.texts.set(key, text);
  }
}

/**
 * What a list of resources is written from (toProto(), in entry order), and
 * `context`: the field it is written as, or the role an offer's are allocated
 * to (offerWire). Equal keys, equal texts.
 */
function resourcesKey(context: string, resources: Resources): string {
  const entries: unknown[] = [context];
  for (const e of resources.each()) {
    const v = e.value;
    entries.push(e.name, e.role, v.kind === 'scalar' ? v.value : v.kind === 'ranges' ? v.ranges : [...v.items]);
  }
  return JSON.stringify(entries);
}

const elementType = (type: Type, field: string) => type.fields[field]!.resolve().resolvedType as Type;
const AGENT = elementType(GET_AGENTS, 'agents');
const RECOVERED_AGENT = elementType(GET_AGENTS, 'recovered_agents');
const FRAMEWORK = elementType(GET_FRAMEWORKS, 'frameworks');
const OFFER = elementType(FRAMEWORK, 'offers');
const OFFERS_FIELD = FRAMEWORK.fields.offers!.id;
const ALLOCATED_FIELD = AGENT.fields.allocated_resources!.id;
const OFFERED_FIELD = AGENT.fields.offered_resources!.id;
/** An offer's fields read from its agent (attributes, url, unavailability; domain), around its own allocation_info. */
const OFFER_AGENT_FIELDS = ['attributes', 'url', 'unavailability'].map((f) => OFFER.fields[f]!.id);
const OFFER_ROLE_FIELD = OFFER.fields.allocation_info!.id;
const OFFER_DOMAIN_FIELD = OFFER.fields.domain!.id;
const OFFER_RESOURCES_FIELD = OFFER.fields.resources!.id;
const TASK_STATE_FIELD = TASK.fields.state!.id;
const TASK_RESOURCES_FIELD = TASK.fields.resources!.id;
const TASK_UPDATE_UUID_FIELD = TASK.fields.status_update_uuid!.id;
const OPEN = text('{');
const CLOSE = text('}');
const CLOSE_LIST = text(']');
/** An encoded object's fields without its braces. */
const inner = (json: Buffer) => json.subarray(1, json.length - 1);

/** The fields of `view` whose numbers pass `take`, encoded as `type` and without braces ('' when none is written). */
function fieldsText(type: Type, view: Readonly<Record<string, unknown>>, take: (id: number) => boolean): Buffer {
  const part: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(view)) if (take(type.fields[key]!.id)) part[key] = value;
  return inner(encode(type, part));
}

/**
 * An object's text from the texts of its groups of fields, in the order of
 * their numbers (the order protobufjs writes), empty groups left out: the
 * parts of an agent or an offer that did not change are kept apart from those
 * that did, and an agent whose offers changed costs its offered resources'
 * encoding, not its AgentInfo's again.
 */
function joinFields(parts: readonly Buffer[], keep?: KeptBytes, at?: number[]): Buffer {
  const out: Buffer[] = [OPEN];
  let offset = OPEN.length;
  for (const part of parts) {
    if (part.length > 0 && out.length > 1) {
      out.push(COMMA);
      offset += COMMA.length;
    }
    at?.push(offset); // Where the part is written (an empty one is not: its length says so).
    if (part.length === 0) continue;
    out.push(part);
    offset += part.length;
  }
  out.push(CLOSE);
  return keep ? keep.concat(out) : Buffer.concat(out);
}
const NONE: readonly Resources[] = [];
const NO_OFFERS: readonly OfferRecord[] = [];

/** What the tasks use and the offers hold, by agent and by framework: one pass over each. */
interface Holdings {
  readonly usedByAgent: Map<string, Resources[]>;
  readonly usedByFramework: Map<string, Resources[]>;
  readonly offeredByAgent: Map<string, Resources[]>;
  readonly offersByFramework: Map<string, OfferRecord[]>;
}

export class GetStateJson {
  private readonly tasks = new WeakMap<TaskRecord, TaskText>();
  private readonly agents = new KeptByInputs<AgentRecord, Buffer>();
  private readonly recoveredAgents = new KeptByInputs<AgentRecord, Buffer>();
  /** A framework view's fields before its offers and after them, encoded apart: the offers' kept texts go between. */
  private readonly frameworkHeads = new EncodedViews(FRAMEWORK);
  private readonly frameworkTails = new EncodedViews(FRAMEWORK);
  private readonly offers = new KeptByInputs<OfferRecord, Buffer>();
  /** Parts of an agent's text: its fields other than its tasks' and offers' resources, and those two. */
  private readonly agentOuter = new KeptByInputs<AgentRecord, { readonly head: Buffer; readonly tail: Buffer }>();
  private readonly agentUsed = new KeptByInputs<AgentRecord, Buffer>();
  private readonly agentOffered = new KeptByInputs<AgentRecord, Buffer>();
  /** What each offer reads of its agent, encoded once per agent (until offerInputs change), and each role's allocation_info. */
  private readonly offerAgentParts = new KeptByInputs<AgentRecord, { readonly middle: Buffer; readonly domain: Buffer }>();
  private readonly offerRoles = new Map<string, Buffer>();
  private readonly offerResources = new BoundedTexts(4096);
  private readonly resourceLists = new BoundedTexts(4096);
  /** A framework's tasks' resources summed, again only when they changed (a status update leaves them as they were). */
  private readonly frameworkUsed = new KeptByInputs<FrameworkRecord, Resources>();
  /** Each state's field. */
  private readonly taskStates = new Map<TaskRecord['state'], Buffer>();
  /** Where each task's kept texts are copied: made in pool slabs, they kept the slabs alive (common/kept-bytes.ts). */
  private readonly taskBytes = new KeptBytes();

  constructor(private readonly master: Master) {}

  /** The Response to GET_STATE as JSON, as encodeMessage(Response, {type, get_state}, 'json') writes it. */
  encode(): Buffer {
    const master = this.master;
    const running: Buffer[] = [];
    const unreachable: Buffer[] = [];
    for (const t of master.tasks.all()) (t.state === 'TASK_UNREACHABLE' ? unreachable : running).push(this.task(t));
    const tasks = { tasks: running, unreachable_tasks: unreachable, completed_tasks: master.tasks.completedTasks().map((t) => this.task(t)) };
    const held = holdings(master);
    const frameworks = {
      frameworks: [...master.frameworks.values()].map((f) => this.frameworkText(f, held.usedByFramework.get(f.id) ?? NONE, held.offersByFramework.get(f.id) ?? NO_OFFERS)),
      completed_frameworks: master.completedFrameworkList().map((f) => this.frameworkText(f, NONE, NO_OFFERS)),
    };
    const agents = this.agentTexts(held);
    this.frameworkHeads.turn();
    this.frameworkTails.turn();
    // Copied once into the answer: joining the texts as strings and encoding the result cost more than the rest together.
    return Buffer.concat([
      text('{"type":"GET_STATE","get_state":{"get_tasks":'), ...lists(GET_TASKS, tasks),
      text(',"get_frameworks":'), ...lists(GET_FRAMEWORKS, frameworks),
      text(',"get_agents":'), ...lists(GET_AGENTS, agents), text('}}'),
    ]);
  }

  /** As getAgents lists them: registered agents (reachable, back since a failover), then those not yet back (their AgentInfo). */
  private agentTexts({ usedByAgent: used, offeredByAgent: offered }: Holdings): { agents: Buffer[]; recovered_agents: Buffer[] } {
    const master = this.master;
    const agents: Buffer[] = [];
    const recovered: Buffer[] = [];
    for (const a of master.agents.values()) {
      if (a.recovered) recovered.push(this.recoveredAgents.get(a, [a.info], () => encode(RECOVERED_AGENT, a.info)));
      if (a.recovered || a.unreachableSince !== null) continue;
      const u = used.get(a.id) ?? NONE;
      const o = offered.get(a.id) ?? NONE;
      agents.push(this.agents.get(a, agentInputs(a, u, o), () => this.agentText(a, u, o)));
    }
    return { agents, recovered_agents: recovered };
  }

  /**
   * As frameworkView encodes: protobufjs writes fields in the order of their
   * numbers, so the fields numbered below `offers` come first, then the
   * offers (left out when there are none), then the rest.
   */
  private frameworkText(fw: FrameworkRecord, used: readonly Resources[], offers: readonly OfferRecord[]): Buffer {
    const view = frameworkViewWithoutOffers(this.master, fw, this.frameworkUsed.get(fw, [used.length, ...used], () => Resources.sum(used)), offers) as Record<string, unknown>;
    const [before, after] = [{} as Record<string, unknown>, {} as Record<string, unknown>];
    for (const [key, value] of Object.entries(view)) (FRAMEWORK.fields[key]!.id < OFFERS_FIELD ? before : after)[key] = value;
    const head = inner(this.frameworkHeads.get(before));
    const tail = inner(this.frameworkTails.get(after));
    const parts = [OPEN, head];
    if (offers.length > 0) {
      parts.push(text(`${head.length > 0 ? ',' : ''}"offers":[`));
      offers.forEach((o, i) => (i > 0 ? parts.push(COMMA, this.offerText(o)) : parts.push(this.offerText(o))));
      parts.push(CLOSE_LIST);
    }
    if (tail.length > 0 && (head.length > 0 || offers.length > 0)) parts.push(COMMA);
    parts.push(tail, CLOSE);
    return Buffer.concat(parts);
  }

  /**
   * agentViewOf's encoding, from parts kept apart: its fields numbered below
   * allocated_resources and above offered_resources change with the agent
   * (agentInputs without resources), those two with its tasks and its offers.
   * agentView writes them as the sums' toProto().
   */
  private agentText(a: AgentRecord, used: readonly Resources[], offered: readonly Resources[]): Buffer {
    const outer = this.agentOuter.get(a, agentInputs(a, NONE, NONE), () => {
      const view = agentViewOf(a, NONE, NONE) as Record<string, unknown>;
      return { head: fieldsText(AGENT, view, (id) => id < ALLOCATED_FIELD), tail: fieldsText(AGENT, view, (id) => id > OFFERED_FIELD) };
    });
    const usedText = this.agentUsed.get(a, [used.length, ...used], () => this.agentResources('allocated_resources', Resources.sum(used)));
    const offeredText = this.agentOffered.get(a, [offered.length, ...offered], () => this.agentResources('offered_resources', Resources.sum(offered)));
    return joinFields([outer.head, usedText, offeredText, outer.tail]);
  }

  /** One of an agent's resource lists, written once per value: agents alike hold and offer the same amounts. */
  private agentResources(field: 'allocated_resources' | 'offered_resources', sum: Resources): Buffer {
    const key = resourcesKey(field, sum);
    let text = this.resourceLists.get(key);
    if (text === undefined) this.resourceLists.set(key, (text = inner(encode(AGENT, { [field]: sum.toProto() }))));
    return text;
  }

  /** An offer's message changes only with its agent's: kept until then. */
  private offerText(offer: OfferRecord): Buffer {
    const agent = this.master.agents.get(offer.agentId);
    return this.offers.get(offer, offerInputs(agent), () => {
      let message: Record<string, unknown> | undefined;
      const view = () => (message ??= this.master.offerMessage(offer) as Record<string, unknown>);
      if (!agent) return encode(OFFER, view());
      // The same for every offer of the agent: written once per agent, not once per offer.
      const fromAgent = this.offerAgentParts.get(agent, offerInputs(agent), () => ({
        middle: fieldsText(OFFER, view(), (id) => OFFER_AGENT_FIELDS.includes(id)),
        domain: fieldsText(OFFER, view(), (id) => id === OFFER_DOMAIN_FIELD),
      }));
      let role = this.offerRoles.get(offer.role);
      if (role === undefined) this.offerRoles.set(offer.role, (role = fieldsText(OFFER, view(), (id) => id === OFFER_ROLE_FIELD)));
      const ids = inner(encode(OFFER, offerIdsWire(offer, agent)));
      // Agents with the same free resources offer them to a role in the same words: written once per value.
      const plain = agent.dynamicReservations === undefined || agent.dynamicReservations.isEmpty();
      const key = plain ? resourcesKey(offer.role, offer.resources) : null;
      let resources = key === null ? undefined : this.offerResources.get(key);
      if (resources === undefined) {
        resources = fieldsText(OFFER, view(), (id) => id === OFFER_RESOURCES_FIELD);
        if (key !== null) this.offerResources.set(key, resources);
      }
      return joinFields([ids, resources, fromAgent.middle, role, fromAgent.domain]);
    });
  }

  /**
   * taskView's encoding. A task changes by its state and its latest status
   * (fields 6 and 8 to 10): its other fields, from its TaskInfo, resources
   * and agent (a record's are readonly), are encoded once per task and taken
   * from its kept text afterwards; each state's field is encoded once.
   */
  private task(t: TaskRecord): Buffer {
    const hit = this.tasks.get(t);
    if (hit && hit.state === t.state && hit.status === t.status) return hit.json;
    const view = taskView(t) as Record<string, unknown>;
    const [head, resources, tail] = hit ? fixedParts(hit) : [
      fieldsText(TASK, view, (id) => id < TASK_STATE_FIELD),
      fieldsText(TASK, view, (id) => id === TASK_RESOURCES_FIELD),
      fieldsText(TASK, view, (id) => id > TASK_UPDATE_UUID_FIELD),
    ];
    let state = this.taskStates.get(t.state);
    if (state === undefined) this.taskStates.set(t.state, (state = fieldsText(TASK, view, (id) => id === TASK_STATE_FIELD)));
    const latest = fieldsText(TASK, view, (id) => id > TASK_RESOURCES_FIELD && id <= TASK_UPDATE_UUID_FIELD);
    const at: number[] = [];
    const json = joinFields([head, state, resources, latest, tail], this.taskBytes, at);
    this.tasks.set(t, {
      state: t.state, status: t.status, json,
      headAt: at[0]!, headLength: head.length, resourcesAt: at[2]!, resourcesLength: resources.length, tailAt: at[4]!, tailLength: tail.length,
    });
    return json;
  }
}

/**
 * A task's text and where its fixed parts are in it: one Buffer per task,
 * where keeping the parts apart as well took three more and a copy of most
 * of the text (about 500 bytes a task; docs/scale/README.md, "Memory per task").
 */
interface TaskText {
  readonly state: unknown;
  readonly status: unknown;
  readonly json: Buffer;
  readonly headAt: number;
  readonly headLength: number;
  readonly resourcesAt: number;
  readonly resourcesLength: number;
  readonly tailAt: number;
  readonly tailLength: number;
}

function fixedParts(t: TaskText): [Buffer, Buffer, Buffer] {
  return [
    t.json.subarray(t.headAt, t.headAt + t.headLength),
    t.json.subarray(t.resourcesAt, t.resourcesAt + t.resourcesLength),
    t.json.subarray(t.tailAt, t.tailAt + t.tailLength),
  ];
}

function holdings(master: Master): Holdings {
  const h: Holdings = { usedByAgent: new Map(), usedByFramework: new Map(), offeredByAgent: new Map(), offersByFramework: new Map() };
  for (const t of master.tasks.all()) {
    if (t.recovered) continue;
    push(h.usedByAgent, t.agentId, t.resources);
    push(h.usedByFramework, t.frameworkId, t.resources);
  }
  for (const o of master.offers.view().values()) {
    push(h.offeredByAgent, o.agentId, o.resources);
    push(h.offersByFramework, o.frameworkId, o);
  }
  return h;
}
