// The operator API's behaviour, shared by its two encodings: gRPC
// (grpc-service.ts) and POST /api/v1 (http.ts). Read-only calls are answered
// from OperatorViews and the metrics; SUBSCRIBE is an async generator of
// mesos.v1.master.Events: SUBSCRIBED with the whole state first, then what
// the master reports (cluster-events.ts) in the order it happened, and a
// HEARTBEAT whenever nothing was sent for heartbeat_interval_seconds.
// Leadership is the adapters' business, except that a stream ends once this
// master no longer leads.
import { protoRoot, type OperatorCall, type OperatorEvent, type OperatorResponse } from '../../proto/index.js';
import { getFlags, getMaintenanceSchedule, getMaintenanceStatus, getQuota, getWeights, isWriteCall, writeOperation, type WriteCall } from './write-calls.js';
import { InvalidArgument, PermissionDenied, Unavailable } from '../../common/errors.js';
import { NO_ACLS, type Acls } from '../../common/acls.js';
import { filterEvent, filterResponse, readCallRefusal, viewFilter, writeCallRefusal, type ViewFilter } from '../authorization.js';
import { VERSION } from '../../common/version.js';
import type { Master } from '../master.js';
import type { MasterEvent } from '../cluster-events.js';
import type { MasterMetrics } from '../metrics.js';
import { getMaster, getRoles, oneAgentView, oneFrameworkView, OperatorViews, statusOf, taskView } from './views.js';
import { GetStateJson } from './state-json.js';

/** The calls mesos-ts serves, besides SUBSCRIBE. */
export const SERVED_CALLS = [
  'GET_HEALTH', 'GET_VERSION', 'GET_METRICS', 'GET_MASTER', 'GET_STATE', 'GET_AGENTS', 'GET_FRAMEWORKS', 'GET_TASKS', 'GET_ROLES',
  'GET_FLAGS', 'GET_WEIGHTS', 'GET_QUOTA', 'GET_MAINTENANCE_SCHEDULE', 'GET_MAINTENANCE_STATUS',
] as const;
export type ServedCall = (typeof SERVED_CALLS)[number];
export { WRITE_CALLS, isWriteCall, type WriteCall } from './write-calls.js';

/** Every Call type of Mesos's v1 master API (proto/mesos/v1/master/master.proto). */
const KNOWN_CALLS: ReadonlySet<string> = new Set(Object.keys(protoRoot.lookupEnum('mesos.v1.master.Call.Type').values));

/** Events a subscriber may leave unread before its stream is ended (it subscribes again and gets a fresh state). */
const MAX_QUEUED_EVENTS = 100_000;

/** Call.type checked: throws InvalidArgument when it is missing or not a Call type of Mesos's master API. */
export function callType(value: unknown): string {
  if (value === undefined || value === null || value === '' || value === 'UNKNOWN') throw new InvalidArgument('Call.type is required');
  if (typeof value !== 'string' || !KNOWN_CALLS.has(value)) {
    throw new InvalidArgument(`Call.type ${JSON.stringify(value)} is not a call of the v1 master API (e.g. GET_STATE, GET_TASKS, SUBSCRIBE)`);
  }
  return value;
}

export function isServed(type: string): type is ServedCall | WriteCall | 'SUBSCRIBE' {
  return type === 'SUBSCRIBE' || (SERVED_CALLS as readonly string[]).includes(type) || isWriteCall(type);
}

export interface OperatorApiOptions {
  readonly master: Master;
  readonly metrics: MasterMetrics;
  /** True while this master leads and acts. */
  readonly leading: () => boolean;
  readonly heartbeatSeconds: number;
}

export class OperatorApi {
  readonly views: OperatorViews;
  /** Open SUBSCRIBE streams (master/operator_event_stream_subscribers). */
  subscribers = 0;
  private readonly converted = new WeakMap<MasterEvent, OperatorEvent | null>();
  private readonly stateJson: GetStateJson;
  private users: { readonly version: number; readonly users: Map<string, string> } | null = null;

