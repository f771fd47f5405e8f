// The leading master's driver. It owns the links to schedulers and agents,
// the deadlines and the allocation timer; everything it knows of the
// cluster is in `state` (./state/), and every change is a named operation
// (./operations/):
//
//   gRPC / HTTP adapter ──> Master.subscribe / call / registerAgent / agentMessage
//        │
//        v
//   operation(state, input, ctx) ──> state changed, Effects returned
//        │
//        v
//   registry.apply(each RegistryOp) ──> outbox waits until the registry holds them
//        │
//        v
//   effects run in order: to agents, to frameworks, allocator facts, deadlines
//
// Write before act: an operation's effects run only once the registry holds
// its changes, and in the order the operations ran. A failed write ends
// this master's leadership (main.ts stops it): nothing waiting is carried
// out, so no scheduler or agent hears of a change the registry lacks.
import { randomBytes, randomUUID } from 'node:crypto';
import type { AgentMessageOut, Call, MasterInfoIn } from '../proto/index.js';
import { TASK_STATES } from '../common/task-state.js';
import type { RegisterAgent__Output } from '../proto/gen/mesos_ts/internal/RegisterAgent.js';
import type { AllocationDecision, Allocator } from './allocator/allocator.js';
import type { Clock } from '../common/clock.js';
import { monotonicClock, realTimers, type Timers } from '../common/clock.js';
import { IdGenerator } from '../common/ids.js';
import { Resources } from '../common/resources.js';
import { FailedPrecondition, InvalidArgument, NotFound, Unavailable, errorMessage } from '../common/errors.js';
import type { Registry } from './registry/registry.js';
import { readRegistration, validateCall } from './validation.js';
import { MasterEvents } from './cluster-events.js';
import { Deadlines } from './deadlines.js';
import { ClusterState } from './state/cluster.js';
import type { AgentRecord, FrameworkRecord, OfferRecord } from './state/records.js';
import { deadlineKey, Effects, type AllocatorFact, type Deadline, type Effect, type MasterConfig, type OpContext } from './operations/effects.js';
import { disconnectFramework, failoverTimeoutExpired, subscribeFramework } from './operations/frameworks.js';
import { schedulerCall } from './operations/scheduler-calls.js';
import { admitAgent, disconnectAgent, drainAgent, markAgentGone, markAgentUnreachable } from './operations/agents.js';
import { applyStatusUpdate } from './operations/tasks.js';
import { dispatchLaunch } from './operations/launch.js';
import { makeOffers, rescindOffer } from './operations/offers.js';
import { agentWire, frameworkWire, offerWire } from './rpc/wire.js';
import { recoverFromRegistry } from './operations/recovery.js';
import { reportQuotaFit } from './allocator/quota-fit.js';
import { DRAIN_BUDGET, Outbox, type DrainBudget } from './outbox.js';
import { PassBudget } from './pass-budget.js';
import type { Overflow } from './event-backlog.js';
import type { Logger } from '../common/log/logger.js';
import { NO_ACLS, type Acls } from '../common/acls.js';

/** A subscribed scheduler's event stream. */
export interface EventSink {
  send(event: import('../proto/index.js').EventIn): void;
  /** Ends the stream; with `error` an ERROR event goes first. */
  close(error?: string): void;
  /** Events waiting for the scheduler to read (./event-backlog.ts). */
  readonly queued: number;
  /** Their bytes on the wire. */
  readonly queuedBytes: number;
}

/** Events a scheduler may leave unread before its stream is dropped (--max_framework_event_queue). */
export const DEFAULT_MAX_FRAMEWORK_EVENT_QUEUE = 10_000;
/** Bytes of events a scheduler may leave unread before its stream is dropped (--max_framework_event_queue_bytes): 64 MiB. */
export const DEFAULT_MAX_FRAMEWORK_EVENT_QUEUE_BYTES = 64 * 1024 * 1024;

/** An agent's open link. */
export interface AgentConnection {
  /** False once the link has gone. */
  readonly open: boolean;
  send(message: import('../proto/index.js').MasterMessageIn): void;
  close(reason: string): void;
}

