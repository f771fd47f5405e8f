// The leading master's state machine: frameworks, agents, offers, tasks.
//
//   scheduler ──Call──> rpc adapter ──> Master.subscribe / Master.call ──> scheduler-calls.ts
//   agent ──AgentMessage──> rpc adapter ──> Master.registerAgent / agentMessage
//   allocation timer ──> Allocator.allocate(now) ──> offers ──> EventSink.send(OFFERS)
//
// Everything runs on the one event loop; each handler validates first and
// mutates only when the input is good, so a bad call changes nothing.
import { randomUUID } from 'node:crypto';
import type { Call, EventIn, MasterInfoIn, AgentMessageOut, TaskStatusIn, TaskState } from '../proto/index.js';
import type { RegisterAgent__Output } from '../proto/gen/mesos_ts/internal/RegisterAgent.js';
import type { Allocator, AllocationDecision } from './allocator/allocator.js';
import type { Clock } from '../common/clock.js';
import { IdGenerator } from '../common/ids.js';
import { Resources } from '../common/resources.js';
import { isTerminal } from '../common/task-state.js';
import { FailedPrecondition, InvalidArgument, NotFound, Unavailable } from '../common/errors.js';
import type { Registry } from './registry/registry.js';
import { recoverFromRegistry } from './recovery.js';
import { validateCall, frameworkRoles } from './validation.js';
import { OfferBook, type OfferRecord } from './offer-book.js';
import type { TaskBook, TaskRecord } from './task-book.js';
import { AgentMap, MasterEvents, ObservedTaskBook } from './cluster-events.js';
import type { AgentConnection, AgentRecord, EventSink, FrameworkRecord } from './records.js';
import { masterStatus } from './status.js';
import { handleSchedulerCall } from './scheduler-calls.js';
import { agentDisconnected, agentMessage, registerAgent } from './agent-lifecycle.js';
import { markDynamic } from './reservations.js';
import { reportQuotaFit } from './roles.js';

export interface MasterOptions {
  readonly id: string;
  readonly info: MasterInfoIn;
  readonly allocator: Allocator;
  /** Written before the master acts on what it admits (agents, frameworks, tasks). */
  readonly registry: Registry;
  readonly clock: Clock;
  /** Seconds between allocation passes (passes also run, coalesced, when resources change). */
  readonly allocationInterval: number;
  /** Seconds before an unused offer is rescinded; 0 keeps offers until used. */
  readonly offerTimeout: number;
  readonly heartbeatInterval: number;
  /** Seconds a disconnected agent has to come back before its tasks are unreachable. */
  readonly agentReregisterTimeout: number;
  readonly agentPingInterval: number;
  /** Seconds an agent whose link closed has to come back before it is unreachable (ping interval x max missed pings). */
  readonly agentDisconnectTimeout: number;
  /** Seconds an agent may stay unreachable before it is gone (its tasks TASK_GONE). */
  readonly registryMaxAgentAge: number;
  readonly log: (line: string) => void;
}

export class Master {
  /**
   * What happens here, for the operator event stream and the metrics
   * (cluster-events.ts): `tasks` and `agents` report their own changes; the
   * few other places that emit are marked `events.emit`. Listeners only read.
   */
  readonly events = new MasterEvents();
  readonly frameworks = new Map<string, FrameworkRecord>();
  readonly agents: Map<string, AgentRecord> = new AgentMap(this.events);
  readonly offers = new OfferBook();
  readonly tasks: TaskBook = new ObservedTaskBook(this.events);
  readonly ids: IdGenerator;
  /** Bumped on every change; /state caches its snapshot per version. */
  version = 0;
  readonly startTime: number;
  /** True between start() and stop(): only then does this master act. */
  acting = false;
  /** Tasks waiting for the registry before they are sent to their agent (framework/task keys). */
  readonly launching = new Set<string>();
  /** Tasks killed because their framework was already told they were lost: their updates are acknowledged, not forwarded. */
  readonly silenced = new Set<string>();
  private allocationPending = false;
  private allocationTimer: NodeJS.Timeout | null = null;
  private readonly completedFrameworks: FrameworkRecord[] = [];
  private readonly removedFrameworkIds = new Set<string>();
  /** Roles whose quota guarantee is above the cluster's total (reported in the log as it changes). */
  private readonly quotaAboveTotal = new Set<string>();