  constructor(private readonly options: OperatorApiOptions) {
    this.views = new OperatorViews(options.master);
    this.stateJson = new GetStateJson(options.master);
  }

  /** GET_STATE's answer as JSON, everyone's, from task texts kept between builds (state-json.ts). */
  getStateJson(): Buffer {
    return this.stateJson.encode();
  }

  /** Master.version: answers built from the state stay good while it holds. */
  get version(): number {
    return this.options.master.version;
  }

  /** See Master.freshReadsFrom. */
  get freshReadsFrom(): number {
    return this.options.master.freshReadsFrom;
  }

  get acls(): Acls {
    return this.options.master.options.acls ?? NO_ACLS;
  }

  /**
   * What `principal` (null: not authenticated) may see of frameworks and
   * tasks; null when it sees everything, so that answers may be shared.
   */
  viewFilter(principal: string | null): ViewFilter | null {
    return viewFilter(this.acls, principal);
  }

  /** A read call as `principal` may see it: refused (PermissionDenied) by view_flags, get_endpoints, ...; the state calls filtered. */
  answerFor(type: ServedCall, principal: string | null): OperatorResponse {
    this.checkRead(type, principal);
    const filter = this.viewFilter(principal);
    return filter ? filterResponse(this.answer(type), filter, this.frameworkUsers()) : this.answer(type);
  }

  /** Throws PermissionDenied when the ACLs refuse `principal` this read call outright (view_flags, get_endpoints, maintenance reads). */
  checkRead(type: ServedCall, principal: string | null): void {
    const refused = readCallRefusal(this.acls, type, principal);
    if (refused !== null) throw new PermissionDenied(refused);
  }

  /** The user of every framework the master knows (completed ones too), for view_tasks. */
  private frameworkUsers(): Map<string, string> {
    const master = this.options.master;
    if (this.users?.version === master.version) return this.users.users;
    const users = new Map<string, string>();
    this.users = { version: master.version, users };
    for (const fw of master.completedFrameworkList()) users.set(fw.id, fw.info.user ?? '');
    for (const fw of master.frameworks.values()) users.set(fw.id, fw.info.user ?? '');
    return users;
  }

  /** Everyone's answer (authorization is answerFor's). */
  answer(type: ServedCall): OperatorResponse {
    const master = this.options.master;
    switch (type) {
      case 'GET_HEALTH':
        return { type, get_health: { healthy: true } };
      case 'GET_VERSION':
        return { type, get_version: { version_info: { version: VERSION } } };
      case 'GET_METRICS':
        return { type, get_metrics: { metrics: Object.entries(this.options.metrics.snapshot()).map(([name, value]) => ({ name, value })) } };
      case 'GET_MASTER':
        return { type, get_master: getMaster(master) };
      case 'GET_STATE':
        return { type, get_state: this.views.getState() };
      case 'GET_AGENTS':
        return { type, get_agents: this.views.getState().get_agents! };
      case 'GET_FRAMEWORKS':
        return { type, get_frameworks: this.views.getState().get_frameworks! };
      case 'GET_TASKS':
        return { type, get_tasks: this.views.getState().get_tasks! };
      case 'GET_ROLES':
        return { type, get_roles: getRoles(master) };
      case 'GET_FLAGS':
        return getFlags(master.options.flags ?? {});
      case 'GET_WEIGHTS':
        return getWeights(master.state);
      case 'GET_QUOTA':
        return getQuota(master.state);
      case 'GET_MAINTENANCE_SCHEDULE':
        return getMaintenanceSchedule(master.state);
      case 'GET_MAINTENANCE_STATUS':
        return getMaintenanceStatus(master.state);
    }
  }

  /** A write call: settles once the registry holds the change; throws (changing nothing) when it is malformed or not allowed. */
  async write(type: WriteCall, call: OperatorCall, principal: string | null = null): Promise<void> {
    const operation = writeOperation(type, call); // Malformed calls are refused first, as Mesos validates before it authorizes.
    // Checked and applied in the same turn: the state the check read is the one the operation changes.
    const refused = writeCallRefusal(this.acls, type, call, principal, this.options.master.state);
    if (refused !== null) {
      this.options.master.logger.warn({ principal }, refused);
      throw new PermissionDenied(refused);
    }
    await this.options.master.operate(operation);
    this.options.master.freshReadsFrom = this.options.master.version;
  }