export interface MasterOptions {
  readonly id: string;
  readonly info: MasterInfoIn;
  readonly allocator: Allocator;
  /** Written before the master acts on what it admits (agents, frameworks, tasks). */
  readonly registry: Registry;
  readonly clock: Clock;
  /** Durations and deadlines (default: the process's monotonic clock); a test with fake timers passes its own. */
  readonly monotonic?: Clock;
  /** Real timers by default; tests pass fake ones (test/harness/fake-timers.ts). */
  readonly timers?: Timers;
  /** Seconds between allocation passes (passes also run, coalesced, when resources change). */
  readonly allocationInterval: number;
  /** Seconds a pass may run, making its offers included (./pass-budget.ts), before it stops and leaves the agents it did not visit to the next pass, run at once; 0 or absent: no bound. */
  readonly allocationPassBudget?: number;
  /** Milliseconds on a monotonic clock, for the pass budget (performance.now by default). */
  readonly elapsedMs?: () => number;
  /** Seconds before an unused offer is rescinded; 0 keeps offers until used. */
  readonly offerTimeout: number;
  readonly heartbeatInterval: number;
  /** Seconds a disconnected agent has to come back before its tasks are unreachable. */
  readonly agentReregisterTimeout: number;
  readonly agentPingInterval: number;
  /** Pings an agent may leave unanswered in a row before its link is dropped (default 5). */
  readonly maxAgentPingTimeouts?: number;
  /** Seconds an agent whose link closed has to come back before it is unreachable (ping interval x max missed pings). */
  readonly agentDisconnectTimeout: number;
  /** Seconds an agent may stay unreachable before it is gone (its tasks TASK_GONE). */
  readonly registryMaxAgentAge: number;
  /** The master's logger (component master); operations log through it with their ids as fields. */
  readonly logger: Logger;
  /** A new Mesos-Stream-Id (random UUIDs by default). */
  readonly newStreamId?: () => string;
  /** A new agent secret (24 random bytes, base64url, by default). */
  readonly newSecret?: () => string;
  /** Runs `fn` soon, once the current work is done (setImmediate by default): coalesced allocation passes. */
  readonly defer?: (fn: () => void) => void;
  /**
   * How much of a turn the effects released by a registry write may take (10 ms by default, on a clock of
   * its own: the timers read `elapsedMs`, and tests count those readings).
   */
  readonly drainBudget?: DrainBudget;
  /** Role weights and quotas the master starts with (--weights, --quota); the registry's, once an operator set them, win. */
  readonly weights?: ReadonlyMap<string, number>;
  readonly quotas?: ReadonlyMap<string, { readonly guarantee?: import('../common/resources.js').Resources; readonly limit?: import('../common/resources.js').Resources }>;
  /** The flags the master runs with, as GET_FLAGS and /master/flags report them. */
  readonly flags?: Readonly<Record<string, string>>;
  /** The scheme of agents' HTTP endpoints (Offer.url): 'https' when the cluster speaks TLS, as Mesos decides by its own SSL setting. Default 'http'. */
  readonly agentScheme?: 'http' | 'https';
  /** The --acls; without them everything is allowed. */
  readonly acls?: Acls;
  /** Events a scheduler may leave unread before the adapters drop its stream (DEFAULT_MAX_FRAMEWORK_EVENT_QUEUE). */
  readonly maxFrameworkEventQueue?: number;
  /** Bytes of events a scheduler may leave unread (DEFAULT_MAX_FRAMEWORK_EVENT_QUEUE_BYTES). */
  readonly maxFrameworkEventQueueBytes?: number;
}

/** An agent link the driver knows: which agent it carries once bound, and its pings. */
interface Link {
  readonly id: number;
  readonly conn: AgentConnection;
  agentId: string | null;
  pingSeq: number;
  lastPong: number;
  /** When the agent was last heard on this link (monotonic clock, seconds): its grace after the link drops counts from here. */
  lastHeard: number;
}

