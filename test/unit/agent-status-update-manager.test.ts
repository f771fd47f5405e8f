// The status update manager with hand-driven timers: ordering per task,
// resend backoff, acknowledgements, re-registration.
import { describe, expect, it } from 'vitest';
import { StatusUpdateManager, type PendingUpdate, type StatusUpdateManagerOptions } from '../../agent/status-update-manager.js';
import { FakeTimers } from '../harness/fake-timers.js';
import type { TaskStatusIn } from '../../proto/index.js';

const status = (task: string, state: TaskStatusIn['state']): TaskStatusIn => ({ task_id: { value: task }, state });

function setup(options: { connected?: () => boolean } & Pick<StatusUpdateManagerOptions, 'persist' | 'persistFailed'> = {}) {
  const sent: PendingUpdate[] = [];
  const timers = new FakeTimers();
  let n = 0;
  const manager = new StatusUpdateManager({
    ...(options.persist ? { persist: options.persist } : {}),
    ...(options.persistFailed ? { persistFailed: options.persistFailed } : {}),
    send: (u) => {
      if (options.connected && !options.connected()) return false;
      sent.push(u);
      return true;
    },
    retrySeconds: 10,
    maxRetrySeconds: 600,
    timers,
    uuid: () => Buffer.alloc(16, ++n), // uuid i is sixteen bytes of value i
  });
  const states = () => sent.map((u) => `${u.status.task_id?.value}:${u.status.state}`);
  return { sent, timers, manager, states };
}

