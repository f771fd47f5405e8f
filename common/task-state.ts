// The task lifecycle, as the master tracks it.
//
//   STAGING ──> STARTING ──> RUNNING ──> KILLING ──> KILLED
//      │            │           │           │
//      └────────────┴───────────┴───────────┴──> FINISHED | FAILED | KILLED
//                                                | ERROR | LOST | DROPPED | GONE
//   any non-terminal ──> UNREACHABLE ──> (back to what the agent reports) | GONE
//
// Terminal states are final: nothing leaves them. STAGING is set by the
// master when it accepts a launch; the agent never reports it. ERROR and
// DROPPED only happen before the task reached an agent's container.
import type { TaskState } from '../proto/index.js';
import { InvalidArgument } from './errors.js';

export type { TaskState };

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

/** True for the states a task never leaves: FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE, GONE_BY_OPERATOR. */
export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.has(state);
}

const ENDINGS: readonly TaskState[] = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR'];

const NEXT: Readonly<Partial<Record<TaskState, readonly TaskState[]>>> = {
  TASK_STAGING: ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_UNREACHABLE', ...ENDINGS],
  TASK_STARTING: ['TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE', ...ENDINGS],
  TASK_RUNNING: ['TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE', ...ENDINGS],
  TASK_KILLING: ['TASK_KILLING', 'TASK_UNREACHABLE', ...ENDINGS],
  TASK_UNREACHABLE: ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE', ...ENDINGS],
};

export function canTransition(from: TaskState, to: TaskState): boolean {
  return NEXT[from]?.includes(to) ?? false;
}

/** Returns `to`, or throws naming both states when the move is impossible. */
export function transition(from: TaskState, to: TaskState): TaskState {
  if (!canTransition(from, to)) {
    throw new InvalidArgument(
      isTerminal(from) ? `task is already in terminal state ${from}; cannot move to ${to}` : `illegal task transition ${from} -> ${to}`,
    );
  }
  return to;
}