export class Master {
  /**
   * What happens here, for the operator event stream and the metrics
   * (cluster-events.ts): the cluster events an operation returns, emitted as
   * it returns; the driver adds activity (calls and messages received,
   * statuses sent, allocation passes).
   * Listeners only read.
   */
  readonly events = new MasterEvents();
  readonly state = new ClusterState();
  readonly ids: IdGenerator;
  /** Bumped once per operation; /state caches its snapshot per version. */
  version = 0;
  /**
   * State reads (GET_STATE and its parts, /master/state) answer from this version or a later one, however
   * bounded their staleness: an operator write call sets it, so that the operator reads its own write.
   */
  freshReadsFrom = 0;
  readonly startTime: number;
  /** True between start() and stop(): only then does this master act. */
  acting = false;
  /** Set by stop(), for good: a master stopped while it recovered its registry must not start once the recovery ends. */
  private stopped = false;
  private readonly deadlines: Deadlines;
  private readonly outbox: Outbox;
  private readonly config: MasterConfig;
  private readonly sinks = new Map<string, { readonly streamId: string; readonly sink: EventSink }>();
  private readonly opening = new Map<string, (streamId: string) => EventSink>();
  private readonly links = new WeakMap<AgentConnection, Link>();
  private readonly linksById = new Map<number, Link>();
  /** The link bound to each agent. */
  private readonly agentLinks = new Map<string, Link>();
  private nextLinkId = 1;
  private allocationPending = false;
  /** Frameworks subscribed and not yet offered anything on that subscription: when SUBSCRIBED went (monotonic ms). */
  private readonly awaitingFirstOffer = new Map<string, number>();
  /** New agent secrets: the option's, else 24 random bytes in base64url (chosen once, not per operation). */
  private readonly newSecret: () => string;
  /** Roles whose quota guarantee is above the cluster's total (reported in the log as it changes). */
  private readonly quotaAboveTotal = new Set<string>();
  private readonly allocatorLogger: Logger;
  /** --allocation_pass_budget, over a pass's deciding and its offers together. */
  private readonly passBudget: PassBudget;

  constructor(readonly options: MasterOptions) {
    this.ids = new IdGenerator(options.id);
    this.allocatorLogger = options.logger.child({ component: 'allocator' });
    this.startTime = options.clock.now();
    this.newSecret = options.newSecret ?? (() => randomBytes(24).toString('base64url'));
    this.deadlines = new Deadlines(options.clock, options.timers ?? realTimers, this.monotonic);
    this.passBudget = new PassBudget((options.allocationPassBudget ?? 0) * 1000, this.elapsedMs);
    this.outbox = new Outbox((effects) => this.carryOut(effects), (err) => this.internalError(err), options.drainBudget ?? DRAIN_BUDGET);
    this.config = {
      info: options.info, offerTimeout: options.offerTimeout, heartbeatInterval: options.heartbeatInterval,
      agentReregisterTimeout: options.agentReregisterTimeout, agentPingInterval: options.agentPingInterval,
      agentDisconnectTimeout: options.agentDisconnectTimeout, registryMaxAgentAge: options.registryMaxAgentAge,
      agentScheme: options.agentScheme ?? 'http',
    };
    for (const [role, weight] of options.weights ?? []) this.state.weights.set(role, weight);
    for (const [role, q] of options.quotas ?? []) this.state.quotas.set(role, { guarantee: q.guarantee ?? Resources.EMPTY, limit: q.limit ?? null });
  }

  get frameworks(): ReadonlyMap<string, FrameworkRecord> {
    return this.state.frameworks;
  }

  get agents(): ReadonlyMap<string, AgentRecord> {
    return this.state.agents;
  }

  get tasks() {
    return this.state.tasks;
  }

  get offers() {
    return this.state.offers;
  }

  get allocator(): Allocator {
    return this.options.allocator;
  }

  get registry(): Registry {
    return this.options.registry;
  }

  now(): number {
    return this.options.clock.now();
  }

  /** Milliseconds on a monotonic clock (the option's, else performance.now): for the pass budget and the timings the metrics report. */
  private get elapsedMs(): () => number {
    return this.options.elapsedMs ?? performance.now.bind(performance);
  }

