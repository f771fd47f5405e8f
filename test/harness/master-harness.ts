// A deterministic master for state-machine tests: the real Master (state,
// operations, driver, registry, allocator) with a manual clock, recorded
// effects and no network. Agents and schedulers are small recording peers
// that talk to the master exactly as the gRPC adapters do (registerAgent /
// agentMessage, subscribe / call / streamClosed); time moves only when the
// test says so, and settle() lets queued work finish without sleeping.
//
//   const h = await MasterHarness.start();
//   const agent = await h.addAgent('a1', 'cpus:4;mem:1024');
//   const fw = await h.subscribe('fw');
//   const [offer] = fw.offers();
//   fw.launch(offer, [{ id: 't1', resources: 'cpus:1;mem:128' }]);
//   await h.settle();
//   expect(agent.launched()).toEqual(['t1']);
import { Master, type AgentConnection, type EventSink, type MasterOptions } from '../../master/master.js';
import { InMemoryStore, Registry, type RegistryChange, type RegistryKey, type RegistryStore } from '../../master/registry/registry.js';
import { createAllocator } from '../../master/allocator/index.js';
import { Resources } from '../../common/resources.js';
import type { Call, EventIn, MasterMessageIn, OfferIn, TaskState, TaskStatusIn } from '../../proto/index.js';
import type { Clock } from '../../common/clock.js';
import { FakeTimers } from './fake-timers.js';
import { createLogger } from '../../common/log/logger.js';

/** A store a test can hold writes back in, and look into as a successor would read it. */
export class TestStore implements RegistryStore {
  readonly name = 'test store';
  private readonly inner = new InMemoryStore();
  private held: (() => void)[] | null = null;
  /** Fails every write from now on (the master must stop acting). */
  failing = false;
  writes = 0;

  /** A store holding `docs` (what another store held at some moment). */
  static async from(docs: ReadonlyMap<RegistryKey, Record<string, unknown>>): Promise<TestStore> {
    const store = new TestStore();
    await store.inner.write([...docs].map(([key, value]) => ({ key, value })));
    return store;
  }

  load(): Promise<Map<RegistryKey, Record<string, unknown>>> {
    return this.inner.load();
  }

  async write(changes: readonly RegistryChange[]): Promise<void> {
    if (this.held) await new Promise<void>((resolve) => this.held!.push(resolve));
    if (this.failing) throw new Error('the test store refuses writes');
    this.writes++;
    // Stored documents are copies: a later change in memory must not reach the store unwritten.
    await this.inner.write(changes.map((c) => ({ key: c.key, value: c.value && JSON.parse(JSON.stringify(c.value)) })));
  }

  /** Writes wait until release(). */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const resolve of waiting) resolve();
  }

  /** What a successor would read now. */
  async snapshot(): Promise<Map<RegistryKey, Record<string, unknown>>> {
    return this.inner.load();
  }
}

/**
 * The harness's time: fake timers (ms) and the master's clocks (seconds) reading them: the wall
 * clock (this), which a test may jump back or forward, and the monotonic one, which never jumps.
 */
export class HarnessTime implements Clock {
  readonly timers = new FakeTimers();
  private readonly clock = this.timers.clock();
  private wallOffset = 0;
  readonly monotonic: Clock = { now: () => this.clock.now() };

  now(): number {
    return this.clock.now() + this.wallOffset;
  }

  /** Sets the wall clock `seconds` forward (negative: back), as an operator or NTP might; nothing else moves. */
  jumpWall(seconds: number): void {
    this.wallOffset += seconds;
  }
}

export interface HarnessOptions extends Partial<Omit<MasterOptions, 'registry' | 'clock' | 'timers' | 'defer' | 'allocator'>> {
  readonly store?: TestStore;
  readonly allocator?: MasterOptions['allocator'];
  /** Shared with another harness (a successor) to keep one time line. */
  readonly time?: HarnessTime;
}

export class MasterHarness {
  private readonly deferred: (() => void)[] = [];
  private streams = 0;

  private constructor(
    /** Everything the master and its registry logged. */
    readonly log: string[],
    readonly master: Master,
    readonly store: TestStore,
    readonly time: HarnessTime,
    readonly registry: Registry,
  ) {}

