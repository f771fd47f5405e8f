// The task lifecycle, as the master tracks it.
//
//   STAGING ──> STARTING ──> RUNNING ──> KILLING ──> KILLED
//      │            │           │           │
//      └────────────┴───────────┴───────────┴──> FINISHED | FAILED | KILLED
//                                                | ERROR | LOST | DROPPED | GONE
//   any non-terminal ──> UNREACHABLE ──> (back to what the agent reports) | GONE
//                                     └──> DROPPED (the agent came back without it)
//
// Terminal states are final: nothing leaves them. STAGING is set by the
// master when it accepts a launch; the agent never reports it. ERROR and
// DROPPED only happen before the task reached an agent's container (a launch
// lost with the link of an agent that then went unreachable: DROPPED when
// the agent comes back without it, as Mesos's master answers).
import type { TaskState } from '../proto/index.js';
import { InvalidArgument } from './errors.js';

export type { TaskState };

// Every state, checked complete against the generated type.
const EVERY_STATE: Record<Extract<TaskState, string>, true> = {
  TASK_STAGING: true, TASK_STARTING: true, TASK_RUNNING: true, TASK_KILLING: true, TASK_FINISHED: true, TASK_FAILED: true, TASK_KILLED: true,
  TASK_ERROR: true, TASK_LOST: true, TASK_DROPPED: true, TASK_UNREACHABLE: true, TASK_GONE: true, TASK_GONE_BY_OPERATOR: true, TASK_UNKNOWN: true,
};

/** The names of mesos.v1.TaskState, for checking a state read off the wire (an unknown number decodes to none of them). */
export const TASK_STATES: ReadonlySet<unknown> = new Set(Object.keys(EVERY_STATE));

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
  TASK_UNREACHABLE: ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE', 'TASK_DROPPED', ...ENDINGS],
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