  constructor(readonly options: MasterOptions) {
    this.ids = new IdGenerator(options.id);
    this.startTime = options.clock.now();
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

  log(line: string): void {
    this.options.log(line);
  }

  /** Takes over what the registry holds (before start()); returns a summary for the log. */
  async recover(): Promise<string> {
    await this.registry.recover();
    return recoverFromRegistry(this);
  }

  start(): void {
    this.acting = true;
    this.allocationTimer = setInterval(this.safely(() => this.runAllocation()), this.options.allocationInterval * 1000);
    this.allocationTimer.unref();
  }

  stop(): void {
    this.acting = false;
    if (this.allocationTimer) clearInterval(this.allocationTimer);
    for (const fw of this.frameworks.values()) {
      this.stopHeartbeat(fw);
      if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
      fw.sink?.close();
    }
    for (const agent of this.agents.values()) {
      if (agent.reregisterTimer) clearTimeout(agent.reregisterTimer);
      if (agent.goneTimer) clearTimeout(agent.goneTimer);
      agent.conn?.close('master is shutting down');
    }
    for (const offer of this.offers.view().values()) if (offer.timer) clearTimeout(offer.timer);
  }

  // ---- frameworks -------------------------------------------------------

  /**
   * SUBSCRIBE: registers or fails over a framework and attaches its event
   * stream. `open` receives the new stream id (the adapter sends it to the
   * client first) and returns the sink; SUBSCRIBED is the first event.
   */
  async subscribe(call: Call, open: (streamId: string) => EventSink): Promise<{ frameworkId: string; streamId: string }> {
    this.events.emit({ type: 'SCHEDULER_CALL', call });
    validateCall(call, 'SUBSCRIBE');
    const info = call.subscribe!.framework_info!;
    const roles = frameworkRoles(info);
    const requestedId = info.id?.value ?? '';
    const id = requestedId || this.ids.framework();
    // A successor must know the framework (and its failover_timeout) before it hears SUBSCRIBED.
    await this.registry.putFramework(id, { ...info, id: { value: id } }, this.now());
    if (!this.acting) throw new Unavailable('this master stopped leading while the framework subscribed; subscribe to the new leader');
    let fw = this.frameworks.get(id);
    if (fw) {
      this.log(`framework ${id} (${info.name}) re-subscribed${fw.sink ? ', replacing its previous stream' : ''}`);
      if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
      fw.failoverTimer = null;
      fw.sink?.close('Framework failed over');
      this.detachSink(fw);
      this.rescindOffersOf(fw, false);
      this.allocator.removeFramework(id);
      fw.reregisteredTime = this.now();
    } else {
      fw = {
        id, info, roles, partitionAware: false, sink: null, streamId: null, heartbeat: null, failoverTimer: null,
        registeredTime: this.now(), reregisteredTime: null, unregisteredTime: null,
      };
      this.frameworks.set(id, fw);
      this.log(`framework ${id} (${info.name}) subscribed with roles ${roles.join(',')}`);
    }
    fw.info = { ...info, id: { value: id } };
    fw.roles = roles;
    fw.partitionAware = info.capabilities.some((c) => c.type === 'PARTITION_AWARE');
    this.allocator.addFramework(id, { roles, suppressedRoles: call.subscribe!.suppressed_roles }, this.usedByFramework(id));
    if (call.subscribe!.suppressed_roles.length > 0) this.allocator.suppress(id, call.subscribe!.suppressed_roles);
    const streamId = randomUUID();
    const sink = open(streamId);
    fw.sink = sink;
    fw.streamId = streamId;
    sink.send({
      type: 'SUBSCRIBED',
      subscribed: { framework_id: { value: id }, heartbeat_interval_seconds: this.options.heartbeatInterval, master_info: this.options.info },
    });
    fw.heartbeat = setInterval(() => fw!.sink?.send({ type: 'HEARTBEAT' }), this.options.heartbeatInterval * 1000);
    fw.heartbeat.unref();
    this.events.emit({ type: fw.reregisteredTime === null ? 'FRAMEWORK_ADDED' : 'FRAMEWORK_UPDATED', framework: fw });
    this.changed();
    return { frameworkId: id, streamId };
  }

  /** Any call but SUBSCRIBE, from a subscribed framework presenting its stream id. */
  call(call: Call, streamId: string | undefined, expected?: Call['type']): void {
    this.events.emit({ type: 'SCHEDULER_CALL', call });
    validateCall(call, expected);
    if (call.type === 'SUBSCRIBE') throw new InvalidArgument('SUBSCRIBE opens a stream; use the Subscribe method');
    const fw = this.frameworks.get(call.framework_id!.value);
    if (!fw) throw new NotFound(`framework ${call.framework_id!.value} is unknown to this master`);
    if (!fw.sink || !fw.streamId) throw new FailedPrecondition(`framework ${fw.id} is not subscribed`);
    if (streamId !== fw.streamId) {
      throw new InvalidArgument(`the stream id '${streamId ?? ''}' does not match framework ${fw.id}'s subscription`);
    }
    handleSchedulerCall(this, fw, call);
    if (call.type === 'UPDATE_FRAMEWORK') this.events.emit({ type: 'FRAMEWORK_UPDATED', framework: fw });
    this.changed();
  }

  /** The scheduler's stream went away: keep its tasks for failover_timeout. */
  streamClosed(frameworkId: string, streamId: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw || fw.streamId !== streamId) return;
    this.detachSink(fw);
    this.rescindOffersOf(fw, false);
    this.allocator.setFrameworkActive(fw.id, false);
    const timeout = fw.info.failover_timeout;
    this.log(`framework ${fw.id} disconnected; its tasks are kept for failover_timeout=${timeout}s`);
    this.startFailoverTimer(fw);
    this.events.emit({ type: 'FRAMEWORK_UPDATED', framework: fw });
    this.changed();
  }

