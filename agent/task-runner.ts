// One task on this agent, from RunTask to its terminal update:
//
//   (RunTask) ──> STARTING ──launch──> RUNNING ──exit 0──> FINISHED
//        │            │                   ├──exit n──> FAILED (status n, or OOM)
//        │            └──launch error──> FAILED (REASON_CONTAINER_LAUNCH_FAILED)
//        └──invalid──> ERROR              └──kill──> [KILLING] ──> KILLED
//
// The runner only produces updates; the status update manager delivers them.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameworkInfoOut, TaskInfoOut, TaskStatusIn, TaskState } from '../proto/index.js';
import { Resources, rangeValues } from '../common/resources.js';
import { errorMessage } from '../common/errors.js';
import { isTerminal } from '../common/task-state.js';
import { LaunchError, type ContainerDriver, type ContainerExit, type ContainerSpec } from './driver/driver.js';

export interface RunnerContext {
  readonly driver: ContainerDriver;
  readonly agentId: () => string;
  readonly hostname: string;
  readonly workDir: string;
  readonly defaultImage: string;
  readonly pidsLimit: number;
  readonly killGraceSeconds: number;
  readonly now: () => number;
  readonly emit: (frameworkId: string, status: TaskStatusIn) => void;
  readonly log: (line: string) => void;
}

export const LABEL = {
  agentId: 'mesos-ts.agent_id',
  frameworkId: 'mesos-ts.framework_id',
  taskId: 'mesos-ts.task_id',
  workDir: 'mesos-ts.work_dir',
} as const;

type Reason = NonNullable<TaskStatusIn['reason']>;

