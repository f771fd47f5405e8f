// A batch of container tasks run to completion — the decisions, kept pure.
// BatchPlan reads offers and status updates and says what to launch and
// decline; batch-runner.ts does the calls. Each unit of work goes:
//
//   PENDING ──fits an offer──> TASK_STAGING ──updates──> ... ──> terminal
//      ^                           │                                │
//      │   accept failed, or       │                    FINISHED: done (ok)
//      └── offer invalid (DROPPED/ ┘                    KILLED, ERROR: done (failed)
//      │   LOST, REASON_INVALID_OFFERS): not a failure  FAILED, LOST, GONE, DROPPED:
//      └──────────────────────────────────────────────── retried while retries are left
//   PENDING ──cancelPending()──> CANCELLED (done, failed)
//
// Every launch gets a fresh task id (`<id>`, then `<id>.2`, `<id>.3`, ...), so
// a launch whose fate is unknown never collides with its retry.
import type { OfferOut, TaskInfoIn, TaskStatusOut } from '../../proto/index.js';
import { InvalidArgument } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import { isTerminal } from '../../common/task-state.js';
import type { Resources } from '../../common/resources.js';
import { packOffers, type Demand, type PackStrategy } from './matching.js';
import { allocationRoleOf, dockerTask, type DockerTaskSpec } from './task-builder.js';

/** One unit of work of a batch: what it needs and what to run. */
export interface BatchTaskSpec {
  /** Names the unit of work; the first task id. */
  readonly id: string;
  /** What each launch takes from an offer (see parseDemand). */
  readonly demand: Demand;
  /** The rest of the TaskInfo; ids, agent and resources are filled in at launch. */
  readonly task: Omit<DockerTaskSpec, 'taskId' | 'agentId' | 'resources' | 'allocationRole'>;
}

/** A Mesos task state, or PENDING (waiting for an offer) or CANCELLED (given up before launch). */
export type BatchTaskState = 'PENDING' | 'CANCELLED' | TaskStatusOut['state'];

/** Where one unit of work of a batch is: its latest launch and state. A fresh object at each change. */
export interface BatchTaskView {
  readonly id: string;
  /** The task id of the latest launch ('' before the first). */
  readonly taskId: string;
  readonly state: BatchTaskState;
  /** Launches so far. */
  readonly launches: number;
  /** The agent of the latest launch. */
  readonly agentId: string | null;
  /** That agent's hostname, from the offer. */
  readonly hostname: string | null;
  /** What the latest launch took from its offer. */
  readonly resources: Resources | null;
  /** The latest status's message (e.g. `exited with status 3`). */
  readonly message: string | null;
  /** The latest status's reason (e.g. `REASON_COMMAND_EXECUTOR_FAILED`). */
  readonly reason: string | null;
  /** Clock seconds. */
  readonly launchedAt: number | null;
  /** Clock seconds when it reached a terminal state. */
  readonly endedAt: number | null;
  /** Terminal and not going to be retried. */
  readonly done: boolean;
}

/** Options of a {@link BatchPlan}. */
export interface BatchOptions {
  /** Time source for launchedAt/endedAt (injected, so tests need no sleep). */
  readonly clock: Clock;
  /** Most tasks launched and not yet terminal at once. Default: no limit. */
  readonly concurrency?: number;
  /** Relaunches of a task that FAILED, was LOST or GONE. Default 0. */
  readonly maxRetries?: number;
  /** How tasks are placed into the offers at hand. Default 'pack'. */
  readonly placement?: PackStrategy;
}

/** What {@link BatchPlan.offers} decided for the offers at hand: answer each at once. */
export interface OfferDecision {
  /** ACCEPT each of these offers with a LAUNCH of its tasks. */
  readonly launches: readonly { readonly offerId: string; readonly tasks: readonly TaskInfoIn[] }[];
  /** DECLINE these offer ids. */
  readonly declines: readonly string[];
  /** The views of the tasks just placed (now TASK_STAGING). */
  readonly launched: readonly BatchTaskView[];
}

