// A simulated agent for the load harness: the real agent link
// (agent/master-link.ts, following the leader in ZooKeeper when given one)
// and the real StatusUpdateManager, but no containers. Each task it is given
// reports TASK_STARTING then TASK_RUNNING, each sent once the one before is
// acknowledged; with `finishAfterMs` it reports TASK_FINISHED that long
// after RUNNING was acknowledged, so its resources go back to the master.
//
//   run_task ──> STARTING ──ack──> RUNNING ──ack──> (finishAfterMs) FINISHED ──ack──> gone
//
// Like test/harness/link-agent.ts, plus a hostname, attributes, the
// delayed FINISHED and timings of what the harness measures; kept apart so
// that the test harness stays as small as its tests need.
import type { FrameworkInfoOut, MasterMessageOut, TaskIn, TaskInfoOut, TaskState } from '../../proto/index.js';
import type { RegisterAgent } from '../../proto/gen/mesos_ts/internal/RegisterAgent.js';
import { MasterLink } from '../../agent/master-link.js';
import { StatusUpdateManager } from '../../agent/status-update-manager.js';
import { parseAttributes } from '../../agent/attributes.js';
import { Resources } from '../../common/resources.js';
import { isTerminal } from '../../common/task-state.js';
import { VERSION } from '../../common/version.js';
import { silentLogger } from '../../common/log/logger.js';

export interface SimAgentOptions {
  /** The master's gRPC address, or a zk:// URL with `leader`. */
  readonly master: string;
  readonly leader?: () => string | null;
  readonly hostname: string;
  readonly resources: string;
  /** `rack:r1;zone:a`, as --attributes. */
  readonly attributes: string;
  /** A TCP connection of its own to the master, as a real agent has (grpc-js otherwise shares one per worker process). */
  readonly ownConnection?: boolean;
  /** 0: tasks run until killed. */
  readonly finishAfterMs: number;
  /** What the agent reports to its worker. */
  readonly observer: SimAgentObserver;
}

export interface SimAgentObserver {
  registered(agent: SimAgent, reregistered: boolean): void;
  /** A task arrived (RunTask). */
  taskReceived(taskId: string): void;
  /** An update went to the master (again, when it is resent). */
  updateSent?(state: TaskState, taskId: string): void;
  /** An acknowledgement that matched the update in flight, with the state it acknowledged. */
  acknowledged(state: TaskState, taskId: string): void;
}

interface SimTask {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly info: TaskInfoOut;
  state: TaskState;
}

