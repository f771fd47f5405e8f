// An agent that runs nothing: it speaks the real agent link
// (agent/master-link.ts) and keeps its status updates in the real
// StatusUpdateManager (resent until acknowledged, one in flight per task),
// but each task it is given just walks through `script` (RUNNING by
// default), and a kill ends it KILLED. For benchmarks of the
// master and the scheduler APIs where containers would only add noise.
import type { MasterMessageOut, ResourceIn, TaskIn, TaskState } from '../../proto/index.js';
import { MasterLink } from '../../agent/master-link.js';
import { StatusUpdateManager } from '../../agent/status-update-manager.js';
import { Resources } from '../../common/resources.js';
import { isTerminal } from '../../common/task-state.js';
import { VERSION } from '../../common/version.js';
import type { Credential } from '../../common/credentials.js';
import type { Tls } from '../../common/tls.js';
import { silentLogger } from '../../common/log/logger.js';

export interface LinkAgentOptions {
  /** The master's gRPC address. */
  readonly master: string;
  readonly resources: string;
  readonly hostname?: string;
  /** The states each task reports in turn, each after the previous one is acknowledged. */
  readonly script?: readonly TaskState[];
  /** Seconds before an unacknowledged update is resent (doubling). */
  readonly retrySeconds?: number;
  /** Presented to a master that authenticates agents. */
  readonly credential?: Credential;
  /** The link's TLS, for a master with LIBPROCESS_SSL_ENABLED. */
  readonly tls?: Tls | null;
  /**
   * Report its tasks when it (re-)registers, as a real agent does (agent.ts): those not ended or with an update not
   * yet acknowledged, each with its latest state and the update in flight (status_update_state/uuid). Default: none.
   */
  readonly reportTasks?: boolean;
}

export interface LinkAgentTask {
  readonly frameworkId: string;
  readonly taskId: string;
  state: TaskState;
  /** As the master sent them (reported back at re-registration). */
  readonly resources?: ResourceIn[];
}

export class LinkAgent {
  /** Every task the master sent, by framework/task. */
  readonly tasks = new Map<string, LinkAgentTask>();
  /** Acknowledgements that matched an update in flight. */
  acknowledged = 0;
  /** Called for each such acknowledgement. */
  onAcknowledged: () => void = () => {};
  agentId: string | null = null;
  /** Issued by the master with the AgentID; presented when re-registering, as a real agent does. */
  secret = '';
  private readonly link: MasterLink;
  private readonly updates: StatusUpdateManager;
  private registered: () => void = () => {};

  constructor(private readonly options: LinkAgentOptions) {
    this.updates = new StatusUpdateManager({
      send: (u) => this.link.send({ status_update: { framework_id: { value: u.frameworkId }, status: u.status } }),
      retrySeconds: options.retrySeconds ?? 10,
    });
    this.link = new MasterLink({
      master: options.master,
      ...(options.credential ? { credential: options.credential } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      registration: () => ({
        agent_info: {
          hostname: options.hostname ?? '127.0.0.1', port: 5051, resources: Resources.parse(options.resources).toProto(), attributes: [],
          ...(this.agentId ? { id: { value: this.agentId } } : {}),
        },
        tasks: options.reportTasks ? this.reported() : [], frameworks: [], version: VERSION, secret: this.secret,
      }),
      onMessage: (m) => this.receive(m),
      logger: silentLogger(),
    });
  }

  /** Registers; resolves with the AgentID. */
  start(): Promise<string> {
    const registered = new Promise<void>((resolve) => (this.registered = resolve));
    this.link.connect();
    return registered.then(() => this.agentId!);
  }

  stop(): void {
    this.updates.stop();
    this.link.stop();
  }

  private reported(): TaskIn[] {
    return [...this.tasks.values()].flatMap((t) => {
      const head = this.updates.head(t.frameworkId, t.taskId);
      if (isTerminal(t.state) && !head) return [];
      return [{
        task_id: { value: t.taskId }, framework_id: { value: t.frameworkId }, name: t.taskId, state: t.state, resources: t.resources ?? [], statuses: [],
        ...(head?.status.state ? { status_update_state: head.status.state, status_update_uuid: head.status.uuid } : {}),
      }];
    });
  }

  /** Drops the link and registers again on a new one (what a network blip makes a real agent do). */
  reconnect(): Promise<void> {
    const registered = new Promise<void>((resolve) => (this.registered = resolve));
    this.link.reconnect();
    return registered;
  }

  /** Updates not yet acknowledged. */
  pending(): number {
    return this.updates.pending().length;
  }

  private receive(message: MasterMessageOut): void {
    switch (message.kind) {
      case 'registered':
        this.agentId = message.registered!.agent_id!.value;
        this.secret = message.registered!.secret || this.secret;
        this.updates.resendAll();
        return this.registered();
      case 'run_task': {
        const frameworkId = message.run_task!.framework!.id!.value;
        const taskId = message.run_task!.task!.task_id!.value;
        const task: LinkAgentTask = { frameworkId, taskId, state: 'TASK_STAGING', resources: message.run_task!.task!.resources as ResourceIn[] };
        this.tasks.set(`${frameworkId}/${taskId}`, task);
        for (const state of this.options.script ?? ['TASK_RUNNING']) this.report(task, state);
        return;
      }
      case 'kill_task':
        return this.kill(message.kill_task!.framework_id!.value, message.kill_task!.task_id!.value);
      case 'shutdown_framework':
        for (const t of this.tasks.values()) if (t.frameworkId === message.shutdown_framework!.framework_id!.value) this.kill(t.frameworkId, t.taskId);
        return;
      case 'acknowledgement': {
        const ack = message.acknowledgement!;
        if (this.updates.acknowledge(ack.framework_id!.value, ack.task_id!.value, ack.uuid)) {
          this.acknowledged++;
          this.onAcknowledged();
        }
        return;
      }
      default:
        return;
    }
  }

  /** Sends an update for any task, as a misbehaving agent might (tests of what the master accepts). */
  sendUpdate(frameworkId: string, taskId: string, state: TaskState): void {
    this.report({ frameworkId, taskId, state }, state);
  }

  private kill(frameworkId: string, taskId: string): void {
    const task = this.tasks.get(`${frameworkId}/${taskId}`);
    if (task && !isTerminal(task.state)) this.report(task, 'TASK_KILLED');
  }

  private report(task: LinkAgentTask, state: TaskState): void {
    task.state = state;
    this.updates.update(task.frameworkId, {
      task_id: { value: task.taskId }, agent_id: { value: this.agentId! }, state, source: 'SOURCE_EXECUTOR', timestamp: Date.now() / 1000,
    });
  }
}