export class TaskRunner {
  state: TaskState = 'TASK_STAGING';
  containerId: string | null = null;
  readonly resources: Resources;
  readonly sandbox: string;
  private killGrace: number | null = null;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly ctx: RunnerContext,
    readonly framework: FrameworkInfoOut,
    readonly task: TaskInfoOut,
  ) {
    this.resources = safeResources(task);
    this.sandbox = join(ctx.workDir, 'sandboxes', encodeURIComponent(this.frameworkId), encodeURIComponent(this.taskId));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
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
    const problem = this.validate();
    if (problem) return this.report('TASK_ERROR', { reason: 'REASON_TASK_INVALID', message: problem, source: 'SOURCE_AGENT' });
    this.report('TASK_STARTING');
    let spec: ContainerSpec;
    try {
      mkdirSync(this.sandbox, { recursive: true });
      spec = this.containerSpec();
      this.containerId = await this.ctx.driver.launch(spec);
    } catch (err) {
      const message = err instanceof LaunchError ? err.message : `launch failed: ${errorMessage(err)}`;
      return this.report('TASK_FAILED', { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message, source: 'SOURCE_AGENT' });
    }
    if (this.killGrace !== null) void this.stopContainer(this.killGrace);
    else this.report('TASK_RUNNING');
    const exit = await this.ctx.driver.wait(this.containerId);
    await this.ctx.driver.remove(this.containerId).catch((err) => this.ctx.log(`removing container of ${this.taskId}: ${errorMessage(err)}`));
    this.reportExit(exit, spec);
  }

  /** SIGTERM, then SIGKILL after the grace period (the kill's, the task's, or the agent's default). */
  kill(graceSeconds?: number): void {
    if (isTerminal(this.state) || this.killGrace !== null) return;
    const taskGrace = this.task.kill_policy?.grace_period?.nanoseconds;
    this.killGrace = graceSeconds ?? (taskGrace ? Number(taskGrace) / 1e9 : this.ctx.killGraceSeconds);
    if (this.framework.capabilities.some((c) => c.type === 'TASK_KILLING_STATE')) this.report('TASK_KILLING');
    if (this.containerId) void this.stopContainer(this.killGrace);
    // Not launched yet: run() stops the container as soon as it exists.
  }

  private async stopContainer(grace: number): Promise<void> {
    try {
      await this.ctx.driver.stop(this.containerId!, grace);
    } catch (err) {
      this.ctx.log(`stopping task ${this.taskId}: ${errorMessage(err)}`);
    }
  }

  private reportExit(exit: ContainerExit, spec: ContainerSpec): void {
    if (this.killGrace !== null) return this.report('TASK_KILLED', { message: 'killed on request' });
    if (exit.oomKilled) {
      return this.report('TASK_FAILED', {
        reason: 'REASON_CONTAINER_LIMITATION_MEMORY',
        message: `memory limit of ${spec.memMiB} MB exceeded (OOM killed)`,
        limitation: { resources: Resources.scalars({ mem: spec.memMiB }).toProto() },
      });
    }
    if (exit.error) return this.report('TASK_FAILED', { reason: 'REASON_EXECUTOR_TERMINATED', message: `lost the container: ${exit.error}` });
    if (exit.exitCode === 0) return this.report('TASK_FINISHED', { message: 'exited with status 0' });
    this.report('TASK_FAILED', { reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: `exited with status ${exit.exitCode}` });
  }

  private report(state: TaskState, extra: Partial<TaskStatusIn> = {}): void {
    if (isTerminal(this.state)) return;
    this.state = state;
    const status: TaskStatusIn = {
      task_id: { value: this.taskId },
      state,
      source: 'SOURCE_EXECUTOR',
      agent_id: { value: this.ctx.agentId() },
      executor_id: { value: this.taskId },
      timestamp: this.ctx.now(),
      ...(this.containerId ? { container_status: { container_id: { value: this.containerId } } } : {}),
      ...extra,
    };
    this.ctx.emit(this.frameworkId, status);
    if (isTerminal(state)) this.resolveDone();
  }

  private validate(): string | null {
    if (!this.taskId) return 'TaskInfo.task_id is required';
    if (!this.frameworkId) return 'RunTask.framework.id is required';
    if (this.resources.scalar('cpus') <= 0) return 'TaskInfo.resources must include cpus > 0';
    if (this.resources.scalar('mem') < 4) return `TaskInfo.resources must include mem >= 4 (MB), got ${this.resources.scalar('mem')}`;
    const cmd = this.task.command;
    if (!cmd && !this.task.container?.docker?.image) return 'TaskInfo.command or TaskInfo.container.docker.image is required';
    if (cmd && cmd.shell && !cmd.value) return 'TaskInfo.command.value is required for a shell command';
    return null;
  }

  private containerSpec(): ContainerSpec {
    const ports = rangeValues(this.resources.ranges('ports'));
    const env: Record<string, string> = {
      MESOS_TASK_ID: this.taskId,
      MESOS_FRAMEWORK_ID: this.frameworkId,
      MESOS_AGENT_ID: this.ctx.agentId(),
      HOST: this.ctx.hostname,
    };
    ports.forEach((p, i) => (env[`PORT${i}`] = String(p)));
    if (ports.length > 0) {
      env.PORT = String(ports[0]);
      env.PORTS = ports.join(',');
    }
    for (const v of this.task.command?.environment?.variables ?? []) if (v.name) env[v.name] = v.value;
    return {
      image: this.task.container?.docker?.image || this.ctx.defaultImage,
      argv: commandArgv(this.task),
      env,
      labels: {
        [LABEL.agentId]: this.ctx.agentId(),
        [LABEL.frameworkId]: this.frameworkId,
        [LABEL.taskId]: this.taskId,
        [LABEL.workDir]: this.ctx.workDir,
      },
      cpus: this.resources.scalar('cpus'),
      memMiB: this.resources.scalar('mem'),
      pidsLimit: this.ctx.pidsLimit,
      stdoutPath: join(this.sandbox, 'stdout'),
      stderrPath: join(this.sandbox, 'stderr'),
    };
  }
}

/** Mesos semantics: shell runs `/bin/sh -c value`; otherwise `value` is the program and `arguments` its argv. */
export function commandArgv(task: TaskInfoOut): string[] {
  const cmd = task.command;
  if (!cmd || (!cmd.value && cmd.arguments.length === 0)) return [];
  if (cmd.shell) return ['/bin/sh', '-c', cmd.value];
  if (cmd.arguments.length === 0) return [cmd.value];
  return [cmd.value || cmd.arguments[0]!, ...cmd.arguments.slice(1)];
}

function safeResources(task: TaskInfoOut): Resources {
  try {
    return Resources.fromProto(task.resources, 'TaskInfo.resources');
  } catch {
    return Resources.EMPTY;
  }
}
