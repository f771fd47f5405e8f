// The master's deadlines (offer timeouts, failover timeouts, agent pings,
// heartbeats, re-registration) and the allocator's refusal filters under a
// wall clock that jumps: an hour back
// or forward after a deadline is armed changes nothing about when it fires,
// because it is kept as a delay on the monotonic clock. Time is driven by hand
// (fake timers); the wall clock is the fake time plus a jump the test sets.
import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../master/deadlines.js';
import { FakeTimers } from '../harness/fake-timers.js';
import type { Clock } from '../../common/clock.js';
import { MasterHarness } from '../harness/master-harness.js';

const HOUR = 3600;

function setup() {
  const timers = new FakeTimers();
  let jump = 0;
  const wall: Clock = { now: () => 1_700_000_000 + timers.now / 1000 + jump };
  const deadlines = new Deadlines(wall, timers, timers.clock(0));
  const fired: string[] = [];
  return { timers, wall, deadlines, fired, jumpBy: (seconds: number) => (jump += seconds) };
}

describe('deadlines under a wall clock that jumps', () => {
  it.each([
    ['an hour back', -HOUR],
    ['an hour forward', HOUR],
    ['a day back', -24 * HOUR],
  ])('fire after the armed delay, not sooner and not later, when the wall clock jumps %s', (_what, jump) => {
    const { timers, wall, deadlines, fired, jumpBy } = setup();
    deadlines.arm('offer-timeout', wall.now() + 10, () => fired.push('offer-timeout'));
    deadlines.arm('failover', wall.now() + 60, () => fired.push('failover'));
    timers.advance(1000);
    jumpBy(jump);
    timers.advance(8_999);
    expect(fired).toEqual([]);
    timers.advance(1);
    expect(fired).toEqual(['offer-timeout']);
    timers.advance(49_999);
    expect(fired).toEqual(['offer-timeout']);
    timers.advance(1);
    expect(fired).toEqual(['offer-timeout', 'failover']);
    expect(deadlines.size).toBe(0);
  });

  it('keeps answering dueAt() on the wall clock it was armed with', () => {
    const { wall, deadlines, jumpBy } = setup();
    const at = wall.now() + 30;
    deadlines.arm('k', at, () => {});
    jumpBy(-HOUR);
    expect(deadlines.dueAt('k')).toBe(at);
  });

  it('re-arming a key after a jump counts from the new wall time', () => {
    const { timers, wall, deadlines, fired, jumpBy } = setup();
    deadlines.arm('ping', wall.now() + 5, () => fired.push('first'));
    jumpBy(HOUR);
    deadlines.arm('ping', wall.now() + 5, () => fired.push('second'));
    timers.advance(4_999);
    expect(fired).toEqual([]);
    timers.advance(1);
    expect(fired).toEqual(['second']);
  });
});

describe('refusal filters under a wall clock that jumps', () => {
  it.each([
    ['an hour back', -HOUR],
    ['an hour forward', HOUR],
  ])('hide a declined agent for refuse_seconds, no more and no less, when the wall clock jumps %s', async (_what, jump) => {
    const h = await MasterHarness.start();
    await h.addAgent('a1', 'cpus:2;mem:256');
    const fw = await h.subscribe('fw');
    const first = fw.offers();
    expect(first).toHaveLength(1);
    fw.call({ type: 'DECLINE', decline: { offer_ids: first.map((o) => o.id), filters: { refuse_seconds: 30 } } });
    await h.settle();
    h.time.jumpWall(jump);
    await h.advance(28);
    expect(fw.offers()).toEqual([]);
    await h.advance(4);
    expect(fw.offers()).toHaveLength(1);
  });

  it('let an offer time out after offer_timeout, not sooner, when the wall clock jumps forward', async () => {
    const h = await MasterHarness.start({ offerTimeout: 20 });
    await h.addAgent('a1', 'cpus:2;mem:256');
    const fw = await h.subscribe('fw');
    expect(fw.offers()).toHaveLength(1);
    h.time.jumpWall(HOUR);
    await h.advance(18);
    expect(fw.events.filter((e) => e.type === 'RESCIND')).toEqual([]);
    await h.advance(4);
    expect(fw.events.filter((e) => e.type === 'RESCIND')).toHaveLength(1);
  });
});
