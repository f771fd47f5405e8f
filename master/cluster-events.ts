// What happens in the master, told to whoever listens: the operator event
// stream (operator/operator-api.ts) and the metrics (metrics.ts). Operations
// emit cluster events as they change the state (so a subscriber's snapshot
// and the events after it never overlap); listeners never change the master.
//
//   TASK_ADDED, TASK_UPDATED   every add and state change of a task (operations/task-changes.ts)
//   AGENT_ADDED                admitAgent: an agent joins, or comes back after a
//                              failover or from being unreachable
//   AGENT_REMOVED              an agent becomes unreachable, or the master forgets it (gone)
//   FRAMEWORK_ADDED/UPDATED/REMOVED   subscribeFramework, disconnectFramework, updateFramework, removeFramework
//   activity (metrics only)    scheduler calls and agent messages received, statuses sent to
//                              frameworks, agent (re-)registrations, allocation passes, how long
//                              a subscription took to SUBSCRIBED and then to its first offer
//
// Events are queued as they happen and delivered in order one microtask
// later. A TASK_UPDATED carries the status that came with the state change:
// the one the master forwards right after it (STATUS_SENT), else the one it
// stored. A listener added while events wait hears only later ones (a
// subscriber's snapshot already holds the earlier).
import type { Call, TaskStatusIn, TaskState } from '../proto/index.js';
import { taskKey } from '../common/ids.js';
import type { AgentRecord, FrameworkRecord, TaskRecord } from './state/records.js';

export type ClusterEvent =
  | { readonly type: 'TASK_ADDED'; readonly task: TaskRecord; readonly state: TaskState }
  | {
      readonly type: 'TASK_UPDATED';
      readonly task: TaskRecord;
      readonly state: TaskState;
      readonly previous: TaskState;
      /** The status that came with this state; null when there was none (filled in before delivery). */
      status: TaskStatusIn | null;
    }
  | { readonly type: 'AGENT_ADDED'; readonly agent: AgentRecord }
  | { readonly type: 'AGENT_REMOVED'; readonly agent: AgentRecord }
  | { readonly type: 'FRAMEWORK_ADDED' | 'FRAMEWORK_UPDATED' | 'FRAMEWORK_REMOVED'; readonly framework: FrameworkRecord };

export type MasterActivity =
  /** A scheduler call as received (SUBSCRIBE included), before it is checked. */
  | { readonly type: 'SCHEDULER_CALL'; readonly call: Call }
  /** A message from an agent: 'register' / 'reregister' (RegisterAgent with or without an id) or its AgentMessage kind. */
  | { readonly type: 'AGENT_MESSAGE'; readonly kind: string }
  | { readonly type: 'AGENT_REGISTERED'; readonly agent: AgentRecord; readonly reregistered: boolean }
  | { readonly type: 'STATUS_SENT'; readonly frameworkId: string; readonly status: TaskStatusIn }
  | { readonly type: 'ALLOCATION_RUN'; readonly ms: number; readonly carried?: boolean }
  /** SUBSCRIBE received -> the registry holds the framework and SUBSCRIBED went out. */
  | { readonly type: 'FRAMEWORK_SUBSCRIBED'; readonly frameworkId: string; readonly ms: number }
  /** SUBSCRIBED went out -> the framework's first OFFERS event of that subscription went out. */
  | { readonly type: 'FIRST_OFFER_SENT'; readonly frameworkId: string; readonly ms: number }
  | { readonly type: 'FRAMEWORK_TOO_SLOW'; readonly frameworkId: string; readonly waiting: number; readonly bound: 'events' | 'bytes' };

export type MasterEvent = ClusterEvent | MasterActivity;

export type MasterEventListener = (event: MasterEvent) => void;

export class MasterEvents {
  /** Each listener with the sequence number of the first event it hears. */
  private readonly listeners = new Map<MasterEventListener, number>();
  private queue: { seq: number; event: MasterEvent }[] = [];
  /** The latest queued TASK_UPDATED of each task (framework/task key), for the status that follows it. */
  private pendingUpdates = new Map<string, Extract<MasterEvent, { type: 'TASK_UPDATED' }>>();
  private emitted = 0;

  /** Hears every event emitted from now on, in order; returns the function that stops it. */
  listen(listener: MasterEventListener): () => void {
    this.listeners.set(listener, this.emitted);
    return () => void this.listeners.delete(listener);
  }

  emit(event: MasterEvent): void {
    const seq = this.emitted++;
    if (this.listeners.size === 0) return;
    if (event.type === 'TASK_UPDATED') this.pendingUpdates.set(taskKey(event.task.frameworkId, event.task.taskId), event);
    if (event.type === 'STATUS_SENT') this.attachStatus(event.frameworkId, event.status);
    this.queue.push({ seq, event });
    if (this.queue.length === 1) queueMicrotask(() => this.flush());
  }

  /** The status forwarded after a state change belongs to that change (the task may move on before delivery). */
  private attachStatus(frameworkId: string, status: TaskStatusIn): void {
    const update = this.pendingUpdates.get(taskKey(frameworkId, status.task_id?.value ?? ''));
    if (update && update.status === null && update.state === status.state) update.status = status;
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.pendingUpdates = new Map();
    for (const { seq, event } of batch) {
      if (event.type === 'TASK_UPDATED' && event.status === null && event.task.status?.state === event.state) event.status = event.task.status;
      for (const [listener, from] of this.listeners) {
        if (seq < from) continue;
        try {
          listener(event);
        } catch (err) {
          // A listener's bug must not stop the others nor reach the master.
          process.emitWarning(`a master event listener failed on ${event.type}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }
}
