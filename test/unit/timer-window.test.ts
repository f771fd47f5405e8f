import { describe, expect, it } from 'vitest';
import { percentile, TimerWindow } from '../../common/timer-window.js';

describe('TimerWindow', () => {
  it('reports only the count and a zero last value before anything is timed', () => {
    expect(new TimerWindow(4).snapshot('t')).toEqual({ t: 0, 't/count': 0 });
  });

  it('reports the last value, the count, min, max and nearest-rank percentiles', () => {
    const w = new TimerWindow(100);
    for (let i = 100; i >= 1; i--) w.add(i); // 100 samples, 1..100, the last one 1
    const s = w.snapshot('a/ms');
    expect(s['a/ms']).toBe(1);
    expect(s['a/ms/count']).toBe(100);
    expect([s['a/ms/min'], s['a/ms/max']]).toEqual([1, 100]);
    // Nearest rank over 1..100: p50 is the 50th value, p99 the 99th, p999 and p9999 the 100th.
    expect([s['a/ms/p50'], s['a/ms/p90'], s['a/ms/p95'], s['a/ms/p99'], s['a/ms/p999'], s['a/ms/p9999']]).toEqual([50, 90, 95, 99, 100, 100]);
  });

  it('keeps only the most recent samples in its window, but counts every one', () => {
    const w = new TimerWindow(3);
    for (const v of [1000, 900, 5, 6, 7]) w.add(v);
    const s = w.snapshot('t');
    expect(s['t/count']).toBe(5);
    expect([s['t/min'], s['t/max'], s['t/p50']]).toEqual([5, 7, 6]); // 1000 and 900 left the window
  });

  it('refuses a window that holds no samples', () => {
    expect(() => new TimerWindow(0)).toThrow(/positive whole number of samples, got 0/);
    expect(() => new TimerWindow(2.5)).toThrow(/got 2.5/);
  });

  it('percentile of nothing is 0, of one sample that sample', () => {
    expect(percentile([], 0.5)).toBe(0);
    expect(percentile([7], 0.01)).toBe(7);
    expect(percentile([7], 1)).toBe(7);
  });
});
