// One task on this agent, from RunTask to its terminal update:
//
//   (RunTask, checked) ──> STARTING ──launch──> RUNNING ──exit 0──> FINISHED
//                              │                   ├──exit n──> FAILED (status n, or OOM)
//                              │                   └──stopped by an engine restart──> LOST / GONE (REASON_EXECUTOR_TERMINATED)
//                              ├──launch error──> FAILED (REASON_CONTAINER_LAUNCH_FAILED)
//                              └──kill──> [KILLING] ──SIGTERM, grace, SIGKILL──> KILLED
//
// KILLING is sent only to frameworks with the TASK_KILLING_STATE capability.
// The runner only produces updates; the status update manager delivers them.
//
// After the agent restarts, resume() takes a task back where the checkpoint
// left it: its container, still running, is watched again; one that exited
// meanwhile is reported with its real exit status; one that is gone is
// reported FAILED.
//
// A task with a health_check is checked while RUNNING (health-check.ts): each
// result the framework is to see is a TASK_RUNNING update with `healthy` and
// REASON_TASK_HEALTH_CHECK_STATUS_UPDATED; after consecutive_failures the task
// is killed as on request and ends KILLED, healthy=false, with that reason.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { FrameworkInfoOut, TaskInfoOut, TaskStatusIn, TaskStatusOut, TaskState } from '../proto/index.js';
import { Resources } from '../common/resources.js';
import { errorMessage } from '../common/errors.js';
import { isTerminal } from '../common/task-state.js';
import { traceLaunch } from '../common/launch-trace.js';
import { LaunchError, type ContainerDriver, type ContainerExit } from './driver/driver.js';
import { containerSpec, graceSeconds, sandboxPath, type SpecContext } from './task-spec.js';
import { HealthChecker, describeHealthCheck, healthPolicy, healthProbe, type HealthResult } from './health-check.js';
import type { Logger } from '../common/log/logger.js';

export interface RunnerContext extends Omit<SpecContext, 'agentId'> {
  readonly driver: ContainerDriver;
  readonly agentId: () => string;
  /** The IP the agent advertises: a task's address, as tasks use host networking. */
  readonly ip?: string;
  /** --kill_grace_period, used when neither the kill nor the task names a grace. */
  readonly killGraceSeconds: number;
  /** Seconds since the epoch. */
  readonly now: () => number;
  /** Queues an update; the promise, if any, settles once it is written down. */
  readonly emit: (frameworkId: string, status: TaskStatusIn) => void | Promise<void>;
  /** The container exists: its id is written down (it also carries the task's labels, so a restarted agent finds it either way). */
  readonly launched: (runner: TaskRunner) => void;
  /**
   * Settles when the task itself is written down (task.json); rejects if it could not be. The container
   * is started only after it. Its TASK_STARTING record may still be on its way to disk: a restarted agent
   * that finds the container but not that update takes the task back from STAGING.
   */
  readonly written?: (runner: TaskRunner) => Promise<void>;
  /** The agent's logger as it is now (it gains agent_id at registration). */
  readonly logger: () => Logger;
}

