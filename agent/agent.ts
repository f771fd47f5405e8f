// The agent: keeps the link to the master, runs a TaskRunner per task and
// delivers their status updates reliably.
//
//   master ──RunTask──> Agent ──checkTask──> TaskRunner ──> ContainerDriver (Docker)
//                         ^                      │ updates
//   master <──StatusUpdate── StatusUpdateManager <┘  (resent until acknowledged)
//
// A task's runner is forgotten once its terminal update is acknowledged; a
// framework once it has no runner left.
//
// Everything a restart needs is checkpointed under work_dir (checkpoint.ts)
// before it is acted on: the AgentID, each task before its container is
// started (and its container id once it runs), each update before it is
// sent, each acknowledgement. start() recovers from it: the same AgentID,
// every task's container watched again, unacknowledged updates resent in
// order; containers of this work_dir that belong to no task are removed.
import type { Credential } from '../common/credentials.js';
import type { Tls } from '../common/tls.js';
import type { AttributeIn, FrameworkInfoOut, MasterMessageOut, TaskIn, TaskState, TaskStatusIn } from '../proto/index.js';
import type { RegisterAgent } from '../proto/gen/mesos_ts/internal/RegisterAgent.js';
import type { DomainInfo } from '../common/domain.js';
import { realTimers, type Clock, type Timers } from '../common/clock.js';
import { Resources } from '../common/resources.js';
import { isTerminal } from '../common/task-state.js';
import { errorMessage } from '../common/errors.js';
import { taskKey } from '../common/ids.js';
import { VERSION } from '../common/version.js';
import { traceLaunch } from '../common/launch-trace.js';
import type { ContainerDriver } from './driver/driver.js';
import { MasterLink } from './master-link.js';
import { StatusUpdateManager } from './status-update-manager.js';
import { TaskRunner, type RunnerContext } from './task-runner.js';
import { LABEL, checkTask, graceSeconds, type IsolationPolicy } from './task-spec.js';
import { Checkpointer } from './checkpoint.js';
import { SandboxGc } from './sandbox-gc.js';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../common/log/logger.js';

/** --recover: take tasks of an earlier run back (Mesos's default), or kill them all and start afresh. */
export type RecoverMode = 'reconnect' | 'cleanup';

export interface AgentOptions {
  readonly master: string;
  /** The largest gRPC message on the link, in bytes (--max_grpc_message_size). */
  readonly maxMessageSize?: number;
  /** Presented on the link to a master that authenticates agents (--credential). */
  readonly credential?: Credential;
  /** TLS on the link to the master (common/tls.ts); plain text without. */
  readonly tls?: Tls | null;
  /** With a zk:// master: where the leader is now (see common/zk/detector.ts). */
  readonly leader?: () => string | null;
  readonly hostname: string;
  /** The IP address the HTTP endpoint listens on, advertised to the master (Offer.url, the agent's pid). */
  readonly ip?: string;
  /** The HTTP port, advertised in AgentInfo.port (read when registering: it may be picked after construction). */
  readonly httpPort: () => number;
  readonly workDir: string;
  readonly resources: Resources;
  readonly attributes: readonly AttributeIn[];
  /** The fault domain (--domain), sent in AgentInfo; offers carry it. */
  readonly domain?: DomainInfo;
  readonly driver: ContainerDriver;
  readonly defaultImage: string;
  readonly pidsLimit: number;
  readonly killGraceSeconds: number;
  readonly statusUpdateRetrySeconds: number;
  /** Default 'reconnect'. */
  readonly recover?: RecoverMode;
  /** Host paths and privileges tasks may ask for (default: none). */
  readonly isolation?: IsolationPolicy;
  /** Seconds a finished task's sandbox is kept (--gc_delay); default one week. */
  readonly gcDelaySeconds?: number;
  readonly clock: Clock;
  /** The agent's logger (component agent); its lines carry agent_id once the master gave one. */
  readonly logger: Logger;
  /** The master shut this agent down (it was removed); the process should exit. */
  readonly onShutdown?: (why: string) => void;
  readonly random?: () => number;
  readonly timers?: Timers;
}

