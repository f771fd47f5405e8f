// A load framework of the fault run, as a process of its own (so the nemesis
// can SIGKILL and SIGSTOP it): it follows the leading master through
// ZooKeeper, keeps a few short and long tasks alive, kills long ones now and
// then, acknowledges every update, and records each call, answer, update and
// offer in the shared history. Started again with the same framework id
// after a SIGKILL, it fails over and adopts the tasks the master still knows
// (an implicit reconciliation). SIGUSR1 asks it to stop launching and
// killing (the run is ending); SIGTERM ends it without tearing it down.
//
//   tsx test/nemesis/load-framework.ts '<LoadConfig as JSON>'
import { writeFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { Scheduler, dockerTask, silentLogger, type SchedulerEvent } from '../../framework/sdk/index.js';
import { Resources } from '../../common/resources.js';
import { isTerminal, type TaskState } from '../../common/task-state.js';
import { seededRandom } from '../../master/allocator/seeded-random.js';
import { HistoryWriter, totalsOf, type CallOp, type CallResult, type HistoryEntry } from './history.js';
import type { OfferOut } from '../../proto/index.js';

export interface LoadConfig {
  /** zk://host:port/path of the masters. */
  readonly master: string;
  readonly name: string;
  /** This process's name in the history (fw-1, ...). */
  readonly proc: string;
  readonly history: string;
  /** Written with the framework id once subscribed, for the restart after a SIGKILL. */
  readonly frameworkIdFile: string;
  readonly frameworkId?: string;
  /** Counts the restarts: task ids of each incarnation differ. */
  readonly incarnation: number;
  readonly seed: number;
  readonly image: string;
  /** Tasks alive at most at once. */
  readonly maxTasks: number;
  /** Declares PARTITION_AWARE: tasks of an unreachable agent are TASK_UNREACHABLE (and RUNNING again, or GONE), not LOST. */
  readonly partitionAware?: boolean;
}

type Kind = 'short' | 'long';
const TASK_RESOURCES = Resources.parse('cpus:0.1;mem:16');
const RE_KILL_MS = 8000;

function resultOf(err: unknown): { result: CallResult; error: string } {
  const cause = (err as { cause?: { code?: number } }).cause;
  const timeout = cause?.code === grpc.status.DEADLINE_EXCEEDED;
  return { result: timeout ? 'timeout' : 'error', error: err instanceof Error ? err.message : String(err) };
}

export async function runLoadFramework(config: LoadConfig): Promise<void> {
  const history = new HistoryWriter(config.history, config.proc);
  const random = seededRandom(config.seed ^ (config.incarnation * 7919));
  const scheduler = new Scheduler({
    master: config.master, framework: {
      name: config.name, id: config.frameworkId, failoverTimeoutSeconds: 3600, ...(config.partitionAware && { capabilities: ['PARTITION_AWARE'] }),
    },
    autoAcknowledge: false, logger: silentLogger, reconnect: { initialDelayMs: 100, maxDelayMs: 1000 }, random,
  });
  const live = new Map<string, { kind: Kind; state: string; agentId: string; killAskedAt: number | null }>();
  let frameworkId = config.frameworkId ?? '';
  let callSeq = 0;
  let taskSeq = 0;
  let quiescing = false;

  /** Records the call, sends it, records the answer; never throws. */
  const call = async (op: CallOp, fields: Omit<Extract<HistoryEntry, { type: 'call' }>, 'type' | 'id' | 'op'>, send: () => Promise<void>): Promise<boolean> => {
    const id = `${config.proc}.${config.incarnation}.${callSeq++}`;
    history.record({ type: 'call', id, op, frameworkId, ...fields });
    try {
      await send();
      history.record({ type: 'answer', id, op, result: 'ok', frameworkId });
      return true;
    } catch (err) {
      history.record({ type: 'answer', id, op, frameworkId, ...resultOf(err) });
      return false;
    }
  };

  const onOffer = (offer: OfferOut) => {
    const agentId = offer.agent_id!.value;
    const offerId = offer.id!.value;
    history.record({ type: 'offer', frameworkId, offerId, agentId, resources: totalsOf(offer.resources) });
    if (quiescing || live.size >= config.maxTasks) {
      void call('DECLINE', { offerIds: [offerId] }, () => scheduler.decline(offer, { refuseSeconds: 1 }));
      return;
    }
    const kind: Kind = random() < 0.5 ? 'long' : 'short';
    const taskId = `${config.proc}-${config.incarnation}-${taskSeq++}`;
    const command = kind === 'long' ? 'sleep 3600' : `sleep ${(1 + random() * 4).toFixed(1)}`;
    live.set(taskId, { kind, state: 'TASK_STAGING', agentId, killAskedAt: null });
    const task = dockerTask({ taskId, agentId, resources: TASK_RESOURCES, image: config.image, command });
    void call('LAUNCH', { offerIds: [offerId], taskIds: [taskId], agentId }, () => scheduler.launch(offer, [task], { refuseSeconds: 0 })).then((ok) => {
      if (!ok && live.get(taskId)?.state === 'TASK_STAGING') live.delete(taskId); // Never reached the master, or did: reconciliation tells.
    });
  };

  const onUpdate = (status: Extract<SchedulerEvent, { type: 'update' }>['status']) => {
    const taskId = status.task_id!.value;
    const agentId = status.agent_id?.value ?? '';
    const uuid = status.uuid.length > 0 ? Buffer.from(status.uuid).toString('base64') : undefined;
    history.record({ type: 'update', frameworkId, taskId, state: status.state, agentId, reason: status.reason, source: status.source, message: status.message, ...(uuid && { uuid }) });
    if (isTerminal(status.state as TaskState)) live.delete(taskId);
    else {
      // A task of an earlier incarnation (adopted), or one we know.
      const known = live.get(taskId);
      live.set(taskId, { kind: known?.kind ?? 'long', state: status.state, agentId, killAskedAt: known?.killAskedAt ?? null });
    }
    if (uuid) void call('ACKNOWLEDGE', { taskIds: [taskId], agentId }, () => scheduler.acknowledge(status));
  };

  // Implicit reconciliation says nothing of a task the master never stored (a launch answered just before its master
  // died): asking for each task by name does, as Mesos's reconciliation algorithm has frameworks do.
  const reconcileExplicitly = () => {
    const tasks = [...live].map(([taskId, t]) => ({ taskId, agentId: t.agentId }));
    if (tasks.length > 0) void call('RECONCILE', { taskIds: tasks.map((t) => t.taskId) }, () => scheduler.reconcile(tasks));
  };

  const kill = (taskId: string) => {
    const task = live.get(taskId)!;
    task.killAskedAt = Date.now();
    void call('KILL', { taskIds: [taskId], agentId: task.agentId }, () => scheduler.kill(taskId, { agentId: task.agentId }));
  };

  scheduler.on('subscribed', (e) => {
    frameworkId = e.frameworkId;
    writeFileSync(config.frameworkIdFile, frameworkId);
    history.record({ type: 'subscribed', frameworkId, masterId: e.masterInfo?.id ?? '' });
    void call('RECONCILE', {}, () => scheduler.reconcile([]));
    reconcileExplicitly();
  });
  scheduler.on('disconnected', (e) => history.record({ type: 'disconnected', frameworkId, reason: e.reason.message }));
  scheduler.on('rescind', (e) => history.record({ type: 'rescind', frameworkId, offerId: e.offerId }));
  scheduler.on('offers', (e) => e.offers.forEach(onOffer));
  scheduler.on('update', (e) => onUpdate(e.status));

  // Now and then a long task is killed; a kill that has not ended its task after a while is sent again.
  let ticks = 0;
  const killer = setInterval(() => {
    const now = Date.now();
    if (++ticks % 4 === 0) reconcileExplicitly();
    for (const [taskId, t] of live) if (t.killAskedAt !== null && now - t.killAskedAt > RE_KILL_MS) kill(taskId);
    if (quiescing || random() < 0.4) return;
    const running = [...live].filter(([, t]) => t.state === 'TASK_RUNNING' && t.killAskedAt === null).map(([id]) => id);
    if (running.length > 0) kill(running[Math.floor(random() * running.length)]!);
  }, 1500);

  process.on('SIGUSR1', () => (quiescing = true));
  const stopped = new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  const subscribeId = `${config.proc}.${config.incarnation}.subscribe`;
  history.record({ type: 'call', id: subscribeId, op: 'SUBSCRIBE', frameworkId });
  // Not awaited: with no master to be found, SIGTERM must still end the process.
  scheduler.start().then(
    () => history.record({ type: 'answer', id: subscribeId, op: 'SUBSCRIBE', result: 'ok', frameworkId }),
    (err: unknown) => history.record({ type: 'answer', id: subscribeId, op: 'SUBSCRIBE', frameworkId, ...resultOf(err) }),
  );
  await stopped;
  clearInterval(killer);
  await scheduler.close();
  history.close();
}

if (process.argv[1]?.endsWith('load-framework.ts')) {
  runLoadFramework(JSON.parse(process.argv[2] ?? '{}') as LoadConfig).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
