// The one backoff formula, with each caller's parameters: the agent's link
// to the master, the SDK's reconnect (its own test: sdk-reconnect.test.ts)
// and the agent's status update resends.
import { describe, expect, it } from 'vitest';
import { backoffDelay, backoffSchedule, NO_JITTER, symmetricJitter } from '../../common/backoff.js';
import { RECONNECT_BACKOFF } from '../../agent/master-link.js';

const lowest = () => 0;
const highest = () => 1;

describe('backoffDelay', () => {
  it('grows by the multiplier from the first wait up to the cap, with no jitter by default', () => {
    expect(backoffSchedule(8, { initialDelayMs: 10_000, maxDelayMs: 600_000 })).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000]);
    expect(backoffSchedule(4, { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 3, jitter: NO_JITTER }, highest)).toEqual([100, 300, 900, 1000]);
  });

  it('rounds to whole milliseconds', () => {
    expect(backoffDelay(0, { initialDelayMs: 0.1 * 1000, maxDelayMs: 600_000 })).toBe(100);
  });

  it('keeps huge retry numbers at the cap', () => {
    expect(backoffDelay(5000, { initialDelayMs: 200, maxDelayMs: 5000 })).toBe(5000);
  });

  it('agent link: doubles from 200 ms, caps at 5 s, jitters between half and all of it', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, RECONNECT_BACKOFF, highest))).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    expect([0, 1, 10].map((n) => backoffDelay(n, RECONNECT_BACKOFF, lowest))).toEqual([100, 200, 2500]);
  });

  it('symmetric jitter: ±fraction around the wait, never beyond the cap', () => {
    const options = { initialDelayMs: 500, maxDelayMs: 30_000, jitter: symmetricJitter(0.2) };
    expect(backoffDelay(0, options, lowest)).toBe(400); // 500 × 0.8
    expect(backoffDelay(0, options, () => 0.5)).toBe(500);
    expect(backoffDelay(0, options, () => 0.999999)).toBe(600); // 500 × 1.2
    expect(backoffDelay(19, options, () => 0.999999)).toBe(30_000);
    expect(backoffDelay(19, options, lowest)).toBe(24_000); // 30 s × 0.8
  });
});
