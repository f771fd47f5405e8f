// The master's view of every task: current state, latest status, which
// framework and agent it belongs to. Active tasks are indexed by framework
// and by agent; tasks that ended and were acknowledged move to a bounded
// list of completed tasks (shown in /state).
import type { TaskState } from '../../proto/index.js';
import { canTransition, isTerminal } from '../../common/task-state.js';
import { taskKey } from '../../common/ids.js';
import { index, unindex } from './indexes.js';
import type { TaskRecord } from './records.js';

export type { TaskRecord } from './records.js';

export type ApplyResult = 'changed' | 'unchanged' | 'illegal';

export class TaskBook {
  private readonly active = new Map<string, TaskRecord>();
  private readonly byFramework = new Map<string, Set<string>>();
  private readonly byAgent = new Map<string, Set<string>>();
  private readonly completed: TaskRecord[] = [];

  constructor(private readonly maxCompleted = 1000) {}

  add(task: TaskRecord): void {
    const key = taskKey(task.frameworkId, task.taskId);
    this.active.set(key, task);
    index(this.byFramework, task.frameworkId, key);
    index(this.byAgent, task.agentId, key);
  }

  get(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.active.get(taskKey(frameworkId, taskId));
  }

  ofFramework(frameworkId: string): TaskRecord[] {
    return [...(this.byFramework.get(frameworkId) ?? [])].map((k) => this.active.get(k)!);
  }

  ofAgent(agentId: string): TaskRecord[] {
    return [...(this.byAgent.get(agentId) ?? [])].map((k) => this.active.get(k)!);
  }

  all(): IterableIterator<TaskRecord> {
    return this.active.values();
  }

  completedTasks(): readonly TaskRecord[] {
    return this.completed;
  }

  /** Moves the task to `state` if the lifecycle allows it. */
  apply(task: TaskRecord, state: TaskState): ApplyResult {
    if (task.state === state) return 'unchanged';
    if (!canTransition(task.state, state)) return 'illegal';
    task.state = state;
    return 'changed';
  }

  /** Drops a terminal task from the active set (after its final update was acknowledged). */
  complete(task: TaskRecord): void {
    if (!isTerminal(task.state)) throw new Error(`task ${task.taskId} is not terminal (${task.state})`);
    const key = taskKey(task.frameworkId, task.taskId);
    if (!this.active.delete(key)) return;
    unindex(this.byFramework, task.frameworkId, key);
    unindex(this.byAgent, task.agentId, key);
    this.completed.push(task);
    if (this.completed.length > this.maxCompleted) this.completed.splice(0, this.completed.length - this.maxCompleted);
  }

  get size(): number {
    return this.active.size;
  }
}
