// The agent: keeps the link to the master, runs a TaskRunner per task and
// delivers their status updates reliably.
//
//   master ──RunTask──> Agent ──> TaskRunner ──> ContainerDriver (Docker)
//                         ^            │ updates
//   master <──StatusUpdate── StatusUpdateManager <──┘  (resent until acked)
import type { AttributeIn, FrameworkInfoOut, MasterMessageOut, TaskIn } from '../proto/index.js';
import type { RegisterAgent } from '../proto/gen/mesos_ts/internal/RegisterAgent.js';
import type { Clock } from '../common/clock.js';
import type { Resources } from '../common/resources.js';
import { isTerminal } from '../common/task-state.js';
import { errorMessage } from '../common/errors.js';
import type { ContainerDriver } from './driver/driver.js';
import { MasterLink } from './master-link.js';
import { StatusUpdateManager } from './status-update-manager.js';
import { LABEL, TaskRunner, type RunnerContext } from './task-runner.js';
import { VERSION } from '../common/version.js';

export interface AgentOptions {
  readonly master: string;
  readonly hostname: string;
  readonly httpPort: number;
  readonly workDir: string;
  readonly resources: Resources;
  readonly attributes: AttributeIn[];
  readonly driver: ContainerDriver;
  readonly defaultImage: string;
  readonly pidsLimit: number;
  readonly killGraceSeconds: number;
  readonly statusUpdateRetrySeconds: number;
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

export class Agent {
  id: string | null = null;
  readonly runners = new Map<string, TaskRunner>();
  readonly frameworks = new Map<string, FrameworkInfoOut>();
  readonly updates: StatusUpdateManager;
  private readonly link: MasterLink;
  private readonly ctx: RunnerContext;
  /** Bumped on every change; the HTTP /state caches per version. */
  version = 0;

  constructor(readonly options: AgentOptions) {
    this.updates = new StatusUpdateManager(
      (u) => this.link.send({ status_update: { framework_id: { value: u.frameworkId }, status: u.status } }),
      options.statusUpdateRetrySeconds,
    );
    this.link = new MasterLink({
      master: options.master,
      registration: () => this.registration(),
      onMessage: (m) => this.onMessage(m),
      onDisconnected: (why) => this.log(`lost the master (${why})`),
      log: (line) => this.log(line),
    });
    this.ctx = {
      driver: options.driver, agentId: () => this.id ?? '', hostname: options.hostname, workDir: options.workDir,
      defaultImage: options.defaultImage, pidsLimit: options.pidsLimit, killGraceSeconds: options.killGraceSeconds,
      now: () => options.clock.now(), log: (line) => this.log(line),
      emit: (frameworkId, status) => {
        this.version++;
        this.updates.update(frameworkId, status);
      },
    };
  }

  log(line: string): void {
    this.options.log(`[agent ${this.id ?? 'unregistered'}] ${line}`);
  }

  async start(): Promise<void> {
    await this.removeContainers('orphaned container of an earlier run');
    this.link.connect();
  }

