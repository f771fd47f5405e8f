// Drives a BatchPlan with a Scheduler: offers in, launches and declines out,
// status updates into the plan, until every task is done. It reads events
// with `for await`, so a slow onChange slows the event stream, not memory.
//
// Offer hygiene (MESOS-NOTES: hoarding, revive storms): offers that fit
// nothing are declined at once; with no work waiting the framework
// suppresses, and revives exactly once when work appears again (a retry).
// After a reconnection it reconciles the tasks it launched.
import type { TaskStatusOut } from '../../proto/index.js';
import { errorMessage } from '../../common/errors.js';
import type { Scheduler } from './scheduler.js';
import type { BatchPlan, BatchSummary, BatchTaskView } from './batch.js';

/** Options of {@link runBatch}; all optional. */
export interface RunBatchOptions {
  /** Aborting kills the launched tasks, waits up to killWaitMs for them to end, and returns. */
  readonly signal?: AbortSignal;
  /**
   * Refuse filter on offers declined (and on the unused part of accepted ones) while tasks still wait.
   * Default 1 s: short, because a filter holds back the whole agent, including what our finishing tasks free.
   */
  readonly declineRefuseSeconds?: number;
  /** Refuse filter on offers declined when nothing waits. Default 60 s; the framework also suppresses. */
  readonly idleRefuseSeconds?: number;
  /** Kill each task this long after it reports RUNNING (mesos-execute's --kill_after). */
  readonly killAfterSeconds?: number;
  /** After an abort, how long to wait for the killed tasks to end. Default 10 s. */
  readonly killWaitMs?: number;
  /** Every change of a task's view. */
  readonly onChange?: (view: BatchTaskView) => void;
  /** Connection news and failed calls, one line each. */
  readonly onLog?: (line: string) => void;
}

/** How a batch ended: its summary, every unit's last view, and whether it was aborted or the scheduler closed. */
export interface BatchOutcome extends BatchSummary {
  /** The signal fired before the batch was done. */
  readonly aborted: boolean;
  /** Why the scheduler closed, if it did before the batch was done. */
  readonly closedReason: string | null;
  /** Every unit's last view, in batch order. */
  readonly views: readonly BatchTaskView[];
}

/** Runs the batch; starts the scheduler if it is not started yet. Never rejects for task failures. */
export async function runBatch(scheduler: Scheduler, plan: BatchPlan, options: RunBatchOptions = {}): Promise<BatchOutcome> {
  const run = new BatchRun(scheduler, plan, options);
  return run.execute();
}