  /** A leading master over `store` (a fresh one by default): it recovers what the store holds, then acts. */
  static async start(options: HarnessOptions = {}): Promise<MasterHarness> {
    const store = options.store ?? new TestStore();
    const time = options.time ?? new HarnessTime();
    const log: string[] = [];
    let harness: MasterHarness | null = null;
    // The log as the master writes it (glog-style text lines), for assertions and failure messages.
    const logger = createLogger({ component: 'master', format: 'text', sink: (line) => log.push(line) });
    const registry = new Registry(store, () => harness?.master.stop(), logger.child({ component: 'registry' }));
    const id = options.id ?? `m${Math.floor(time.now())}`;
    const master = new Master({
      id, info: { id, hostname: 'localhost', port: 5050 }, allocator: options.allocator ?? createAllocator('drf'), registry, clock: time, monotonic: time.monotonic, timers: time.timers,
      allocationInterval: 1, offerTimeout: 30, heartbeatInterval: 15, agentReregisterTimeout: 600, agentPingInterval: 15, maxAgentPingTimeouts: 5,
      agentDisconnectTimeout: 75, registryMaxAgentAge: 3600, logger,
      ...options, newStreamId: () => `stream-${++(harness as MasterHarness).streams}`, defer: (fn) => harness!.deferred.push(fn),
    });
    harness = new MasterHarness(log, master, store, time, registry);
    await master.recover();
    master.start();
    return harness;
  }

  /** Lets queued work run to the end: registry writes, the effects waiting for them, coalesced allocation passes. */
  async settle(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const work = this.deferred.splice(0);
      for (const fn of work) fn();
      if (work.length === 0 && round > 2) return;
    }
  }

  /** Moves the clock, firing due deadlines one due time at a time and settling after each (peers answer in between). */
  async advance(seconds: number): Promise<void> {
    const timers = this.time.timers;
    const end = timers.now + seconds * 1000;
    for (let due = timers.nextDue(); due !== undefined && due <= end; due = timers.nextDue()) {
      timers.advance(Math.max(0, due - timers.now));
      await this.settle();
    }
    timers.advance(end - timers.now);
    await this.settle();
  }

  /** `secret`: the one issued with `id` (an agent's checkpoint keeps it), to re-register as that agent. */
  async addAgent(hostname: string, resources: string, options: { id?: string; tasks?: ReportedTask[]; ip?: string; secret?: string } = {}): Promise<TestAgent> {
    const agent = new TestAgent(this, hostname, resources, options.ip ?? '');
    agent.secret = options.secret ?? '';
    await agent.register(options);
    return agent;
  }

  async subscribe(name: string, options: SchedulerOptions = {}): Promise<TestScheduler> {
    const scheduler = new TestScheduler(this, name, options);
    await scheduler.subscribe();
    return scheduler;
  }
}

export interface SchedulerOptions {
  readonly id?: string;
  readonly roles?: string[];
  readonly failoverTimeout?: number;
  readonly partitionAware?: boolean;
  readonly principal?: string;
}

export interface ReportedTask {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly state: TaskState;
  readonly resources: string;
  /** The update the agent is still delivering (Task.status_update_state/uuid), as an agent reports it. */
  readonly inFlight?: { readonly state: TaskState; readonly uuid: Buffer };
}

/** An agent's side of the link: records what the master sends, reports as an agent does. */
export class TestAgent {
  id = '';
  /** The secret the master issued with the id; presented when re-registering, as an agent does. */
  secret = '';
  received: MasterMessageIn[] = [];
  conn!: AgentConnection & { open: boolean; closedWith: string | null };
  /** False: the agent is frozen (its link stays open, nothing answers). */
  answerPings = true;
  private uuids = 0;

  constructor(
    private readonly harness: MasterHarness,
    readonly hostname: string,
    readonly resources: string,
    /** The IP it advertises ('' says none, as an older agent would). */
    readonly ip = '',
  ) {}

  /** (Re-)registers on a new link; with `id`, as a known agent. */
  async register(options: { id?: string; tasks?: ReportedTask[] } = {}): Promise<void> {
    const conn = { open: true, closedWith: null as string | null, send: (m: MasterMessageIn) => {
      this.received.push(m);
      if (m.registered?.secret) this.secret = m.registered.secret;
      // A live agent answers every ping.
      if (m.ping && this.answerPings) queueMicrotask(() => this.harness.master.agentMessage(this.id, { kind: 'pong', pong: { seq: m.ping!.seq } } as never, conn));
    }, close: (reason: string) => {
      if (!conn.open) return;
      conn.open = false;
      conn.closedWith = reason;
      if (this.id) this.harness.master.agentDisconnected(this.id, conn);
    } };
    this.conn = conn;
    const id = options.id ?? (this.id || undefined);
    const agent = await this.harness.master.registerAgent({
      agent_info: {
        hostname: this.hostname, port: 5051, resources: Resources.parse(this.resources).toProto(), attributes: [], ...(id ? { id: { value: id } } : {}),
      },
      tasks: (options.tasks ?? []).map((t) => ({
        framework_id: { value: t.frameworkId }, task_id: { value: t.taskId }, name: t.taskId, state: t.state, resources: Resources.parse(t.resources).toProto(),
        statuses: [], container: null,
        ...(t.inFlight ? { status_update_state: t.inFlight.state, status_update_uuid: t.inFlight.uuid } : {}),
      })),
      frameworks: [], version: 'test', ip: this.ip, secret: this.secret,
    } as never, conn);
    this.id = agent.id;
    await this.harness.settle();
  }