  /** A disconnected framework is removed (its tasks killed) unless it comes back within failover_timeout. */
  startFailoverTimer(fw: FrameworkRecord): void {
    const timeout = fw.info.failover_timeout;
    if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
    this.at(this.now() + timeout, () => this.removeFramework(fw, `failover timeout (${timeout}s) expired`), (t) => (fw.failoverTimer = t));
  }

  /**
   * Calls `fire` once the clock reaches `due` (seconds), never sooner.
   * setTimeout cannot wait longer than ~24.8 days (Mesos suggests failover
   * timeouts of weeks), so longer waits go in steps; `keep` receives each
   * step's timer, for whoever may clear it.
   */
  at(due: number, fire: () => void, keep: (timer: NodeJS.Timeout) => void): void {
    const arm = () => {
      const left = Math.max(0, Math.ceil((due - this.now()) * 1000));
      const timer = setTimeout(this.safely(() => (due - this.now() > 0 ? arm() : fire())), Math.min(left, 2 ** 31 - 1));
      timer.unref();
      keep(timer);
    };
    arm();
  }

  /** TEARDOWN or failover timeout: kill its tasks, drop its offers, forget it. */
  removeFramework(fw: FrameworkRecord, why: string): void {
    this.log(`removing framework ${fw.id}: ${why}`);
    if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
    fw.failoverTimer = null;
    this.rescindOffersOf(fw, false);
    fw.sink?.close();
    this.detachSink(fw);
    for (const agent of this.agents.values()) {
      if (this.tasks.ofAgent(agent.id).some((t) => t.frameworkId === fw.id)) {
        agent.conn?.send({ shutdown_framework: { framework_id: { value: fw.id } } });
      }
    }
    for (const task of this.tasks.ofFramework(fw.id)) {
      if (!isTerminal(task.state)) this.tasks.apply(task, 'TASK_KILLED');
      this.recoverTask(task);
      this.tasks.complete(task);
    }
    this.allocator.removeFramework(fw.id);
    this.frameworks.delete(fw.id);
    void this.registry.removeFramework(fw.id, this.now());
    fw.unregisteredTime = this.now();
    this.rememberRemoved(fw);
    this.events.emit({ type: 'FRAMEWORK_REMOVED', framework: fw });
    this.changed();
    this.scheduleAllocation();
  }

  /** A framework that was torn down or timed out (here or under a predecessor). */
  rememberRemoved(fw: FrameworkRecord): void {
    this.removedFrameworkIds.add(fw.id);
    this.completedFrameworks.push(fw);
    if (this.completedFrameworks.length > 100) this.completedFrameworks.shift();
  }

  completedFrameworkList(): readonly FrameworkRecord[] {
    return this.completedFrameworks;
  }

  sendEvent(fw: FrameworkRecord, event: EventIn): void {
    fw.sink?.send(event);
  }

  forwardStatus(frameworkId: string, status: TaskStatusIn): void {
    const fw = this.frameworks.get(frameworkId);
    fw?.sink?.send({ type: 'UPDATE', update: { status } });
    this.events.emit({ type: 'STATUS_SENT', frameworkId, status });
  }

  private detachSink(fw: FrameworkRecord): void {
    this.stopHeartbeat(fw);
    fw.sink = null;
    fw.streamId = null;
  }

