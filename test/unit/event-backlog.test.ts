// EventBacklog: events pass straight through while the transport takes them,
// wait (in order) while it pushes back, and past the limit are all dropped
// with one overflow report; the same past the byte limit, counting only the
// events that wait.
import { describe, expect, it } from 'vitest';
import { EventBacklog } from '../../master/event-backlog.js';

/** At most `events` waiting events; no byte bound to speak of; each event `n` weighs n bytes. */
function byCount(events: number) {
  return { events, bytes: Number.MAX_SAFE_INTEGER, measure: (n: number) => ({ event: n, bytes: n }) };
}

/** A transport that takes `room` events before pushing back. */
function transport(room: number) {
  const sent: number[] = [];
  return { sent, room, write(event: number) { sent.push(event); return --this.room > 0; } };
}

describe('EventBacklog', () => {
  it('sends at once while the transport has room', () => {
    const t = transport(10);
    const backlog = new EventBacklog(t, byCount(5), () => { throw new Error('no overflow expected'); });
    for (let i = 0; i < 5; i++) backlog.push(i);
    expect(t.sent).toEqual([0, 1, 2, 3, 4]);
    expect(backlog.length).toBe(0);
  });

  it('queues while the transport pushes back and sends in order once it drains', () => {
    const t = transport(2);
    const backlog = new EventBacklog(t, byCount(5), () => { throw new Error('no overflow expected'); });
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
    const backlog = new EventBacklog(t, byCount(3), (waiting) => overflows.push(waiting.events));
    for (let i = 0; i < 10; i++) backlog.push(i);
    expect(t.sent).toEqual([0]);
    expect(overflows).toEqual([4]); // 1, 2, 3 waited; 4 was one too many
    expect(backlog.length).toBe(0);
    backlog.drained();
    expect(t.sent).toEqual([0]);
  });

  it('flush hands everything waiting to the transport regardless of its room', () => {
    const t = transport(1);
    const backlog = new EventBacklog(t, byCount(5), () => {});
    for (let i = 0; i < 4; i++) backlog.push(i);
    backlog.flush();
    expect(t.sent).toEqual([0, 1, 2, 3]);
    expect(backlog.length).toBe(0);
  });

  it('drops everything past the byte limit, counting only the events that wait', () => {
    const t = transport(2);
    const overflows: unknown[] = [];
    const sized: number[] = [];
    const limit = { events: 100, bytes: 1000, measure: (n: number) => (sized.push(n), { event: n, bytes: n }) };
    const backlog = new EventBacklog(t, limit, (what) => overflows.push(what));
    backlog.push(5000); // Taken by the transport at once: not measured, not counted.
    backlog.push(400); // The transport pushed back after this one.
    backlog.push(300);
    backlog.push(600);
    expect(sized).toEqual([300, 600]);
    expect(backlog.bytes).toBe(900);
    expect(overflows).toEqual([]);
    t.room = 1;
    backlog.drained(); // 300 goes and the transport pushes back again; 600 waits.
    expect(backlog.bytes).toBe(600);
    backlog.push(500);
    expect(overflows).toEqual([{ events: 2, bytes: 1100, bound: 'bytes' }]);
    expect(backlog.length).toBe(0);
    expect(backlog.bytes).toBe(0);
    backlog.push(1);
    expect(t.sent).toEqual([5000, 400, 300]);
  });

  it('reports the count bound when the count passes first', () => {
    const t = transport(1);
    const overflows: unknown[] = [];
    const backlog = new EventBacklog(t, { events: 2, bytes: 1000, measure: (n: number) => ({ event: n, bytes: 10 }) }, (what) => overflows.push(what));
    for (let i = 0; i < 4; i++) backlog.push(i);
    expect(overflows).toEqual([{ events: 3, bytes: 30, bound: 'events' }]);
  });

  it('keeps a waiting event in the form measure hands back, and sends that form', () => {
    const sent: string[] = [];
    let room = 1;
    const t = { write: (e: string) => (sent.push(e), --room > 0) };
    const backlog = new EventBacklog<string>(t, { events: 10, bytes: 1000, measure: (e) => ({ event: `encoded(${e})`, bytes: e.length }) }, () => {});
    backlog.push('a');
    backlog.push('bb');
    expect(backlog.bytes).toBe(2);
    room = 10;
    backlog.drained();
    expect(sent).toEqual(['a', 'encoded(bb)']);
  });
});