/** Tasks kept for /state's completed_tasks once forgotten (Mesos keeps 150 executors per framework, 50 frameworks). */
const MAX_COMPLETED_TASKS = 1000;

/** Extra time, beyond the longest grace period, that stop() waits for tasks to die. */
const STOP_SLACK_MS = 5000;
/** How often an AgentID that could not be written down is tried again. */
const AGENT_ID_RETRY_MS = 5000;

/** Waits for `promise`, or `ms`, whichever comes first. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

export class Agent {
  id: string | null = null;
  /** Issued by the master with the AgentID; presented when re-registering (never logged or served). */
  private secret = '';
  readonly runners = new Map<string, TaskRunner>();
  /** Runners forgotten since the agent started (terminal and acknowledged), oldest first, at most MAX_COMPLETED_TASKS. */
  readonly completed: TaskRunner[] = [];
  readonly frameworks = new Map<string, FrameworkInfoOut>();
  readonly updates: StatusUpdateManager;
  /** Bumped on every change; HTTP /state rebuilds its snapshot only when it moved. */
  version = 0;
  /** Tasks that ended on this agent since it started, by terminal state (for slave/tasks_finished etc.). */
  readonly ended = new Map<TaskState, number>();
  /** Set by drain(): no new task is taken, and the master offers nothing of this agent. */
  draining = false;
  readonly checkpoint: Checkpointer;
  readonly gc: SandboxGc;
  private readonly link: MasterLink;
  private readonly ctx: RunnerContext;
  private loggerOf: { readonly id: string | null; readonly logger: Logger };

  constructor(readonly options: AgentOptions) {
    this.loggerOf = { id: null, logger: options.logger };
    this.checkpoint = new Checkpointer(options.workDir);
    this.gc = new SandboxGc(join(options.workDir, 'sandboxes'), options.gcDelaySeconds ?? 7 * 24 * 3600,
      (sandbox) => [...this.runners.values()].some((r) => r.sandbox === sandbox), options.logger);
    this.updates = new StatusUpdateManager({
      persist: {
        update: (u) => this.checkpoint.appendUpdate(u.frameworkId, u.status),
        acknowledged: (frameworkId, taskId, uuid) => this.checkpoint.appendAck(frameworkId, taskId, uuid),
      },
      persistFailed: (what, err) => this.logger.error({ err }, `cannot write down ${what}: ${errorMessage(err)}`),
      send: (u) => {
        traceLaunch(u.status.task_id?.value, `agent: ${u.status.state} sent`);
        return this.link.send({ status_update: { framework_id: { value: u.frameworkId }, status: u.status } });
      },
      retrySeconds: options.statusUpdateRetrySeconds,
      ...(options.timers ? { timers: options.timers } : {}),
    });
    this.link = new MasterLink({
      master: options.master,
      ...(options.leader ? { leader: options.leader } : {}),
      ...(options.credential ? { credential: options.credential } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.maxMessageSize !== undefined ? { maxMessageSize: options.maxMessageSize } : {}),
      registration: () => this.registration(),
      onMessage: (m) => this.onMessage(m),
      logger: options.logger,
      ...(options.random ? { random: options.random } : {}),
    });
    this.ctx = {
      driver: options.driver, agentId: () => this.id ?? '', ...(options.ip ? { ip: options.ip } : {}), hostname: options.hostname, workDir: options.workDir,
      defaultImage: options.defaultImage, pidsLimit: options.pidsLimit, ...(options.isolation ? { isolation: options.isolation } : {}), killGraceSeconds: options.killGraceSeconds,
      now: () => options.clock.now(), logger: () => this.logger, emit: (frameworkId, status) => this.emit(frameworkId, status),
      launched: (runner) => {
        this.checkpoint.writeTask(runner.framework, runner.task, runner.containerId)
          .catch((err) => this.logger.error({ framework_id: runner.frameworkId, task_id: runner.taskId, err }, `cannot write down the container of task ${runner.taskId}`));
      },
      written: (runner) => this.checkpoint.taskWritten(runner.frameworkId, runner.taskId),
    };
  }

  /** The leading master changed: re-register with the new one. */
  leaderChanged(): void {
    this.link.reconnect();
  }

  /** The logger with this agent's agent_id (once it has one). */
  get logger(): Logger {
    if (this.loggerOf.id !== this.id) this.loggerOf = { id: this.id, logger: this.id ? this.options.logger.child({ agent_id: this.id }) : this.options.logger };
    return this.loggerOf.logger;
  }

  /** Recovers what an earlier run left (see recover()), then dials the master. */
  async start(): Promise<void> {
    if (this.options.recover === 'cleanup') await this.cleanup();
    else await this.recover();
    this.gc.scan();
    this.link.connect();
  }

  /**
   * Takes back the tasks an earlier run of this agent checkpointed: the same
   * AgentID, each container found again (by the checkpointed id, else by its
   * labels), unacknowledged updates queued again in order. Containers of this
   * work_dir that belong to no checkpointed task are removed. Throws (naming
   * the file) when a checkpoint cannot be read.
   */
  private async recover(): Promise<void> {
    const recovered = this.checkpoint.recover();
    for (const warning of recovered.warnings) this.logger.warn(warning);
    this.id = recovered.agentId;
    this.secret = recovered.secret;
    const containers = await this.options.driver.list({ [LABEL.workDir]: this.options.workDir });
    const claimed = new Set<string>();
    for (const t of recovered.tasks) {
      const frameworkId = t.framework.id!.value;
      const taskId = t.task.task_id!.value;
      const runner = new TaskRunner(this.ctx, t.framework, t.task, Resources.fromProto(t.task.resources));
      this.runners.set(taskKey(frameworkId, taskId), runner);
      this.frameworks.set(frameworkId, t.framework);
      for (const status of t.unacknowledged) this.updates.restore({ frameworkId, status });
      // The container id is written down after TASK_RUNNING: a crash in between leaves it in that update only.
      const containerId = t.containerId ?? t.updates.findLast((u) => u.container_status?.container_id?.value)?.container_status?.container_id?.value ?? null;
      const container =
        containers.find((c) => c.id === containerId) ??
        containers.find((c) => c.labels[LABEL.frameworkId] === frameworkId && c.labels[LABEL.taskId] === taskId);
      // A task that ended leaves its container unclaimed: removed below, as the crash kept its runner from doing so.
      const ended = t.updates.length > 0 && isTerminal(t.updates.at(-1)!.state);
      if (container && !ended) claimed.add(container.id);
      runner.resume(t.updates.at(-1) ?? null, container?.id ?? containerId).catch((err) => this.logger.error({ task_id: taskId, err }, `task ${taskId}: ${errorMessage(err)}`));
    }
    if (recovered.agentId || recovered.tasks.length > 0) {
      const live = [...this.runners.values()].filter((r) => !isTerminal(r.state)).length;
      this.logger.info(`recovered agent ${recovered.agentId ?? '(never registered)'}: ${recovered.tasks.length} task(s), ${live} not yet ended, ` +
        `${this.updates.pending().length} update(s) not yet acknowledged`);
    }
    await this.removeContainers((c) => !claimed.has(c.id), 'orphaned container');
  }

  /** --recover=cleanup: every container of this work_dir is killed and removed, the checkpoint forgotten. */
  private async cleanup(): Promise<void> {
    await this.removeContainers(() => true, 'container of an earlier run (--recover=cleanup)');
    this.checkpoint.wipe();
    this.logger.info('--recover=cleanup: started afresh (a new AgentID will be given)');
  }

  /**
   * Drains the agent: the master stops offering it, new tasks are refused
   * (TASK_DROPPED, REASON_AGENT_DRAINING) and running ones may end on their
   * own; those still running after `timeoutSeconds` are killed. Resolves
   * once every task has ended and its last update was acknowledged (or
   * `timeoutSeconds` more have passed: what is left is checkpointed).
   */
  async drain(timeoutSeconds: number, reason = 'the operator asked'): Promise<void> {
    this.draining = true;
    this.version++;
    this.link.send({ draining: { reason } });
    const live = () => [...this.runners.values()].filter((r) => !isTerminal(r.state));
    this.logger.info(`draining (${reason}): ${live().length} task(s) may run for up to ${timeoutSeconds}s more`);
    const deadline = performance.now() + timeoutSeconds * 1000;
    while (live().length > 0 && performance.now() < deadline) await sleep(200);
    const left = live();
    if (left.length > 0) {
      this.logger.info(`drain timeout: killing ${left.length} task(s)`);
      for (const r of left) r.kill();
      await Promise.all(left.map((r) => r.finished()));
    }
    const flushBy = performance.now() + timeoutSeconds * 1000;
    while (this.updates.pending().length > 0 && performance.now() < flushBy) await sleep(200);
    this.logger.info(`drained: ${this.updates.pending().length} update(s) still unacknowledged (kept in the checkpoint)`);
  }

  private stopping: Promise<void> | null = null;

  /** Leaves the master; with killTasks every task is killed (its grace honoured) and every container removed. Once only: a second call waits for the first. */
  stop(killTasks: boolean): Promise<void> {
    this.stopping ??= this.stopOnce(killTasks);
    return this.stopping;
  }

  private async stopOnce(killTasks: boolean): Promise<void> {
    this.link.stop();
    this.updates.stop();
    this.gc.stop();
    if (!killTasks) {
      // The containers run on for the next start to take back; this process stops watching them.
      for (const r of this.runners.values()) r.detach();
      await this.checkpoint.close();
      return;
    }
    const live = [...this.runners.values()].filter((r) => !isTerminal(r.state));
    const grace = Math.max(0, ...live.map((r) => graceSeconds(r.task.kill_policy) ?? this.options.killGraceSeconds));
    for (const r of live) r.kill();
    // Every runner's own removal of its ended container is awaited too, so none is still under way when the rest are removed:
    // also those of tasks already forgotten (acknowledged), whose removal may not be done yet.
    const all = [...this.runners.values(), ...this.completed];
    let settled = false;
    const allSettled = Promise.all(all.map((r) => (live.includes(r) ? r.finished() : Promise.resolve()).then(() => r.containerRemoved()))).then(() => {
      settled = true;
    });
    await within(allSettled, grace * 1000 + STOP_SLACK_MS);
    await this.removeContainers(() => true, 'container left at shutdown');
    if (!settled) {
      // A launch still under way past the bound (a slow engine) makes its container after that sweep: once more.
      await within(allSettled, STOP_SLACK_MS);
      await this.removeContainers(() => true, 'container left at shutdown');
    }
    await this.checkpoint.close();
  }

  private async removeContainers(which: (c: { id: string }) => boolean, what: string): Promise<void> {
    const found = await this.options.driver.list({ [LABEL.workDir]: this.options.workDir });
    for (const c of found.filter(which)) {
      try {
        await this.options.driver.remove(c.id);
        this.logger.info(`${what} ${c.name || c.id.slice(0, 12)} (task ${c.labels[LABEL.taskId] ?? '?'}) removed`);
      } catch (err) {
        this.logger.warn(`could not remove ${what} ${c.id.slice(0, 12)}: ${errorMessage(err)}`);
      }
    }
  }

  private emit(frameworkId: string, status: TaskStatusIn): Promise<void> {
    this.version++;
    if (status.state && isTerminal(status.state)) this.ended.set(status.state, (this.ended.get(status.state) ?? 0) + 1);
    return this.updates.written(this.updates.update(frameworkId, status));
  }

  /** True while the link to the master is registered. */
  get isRegistered(): boolean {
    return this.link.registered;
  }

  private inFlight(frameworkId: string, taskId: string): Pick<TaskIn, 'status_update_state' | 'status_update_uuid'> {
    const head = this.updates.head(frameworkId, taskId);
    return head?.status.state ? { status_update_state: head.status.state, status_update_uuid: head.status.uuid } : {};
  }

  private registration(): RegisterAgent {
    // Tasks that ended but whose last update is not yet acknowledged are reported too (as Mesos
    // agents do): a master that took over meanwhile must not think them lost.
    // With each task, the state and uuid of its update in flight (Mesos's status_update_state and
    // status_update_uuid): until that is acknowledged the master answers reconciliation with it,
    // not with the task's latest state, which the framework has not heard yet.
    const tasks: TaskIn[] = [...this.runners.values()]
      .map((r) => ({
        ...this.inFlight(r.frameworkId, r.taskId),
        name: r.task.name, task_id: r.task.task_id, framework_id: { value: r.frameworkId }, agent_id: { value: this.id ?? '' },
        executor_id: { value: r.taskId }, state: r.state, resources: r.task.resources, container: r.task.container,
        statuses: r.lastStatus ? [r.lastStatus] : [], kill_policy: r.task.kill_policy,
        // What a master that took over serves of the task (labels, discovery) comes from here.
        labels: r.task.labels, discovery: r.task.discovery, health_check: r.task.health_check,
      }));
    const frameworkIds = new Set(tasks.map((t) => t.framework_id?.value));
    return {
      agent_info: {
        hostname: this.options.hostname, port: this.options.httpPort(), resources: this.options.resources.toProto(),
        attributes: [...this.options.attributes], ...(this.id ? { id: { value: this.id } } : {}),
        ...(this.options.domain ? { domain: this.options.domain } : {}),
      },
      tasks,
      frameworks: [...this.frameworks.values()].filter((f) => frameworkIds.has(f.id?.value)),
      version: VERSION,
      ip: this.options.ip ?? '',
      secret: this.secret,
    };
  }

  /** Malformed or surprising messages are logged, never thrown: the agent keeps running. */
  private onMessage(message: MasterMessageOut): void {
    try {
      this.dispatch(message);
    } catch (err) {
      this.logger.error({ err }, `could not handle ${message?.kind ?? 'a message'} from the master: ${errorMessage(err)}`);
    }
    this.version++;
  }

  private dispatch(message: MasterMessageOut): void {
    switch (message.kind) {
      case 'registered':
        return this.registered(message.registered?.agent_id?.value ?? '', message.registered?.secret ?? '');
      case 'run_task':
        return this.runTask(message.run_task);
      case 'kill_task':
        return this.killTask(message.kill_task);
      case 'acknowledgement':
        return this.acknowledged(message.acknowledgement);
      case 'shutdown_framework':
        return this.shutdownFramework(message.shutdown_framework?.framework_id?.value ?? '');
      case 'refused':
        return; // Logged by the link; the master closes the stream and the link retries with backoff.
      case 'drain':
        return this.drainedByMaster(message.drain?.max_grace_period?.nanoseconds);
      case 'shutdown':
        return this.shutdownByMaster(message.shutdown?.message ?? '');
      default:
        return this.logger.warn(`ignoring a message of unknown kind '${String(message.kind)}' from the master`);
    }
  }

  /**
   * The operator drains this agent (DRAIN_AGENT): every task is killed, its
   * grace period capped at `maxGraceNanos`, and ends TASK_KILLED with
   * REASON_AGENT_DRAINING. The master offers nothing from here meanwhile.
   */
  private drainedByMaster(maxGraceNanos: number | null | undefined): void {
    const cap = maxGraceNanos === null || maxGraceNanos === undefined ? null : Number(maxGraceNanos) / 1e9;
    const live = [...this.runners.values()].filter((r) => !isTerminal(r.state));
    this.logger.info(`the operator drains this agent: killing ${live.length} task(s)${cap !== null ? ` (grace at most ${cap}s)` : ''}`);
    for (const r of live) {
      const own = graceSeconds(r.task.kill_policy) ?? this.options.killGraceSeconds;
      r.kill(cap === null ? own : Math.min(own, cap), { reason: 'REASON_AGENT_DRAINING', message: 'killed: the agent is draining' });
    }
  }

  /**
   * The master removed this agent (marked gone, or its machine went DOWN
   * for maintenance): every task is killed, the checkpoint forgotten (a new
   * start joins as a new agent), and the process is asked to exit.
   */
  private shutdownByMaster(why: string): void {
    this.logger.info(`the master shuts this agent down: ${why || '(no reason given)'}`);
    void this.stop(true)
      .then(() => this.checkpoint.wipe())
      .catch((err: unknown) => this.logger.error({ err }, `shutting down: ${errorMessage(err)}`))
      .finally(() => this.options.onShutdown?.(why));
  }

  /** Writes the AgentID down; while that fails (a full disk) it says so and tries again every few seconds. */
  private writeAgentId(id: string): void {
    try {
      this.checkpoint.writeAgentId(id, this.secret);
    } catch (err) {
      this.logger.error({ err }, `cannot write down this agent's id (a restart now would register it afresh): ${errorMessage(err)}; trying again in ${AGENT_ID_RETRY_MS / 1000}s`);
      (this.options.timers ?? realTimers).set(() => {
        if (this.id === id) this.writeAgentId(id);
      }, AGENT_ID_RETRY_MS);
    }
  }

  private registered(id: string, secret: string): void {
    if (!id) return this.logger.warn('AgentRegistered without an agent_id; ignored');
    const previous = this.id;
    this.id = id;
    if (secret) this.secret = secret;
    if (previous !== id || secret) this.writeAgentId(id);
    if (previous === null) this.logger.info('registered with the master');
    else if (previous !== id) this.logger.warn({ previous_agent_id: previous }, `the master gave a new id (was ${previous})`);
    else this.logger.info('re-registered with the master');
    this.updates.resendAll();
    if (this.draining) this.link.send({ draining: { reason: 'still draining' } });
  }

  private runTask(run: MasterMessageOut['run_task']): void {
    const frameworkId = run?.framework?.id?.value ?? '';
    const taskId = run?.task?.task_id?.value ?? '';
    traceLaunch(taskId, 'agent: RunTask received');
    const checked = checkTask(run?.framework, run?.task, this.options.isolation);
    if (!checked.ok) {
      this.logger.warn({ framework_id: frameworkId, task_id: taskId }, `refusing task ${taskId || '?'} of framework ${frameworkId || '?'}: ${checked.message}`);
      if (!frameworkId || !taskId) return; // Nobody to tell.
      void this.emit(frameworkId, this.agentStatus(taskId, 'TASK_ERROR', 'REASON_TASK_INVALID', checked.message));
      return;
    }
    if (this.draining) {
      this.logger.warn({ framework_id: frameworkId, task_id: taskId }, `refusing task ${taskId} of framework ${frameworkId}: this agent is draining`);
      void this.emit(frameworkId, this.agentStatus(taskId, 'TASK_DROPPED', 'REASON_AGENT_DRAINING', 'the agent is draining'));
      return;
    }
    const key = taskKey(frameworkId, taskId);
    const existing = this.runners.get(key);
    if (existing && !isTerminal(existing.state)) return this.logger.warn({ framework_id: frameworkId, task_id: taskId }, `task ${taskId} already runs here; duplicate RunTask ignored`);
    const runner = new TaskRunner(this.ctx, run!.framework!, run!.task!, checked.resources);
    // Written down before the container starts (the runner waits for it; the container may be created
    // meanwhile): a restarted agent must know every container it may have started. A failed write
    // fails the launch (see RunnerContext.written).
    this.checkpoint.writeTask(run!.framework!, run!.task!).then(() => traceLaunch(taskId, 'agent: task checkpointed'), () => {});
    this.frameworks.set(frameworkId, run!.framework!);
    this.runners.set(key, runner);
    this.logger.info({ framework_id: frameworkId, task_id: taskId }, `launching task ${taskId} of framework ${frameworkId} (${checked.resources.toString()})`);
    runner.run().catch((err) => this.logger.error({ task_id: taskId, err }, `task ${taskId}: ${errorMessage(err)}`));
  }

  private killTask(kill: MasterMessageOut['kill_task']): void {
    const frameworkId = kill?.framework_id?.value ?? '';
    const taskId = kill?.task_id?.value ?? '';
    const runner = this.runners.get(taskKey(frameworkId, taskId));
    if (!runner) {
      this.logger.warn({ framework_id: frameworkId, task_id: taskId }, `asked to kill task ${taskId} of framework ${frameworkId}, which is unknown here`);
      if (frameworkId && taskId) void this.emit(frameworkId, this.agentStatus(taskId, 'TASK_LOST', 'REASON_TASK_UNKNOWN', 'task unknown to agent'));
      return;
    }
    this.logger.info({ framework_id: frameworkId, task_id: taskId }, `killing task ${taskId}`);
    runner.kill(graceSeconds(kill?.kill_policy));
  }

  private acknowledged(ack: MasterMessageOut['acknowledgement']): void {
    const frameworkId = ack?.framework_id?.value ?? '';
    const taskId = ack?.task_id?.value ?? '';
    if (!ack || !this.updates.acknowledge(frameworkId, taskId, ack.uuid)) return;
    const runner = this.runners.get(taskKey(frameworkId, taskId));
    if (runner && isTerminal(runner.state) && !this.updates.hasPending(frameworkId, taskId)) this.forget(runner);
  }

  private shutdownFramework(frameworkId: string): void {
    const runners = [...this.runners.values()].filter((r) => r.frameworkId === frameworkId);
    this.logger.info({ framework_id: frameworkId }, `shutting down framework ${frameworkId} (${runners.length} task(s))`);
    for (const r of runners) r.kill();
    // The framework is gone: no acknowledgement will come for its updates.
    void Promise.all(runners.map((r) => r.finished())).then(() => {
      this.updates.dropFramework(frameworkId);
      for (const r of runners) this.forget(r);
      this.frameworks.delete(frameworkId);
      this.version++;
    });
  }

  private forget(runner: TaskRunner): void {
    const key = taskKey(runner.frameworkId, runner.taskId);
    if (this.runners.get(key) === runner) {
      this.runners.delete(key);
      this.checkpoint.removeTask(runner.frameworkId, runner.taskId)
        .catch((err) => this.logger.error({ framework_id: runner.frameworkId, task_id: runner.taskId, err }, `cannot remove the checkpoint of task ${runner.taskId}`));
      this.gc.schedule(runner.sandbox);
      this.completed.push(runner);
      if (this.completed.length > MAX_COMPLETED_TASKS) this.completed.shift();
      this.version++;
    }
    if (![...this.runners.values()].some((r) => r.frameworkId === runner.frameworkId)) this.frameworks.delete(runner.frameworkId);
  }

  private agentStatus(taskId: string, state: TaskStatusIn['state'], reason: TaskStatusIn['reason'], message: string): TaskStatusIn {
    return {
      task_id: { value: taskId }, state, reason, message, source: 'SOURCE_AGENT',
      agent_id: { value: this.id ?? '' }, timestamp: this.options.clock.now(),
    };
  }
}
