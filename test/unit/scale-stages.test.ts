import { describe, expect, it } from 'vitest';
import { CHAIN, parseMasterTrace, pointTimes, stages, type TaskSightings } from '../../bench/scale/stages.js';
import { distribution, firstOffersInOrder } from '../../bench/scale/phases.js';

// One task seen by all three sides: each point 10 ms after the one before, from t = 1000.
function fullTask(): TaskSightings {
  const s: Record<string, number> = {};
  const a: Record<string, number> = {};
  const m: Record<string, number[]> = {};
  CHAIN.forEach((pt, i) => {
    const at = 1000 + 10 * i;
    if (pt.side === 's') s[pt.hop] = at;
    else if (pt.side === 'a') a[pt.hop] = at;
    else (m[pt.hop] ??= []).push(at);
  });
  return { s, a, m };
}

describe('bench/scale stages', () => {
  it('gives each acknowledgement at the master to its own state, in order', () => {
    const task = fullTask();
    const times = pointTimes(task);
    expect(times).toEqual(CHAIN.map((_, i) => 1000 + 10 * i));
    // The master saw two ACKNOWLEDGEs of this task: STARTING's first, RUNNING's second.
    expect(task.m!['master: ACKNOWLEDGE received']).toHaveLength(2);
  });

  it('puts every stage between consecutive points, and the whole way last', () => {
    const out = stages([fullTask(), fullTask()], distribution);
    expect(out).toHaveLength(CHAIN.length);
    expect(out[0]!.name).toBe('launch (ACCEPT sent) -> ACCEPT at master');
    expect(out.slice(0, -1).every((st) => st.ms.n === 2 && st.ms.p50 === 10)).toBe(true);
    expect(out.at(-1)!.name).toBe('whole: launch (ACCEPT sent) -> RUNNING ack at agent');
    expect(out.at(-1)!.ms.p50).toBe(10 * (CHAIN.length - 1));
  });

  it('joins the neighbours of points nobody saw (no master trace)', () => {
    const { s, a } = fullTask();
    const out = stages([{ s, a }], distribution);
    expect(out[0]!.name).toBe('launch (ACCEPT sent) -> RunTask at agent');
    expect(out[0]!.ms.p50).toBe(40);
    expect(out.some((st) => st.name.includes('at master'))).toBe(false);
  });

  it('leaves out a task from the stages it did not reach', () => {
    const { s, a, m } = fullTask();
    const unfinished: TaskSightings = { s: { launch: s!.launch! }, a: { runTask: a!.runTask! }, m };
    const out = stages([fullTask(), unfinished], distribution);
    expect(out.find((st) => st.name === 'RunTask sent by master -> RunTask at agent')!.ms.n).toBe(2);
    expect(out.find((st) => st.name.startsWith('RunTask at agent ->'))!.ms.n).toBe(1);
  });

  it('reads the master trace, skipping lines it cannot read', () => {
    const trace = parseMasterTrace('t-10\tmaster: ACKNOWLEDGE received\t20.5\nt-10\tmaster: ACKNOWLEDGE received\t10.25\ngarbage\n\nt-20\tx\tnot-a-number\n');
    expect([...trace.keys()]).toEqual(['t-10']);
    expect(trace.get('t-10')!['master: ACKNOWLEDGE received']).toEqual([10.25, 20.5]);
  });
});

describe('bench/scale first offers in order of subscription', () => {
  it('lists each framework\'s wait in the order its SUBSCRIBED arrived, leaving out those never offered', () => {
    const fw = (name: string, subscribed: number, offered: number | null) => ({
      name, subscribeSentAt: 0, subscriptions: [{ masterId: 'm', at: subscribed }], firstOffers: offered === null ? [] : [{ masterId: 'm', at: offered }],
    });
    expect(firstOffersInOrder([fw('b', 20, 700), fw('a', 10, 15), fw('c', 30, null), fw('d', 25, 725)])).toEqual([5, 680, 700]);
  });
});
