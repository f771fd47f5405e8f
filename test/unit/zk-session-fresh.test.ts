// When a leading master may act: ZkSession.fresh. A fault run on hosts (seed 1,
// a leader SIGSTOPped for 5.6 s) saw the resumed leader accept one more call
// while another master already led: once resumed, Node handled the waiting
// call before the timer that notices the freeze ran. The session is now not
// fresh until that check has run since the freeze.
import { describe, expect, it } from 'vitest';
import { isFresh, type Freshness } from '../../common/zk/session.js';

const TIMEOUT = 4000; // Fresh: an answer to a probe sent less than 2667 ms ago; frozen: no stall check for 2667 ms.
const at = (now: number, over: Partial<Freshness> = {}): Freshness => ({
  now, ended: false, lastAnsweredSentAt: now - 100, timeoutMs: TIMEOUT, stallCheckedAt: now - 50, stallLimitMs: (TIMEOUT * 2) / 3, ...over,
});

describe('a ZooKeeper session is fresh', () => {
  it('with a recent answer and a recent stall check', () => {
    expect(isFresh(at(10_000))).toBe(true);
  });

  it('not once the last answered probe was sent two thirds of the timeout ago, nor once ended', () => {
    expect(isFresh(at(10_000, { lastAnsweredSentAt: 10_000 - 2700 }))).toBe(false);
    expect(isFresh(at(10_000, { ended: true }))).toBe(false);
  });

  it('not right after a freeze, before the stall check ran, even with an answer read meanwhile', () => {
    // Frozen 5.6 s; on resuming, a probe's answer is read before the stall check's timer runs.
    expect(isFresh(at(10_000, { lastAnsweredSentAt: 9_999, stallCheckedAt: 10_000 - 5_600 }))).toBe(false);
  });

  it('without stall checks (agents, schedulers), from the answers alone', () => {
    expect(isFresh(at(10_000, { stallCheckedAt: 0, stallLimitMs: Infinity }))).toBe(true);
  });
});