class BatchRun {
  private readonly stop = new AbortController();
  private readonly killTimers = new Map<string, NodeJS.Timeout>();
  private killing = false;
  private suppressed = false;
  private closedReason: string | null = null;
  private readonly log: (line: string) => void;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly plan: BatchPlan,
    private readonly options: RunBatchOptions,
  ) {
    this.log = options.onLog ?? (() => {});
  }

  async execute(): Promise<BatchOutcome> {
    const { signal } = this.options;
    const events = this.scheduler.events({ signal: this.stop.signal });
    const onAbort = (): void => void this.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) void this.abort();
    if (this.scheduler.state === 'idle') this.scheduler.start({ signal: this.stop.signal }).catch(() => {}); // failures arrive as 'closed'
    try {
      if (!this.finished()) {
        for await (const event of events) {
          switch (event.type) {
            case 'subscribed':
              this.suppressed = false; // a new subscription starts unsuppressed
              await this.syncSuppression();
              break;
            case 'reconnected':
              this.log(`reconnected as ${event.frameworkId}; reconciling ${this.plan.active().length} task(s)`);
              await this.call('reconcile', () => this.scheduler.reconcile(this.plan.active()));
              break;
            case 'disconnected':
              this.log(`disconnected from the master (${event.reason.message}); reconnecting`);
              break;
            case 'offers':
              await this.onOffers(event.offers);
              break;
            case 'update':
              await this.onUpdate(event.status);
              break;
            case 'removed':
            case 'closed':
              this.closedReason ??= event.type === 'removed' ? `removed by the master: ${event.message}` : (event.reason?.message ?? 'closed');
              break;
            default:
              break;
          }
          if (this.finished()) break;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      for (const timer of this.killTimers.values()) clearTimeout(timer);
      this.stop.abort();
    }
    if (!this.plan.isDone()) this.plan.cancelPending(this.killing ? 'cancelled' : 'never launched').forEach((v) => this.changed(v));
    return { ...this.plan.summary(), aborted: signal?.aborted ?? false, closedReason: this.plan.summary().ok ? null : this.closedReason, views: this.plan.views() };
  }

  private finished(): boolean {
    return this.plan.isDone() || (this.killing && this.plan.active().length === 0) || this.scheduler.state === 'closed';
  }

  private async onOffers(offers: Parameters<BatchPlan['offers']>[0]): Promise<void> {
    const decision = this.killing ? { launches: [], declines: offers.map((o) => o.id?.value ?? ''), launched: [] } : this.plan.offers(offers);
    decision.launched.forEach((v) => this.changed(v));
    const refuse = (): number => (this.plan.wantsOffers() && !this.killing ? (this.options.declineRefuseSeconds ?? 1) : (this.options.idleRefuseSeconds ?? 60));
    for (const launch of decision.launches) {
      const taskIds = launch.tasks.map((t) => t.task_id?.value ?? '');
      const ok = await this.call(`launch of ${taskIds.join(', ')}`, () => this.scheduler.launch(launch.offerId, launch.tasks, { refuseSeconds: refuse() }));
      if (!ok) this.plan.launchFailed(taskIds, 'the ACCEPT call failed; waiting for another offer').forEach((v) => this.changed(v));
    }
    if (decision.declines.length > 0) await this.call('decline', () => this.scheduler.decline(decision.declines, { refuseSeconds: refuse() }));
    await this.syncSuppression();
  }

  private async onUpdate(status: TaskStatusOut): Promise<void> {
    const view = this.plan.update(status);
    if (!view) return;
    this.changed(view);
    const taskId = status.task_id?.value ?? '';
    if (status.state === 'TASK_RUNNING' && this.options.killAfterSeconds !== undefined && !this.killTimers.has(taskId)) {
      const agentId = status.agent_id?.value;
      const timer = setTimeout(() => {
        this.log(`killing task ${taskId}: --kill_after ${this.options.killAfterSeconds}s elapsed`);
        void this.call(`kill of ${taskId}`, () => this.scheduler.kill(taskId, agentId ? { agentId } : {}));
      }, this.options.killAfterSeconds * 1000);
      this.killTimers.set(taskId, timer);
    }
    if (view.endedAt !== null) {
      clearTimeout(this.killTimers.get(taskId));
      this.killTimers.delete(taskId);
    }
    if (!this.killing) await this.syncSuppression();
  }

  private async abort(): Promise<void> {
    if (this.killing) return;
    this.killing = true;
    this.plan.cancelPending('cancelled').forEach((v) => this.changed(v));
    const active = this.plan.active();
    if (active.length > 0) this.log(`stopping: killing ${active.length} task(s)`);
    else {
      this.stop.abort();
      return;
    }
    const wait = setTimeout(() => this.stop.abort(), this.options.killWaitMs ?? 10_000);
    wait.unref();
    await Promise.all(active.map((t) => this.call(`kill of ${t.taskId}`, () => this.scheduler.kill(t.taskId, t.agentId ? { agentId: t.agentId } : {}))));
  }

  private async syncSuppression(): Promise<void> {
    const want = this.plan.wantsOffers() && !this.killing;
    if (want && this.suppressed) {
      this.suppressed = false;
      await this.call('revive', () => this.scheduler.revive());
    } else if (!want && !this.suppressed && this.scheduler.state === 'subscribed') {
      this.suppressed = true;
      await this.call('suppress', () => this.scheduler.suppress());
    }
  }

  private changed(view: BatchTaskView): void {
    try {
      this.options.onChange?.(view);
    } catch (err) {
      this.log(`onChange threw: ${errorMessage(err)}`);
    }
  }

  /** A call whose failure is logged, not thrown: the batch carries on (offers come again, the agent resends updates). */
  private async call(what: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      this.log(`${what} failed: ${errorMessage(err)}`);
      return false;
    }
  }
}