  private stopHeartbeat(fw: FrameworkRecord): void {
    if (fw.heartbeat) clearInterval(fw.heartbeat);
    fw.heartbeat = null;
  }

  // ---- offers and allocation -------------------------------------------

  /** Coalesces triggers: many changes in one tick cause one allocation pass. */
  scheduleAllocation(): void {
    if (this.allocationPending) return;
    this.allocationPending = true;
    setImmediate(this.safely(() => this.runAllocation()));
  }

  runAllocation(): void {
    this.allocationPending = false;
    const now = this.now();
    reportQuotaFit(this, this.quotaAboveTotal);
    const started = performance.now(); // Measured for allocator/mesos/allocation_run_ms; decides nothing.
    const decisions = this.allocator.allocate(now);
    this.events.emit({ type: 'ALLOCATION_RUN', ms: performance.now() - started });
    if (decisions.length === 0) return;
    const byFramework = new Map<string, AllocationDecision[]>();
    for (const d of decisions) {
      const list = byFramework.get(d.frameworkId) ?? [];
      list.push(d);
      byFramework.set(d.frameworkId, list);
    }
    for (const [frameworkId, list] of byFramework) {
      const fw = this.frameworks.get(frameworkId);
      const usable = list.filter((d) => fw?.sink && this.agents.get(d.agentId)?.conn);
      for (const d of list) if (!usable.includes(d)) this.allocator.recoverResources(d.frameworkId, d.agentId, d.resources, 0, now);
      if (!fw || usable.length === 0) continue;
      const offers = usable.map((d) => this.makeOffer(d, now));
      fw.sink!.send({ type: 'OFFERS', offers: { offers: offers.map((o) => this.offerMessage(o)) } });
    }
    this.changed();
  }

  private makeOffer(d: AllocationDecision, now: number): OfferRecord {
    const offer: OfferRecord = {
      id: this.ids.offer(), frameworkId: d.frameworkId, agentId: d.agentId, role: d.role, resources: d.resources, createdAt: now, timer: null,
    };
    if (this.options.offerTimeout > 0) {
      offer.timer = setTimeout(this.safely(() => this.rescindOffer(offer.id, 'offer timeout')), this.options.offerTimeout * 1000);
      offer.timer.unref();
    }
    this.offers.add(offer);
    return offer;
  }

  offerMessage(offer: OfferRecord) {
    const agent = this.agents.get(offer.agentId);
    return {
      id: { value: offer.id },
      framework_id: { value: offer.frameworkId },
      agent_id: { value: offer.agentId },
      hostname: agent?.info.hostname ?? '',
      resources: markDynamic(offer.resources.toProto(), agent).map((r) => ({ ...r, allocation_info: { role: offer.role } })),
      attributes: agent?.info.attributes ?? [],
      allocation_info: { role: offer.role },
    };
  }

  /** Takes an offer back: its resources return to the pool and the framework hears RESCIND. */
  rescindOffer(offerId: string, why: string): void {
    const offer = this.offers.take(offerId);
    if (!offer) return;
    this.log(`rescinding offer ${offerId} of framework ${offer.frameworkId}: ${why}`);
    this.allocator.recoverResources(offer.frameworkId, offer.agentId, offer.resources, 0, this.now());
    const fw = this.frameworks.get(offer.frameworkId);
    if (fw) this.sendEvent(fw, { type: 'RESCIND', rescind: { offer_id: { value: offerId } } });
    this.changed();
    this.scheduleAllocation();
  }

  /** UPDATE_FRAMEWORK with other roles (or suppressed roles): outstanding offers go back, the allocator learns the new roles. */
  changeRoles(fw: FrameworkRecord, roles: string[], suppressedRoles: readonly string[]): void {
    this.rescindOffersOf(fw, true);
    this.allocator.removeFramework(fw.id);
    fw.roles = roles;
    this.allocator.addFramework(fw.id, { roles, suppressedRoles, active: fw.sink !== null }, this.usedByFramework(fw.id));
    if (suppressedRoles.length > 0) this.allocator.suppress(fw.id, suppressedRoles);
    this.scheduleAllocation();
  }

  private rescindOffersOf(fw: FrameworkRecord, notify: boolean): void {
    for (const offer of this.offers.ofFramework(fw.id)) {
      this.offers.take(offer.id);
      this.allocator.recoverResources(fw.id, offer.agentId, offer.resources, 0, this.now());
      if (notify) this.sendEvent(fw, { type: 'RESCIND', rescind: { offer_id: { value: offer.id } } });
    }
    this.scheduleAllocation();
  }