describe('StatusUpdateManager', () => {
  it('gives every update its own 16-byte uuid and keeps the rest of the status', () => {
    const { manager } = setup();
    const a = manager.update('f', { ...status('t', 'TASK_STARTING'), source: 'SOURCE_EXECUTOR', timestamp: 12.5 });
    const b = manager.update('f', status('t', 'TASK_RUNNING'));
    expect(a.status.uuid).toHaveLength(16);
    expect(a.status.uuid.equals(b.status.uuid)).toBe(false);
    expect(a.status.source).toBe('SOURCE_EXECUTOR');
    expect(a.status.timestamp).toBe(12.5);
    expect(a.frameworkId).toBe('f');
  });

  it('says which update of a task is in flight (what the agent reports at re-registration), none once all are acknowledged', () => {
    const { manager } = setup({ connected: () => false });
    expect(manager.head('f', 't')).toBeUndefined();
    const starting = manager.update('f', status('t', 'TASK_STARTING'));
    const running = manager.update('f', status('t', 'TASK_RUNNING'));
    manager.update('f', status('t', 'TASK_FINISHED'));
    expect(manager.head('f', 't')).toBe(starting);
    expect(manager.acknowledge('f', 't', starting.status.uuid)).toBe(true);
    expect(manager.head('f', 't')?.status).toMatchObject({ state: 'TASK_RUNNING', uuid: running.status.uuid });
    manager.acknowledge('f', 't', running.status.uuid);
    manager.acknowledge('f', 't', manager.head('f', 't')!.status.uuid);
    expect(manager.head('f', 't')).toBeUndefined();
  });

  it('sends one update per task at a time, in order, the next after the ack', () => {
    const { sent, manager, states } = setup();
    manager.update('f', status('t', 'TASK_STARTING'));
    manager.update('f', status('t', 'TASK_RUNNING'));
    manager.update('f', status('t', 'TASK_FINISHED'));
    expect(states()).toEqual(['t:TASK_STARTING']);
    expect(manager.acknowledge('f', 't', sent[0]!.status.uuid)).toBe(true);
    expect(states()).toEqual(['t:TASK_STARTING', 't:TASK_RUNNING']);
    manager.acknowledge('f', 't', sent[1]!.status.uuid);
    expect(states()).toEqual(['t:TASK_STARTING', 't:TASK_RUNNING', 't:TASK_FINISHED']);
    expect(manager.hasPending('f', 't')).toBe(true);
    manager.acknowledge('f', 't', sent[2]!.status.uuid);
    expect(manager.hasPending('f', 't')).toBe(false);
    expect(manager.pending()).toEqual([]);
  });

  it('keeps tasks (and frameworks) independent', () => {
    const { manager, states } = setup();
    manager.update('f', status('a', 'TASK_RUNNING'));
    manager.update('f', status('b', 'TASK_RUNNING'));
    manager.update('g', status('a', 'TASK_RUNNING'));
    expect(states()).toEqual(['a:TASK_RUNNING', 'b:TASK_RUNNING', 'a:TASK_RUNNING']);
  });

  it('resends the same head on a doubling backoff, capped, until acknowledged', () => {
    const { sent, timers, manager } = setup();
    manager.update('f', status('t', 'TASK_RUNNING'));
    timers.advance(9_999);
    expect(sent).toHaveLength(1);
    timers.advance(1); // t = 10 s
    expect(sent).toHaveLength(2);
    timers.advance(20_000); // t = 30 s (interval 20 s)
    expect(sent).toHaveLength(3);
    timers.advance(39_999); // interval now 40 s: not yet
    expect(sent).toHaveLength(3);
    timers.advance(1);
    expect(sent).toHaveLength(4);
    // 80, 160, 320, then 600 (cap) instead of 640
    timers.advance(80_000 + 160_000 + 320_000);
    expect(sent).toHaveLength(7);
    timers.advance(599_999);
    expect(sent).toHaveLength(7);
    timers.advance(1);
    expect(sent).toHaveLength(8);
    timers.advance(600_000);
    expect(sent).toHaveLength(9);
    expect(sent.every((u) => u.status.uuid.equals(sent[0]!.status.uuid))).toBe(true);
    manager.acknowledge('f', 't', sent[0]!.status.uuid);
    expect(timers.pending).toBe(0);
    timers.advance(3_600_000);
    expect(sent).toHaveLength(9);
  });

  it('restarts the backoff for the next update after an ack', () => {
    const { sent, timers, manager } = setup();
    manager.update('f', status('t', 'TASK_RUNNING'));
    manager.update('f', status('t', 'TASK_FINISHED'));
    timers.advance(30_000); // two resends: the interval is now 40 s
    manager.acknowledge('f', 't', sent[0]!.status.uuid);
    expect(sent.at(-1)!.status.state).toBe('TASK_FINISHED');
    const before = sent.length;
    timers.advance(10_000);
    expect(sent).toHaveLength(before + 1);
  });

  it('ignores a stale, unknown or foreign acknowledgement', () => {
    const { sent, manager } = setup();
    manager.update('f', status('t', 'TASK_STARTING'));
    manager.update('f', status('t', 'TASK_RUNNING'));
    expect(manager.acknowledge('f', 't', Buffer.alloc(16))).toBe(false);
    expect(manager.acknowledge('g', 't', sent[0]!.status.uuid)).toBe(false);
    expect(manager.acknowledge('f', 'other', sent[0]!.status.uuid)).toBe(false);
    const second = manager.pending()[1]!.status.uuid;
    expect(manager.acknowledge('f', 't', second)).toBe(false); // not the head
    expect(manager.pending()).toHaveLength(2);
    expect(manager.acknowledge('f', 't', sent[0]!.status.uuid)).toBe(true);
    expect(manager.acknowledge('f', 't', sent[0]!.status.uuid)).toBe(false); // duplicate
  });

  it('resends every head at once after (re)registration, with the backoff restarted', () => {
    let connected = false;
    const { timers, manager, states } = setup({ connected: () => connected });
    manager.update('f', status('a', 'TASK_RUNNING'));
    manager.update('f', status('a', 'TASK_FINISHED'));
    manager.update('f', status('b', 'TASK_RUNNING'));
    timers.advance(35_000); // resends fail: no link
    expect(states()).toEqual([]);
    connected = true;
    manager.resendAll();
    expect(states()).toEqual(['a:TASK_RUNNING', 'b:TASK_RUNNING']);
    timers.advance(10_000);
    expect(states()).toHaveLength(4);
  });

  it('forgets a framework that was shut down', () => {
    const { timers, manager, sent } = setup();
    manager.update('f', status('a', 'TASK_KILLED'));
    manager.update('g', status('a', 'TASK_RUNNING'));
    manager.dropFramework('f');
    expect(manager.pending().map((u) => u.frameworkId)).toEqual(['g']);
    timers.advance(10_000);
    expect(sent.map((u) => u.frameworkId)).toEqual(['f', 'g', 'g']);
  });

  it('sends an update whose write is under way only once it is on disk, in order, and writes one that could not be written again until it is', async () => {
    const writes: { resolve: () => void; reject: (err: Error) => void; state: string }[] = [];
    const failed: string[] = [];
    const { sent, timers, manager } = setup({
      persist: {
        update: (u) => new Promise<void>((resolve, reject) => void writes.push({ resolve, reject, state: String(u.status.state) })),
        acknowledged: () => {},
      },
      persistFailed: (what) => void failed.push(what),
    });
    const states = () => sent.map((u) => u.status.state);
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    manager.update('f', status('t', 'TASK_STARTING'));
    manager.update('f', status('t', 'TASK_RUNNING'));
    manager.update('f', status('t', 'TASK_FINISHED'));
    manager.resendAll(); // a registration meanwhile sends nothing unwritten either
    timers.advance(60_000);
    await settle();
    expect(states()).toEqual([]);
    expect(manager.pending()).toHaveLength(3);
    writes[1]!.resolve(); // RUNNING is on disk, STARTING not yet: nothing goes out of order
    await settle();
    expect(states()).toEqual([]);
    writes[0]!.resolve();
    await settle();
    expect(states()).toEqual(['TASK_STARTING']);
    manager.acknowledge('f', 't', sent[0]!.status.uuid);
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    writes[2]!.reject(new Error('disk full')); // said, kept in its place unsent, and written again on the backoff
    await settle();
    expect(failed).toEqual(['TASK_FINISHED of task t (not sent; writing it again in 10s)']);
    manager.acknowledge('f', 't', sent[1]!.status.uuid);
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    expect(manager.hasPending('f', 't')).toBe(true);
    let onDisk = false;
    void manager.written(manager.pending()[0]!).then(() => (onDisk = true));
    timers.advance(9_999);
    expect(writes).toHaveLength(3);
    timers.advance(1);
    expect(writes).toHaveLength(4);
    writes[3]!.reject(new Error('disk still full'));
    await settle();
    expect(failed[1]).toBe('TASK_FINISHED of task t (not sent; writing it again in 20s)');
    timers.advance(20_000);
    writes[4]!.resolve(); // space came back
    await settle();
    expect(onDisk).toBe(true);
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    manager.acknowledge('f', 't', sent[2]!.status.uuid);
    expect(manager.hasPending('f', 't')).toBe(false);
  });

  it('sends the next update only once the acknowledgement before it is on disk', async () => {
    const acks: { resolve: () => void; reject: (err: Error) => void }[] = [];
    const failed: string[] = [];
    const { sent, manager } = setup({
      persist: { update: () => {}, acknowledged: () => new Promise<void>((resolve, reject) => void acks.push({ resolve, reject })) },
      persistFailed: (what) => void failed.push(what),
    });
    const states = () => sent.map((u) => u.status.state);
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    manager.update('f', status('t', 'TASK_STARTING'));
    manager.update('f', status('t', 'TASK_RUNNING'));
    manager.update('f', status('t', 'TASK_FINISHED'));
    expect(manager.acknowledge('f', 't', sent[0]!.status.uuid)).toBe(true);
    expect(manager.acknowledge('f', 't', sent[0]!.status.uuid)).toBe(false); // taken already
    manager.resendAll();
    await settle();
    expect(states()).toEqual(['TASK_STARTING']);
    acks[0]!.resolve();
    await settle();
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    manager.acknowledge('f', 't', sent[1]!.status.uuid);
    acks[1]!.reject(new Error('disk full')); // said, and the stream goes on
    await settle();
    expect(failed).toEqual(['the acknowledgement of TASK_RUNNING of task t']);
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    manager.acknowledge('f', 't', sent[2]!.status.uuid);
    expect(manager.hasPending('f', 't')).toBe(false); // at once: the agent forgets the task (its checkpoint goes after the write)
  });

  it('stop() cancels every retry', () => {
    const { timers, manager, sent } = setup();
    manager.update('f', status('a', 'TASK_RUNNING'));
    manager.stop();
    timers.advance(3_600_000);
    expect(sent).toHaveLength(1);
  });
});
