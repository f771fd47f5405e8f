import { describe, expect, it } from 'vitest';
import { StatusUpdateManager, type PendingUpdate, type Timers } from '../../agent/status-update-manager.js';

/** Timers run by hand: `advance(ms)` fires what is due. */
class FakeTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  set(fn: () => void, ms: number): number {
    const id = this.next++;
    this.due.set(id, { at: this.now + ms, fn });
    return id;
  }
  clear(h: unknown): void {
    this.due.delete(h as number);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const [id, t] = [...this.due].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (!t) break;
      this.due.delete(id!);
      this.now = t.at;
      t.fn();
    }
    this.now = end;
  }
}

const status = (task: string, state: 'TASK_RUNNING' | 'TASK_FINISHED' | 'TASK_STARTING') => ({ task_id: { value: task }, state });

describe('StatusUpdateManager', () => {
  function setup() {
    const sent: PendingUpdate[] = [];
    const timers = new FakeTimers();
    const manager = new StatusUpdateManager((u) => (sent.push(u), true), 10, timers);
    return { sent, timers, manager };
  }

  it('sends one update per task at a time, in order, the next after the ack', () => {
    const { sent, manager } = setup();
    manager.update('f', status('t', 'TASK_STARTING'));
    manager.update('f', status('t', 'TASK_RUNNING'));
    manager.update('f', status('t', 'TASK_FINISHED'));
    expect(sent.map((u) => u.status.state)).toEqual(['TASK_STARTING']);
    expect(manager.acknowledge('f', 't', sent[0]!.status.uuid)).toBe(true);
    expect(sent.map((u) => u.status.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    manager.acknowledge('f', 't', sent[1]!.status.uuid);
    manager.acknowledge('f', 't', sent[2]!.status.uuid);
    expect(sent.map((u) => u.status.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(manager.pending()).toEqual([]);
  });

  it('keeps tasks independent', () => {
    const { sent, manager } = setup();
    manager.update('f', status('a', 'TASK_RUNNING'));
    manager.update('f', status('b', 'TASK_RUNNING'));
    expect(sent.map((u) => u.status.task_id?.value)).toEqual(['a', 'b']);
  });

  it('resends the head on a doubling backoff until acknowledged', () => {
    const { sent, timers, manager } = setup();
    manager.update('f', status('t', 'TASK_RUNNING'));
    timers.advance(9_999);
    expect(sent).toHaveLength(1);
    timers.advance(1); // 10 s
    expect(sent).toHaveLength(2);
    timers.advance(20_000); // then 20 s
    expect(sent).toHaveLength(3);
    timers.advance(39_999); // then 40 s
    expect(sent).toHaveLength(3);
    expect(sent.every((u) => u.status.uuid.equals(sent[0]!.status.uuid))).toBe(true);
    manager.acknowledge('f', 't', sent[0]!.status.uuid);
    timers.advance(3_600_000);
    expect(sent).toHaveLength(3);
  });

  it('ignores a stale or foreign acknowledgement', () => {
    const { sent, manager } = setup();
    manager.update('f', status('t', 'TASK_RUNNING'));
    expect(manager.acknowledge('f', 't', Buffer.alloc(16))).toBe(false);
    expect(manager.acknowledge('g', 't', sent[0]!.status.uuid)).toBe(false);
    expect(manager.pending()).toHaveLength(1);
  });

  it('resends every head after re-registration', () => {
    const { sent, manager } = setup();
    manager.update('f', status('a', 'TASK_RUNNING'));
    manager.update('f', status('b', 'TASK_RUNNING'));
    manager.resendAll();
    expect(sent.map((u) => u.status.task_id?.value)).toEqual(['a', 'b', 'a', 'b']);
  });
});
