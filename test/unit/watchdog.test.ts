// The liveness watchdog with hand-driven timers: it fires after a silence of
// the armed interval, and every kick starts the interval again.
import { describe, expect, it } from 'vitest';
import { Watchdog } from '../../common/watchdog.js';
import { FakeTimers } from '../harness/fake-timers.js';

function setup() {
  const timers = new FakeTimers();
  const fired: number[] = [];
  const watchdog = new Watchdog(timers);
  return { timers, fired, watchdog, arm: (ms: number) => watchdog.set(ms, () => void fired.push(timers.now)) };
}

describe('Watchdog', () => {
  it('fires once the armed interval passes without a kick', () => {
    const { timers, fired, arm } = setup();
    arm(1000);
    timers.advance(999);
    expect(fired).toEqual([]);
    timers.advance(5000);
    expect(fired).toEqual([1000]);
  });

  it('starts the interval again on every kick', () => {
    const { timers, fired, watchdog, arm } = setup();
    arm(1000);
    timers.advance(800);
    watchdog.kick();
    timers.advance(800);
    expect(fired).toEqual([]);
    timers.advance(200);
    expect(fired).toEqual([1800]);
  });

  it('stays quiet after stop() until kicked, then uses the last interval', () => {
    const { timers, fired, watchdog, arm } = setup();
    arm(1000);
    watchdog.stop();
    timers.advance(5000);
    expect(fired).toEqual([]);
    watchdog.kick();
    timers.advance(1000);
    expect(fired).toEqual([6000]);
  });

  it('replaces the interval and action on set(), and is disarmed by an interval of 0', () => {
    const { timers, fired, watchdog, arm } = setup();
    arm(1000);
    arm(3000);
    timers.advance(2000);
    expect(fired).toEqual([]);
    watchdog.set(0, () => void fired.push(-1));
    timers.advance(10_000);
    expect(fired).toEqual([]);
    expect(timers.pending).toBe(0);
  });
});