export class TaskRunner {
  state: TaskState = 'TASK_STAGING';
  containerId: string | null = null;
  /** The host pid of the container's init process while it runs (ContainerStatus.executor_pid). */
  pid: number | null = null;
  /** The last update this runner produced (what re-registration reports). */
  lastStatus: TaskStatusIn | TaskStatusOut | null = null;
  /** Every update this runner produced (only the last one after an agent restart), for /state. */
  readonly statuses: (TaskStatusIn | TaskStatusOut)[] = [];
  readonly sandbox: string;
  private killGrace: number | null = null;
  /** The last stop of the container failed (its engine was down): a kill asked again tries it again. */
  private stopFailed = false;
  private health: HealthChecker | null = null;
  /** Set when a failing health check asked for the kill: the message of the terminal update. */
  private healthKill: string | null = null;
  /** Why the task is being killed when it is not on request (the agent draining): its TASK_KILLED says so. */
  private killWhy: { readonly reason: TaskStatusIn['reason']; readonly message: string } | null = null;
  private readonly launchAbort = new AbortController();
  /** The removal of the container once the task ended (the terminal update is written down first). */
  private removal: Promise<void> | null = null;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  /** `task` and `resources` come from checkTask(): the runner trusts them. */
  constructor(
    private readonly ctx: RunnerContext,
    readonly framework: FrameworkInfoOut,
    readonly task: TaskInfoOut,
    readonly resources: Resources,
  ) {
    this.sandbox = sandboxPath(ctx.workDir, this.frameworkId, this.taskId);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** The ids this runner's log lines carry. */
  private fields(): { framework_id: string; task_id: string } {
    return { framework_id: this.frameworkId, task_id: this.taskId };
  }

  get frameworkId(): string {
    return this.framework.id?.value ?? '';
  }

  get taskId(): string {
    return this.task.task_id?.value ?? '';
  }

  /** Resolves when the task reached a terminal state. */
  finished(): Promise<void> {
    return this.done;
  }

  async run(): Promise<void> {
    void this.report('TASK_STARTING');
    const spec = containerSpec({ ...this.ctx, agentId: this.ctx.agentId() }, this.framework, this.task, this.resources);
    try {
      mkdirSync(this.sandbox, { recursive: true });
      traceLaunch(this.taskId, 'agent: launching');
      this.containerId = await this.ctx.driver.launch(spec, {
        signal: this.launchAbort.signal,
        trace: (hop) => traceLaunch(this.taskId, hop),
        beforeStart: () => this.written(),
      });
    } catch (err) {
      if (this.killGrace !== null) return this.report('TASK_KILLED', { reason: 'REASON_TASK_KILLED_DURING_LAUNCH', message: 'killed before its container started' });
      const message = err instanceof LaunchError ? err.message : `launch failed: ${errorMessage(err)}`;
      // As Mesos: a root filesystem that could not be provisioned is a failed launch too; the message names the image and the store.
      return this.report('TASK_FAILED', { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message, source: 'SOURCE_AGENT' });
    }
    this.pid = (await this.ctx.driver.inspect(this.containerId).catch(() => null))?.pid ?? null;
    // A kill that came while the container was being started stops it now.
    if (this.killGrace !== null) void this.stopContainer(this.killGrace);
    else {
      void this.report('TASK_RUNNING');
      this.startHealthChecks();
    }
    // The container id is written down after TASK_RUNNING (a task's writes are done in order), so
    // RUNNING is not held up by it. Until it is on disk, a restarted agent finds the container by
    // its labels, or by the id the RUNNING update carries.
    this.ctx.launched(this);
    await this.watch(this.containerId, spec.memMiB);
  }

  /** The task's checkpoint, before its container starts. */
  private async written(): Promise<void> {
    try {
      await this.ctx.written?.(this);
    } catch (err) {
      throw new LaunchError(`cannot write the task's checkpoint: ${errorMessage(err)}`, false, { cause: err });
    }
  }

  /**
   * Takes the task back after an agent restart: `last` is its last update
   * (null if it had none), `containerId` its container as the checkpoint or
   * the container labels know it (null if none was found).
   */
  async resume(last: TaskStatusOut | null, containerId: string | null): Promise<void> {
    this.state = last?.state ?? 'TASK_STAGING';
    this.lastStatus = last;
    if (last) this.statuses.push(last);
    if (isTerminal(this.state)) return this.resolveDone();
    if (this.state === 'TASK_KILLING') this.killGrace = graceSeconds(this.task.kill_policy) ?? this.ctx.killGraceSeconds;
    const info = containerId
      ? await this.ctx.driver.reattach(containerId, {
          stdoutPath: join(this.sandbox, 'stdout'), stderrPath: join(this.sandbox, 'stderr'), sinceSeconds: this.outputWrittenUntil(),
        })
      : null;
    if (!info) {
      // A container found but never started (the agent stopped while it waited for its turn) is removed by reattach too.
      const message = containerId ? 'its container is gone (never started, or removed while the agent was down)' : 'the agent stopped while launching it';
      return this.report('TASK_FAILED', { reason: containerId ? 'REASON_EXECUTOR_TERMINATED' : 'REASON_CONTAINER_LAUNCH_FAILED', message, source: 'SOURCE_AGENT' });
    }
    this.containerId = info.id;
    this.pid = info.pid ?? null;
    if (this.killGrace !== null) void this.stopContainer(this.killGrace); // A kill was under way: finish it.
    else if (info.running) {
      // Checking goes on from the health last reported, if any (the checkpoint decodes an absent `healthy` as false).
      const previous = this.state === 'TASK_RUNNING' && last?.reason === 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' ? last.healthy : undefined;
      if (this.state !== 'TASK_RUNNING') void this.report('TASK_RUNNING');
      this.startHealthChecks(previous);
    }
    await this.watch(info.id, this.resources.scalar('mem'));
  }

  /** The agent stops without killing its tasks: health checking stops too (a restarted agent resumes it). */
  detach(): void {
    this.health?.stop();
  }

  private startHealthChecks(previous?: boolean): void {
    const check = this.task.health_check;
    if (!check || !this.containerId || this.health) return;
    const name = describeHealthCheck(check);
    this.health = new HealthChecker({
      name, policy: healthPolicy(check), now: this.ctx.now, onResult: (result) => this.healthChanged(result),
      probe: healthProbe(check, { driver: this.ctx.driver, containerId: this.containerId }),
      ...(previous !== undefined ? { previous } : {}),
    });
    this.health.start();
  }

  private healthChanged(result: HealthResult): void {
    if (this.state !== 'TASK_RUNNING' || this.killGrace !== null) return;
    void this.report('TASK_RUNNING', { healthy: result.healthy, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', message: result.message });
    if (!result.kill) return;
    this.ctx.logger().info(this.fields(), `killing task ${this.taskId}: ${result.message}`);
    this.healthKill = `killed: ${result.message}`;
    this.kill();
  }

  private async watch(containerId: string, memMiB: number): Promise<void> {
    const exit = await this.ctx.driver.wait(containerId);
    this.pid = null;
    // The terminal update is on disk before the container goes: an agent killed in between finds the
    // task ended (and removes its container as an orphan), never a running task whose container vanished.
    this.removal = this.reportExit(exit, memMiB)
      .then(() => this.ctx.driver.remove(containerId))
      .catch((err) => this.ctx.logger().warn({ ...this.fields(), err }, `removing the container of task ${this.taskId}: ${errorMessage(err)}`));
    await this.removal;
  }

  /** Settles once the container of a task that ended is removed (at once while it has not ended). */
  containerRemoved(): Promise<void> {
    return this.removal ?? Promise.resolve();
  }

  /** Where the sandbox's output ends (epoch seconds): the container's own log is replayed from there. */
  private outputWrittenUntil(): number {
    try {
      return Math.max(...['stdout', 'stderr'].map((f) => statSync(join(this.sandbox, f)).mtimeMs / 1000));
    } catch {
      return 0;
    }
  }

  /** SIGTERM, then SIGKILL after the grace period: the kill's, else the task's kill_policy, else the agent's flag. */
  kill(killGraceSeconds?: number, why?: { readonly reason: TaskStatusIn['reason']; readonly message: string }): void {
    if (isTerminal(this.state)) return;
    if (this.killGrace !== null) {
      // Under way already; a stop that failed (the engine was down) is tried again, as Mesos forwards a repeated kill.
      if (this.stopFailed && this.containerId) void this.stopContainer(this.killGrace);
      return;
    }
    if (why) this.killWhy = why;
    this.health?.stop();
    this.killGrace = killGraceSeconds ?? graceSeconds(this.task.kill_policy) ?? this.ctx.killGraceSeconds;
    if (this.framework.capabilities.some((c) => c.type === 'TASK_KILLING_STATE')) void this.report('TASK_KILLING');
    if (this.containerId) void this.stopContainer(this.killGrace);
    else this.launchAbort.abort(new Error('task killed during launch'));
  }

  private async stopContainer(grace: number): Promise<void> {
    this.stopFailed = false;
    try {
      await this.ctx.driver.stop(this.containerId!, grace);
    } catch (err) {
      this.stopFailed = true;
      this.ctx.logger().warn({ ...this.fields(), err }, `stopping task ${this.taskId} (tried again on the next kill): ${errorMessage(err)}`);
    }
  }

  private reportExit(exit: ContainerExit, memMiB: number): Promise<void> {
    if (this.healthKill !== null) {
      return this.report('TASK_KILLED', { healthy: false, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', message: this.healthKill });
    }
    if (this.killGrace !== null) return this.report('TASK_KILLED', this.killWhy ?? { message: 'killed on request' });
    if (exit.oomKilled) {
      return this.report('TASK_FAILED', {
        reason: 'REASON_CONTAINER_LIMITATION_MEMORY',
        message: `memory limit of ${memMiB} MB exceeded (OOM killed)`,
        limitation: { resources: Resources.scalars({ mem: memMiB }).toProto() },
      });
    }
    if (exit.engineRestarted) {
      // As Mesos reports an executor that terminated with no state of its own: LOST, or GONE to a partition-aware framework.
      const partitionAware = this.framework.capabilities.some((c) => c.type === 'PARTITION_AWARE');
      return this.report(partitionAware ? 'TASK_GONE' : 'TASK_LOST', {
        reason: 'REASON_EXECUTOR_TERMINATED', source: 'SOURCE_AGENT',
        message: `its container was stopped by a restart of the container engine (exit status ${exit.exitCode}); the engine runs without live-restore`,
      });
    }
    if (exit.error !== undefined) {
      return this.report('TASK_FAILED', { reason: 'REASON_EXECUTOR_TERMINATED', message: `lost the container: ${exit.error}`, source: 'SOURCE_AGENT' });
    }
    if (exit.exitCode === 0) return this.report('TASK_FINISHED', { message: 'exited with status 0' });
    return this.report('TASK_FAILED', { reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: `exited with status ${exit.exitCode}` });
  }

  /** Sends an update; settles once it is written down. */
  private report(state: TaskState, extra: Partial<TaskStatusIn> = {}): Promise<void> {
    if (isTerminal(this.state)) return Promise.resolve();
    this.state = state;
    const status: TaskStatusIn = {
      task_id: { value: this.taskId },
      state,
      source: 'SOURCE_EXECUTOR',
      agent_id: { value: this.ctx.agentId() },
      executor_id: { value: this.taskId },
      timestamp: this.ctx.now(),
      ...(this.containerId ? { container_status: containerStatus(this.containerId, this.pid, this.ctx.ip) } : {}),
      ...extra,
    };
    this.lastStatus = status;
    this.statuses.push(status);
    if (isTerminal(state)) this.health?.stop();
    const written = this.ctx.emit(this.frameworkId, status) ?? Promise.resolve();
    if (isTerminal(state)) this.resolveDone();
    return written;
  }
}

/** ContainerStatus as Mesos's agent fills it: the container, its address (host networking: the agent's IP) and its init pid while it runs. */
export function containerStatus(containerId: string, pid: number | null, ip: string | undefined): NonNullable<TaskStatusIn['container_status']> {
  return {
    container_id: { value: containerId },
    ...(ip ? { network_infos: [{ ip_addresses: [{ protocol: ip.includes(':') ? 'IPv6' : 'IPv4', ip_address: ip }] }] } : {}),
    ...(pid !== null ? { executor_pid: pid } : {}),
  };
}
