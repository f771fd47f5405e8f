// The fault run's schedule is a function of its seed: the same seed replays
// the same faults, another seed gives others, and it fills the run's time.
import { describe, expect, it } from 'vitest';
import { describeSchedule, planSchedule } from '../../test/nemesis/nemesis.js';

const INJECTORS = ['kill-master', 'pause-master', 'kill-agent', 'kill-zookeeper'];

describe('the fault schedule', () => {
  it('is the same for the same seed, and differs for another', () => {
    const a = planSchedule({ seed: 42, seconds: 300, injectors: INJECTORS });
    expect(planSchedule({ seed: 42, seconds: 300, injectors: INJECTORS })).toEqual(a);
    expect(planSchedule({ seed: 43, seconds: 300, injectors: INJECTORS })).not.toEqual(a);
    expect(describeSchedule(a).split('\n')[0]).toMatch(/^ {2}#0 at ~\d+\.\ds (kill-master|pause-master|kill-agent|kill-zookeeper) \(choice seed \d+\) for \d+\.\ds$/);
  });

  it('fills the run with gaps and holds within their bounds, drawing every injector', () => {
    const steps = planSchedule({ seed: 7, seconds: 300, injectors: INJECTORS, minGapMs: 1000, maxGapMs: 4000, minHoldMs: 500, maxHoldMs: 2000 });
    const total = steps.reduce((ms, s) => ms + s.gapMs + s.holdMs, 0);
    expect(total).toBeGreaterThanOrEqual(300_000);
    expect(total - steps.at(-1)!.gapMs - steps.at(-1)!.holdMs).toBeLessThan(300_000);
    for (const s of steps) {
      expect(s.gapMs).toBeGreaterThanOrEqual(1000);
      expect(s.gapMs).toBeLessThanOrEqual(4000);
      expect(s.holdMs).toBeGreaterThanOrEqual(500);
      expect(s.holdMs).toBeLessThanOrEqual(2000);
    }
    expect(new Set(steps.map((s) => s.injector))).toEqual(new Set(INJECTORS));
  });
});
