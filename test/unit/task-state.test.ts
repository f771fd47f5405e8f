import { describe, expect, it } from 'vitest';
import { canTransition, isTerminal, transition, TERMINAL_STATES } from '../../common/task-state.js';
import type { TaskState } from '../../proto/index.js';

describe('task state machine', () => {
  it('follows the normal path', () => {
    let s: TaskState = 'TASK_STAGING';
    for (const next of ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED'] as const) s = transition(s, next);
    expect(s).toBe('TASK_KILLED');
    expect(isTerminal(s)).toBe(true);
  });

  it('never leaves a terminal state', () => {
    for (const from of TERMINAL_STATES) {
      for (const to of ['TASK_RUNNING', 'TASK_FINISHED', 'TASK_STARTING'] as const) {
        expect(canTransition(from, to)).toBe(false);
      }
    }
    expect(() => transition('TASK_FINISHED', 'TASK_RUNNING')).toThrow('already in terminal state TASK_FINISHED');
  });

  it('refuses impossible moves', () => {
    expect(() => transition('TASK_RUNNING', 'TASK_STARTING')).toThrow('illegal task transition TASK_RUNNING -> TASK_STARTING');
    expect(canTransition('TASK_RUNNING', 'TASK_STAGING')).toBe(false);
    // ERROR and DROPPED only happen before the task reached a container.
    expect(canTransition('TASK_RUNNING', 'TASK_ERROR')).toBe(false);
    expect(canTransition('TASK_STAGING', 'TASK_ERROR')).toBe(true);
  });

  it('lets an unreachable task come back or end', () => {
    expect(canTransition('TASK_RUNNING', 'TASK_UNREACHABLE')).toBe(true);
    expect(canTransition('TASK_UNREACHABLE', 'TASK_RUNNING')).toBe(true);
    expect(canTransition('TASK_UNREACHABLE', 'TASK_GONE')).toBe(true);
  });
});