  /** Resources frameworks hold on agents through their non-terminal tasks. */
  usedByFramework(frameworkId: string): Map<string, Resources> {
    const used = new Map<string, Resources>();
    for (const t of this.tasks.ofFramework(frameworkId)) {
      if (t.recovered || !this.agents.get(t.agentId)?.conn) continue;
      used.set(t.agentId, (used.get(t.agentId) ?? Resources.EMPTY).add(t.resources));
    }
    return used;
  }

  usedOnAgent(agentId: string): Map<string, Resources> {
    const used = new Map<string, Resources>();
    for (const t of this.tasks.ofAgent(agentId)) {
      if (t.recovered) continue;
      used.set(t.frameworkId, (used.get(t.frameworkId) ?? Resources.EMPTY).add(t.resources));
    }
    return used;
  }

  // ---- agents (agent-lifecycle.ts) -------------------------------------

  registerAgent(message: RegisterAgent__Output, conn: AgentConnection): Promise<AgentRecord> {
    const requested = message.agent_info?.id?.value ?? '';
    this.events.emit({ type: 'AGENT_MESSAGE', kind: requested ? 'reregister' : 'register' });
    const known = requested ? this.agents.get(requested) : undefined;
    // New to this master, or back after a failover or from being unreachable: an AGENT_ADDED for observers.
    const joining = !known || known.recovered || known.unreachableSince !== null;
    return registerAgent(this, message, conn).then((agent) => {
      this.events.emit({ type: 'AGENT_REGISTERED', agent, reregistered: requested !== '' });
      if (joining) this.events.emit({ type: 'AGENT_ADDED', agent });
      return agent;
    });
  }

  /** `silent`: it stopped answering pings (unreachable at once) rather than closing its link. */
  agentDisconnected(agentId: string, conn: AgentConnection, silent = false): void {
    agentDisconnected(this, agentId, conn, silent);
  }

  agentMessage(agentId: string, message: AgentMessageOut): void {
    this.events.emit({ type: 'AGENT_MESSAGE', kind: message.kind ?? 'unknown' });
    agentMessage(this, agentId, message);
  }

  /** True for a framework that was torn down or timed out (it will acknowledge nothing). */
  wasRemoved(frameworkId: string): boolean {
    return !this.frameworks.has(frameworkId) && this.removedFrameworkIds.has(frameworkId);
  }

  acknowledgeToAgent(agentId: string, frameworkId: string, taskId: string, uuid: Buffer): void {
    if (uuid.length === 0) return;
    this.agents.get(agentId)?.conn?.send({
      acknowledgement: { agent_id: { value: agentId }, framework_id: { value: frameworkId }, task_id: { value: taskId }, uuid },
    });
  }

  /** A terminal task's resources go back to the pool (once). */
  recoverTask(task: TaskRecord): void {
    if (task.recovered) return;
    task.recovered = true;
    void this.registry.removeTask(task.agentId, task.frameworkId, task.taskId);
    // The allocator returns resources of a framework it does not know (yet) to
    // the agent's pool, so a task that ends before its framework re-subscribes
    // after a failover frees its resources all the same.
    if (this.agents.get(task.agentId)?.conn) {
      this.allocator.recoverResources(task.frameworkId, task.agentId, task.resources, 0, this.now());
      this.scheduleAllocation();
    }
  }

  /** A status made by the master itself (no uuid, nothing to acknowledge). */
  masterUpdate(task: TaskRecord, state: TaskState, reason: NonNullable<TaskStatusIn['reason']>, message: string): void {
    if (this.tasks.apply(task, state) === 'illegal') return;
    const status = masterStatus({ taskId: task.taskId, state, now: this.now(), agentId: task.agentId, reason, message });
    task.status = status;
    task.statusUuid = null;
    if (isTerminal(state)) {
      this.recoverTask(task);
      this.tasks.complete(task);
    }
    this.forwardStatus(task.frameworkId, status);
  }

  changed(): void {
    this.version++;
  }

  /** As safely(), for work that waits (on the registry): a rejection is logged, never unhandled. */
  safelyAsync(fn: () => Promise<void>): () => void {
    return () => {
      fn().catch((err) => {
        if (this.acting) this.log(`internal error (the master keeps running): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      });
    };
  }

  /** Wraps a callback run from a timer or a stream event: a bug in it is logged, never fatal to the master. */
  safely(fn: () => void): () => void {
    return () => {
      try {
        fn();
      } catch (err) {
        this.log(`internal error (the master keeps running): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    };
  }
}
