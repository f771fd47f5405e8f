// EventBacklog: events pass straight through while the transport takes them,
// wait (in order) while it pushes back, and past the limit are all dropped
// with one overflow report.
import { describe, expect, it } from 'vitest';
import { EventBacklog } from '../../master/event-backlog.js';

/** A transport that takes `room` events before pushing back. */
function transport(room: number) {
  const sent: number[] = [];
  return { sent, room, write(event: number) { sent.push(event); return --this.room > 0; } };
}

describe('EventBacklog', () => {
  it('sends at once while the transport has room', () => {
    const t = transport(10);
    const backlog = new EventBacklog(t, 5, () => { throw new Error('no overflow expected'); });
    for (let i = 0; i < 5; i++) backlog.push(i);
    expect(t.sent).toEqual([0, 1, 2, 3, 4]);
    expect(backlog.length).toBe(0);
  });

  it('queues while the transport pushes back and sends in order once it drains', () => {
    const t = transport(2);
    const backlog = new EventBacklog(t, 5, () => { throw new Error('no overflow expected'); });
    for (let i = 0; i < 6; i++) backlog.push(i);
    expect(t.sent).toEqual([0, 1]); // write() said false after 1: 2..5 wait
    expect(backlog.length).toBe(4);
    t.room = 3;
    backlog.drained();
    expect(t.sent).toEqual([0, 1, 2, 3, 4]);
    expect(backlog.length).toBe(1);
    t.room = 10;
    backlog.drained();
    expect(t.sent).toEqual([0, 1, 2, 3, 4, 5]);
    expect(backlog.length).toBe(0);
  });

  it('drops everything waiting past the limit, reports once, and takes nothing more', () => {
    const t = transport(1);
    const overflows: number[] = [];
    const backlog = new EventBacklog(t, 3, (waiting) => overflows.push(waiting));
    for (let i = 0; i < 10; i++) backlog.push(i);
    expect(t.sent).toEqual([0]);
    expect(overflows).toEqual([4]); // 1, 2, 3 waited; 4 was one too many
    expect(backlog.length).toBe(0);
    backlog.drained();
    expect(t.sent).toEqual([0]);
  });

  it('flush hands everything waiting to the transport regardless of its room', () => {
    const t = transport(1);
    const backlog = new EventBacklog(t, 5, () => {});
    for (let i = 0; i < 4; i++) backlog.push(i);
    backlog.flush();
    expect(t.sent).toEqual([0, 1, 2, 3]);
    expect(backlog.length).toBe(0);
  });
});