  /** The link closes (a restart, a network blip). */
  disconnect(): void {
    this.conn.open = false;
    this.harness.master.agentDisconnected(this.id, this.conn);
  }

  /** Task ids the master asked this agent to run, in order. */
  launched(): string[] {
    return this.received.flatMap((m) => (m.run_task ? [m.run_task.task!.task_id!.value!] : []));
  }

  killed(): string[] {
    return this.received.flatMap((m) => (m.kill_task ? [m.kill_task.task_id!.value!] : []));
  }

  acknowledged(): string[] {
    return this.received.flatMap((m) => (m.acknowledgement ? [m.acknowledgement.task_id!.value!] : []));
  }

  /** Sends a status update for a task, as the agent's status update manager does (with a uuid to acknowledge); `resend`: that update's uuid. */
  update(frameworkId: string, taskId: string, state: TaskState, message = '', resend?: Buffer): Buffer {
    const uuid = resend ?? Buffer.from(`${this.id}-${taskId}-${++this.uuids}`.padEnd(16, '.').slice(0, 16));
    this.harness.master.agentMessage(this.id, {
      kind: 'status_update',
      status_update: {
        framework_id: { value: frameworkId },
        status: { task_id: { value: taskId }, state, source: 'SOURCE_EXECUTOR', agent_id: { value: this.id }, uuid, message, timestamp: this.harness.time.now() },
      },
    } as never, this.conn);
    return uuid;
  }
}

/** A scheduler's side of the stream: records every event, makes calls as the adapters pass them. */
export class TestScheduler {
  id = '';
  streamId = '';
  events: EventIn[] = [];
  closedWith: string | null | undefined = undefined;
  private readonly used = new Set<string>();

  constructor(
    private readonly harness: MasterHarness,
    readonly name: string,
    private readonly options: SchedulerOptions,
  ) {}

  async subscribe(): Promise<void> {
    const sink: EventSink = {
      send: (event) => void this.events.push(event),
      close: (error) => void (this.closedWith = error ?? null),
      queued: 0,
      queuedBytes: 0,
    };
    const id = this.options.id ?? (this.id || undefined);
    const { frameworkId, streamId } = await this.harness.master.subscribe({
      type: 'SUBSCRIBE',
      subscribe: {
        framework_info: {
          name: this.name, user: 'test', roles: this.options.roles ?? ['*'], failover_timeout: this.options.failoverTimeout ?? 60,
          capabilities: [{ type: 'MULTI_ROLE' }, ...(this.options.partitionAware ? [{ type: 'PARTITION_AWARE' as const }] : [])],
          ...(id ? { id: { value: id } } : {}),
          ...(this.options.principal !== undefined ? { principal: this.options.principal } : {}),
        },
        suppressed_roles: [],
      },
    } as never, () => sink);
    this.id = frameworkId;
    this.streamId = streamId;
    await this.harness.settle();
  }

  call(call: { type: Call['type'] } & Record<string, unknown>): void {
    const answered = (call.accept ?? call.decline) as { offer_ids?: { value: string }[] } | undefined;
    for (const id of answered?.offer_ids ?? []) this.used.add(id.value);
    this.harness.master.call({ framework_id: { value: this.id }, ...call } as unknown as Call, this.streamId);
  }

  /** Offers received and neither rescinded nor answered (accepted, declined), oldest first. */
  offers(): OfferIn[] {
    const rescinded = new Set(this.events.flatMap((e) => (e.rescind ? [e.rescind.offer_id!.value!] : [])));
    return this.events.flatMap((e) => e.offers?.offers ?? []).filter((o) => !rescinded.has(o.id!.value!) && !this.used.has(o.id!.value!));
  }

  /** Statuses received, as `task:STATE`. */
  statuses(): string[] {
    return this.updates().map((s) => `${s.task_id!.value}:${s.state}`);
  }

  updates(): TaskStatusIn[] {
    return this.events.flatMap((e) => (e.update?.status ? [e.update.status] : []));
  }

  launch(offer: OfferIn, tasks: { id: string; resources: string }[], refuseSeconds?: number): void {
    this.call({
      type: 'ACCEPT',
      accept: {
        offer_ids: [{ value: offer.id!.value }],
        operations: [{
          type: 'LAUNCH',
          launch: {
            task_infos: tasks.map((t) => ({
              name: t.id, task_id: { value: t.id }, agent_id: { value: offer.agent_id!.value }, resources: Resources.parse(t.resources).toProto(),
              command: { value: 'true', shell: true },
            })),
          },
        }],
        ...(refuseSeconds !== undefined ? { filters: { refuse_seconds: refuseSeconds } } : {}),
      },
    });
  }

  acknowledge(status: TaskStatusIn): void {
    this.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid } });
  }

  /** The scheduler's stream goes away. */
  disconnect(): void {
    this.harness.master.streamClosed(this.id, this.streamId);
  }
}