  /** SUBSCRIBE: runs until `signal` aborts, this master stops leading (Unavailable), or the reader falls too far behind. */
  async *subscribe(signal: AbortSignal, principal: string | null = null): AsyncGenerator<OperatorEvent> {
    const filter = this.viewFilter(principal);
    if (!filter) return yield* this.events(signal);
    const master = this.options.master;
    const userOfTask = (frameworkId: string, taskId: string) => {
      const info = master.tasks.get(frameworkId, taskId)?.info;
      return info?.command?.user || info?.executor?.command?.user || null;
    };
    for await (const event of this.events(signal)) {
      const shown = filterEvent(event, filter, this.frameworkUsers(), userOfTask);
      if (shown) yield shown;
    }
  }

  private async *events(signal: AbortSignal): AsyncGenerator<OperatorEvent> {
    const heartbeatMs = this.options.heartbeatSeconds * 1000;
    const queue: OperatorEvent[] = [];
    let overflow = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      wake?.();
      wake = null;
    };
    // Listening starts in the same turn as the snapshot is taken: the stream misses nothing and repeats nothing.
    const stop = this.options.master.events.listen((event) => {
      const converted = this.eventOf(event);
      if (!converted) return;
      if (queue.length >= MAX_QUEUED_EVENTS) overflow = true;
      else queue.push(converted);
      notify();
    });
    signal.addEventListener('abort', notify);
    this.subscribers++;
    try {
      yield { type: 'SUBSCRIBED', subscribed: { get_state: this.views.getState(true), heartbeat_interval_seconds: this.options.heartbeatSeconds } };
      while (!signal.aborted) {
        if (overflow) throw new Unavailable(`this subscriber left more than ${MAX_QUEUED_EVENTS} events unread; subscribe again`);
        if (!this.options.leading()) throw new Unavailable('this master no longer leads; subscribe to the new leader');
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        const idle = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), heartbeatMs);
          timer.unref();
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        if (idle && !signal.aborted && this.options.leading()) yield { type: 'HEARTBEAT' };
      }
    } finally {
      stop();
      signal.removeEventListener('abort', notify);
      this.subscribers--;
    }
  }

  /** The operator event for a master event (null for the activity only metrics count); built once for all subscribers. */
  private eventOf(event: MasterEvent): OperatorEvent | null {
    let out = this.converted.get(event);
    if (out === undefined) {
      out = convert(this.options.master, event);
      this.converted.set(event, out);
    }
    return out;
  }
}

function convert(master: Master, event: MasterEvent): OperatorEvent | null {
  switch (event.type) {
    case 'TASK_ADDED':
      return { type: 'TASK_ADDED', task_added: { task: taskView(event.task, event.state) } };
    case 'TASK_UPDATED':
      return {
        type: 'TASK_UPDATED',
        task_updated: {
          framework_id: { value: event.task.frameworkId },
          status: statusOf(event.task, event.state, event.status, master.now()),
          state: event.state,
        },
      };
    case 'AGENT_ADDED':
      return { type: 'AGENT_ADDED', agent_added: { agent: oneAgentView(master, event.agent) } };
    case 'AGENT_REMOVED':
      return { type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: event.agent.id } } };
    case 'FRAMEWORK_ADDED':
      return { type: 'FRAMEWORK_ADDED', framework_added: { framework: oneFrameworkView(master, event.framework) } };
    case 'FRAMEWORK_UPDATED':
      return { type: 'FRAMEWORK_UPDATED', framework_updated: { framework: oneFrameworkView(master, event.framework) } };
    case 'FRAMEWORK_REMOVED':
      return { type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: event.framework.info } };
    default:
      return null;
  }
}
