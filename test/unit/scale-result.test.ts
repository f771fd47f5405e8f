import { describe, expect, it } from 'vitest';
import { rssAtTasks, type ThroughputFigures } from '../../bench/scale/result.js';

const figures = (pairs: [number, number | null, number | null][]) => ({ masterRssByTasks: pairs }) as unknown as ThroughputFigures;

describe('bench/scale result: master RSS at a number of running tasks', () => {
  it('takes the first sample at or above the count, skipping samples whose reads failed', () => {
    const t = figures([[1, 10_000, 300], [2, null, 400], [3, 50_000, null], [4, 50_500, 910], [5, 60_000, 1000]]);
    expect(rssAtTasks(t, 50_000)).toBe(910);
    expect(rssAtTasks(t, 10_000)).toBe(300);
  });

  it('is null when the count was never reached, or a run has no samples', () => {
    expect(rssAtTasks(figures([[1, 49_999, 900]]), 50_000)).toBeNull();
    expect(rssAtTasks({} as ThroughputFigures, 50_000)).toBeNull();
  });
});