export class SimAgent {
  agentId: string | null = null;
  private secret = '';
  private readonly link: MasterLink;
  private readonly updates: StatusUpdateManager;
  private readonly tasks = new Map<string, SimTask>();
  /** The FrameworkInfo of each framework with a task here, as RunTask carried it. */
  private readonly frameworks = new Map<string, FrameworkInfoOut>();
  private readonly agentInfo: RegisterAgent['agent_info'];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: SimAgentOptions) {
    this.updates = new StatusUpdateManager({
      send: (u) => {
        this.options.observer.updateSent?.(u.status.state as TaskState, u.status.task_id?.value ?? '');
        return this.link.send({ status_update: { framework_id: { value: u.frameworkId }, status: u.status } });
      },
      retrySeconds: 10,
    });
    this.agentInfo = {
      hostname: options.hostname, port: 5051, resources: Resources.parse(options.resources).toProto(), attributes: parseAttributes(options.attributes),
    };
    this.link = new MasterLink({
      master: options.master,
      ...(options.leader ? { leader: options.leader } : {}),
      registration: () => this.registration(),
      ...(options.ownConnection ? { channelOptions: { 'grpc.use_local_subchannel_pool': 1 } } : {}),
      onMessage: (m) => this.receive(m),
      logger: silentLogger(),
    });
  }

  start(): void {
    this.link.connect();
  }

  /** The leader changed (ZooKeeper): dial it now. */
  leaderChanged(): void {
    this.link.reconnect();
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.updates.stop();
    this.link.stop();
  }

  /** Updates sent and not yet acknowledged. */
  pending(): number {
    return this.updates.pending().length;
  }

  /**
   * RegisterAgent, as agent/agent.ts builds it: a re-registering agent lists
   * its tasks (those ended but not yet acknowledged too), each with the state
   * and uuid of its update in flight, and the frameworks they belong to.
   */
  registration(): RegisterAgent {
    const tasks: TaskIn[] = [...this.tasks.values()].map((t) => {
      const head = this.updates.head(t.frameworkId, t.taskId);
      return {
        ...(head?.status.state ? { status_update_state: head.status.state, status_update_uuid: head.status.uuid } : {}),
        name: t.info.name, task_id: t.info.task_id, framework_id: { value: t.frameworkId }, agent_id: { value: this.agentId ?? '' },
        executor_id: { value: t.taskId }, state: t.state, resources: t.info.resources, statuses: [],
      };
    });
    const frameworkIds = new Set(tasks.map((t) => t.framework_id?.value));
    return {
      agent_info: { ...this.agentInfo, ...(this.agentId ? { id: { value: this.agentId } } : {}) },
      tasks, frameworks: [...this.frameworks].filter(([id]) => frameworkIds.has(id)).map(([, info]) => info),
      version: VERSION, secret: this.secret,
    };
  }

  private receive(message: MasterMessageOut): void {
    switch (message.kind) {
      case 'registered': {
        const again = this.agentId !== null;
        this.agentId = message.registered!.agent_id!.value;
        this.secret = message.registered!.secret || this.secret;
        this.updates.resendAll();
        return this.options.observer.registered(this, again);
      }
      case 'run_task': {
        const frameworkId = message.run_task!.framework!.id!.value;
        const taskId = message.run_task!.task!.task_id!.value;
        const task: SimTask = { frameworkId, taskId, info: message.run_task!.task!, state: 'TASK_STAGING' };
        this.frameworks.set(frameworkId, message.run_task!.framework!);
        this.tasks.set(`${frameworkId}/${taskId}`, task);
        this.options.observer.taskReceived(taskId);
        this.report(task, 'TASK_STARTING');
        this.report(task, 'TASK_RUNNING');
        return;
      }
      case 'kill_task':
        return this.end(message.kill_task!.framework_id!.value, message.kill_task!.task_id!.value, 'TASK_KILLED');
      case 'shutdown_framework': {
        const id = message.shutdown_framework!.framework_id!.value;
        for (const t of [...this.tasks.values()]) if (t.frameworkId === id) this.end(t.frameworkId, t.taskId, 'TASK_KILLED');
        return;
      }
      case 'acknowledgement':
        return this.acknowledged(message.acknowledgement!.framework_id!.value, message.acknowledgement!.task_id!.value, message.acknowledgement!.uuid);
      default:
        return;
    }
  }

  private acknowledged(frameworkId: string, taskId: string, uuid: Buffer): void {
    const key = `${frameworkId}/${taskId}`;
    const head = this.updates.pending().find((u) => u.frameworkId === frameworkId && u.status.task_id?.value === taskId);
    if (!this.updates.acknowledge(frameworkId, taskId, uuid)) return;
    const state = (head?.status.state ?? 'TASK_RUNNING') as TaskState;
    this.options.observer.acknowledged(state, taskId);
    const task = this.tasks.get(key);
    if (!task) return;
    if (state === 'TASK_RUNNING' && this.options.finishAfterMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.end(frameworkId, taskId, 'TASK_FINISHED');
      }, this.options.finishAfterMs);
      this.timers.add(timer);
    }
    if (isTerminal(state)) this.forget(key, frameworkId);
  }

  private forget(key: string, frameworkId: string): void {
    this.tasks.delete(key);
    if (![...this.tasks.values()].some((t) => t.frameworkId === frameworkId)) this.frameworks.delete(frameworkId);
  }

  private end(frameworkId: string, taskId: string, state: TaskState): void {
    const task = this.tasks.get(`${frameworkId}/${taskId}`);
    if (task && !isTerminal(task.state)) this.report(task, state);
  }

  private report(task: SimTask, state: TaskState): void {
    task.state = state;
    this.updates.update(task.frameworkId, {
      task_id: { value: task.taskId }, agent_id: { value: this.agentId! }, state, source: 'SOURCE_EXECUTOR', timestamp: Date.now() / 1000,
    });
  }
}