  async stop(killTasks: boolean): Promise<void> {
    this.link.stop();
    this.updates.stop();
    if (!killTasks) return;
    const running = [...this.runners.values()].filter((r) => !isTerminal(r.state));
    for (const r of running) r.kill(0);
    await Promise.race([Promise.all(running.map((r) => r.finished())), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    await this.removeContainers('container left at shutdown');
  }

  private async removeContainers(why: string): Promise<void> {
    const found = await this.options.driver.list({ [LABEL.workDir]: this.options.workDir });
    for (const c of found) {
      await this.options.driver.remove(c.id).catch((err) => this.log(`removing ${c.id}: ${errorMessage(err)}`));
      this.log(`${why} ${c.id.slice(0, 12)} (task ${c.labels[LABEL.taskId] ?? '?'}) removed`);
    }
  }

  private registration(): RegisterAgent {
    const tasks: TaskIn[] = [...this.runners.values()]
      .filter((r) => !isTerminal(r.state))
      .map((r) => ({
        name: r.task.name, task_id: r.task.task_id, framework_id: { value: r.frameworkId }, agent_id: { value: this.id ?? '' },
        state: r.state, resources: r.task.resources, container: r.task.container,
      }));
    return {
      agent_info: {
        hostname: this.options.hostname, port: this.options.httpPort, resources: this.options.resources.toProto(),
        attributes: this.options.attributes, ...(this.id ? { id: { value: this.id } } : {}),
      },
      tasks,
      frameworks: [...this.frameworks.values()],
      version: VERSION,
    };
  }

  private onMessage(message: MasterMessageOut): void {
    try {
      this.dispatch(message);
    } catch (err) {
      this.log(`could not handle ${message.kind ?? 'a message'} from the master: ${errorMessage(err)}`);
    }
    this.version++;
  }

  private dispatch(message: MasterMessageOut): void {
    switch (message.kind) {
      case 'registered': {
        const id = message.registered?.agent_id?.value ?? '';
        if (this.id !== id) this.log(`registered with the master as ${id}`);
        else this.log('re-registered with the master');
        this.id = id;
        return this.updates.resendAll();
      }
      case 'ping':
        this.link.send({ pong: { seq: message.ping?.seq ?? 0 } });
        return;
      case 'run_task':
        return this.runTask(message.run_task!);
      case 'kill_task':
        return this.killTask(message.kill_task!);
      case 'acknowledgement': {
        const ack = message.acknowledgement!;
        const frameworkId = ack.framework_id?.value ?? '';
        const taskId = ack.task_id?.value ?? '';
        this.updates.acknowledge(frameworkId, taskId, ack.uuid);
        const runner = this.runners.get(`${frameworkId}/${taskId}`);
        if (runner && isTerminal(runner.state) && !this.updates.latest(frameworkId, taskId)) this.runners.delete(`${frameworkId}/${taskId}`);
        return;
      }
      case 'shutdown_framework': {
        const frameworkId = message.shutdown_framework?.framework_id?.value ?? '';
        this.log(`shutting down framework ${frameworkId}`);
        for (const r of this.runners.values()) if (r.frameworkId === frameworkId) r.kill();
        return;
      }
      default:
        return;
    }
  }

  private runTask(run: NonNullable<MasterMessageOut['run_task']>): void {
    if (!run.framework || !run.task) return this.log('RunTask without framework or task; ignored');
    const runner = new TaskRunner(this.ctx, run.framework, run.task);
    const key = `${runner.frameworkId}/${runner.taskId}`;
    const existing = this.runners.get(key);
    if (existing && !isTerminal(existing.state)) return this.log(`task ${runner.taskId} already runs here; duplicate RunTask ignored`);
    this.frameworks.set(runner.frameworkId, run.framework);
    this.runners.set(key, runner);
    this.log(`launching task ${runner.taskId} of framework ${runner.frameworkId} (${runner.resources.toString()})`);
    runner.run().catch((err) => this.log(`task ${runner.taskId}: ${errorMessage(err)}`));
  }

  private killTask(kill: NonNullable<MasterMessageOut['kill_task']>): void {
    const frameworkId = kill.framework_id?.value ?? '';
    const taskId = kill.task_id?.value ?? '';
    const runner = this.runners.get(`${frameworkId}/${taskId}`);
    if (!runner) {
      this.ctx.emit(frameworkId, {
        task_id: { value: taskId }, state: 'TASK_LOST', source: 'SOURCE_AGENT', reason: 'REASON_TASK_UNKNOWN',
        agent_id: { value: this.id ?? '' }, timestamp: this.options.clock.now(), message: `task ${taskId} is unknown to agent ${this.id}`,
      });
      return;
    }
    const grace = kill.kill_policy?.grace_period?.nanoseconds;
    this.log(`killing task ${taskId}`);
    runner.kill(grace ? Number(grace) / 1e9 : undefined);
  }
}