/** Counts over a batch; `ok` when every unit FINISHED. */
export interface BatchSummary {
  /** Units in the batch. */
  readonly total: number;
  /** Units that FINISHED. */
  readonly finished: number;
  /** Done without FINISHED. */
  readonly failed: number;
  /** Units waiting for an offer. */
  readonly pending: number;
  /** Launched, not yet terminal. */
  readonly active: number;
  /** Every unit FINISHED. */
  readonly ok: boolean;
}

const RETRYABLE: ReadonlySet<BatchTaskState> = new Set(['TASK_FAILED', 'TASK_LOST', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_DROPPED']);

interface Entry {
  readonly spec: BatchTaskSpec;
  view: BatchTaskView;
  failures: number;
}

/**
 * The decisions of a batch run, with no I/O: give it offers and status
 * updates, it answers which tasks to launch where and which offers to
 * decline, and keeps each unit's view (PENDING, a Mesos task state, CANCELLED).
 * Failed, lost or gone tasks are relaunched with a fresh task id while
 * `maxRetries` allows. {@link runBatch} drives it with a {@link Scheduler}.
 */
export class BatchPlan {
  private readonly entries: Entry[];
  private readonly byTaskId = new Map<string, Entry>();
  private readonly concurrency: number;
  private readonly maxRetries: number;

  /** Throws InvalidArgument on a repeated unit id or a bad concurrency or maxRetries. */
  constructor(specs: readonly BatchTaskSpec[], private readonly options: BatchOptions) {
    const ids = new Set<string>();
    for (const s of specs) {
      if (ids.has(s.id)) throw new InvalidArgument(`task id '${s.id}' appears twice in the batch`);
      ids.add(s.id);
    }
    this.concurrency = options.concurrency ?? Infinity;
    this.maxRetries = options.maxRetries ?? 0;
    if (!(this.concurrency >= 1)) throw new InvalidArgument(`concurrency must be >= 1, got ${this.concurrency}`);
    if (!(this.maxRetries >= 0)) throw new InvalidArgument(`maxRetries must be >= 0, got ${this.maxRetries}`);
    this.entries = specs.map((spec) => ({ spec, failures: 0, view: initialView(spec.id) }));
  }

  /** Places pending tasks (first fit, in batch order, within the concurrency cap); the other offers are declined. */
  offers(offers: readonly OfferOut[]): OfferDecision {
    const pending = this.entries.filter((e) => e.view.state === 'PENDING');
    const room = Math.max(0, this.concurrency - this.activeCount());
    const packed = packOffers(offers, pending, (e) => e.spec.demand, { limit: room, strategy: this.options.placement ?? 'pack' });
    const launches = packed.used.map(({ offer, placements }) => ({
      offerId: offer.id?.value ?? '',
      tasks: placements.map(({ item, resources }) => this.launch(item, offer, resources)),
    }));
    const launched = packed.used.flatMap(({ placements }) => placements.map((p) => p.item.view));
    return { launches, declines: packed.unused.map((o) => o.id?.value ?? ''), launched };
  }

  /** The ACCEPT carrying these tasks failed: they wait for another offer. */
  launchFailed(taskIds: readonly string[], message: string): BatchTaskView[] {
    const changed: BatchTaskView[] = [];
    for (const taskId of taskIds) {
      const entry = this.byTaskId.get(taskId);
      if (!entry || entry.view.taskId !== taskId || entry.view.state !== 'TASK_STAGING') continue;
      entry.view = { ...entry.view, state: 'PENDING', agentId: null, hostname: null, resources: null, message, launchedAt: null };
      changed.push(entry.view);
    }
    return changed;
  }

  /** Applies a status; returns the changed view, or null for unknown, stale or repeated statuses. */
  update(status: TaskStatusOut): BatchTaskView | null {
    const taskId = status.task_id?.value ?? '';
    const entry = this.byTaskId.get(taskId);
    if (!entry || entry.view.taskId !== taskId || entry.view.done || entry.view.state === 'PENDING') return null;
    const state = status.state;
    const message = status.message || null;
    if (state === entry.view.state && message === entry.view.message) return null;
    // The client's decoder leaves an unset reason out (it does not read as the enum's first value).
    const reason = status.reason ? String(status.reason) : null;
    const view: BatchTaskView = { ...entry.view, state, message, reason, agentId: status.agent_id?.value || entry.view.agentId };
    if (!isTerminal(state)) return (entry.view = view);
    const invalidOffer = status.reason === 'REASON_INVALID_OFFERS';
    if (!invalidOffer) entry.failures += state === 'TASK_FINISHED' ? 0 : 1;
    const retry = invalidOffer || (RETRYABLE.has(state) && entry.failures <= this.maxRetries);
    entry.view = { ...view, endedAt: this.options.clock.now(), done: !retry };
    const shown = entry.view;
    // The terminal state is reported first; the entry then waits for a new offer.
    if (retry) entry.view = { ...entry.view, state: 'PENDING', endedAt: null };
    return shown;
  }

  /** Gives up on tasks still waiting for an offer (the batch is being stopped). */
  cancelPending(message: string): BatchTaskView[] {
    const changed: BatchTaskView[] = [];
    for (const e of this.entries) {
      if (e.view.state !== 'PENDING') continue;
      e.view = { ...e.view, state: 'CANCELLED', message, done: true, endedAt: this.options.clock.now() };
      changed.push(e.view);
    }
    return changed;
  }

  /** True while some task waits for an offer and the concurrency cap leaves room. */
  wantsOffers(): boolean {
    return this.activeCount() < this.concurrency && this.entries.some((e) => e.view.state === 'PENDING');
  }

  /** True when every unit is done (terminal and not retried, or cancelled). */
  isDone(): boolean {
    return this.entries.every((e) => e.view.done);
  }

  /** Launched and not terminal: what to reconcile after a failover, or kill. */
  active(): { taskId: string; agentId?: string }[] {
    return this.entries
      .filter((e) => isLaunched(e.view))
      .map((e) => ({ taskId: e.view.taskId, ...(e.view.agentId && { agentId: e.view.agentId }) }));
  }

  /** Every unit's current view, in batch order. */
  views(): readonly BatchTaskView[] {
    return this.entries.map((e) => e.view);
  }

  /** Counts over the units now. */
  summary(): BatchSummary {
    const views = this.views();
    const finished = views.filter((v) => v.done && v.state === 'TASK_FINISHED').length;
    const failed = views.filter((v) => v.done && v.state !== 'TASK_FINISHED').length;
    const pending = views.filter((v) => v.state === 'PENDING').length;
    const active = views.filter(isLaunched).length;
    return { total: views.length, finished, failed, pending, active, ok: finished === views.length };
  }

  private activeCount(): number {
    return this.entries.filter((e) => isLaunched(e.view)).length;
  }

  private launch(entry: Entry, offer: OfferOut, resources: Resources): TaskInfoIn {
    const launches = entry.view.launches + 1;
    const taskId = launches === 1 ? entry.spec.id : `${entry.spec.id}.${launches}`;
    const agentId = offer.agent_id?.value ?? '';
    const allocationRole = allocationRoleOf(offer);
    const task = dockerTask({ ...entry.spec.task, taskId, agentId, resources, ...(allocationRole && { allocationRole }) });
    this.byTaskId.set(taskId, entry);
    entry.view = {
      ...entry.view, taskId, launches, state: 'TASK_STAGING', agentId, hostname: offer.hostname || null, resources,
      message: null, reason: null, launchedAt: this.options.clock.now(), endedAt: null,
    };
    return task;
  }
}

function initialView(id: string): BatchTaskView {
  return {
    id, taskId: '', state: 'PENDING', launches: 0, agentId: null, hostname: null, resources: null,
    message: null, reason: null, launchedAt: null, endedAt: null, done: false,
  };
}

function isLaunched(v: BatchTaskView): boolean {
  return v.state !== 'PENDING' && v.state !== 'CANCELLED' && !isTerminal(v.state);
}

/** One line per state change, as `mesos-ts execute` prints it: `task <id> <STATE> on <agent>[: message]`. */
export function formatTaskLine(view: BatchTaskView): string {
  const state = view.state.replace(/^TASK_/, '');
  const agent = view.agentId ? ` on ${view.agentId}` : '';
  const detail = [view.message, view.reason].filter((s) => s).join(', ');
  return `task ${view.taskId || view.id} ${state}${agent}${detail ? `: ${detail}` : ''}`;
}