  /** The monotonic clock's reading (seconds): for how long something took or has been, never for a timestamp. */
  private get monotonic(): Clock {
    return this.options.monotonic ?? monotonicClock;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  /** When a deadline fires (seconds), or undefined when it is not armed (for tests). */
  deadline(d: Deadline): number | undefined {
    return this.deadlines.dueAt(deadlineKey(d));
  }

  /** Takes over what the registry holds (before start()); returns a summary for the log. */
  async recover(): Promise<string> {
    await this.registry.recover();
    const { result, done } = this.apply((fx, ctx) => recoverFromRegistry(this.state, fx, ctx));
    await done;
    return result;
  }

  start(): void {
    if (this.stopped) return;
    this.acting = true;
    this.armAllocation();
  }

  stop(): void {
    this.stopped = true;
    this.acting = false;
    this.deadlines.clear();
    this.outbox.stop(new Unavailable('this master stopped leading; retry with the new leader'));
    for (const { sink } of this.sinks.values()) sink.close();
    this.sinks.clear();
    for (const link of this.agentLinks.values()) link.conn.close('master is shutting down');
    this.agentLinks.clear();
  }

  // ---- frameworks -------------------------------------------------------

  /**
   * SUBSCRIBE: registers or fails over a framework and attaches its event
   * stream. `open` receives the new stream id (the adapter sends it to the
   * client first) and returns the sink; SUBSCRIBED is the first event. The
   * promise settles once the registry holds the framework and SUBSCRIBED went.
   */
  async subscribe(call: Call, open: (streamId: string) => EventSink): Promise<{ frameworkId: string; streamId: string }> {
    this.events.emit({ type: 'SCHEDULER_CALL', call });
    validateCall(call, 'SUBSCRIBE');
    const received = this.elapsedMs();
    const streamId = (this.options.newStreamId ?? randomUUID)();
    this.opening.set(streamId, open);
    try {
      const subscription = { info: call.subscribe!.framework_info!, suppressedRoles: call.subscribe!.suppressed_roles };
      const { result: fw, done } = this.apply((fx, ctx) => subscribeFramework(this.state, fx, ctx, subscription, streamId));
      await done;
      if (fw.streamId === streamId) this.events.emit({ type: 'FRAMEWORK_SUBSCRIBED', frameworkId: fw.id, ms: this.elapsedMs() - received });
      return { frameworkId: fw.id, streamId };
    } catch (err) {
      throw this.acting || !(err instanceof Unavailable) ? err : new Unavailable('this master stopped leading while the framework subscribed; subscribe to the new leader');
    } finally {
      this.opening.delete(streamId);
    }
  }

  /** Any call but SUBSCRIBE, from a subscribed framework presenting its stream id. */
  call(call: Call, streamId: string | undefined, expected?: Call['type']): void {
    this.events.emit({ type: 'SCHEDULER_CALL', call });
    validateCall(call, expected);
    if (call.type === 'SUBSCRIBE') throw new InvalidArgument('SUBSCRIBE opens a stream; use the Subscribe method');
    const fw = this.state.framework(call.framework_id!.value);
    if (!fw) throw new NotFound(`framework ${call.framework_id!.value} is unknown to this master`);
    if (!fw.connected || !fw.streamId) throw new FailedPrecondition(`framework ${fw.id} is not subscribed`);
    if (streamId !== fw.streamId) {
      throw new InvalidArgument(`the stream id '${streamId ?? ''}' does not match framework ${fw.id}'s subscription`);
    }
    this.apply((fx, ctx) => schedulerCall(this.state, fx, ctx, fw, call));
  }

  /**
   * An operator's write call (../operator/write-calls.ts): applied as every
   * operation is; settles once the registry holds the change and the master
   * acted on it. Throws, changing nothing, when the state does not allow it.
   */
  async operate(operation: (state: ClusterState, fx: Effects, ctx: OpContext) => void): Promise<void> {
    await this.apply((fx, ctx) => operation(this.state, fx, ctx)).done;
  }

  /** The scheduler's stream went away: its tasks are kept for failover_timeout. */
  streamClosed(frameworkId: string, streamId: string): void {
    this.apply((fx, ctx) => disconnectFramework(this.state, fx, ctx, frameworkId, streamId));
  }

  /**
   * The scheduler left more than maxFrameworkEventQueue events, or more than
   * maxFrameworkEventQueueBytes bytes of them, unread: its adapter dropped the
   * stream; the framework is disconnected as if its connection had gone, so it
   * may subscribe again.
   */
  frameworkTooSlow(frameworkId: string, streamId: string, waiting: Overflow): void {
    const bound = waiting.bound === 'events'
      ? `more than --max_framework_event_queue=${this.maxFrameworkEventQueue} events`
      : `more than --max_framework_event_queue_bytes=${this.maxFrameworkEventQueueBytes} bytes`;
    this.logger.warn(
      { framework_id: frameworkId, events: waiting.events, bytes: waiting.bytes },
      `framework ${frameworkId} left ${waiting.events} events (${waiting.bytes} bytes) unread (${bound}); its event stream is dropped and the framework disconnected`,
    );
    this.events.emit({ type: 'FRAMEWORK_TOO_SLOW', frameworkId, waiting: waiting.events, bound: waiting.bound });
    this.streamClosed(frameworkId, streamId);
  }

  get maxFrameworkEventQueue(): number {
    return this.options.maxFrameworkEventQueue ?? DEFAULT_MAX_FRAMEWORK_EVENT_QUEUE;
  }

  get maxFrameworkEventQueueBytes(): number {
    return this.options.maxFrameworkEventQueueBytes ?? DEFAULT_MAX_FRAMEWORK_EVENT_QUEUE_BYTES;
  }

  /** Operations whose effects wait in the outbox for the registry (Mesos's registrar/queued_operations). */
  get queuedOperations(): number {
    return this.outbox.waiting;
  }

  /** Events waiting, over all attached scheduler streams, for their schedulers to read. */
  queuedFrameworkEvents(): number {
    let sum = 0;
    for (const { sink } of this.sinks.values()) sum += sink.queued;
    return sum;
  }

  /** Bytes of those events. */
  queuedFrameworkEventBytes(): number {
    let sum = 0;
    for (const { sink } of this.sinks.values()) sum += sink.queuedBytes;
    return sum;
  }

  completedFrameworkList(): readonly FrameworkRecord[] {
    return this.state.completedFrameworkList();
  }

  // ---- offers and allocation -------------------------------------------

  /** Coalesces triggers: many changes in one tick cause one allocation pass. */
  scheduleAllocation(): void {
    if (this.allocationPending) return;
    this.allocationPending = true;
    (this.options.defer ?? setImmediate)(this.safely(() => this.runAllocation()));
  }

  runAllocation(): void {
    this.allocationPending = false;
    if (!this.acting) return;
    // Its role summary walks every agent: only worth it when some role has a quota.
    if (this.state.quotas.size > 0) reportQuotaFit(this.allocator, this.state.agents.size, this.quotaAboveTotal, this.allocatorLogger);
    const elapsed = this.elapsedMs;
    const started = elapsed();
    // Refusal filters expire on the monotonic clock: a wall-clock jump neither lifts nor prolongs them.
    const decisions = this.allocator.allocate(this.monotonic.now(), this.passBudget.pass());
    const carried = this.allocator.carrying === true;
    const decided = elapsed();
    this.events.emit({ type: 'ALLOCATION_RUN', ms: decided - started, carried });
    // Allocator facts wait in the outbox behind registry writes, so the allocator can lag state/: an agent or a
    // framework removed and added again meanwhile is still its earlier incarnation there, and an offer made from
    // that would outlive it (its resources out twice). Such decisions are taken back at once, unfiltered; a pass
    // after the waiting fact decides for them again.
    const current: AllocationDecision[] = [];
    for (const d of decisions) {
      if (!this.outbox.lags(d.agentId, d.frameworkId)) current.push(d);
      else this.allocator.recoverResources(d.frameworkId, d.agentId, d.resources, 0, this.monotonic.now());
    }
    if (current.length > 0) {
      this.offer(current);
      this.passBudget.offered(current.length, elapsed() - decided);
    }
    // The rest of the round next, after the I/O and calls that waited for this pass.
    if (carried) this.scheduleAllocation();
  }

  /**
   * A pass's offers. They go out at once, not behind the effects that wait
   * for a registry write (another framework's launch, an agent's update):
   * the allocator decides only over agents and frameworks whose admission is
   * stored and acted on, so an offer needs nothing that waits. Only when a
   * framework's stream attached is not yet its current subscription's (its
   * SUBSCRIBED still waits) do they queue behind it, as every effect does.
   */
  private offer(decisions: readonly AllocationDecision[]): void {
    const attached = () => decisions.every((d) => {
      const fw = this.state.framework(d.frameworkId);
      return !fw?.connected || this.sinks.get(fw.id)?.streamId === fw.streamId;
    });
    this.apply((fx, ctx) => makeOffers(this.state, fx, ctx, decisions), attached);
  }

  offerMessage(offer: OfferRecord) {
    return offerWire(offer, this.state.agent(offer.agentId), this.config.agentScheme);
  }

  /** Takes an offer back: its resources return to the pool and the framework hears RESCIND. */
  rescindOffer(offerId: string, why: string): void {
    this.apply((fx, ctx) => rescindOffer(this.state, fx, ctx, offerId, why));
  }

  private armAllocation(): void {
    this.deadlines.arm('allocation', this.now() + this.options.allocationInterval, this.safely(() => {
      this.armAllocation();
      this.runAllocation();
    }));
  }

  // ---- agents -------------------------------------------------------------

  /** RegisterAgent on `conn`; settles once the registry holds the agent and REGISTERED went. */
  async registerAgent(message: RegisterAgent__Output, conn: AgentConnection): Promise<AgentRecord> {
    this.events.emit({ type: 'AGENT_MESSAGE', kind: message.agent_info?.id?.value ? 'reregister' : 'register' });
    const link: Link = this.links.get(conn) ?? { id: this.nextLinkId++, conn, agentId: null, pingSeq: 0, lastPong: 0, lastHeard: this.monotonic.now() };
    this.links.set(conn, link);
    this.linksById.set(link.id, link);
    let agent: AgentRecord;
    try {
      const registration = readRegistration(message);
      const applied = this.apply((fx, ctx) => admitAgent(this.state, fx, ctx, registration, link.id));
      agent = applied.result;
      await applied.done;
    } catch (err) {
      if (link.agentId === null) this.linksById.delete(link.id);
      if (!(err instanceof Unavailable)) {
        const agentId = message.agent_info?.id?.value || '(new)';
        this.logger.warn({ agent_id: agentId }, `refused the registration of agent ${agentId} at ${message.agent_info?.hostname ?? '?'}: ${errorMessage(err)}`);
      }
      throw this.acting || !(err instanceof Unavailable) ? err : new Unavailable('this master stopped leading while the agent registered; register with the new leader');
    }
    // The link may have gone while the registry was written.
    if (!conn.open) this.agentDisconnected(agent.id, conn);
    return agent;
  }

  /** `silent`: it stopped answering pings (unreachable at once) rather than closing its link. */
  agentDisconnected(agentId: string, conn: AgentConnection, silent = false): void {
    const link = this.links.get(conn);
    if (!link) return;
    // Forgotten at once: closing the link after a missed ping reports it again, and that report finds nothing.
    this.links.delete(conn);
    this.linksById.delete(link.id);
    if (this.agentLinks.get(agentId) === link) this.agentLinks.delete(agentId);
    this.deadlines.cancel(`agent-ping:${link.id}`);
    const heardAgo = Math.max(0, this.monotonic.now() - link.lastHeard);
    this.apply((fx, ctx) => disconnectAgent(this.state, fx, ctx, agentId, link.id, silent, heardAgo));
  }

  agentMessage(agentId: string, message: AgentMessageOut, conn?: AgentConnection): void {
    const link = conn ? this.links.get(conn) : this.agentLinks.get(agentId);
    if (link) link.lastHeard = this.monotonic.now();
    if (message.kind === 'pong') {
      if (link) link.lastPong = Math.max(link.lastPong, Number(message.pong?.seq ?? 0));
      return;
    }
    this.events.emit({ type: 'AGENT_MESSAGE', kind: message.kind ?? 'unknown' });
    if (message.kind === 'draining') {
      this.apply((fx, ctx) => drainAgent(this.state, fx, ctx, agentId, message.draining?.reason ?? ''));
    } else if (message.kind === 'status_update' && message.status_update) {
      const { framework_id, status } = message.status_update;
      if (!framework_id?.value || !status?.task_id?.value) {
        this.logger.warn({ agent_id: agentId }, `agent ${agentId} sent a status update without framework_id or task_id; ignored`);
        return;
      }
      // No state, or one no TaskState has (Mesos's TaskStatus.state is required): nothing to apply or pass on to the framework.
      if (!TASK_STATES.has(status.state)) {
        this.logger.warn({ agent_id: agentId, task_id: status.task_id.value }, `agent ${agentId} sent a status update of task ${status.task_id.value} with no known state (${String(status.state)}); ignored`);
        return;
      }
      this.apply((fx, ctx) => applyStatusUpdate(this.state, fx, ctx, agentId, framework_id.value, status));
    }
  }

  /** HEARTBEAT on a scheduler's stream every heartbeat interval, while that stream is attached. */
  private heartbeat(frameworkId: string, streamId: string): void {
    this.deadlines.arm(`heartbeat:${frameworkId}`, this.now() + this.options.heartbeatInterval, this.safely(() => {
      const attached = this.sinks.get(frameworkId);
      if (attached?.streamId !== streamId) return;
      attached.sink.send({ type: 'HEARTBEAT' });
      this.heartbeat(frameworkId, streamId);
    }));
  }

  /** Pings the agent on its link every ping interval; one that misses too many in a row is dropped, unreachable at once. */
  private ping(link: Link): void {
    const max = this.options.maxAgentPingTimeouts ?? 5;
    this.deadlines.arm(`agent-ping:${link.id}`, this.now() + this.options.agentPingInterval, this.safely(() => {
      if (!link.conn.open || link.agentId === null) return;
      if (link.pingSeq - link.lastPong > max) {
        this.agentDisconnected(link.agentId, link.conn, true);
        link.conn.close(`agent ${link.agentId} missed ${max} pings`);
        return;
      }
      link.conn.send({ ping: { seq: ++link.pingSeq } });
      this.ping(link);
    }));
  }

  // ---- the driver ---------------------------------------------------------

  /**
   * Applies one operation: it changes the state (or throws, changing
   * nothing), its registry changes go to the registry, and its effects wait
   * in the outbox until those are stored. `done` settles when the effects ran.
   */
  /**
   * Runs an operation and queues its effects behind its registry write. With
   * `mayRunNow` (its effects depend on nothing waiting, Master.offer), an
   * operation that wrote nothing has them run at once when that still says so.
   */
  private apply<T>(operation: (fx: Effects, ctx: OpContext) => T, mayRunNow?: () => boolean): { result: T; done: Promise<void> } {
    const fx = new Effects();
    const result = operation(fx, this.context());
    this.version++;
    for (const event of fx.events) this.events.emit(event);
    if (mayRunNow && fx.persist.length === 0 && mayRunNow() && this.outbox.runNow(fx.effects)) return { result, done: Promise.resolve() };
    let stored: Promise<void> | null = null;
    for (const change of fx.persist) stored = this.registry.apply(change);
    return { result, done: this.outbox.push(stored, fx.effects) };
  }

  private context(): OpContext {
    return {
      now: this.now(), ids: this.ids, config: this.config, registry: this.registry, newSecret: this.newSecret,
      reservationsSupported: typeof this.allocator.updateAllocation === 'function', logger: this.logger,
      acls: this.options.acls ?? NO_ACLS,
    };
  }

  private carryOut(effects: readonly Effect[]): void {
    for (const effect of effects) {
      try {
        this.carryOutOne(effect);
      } catch (err) {
        this.internalError(err); // One effect's bug does not stop the others.
      }
    }
  }

  private carryOutOne(effect: Effect): void {
    switch (effect.type) {
      case 'toAgent':
        return this.agentLinks.get(effect.agentId)?.conn.send(agentWire(effect.agentId, effect.message, this.config));
      case 'toFramework': {
        const attached = this.sinks.get(effect.frameworkId);
        if (!attached) return;
        attached.sink.send(frameworkWire(effect.message, this.config));
        if (effect.message.kind === 'subscribed') this.awaitingFirstOffer.set(effect.frameworkId, this.elapsedMs());
        else if (effect.message.kind === 'offers') this.firstOfferSent(effect.frameworkId);
        return;
      }
      case 'status':
        this.sinks.get(effect.frameworkId)?.sink.send({ type: 'UPDATE', update: { status: effect.status } });
        return this.events.emit({ type: 'STATUS_SENT', frameworkId: effect.frameworkId, status: effect.status });
      case 'openStream': {
        const open = this.opening.get(effect.streamId);
        if (!open) return;
        this.sinks.set(effect.frameworkId, { streamId: effect.streamId, sink: open(effect.streamId) });
        return this.heartbeat(effect.frameworkId, effect.streamId);
      }
      case 'closeStream':
      case 'dropStream': {
        const attached = this.sinks.get(effect.frameworkId);
        if (attached?.streamId !== effect.streamId) return;
        this.sinks.delete(effect.frameworkId);
        this.awaitingFirstOffer.delete(effect.frameworkId);
        this.deadlines.cancel(`heartbeat:${effect.frameworkId}`);
        if (effect.type === 'closeStream') attached.sink.close(effect.error);
        return;
      }
      case 'attachAgent': {
        const link = this.linksById.get(effect.linkId);
        if (!link || !link.conn.open) return;
        link.agentId = effect.agentId;
        this.agentLinks.set(effect.agentId, link);
        return this.ping(link);
      }
      case 'closeAgent': {
        this.linksById.get(effect.linkId)?.conn.close(effect.reason);
        return;
      }
      case 'allocator':
        return this.tellAllocator(effect.fact);
      case 'allocate':
        return this.scheduleAllocation();
      case 'arm':
        return this.deadlines.arm(deadlineKey(effect.deadline), effect.at, this.safely(() => this.fire(effect.deadline)));
      case 'cancel':
        return this.deadlines.cancel(deadlineKey(effect.deadline));
      case 'dispatch':
        this.apply((fx, ctx) => dispatchLaunch(this.state, fx, ctx, effect.frameworkId, effect.taskIds));
        return;
    }
  }

  private firstOfferSent(frameworkId: string): void {
    const subscribedAt = this.awaitingFirstOffer.get(frameworkId);
    if (subscribedAt === undefined) return;
    this.awaitingFirstOffer.delete(frameworkId);
    this.events.emit({ type: 'FIRST_OFFER_SENT', frameworkId, ms: this.elapsedMs() - subscribedAt });
  }

  private tellAllocator(fact: AllocatorFact): void {
    const a = this.allocator;
    switch (fact.call) {
      case 'addFramework':
        return a.addFramework(fact.frameworkId, fact.spec, fact.used);
      case 'removeFramework':
        return a.removeFramework(fact.frameworkId);
      case 'setFrameworkActive':
        return a.setFrameworkActive(fact.frameworkId, fact.active);
      case 'suppress':
        return a.suppress(fact.frameworkId, fact.roles);
      case 'revive':
        return a.revive(fact.frameworkId, fact.roles);
      case 'addAgent':
        return a.addAgent(fact.agentId, fact.total, fact.used);
      case 'removeAgent':
        return a.removeAgent(fact.agentId);
      case 'recoverResources':
        return a.recoverResources(fact.frameworkId, fact.agentId, fact.resources, fact.refuseSeconds, this.monotonic.now());
      case 'updateAllocation':
        return a.updateAllocation?.(fact.frameworkId, fact.agentId, fact.from, fact.to);
      case 'updateWeights':
        return a.updateWeights?.(fact.weights);
      case 'setQuota':
        return a.setQuota?.(fact.role, fact.quota);
    }
  }

  /** A deadline fired: its operation. */
  private fire(d: Deadline): void {
    switch (d.kind) {
      case 'offer-timeout':
        return this.rescindOffer(d.offerId, 'offer timeout');
      case 'failover-timeout':
        this.apply((fx, ctx) => failoverTimeoutExpired(this.state, fx, ctx, d.frameworkId));
        return;
      case 'reregister-timeout':
        this.apply((fx, ctx) => markAgentUnreachable(this.state, fx, ctx, d.agentId, d.waited));
        return;
      case 'agent-gone':
        this.apply((fx, ctx) => markAgentGone(this.state, fx, ctx, d.agentId));
        return;
    }
  }

  /** Wraps a callback run from a timer or a stream event: a bug in it is logged, never fatal to the master. */
  safely(fn: () => void): () => void {
    return () => {
      try {
        fn();
      } catch (err) {
        this.internalError(err);
      }
    };
  }

  private internalError(err: unknown): void {
    this.logger.error({ err }, 'internal error (the master keeps running)');
  }
}
