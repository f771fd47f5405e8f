// The fault run's schedule is a function of its seed: the same seed replays
// the same faults, another seed gives others, and it fills the run's time.
// Played with injectors that only note what they are asked, faults overlap up
// to the concurrency allowed, never two of one injector, and all are healed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSchedule, planSchedule, playSchedule } from '../../test/nemesis/nemesis.js';
import { HistoryWriter, readHistory } from '../../test/nemesis/history.js';
import type { Injector } from '../../test/nemesis/injectors.js';

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

  it('in order: each injector once, in the order given, with the gaps, holds and choices the seed draws', () => {
    const steps = planSchedule({ seed: 42, seconds: 5, injectors: INJECTORS, inOrder: true });
    expect(steps.map((s) => s.injector)).toEqual(INJECTORS); // Not cut short by 5 s: the list is played whole.
    const drawn = planSchedule({ seed: 42, seconds: 300, injectors: INJECTORS }).slice(0, INJECTORS.length);
    expect(steps.map(({ gapMs, holdMs, choiceSeed }) => ({ gapMs, holdMs, choiceSeed }))).toEqual(drawn.map(({ gapMs, holdMs, choiceSeed }) => ({ gapMs, holdMs, choiceSeed })));
  });
});

/** Injectors that hold nothing real: each notes how many faults hold at once, across all of them. */
function notingInjectors(names: readonly string[]) {
  const active = new Set<string>();
  const seen = { most: 0, sameTwice: 0, injected: 0, healed: 0 };
  const injectors: Injector[] = names.map((name) => ({
    name,
    async inject() {
      if (active.has(name)) seen.sameTwice++;
      active.add(name);
      seen.injected++;
      seen.most = Math.max(seen.most, active.size);
      return { kind: name, target: 'x', description: name };
    },
    async heal() {
      if (active.delete(name)) seen.healed++;
    },
    holding: () => new Set(),
  }));
  return { injectors, seen, active };
}

describe('playing the schedule', () => {
  const play = async (concurrency: number, seconds: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'nemesis-play-'));
    const history = new HistoryWriter(join(dir, 'history.jsonl'), 'runner');
    const names = ['a', 'b', 'c'];
    const { injectors, seen, active } = notingInjectors(names);
    const steps = planSchedule({ seed: 3, seconds, injectors: names, minGapMs: 10, maxGapMs: 30, minHoldMs: 80, maxHoldMs: 150, concurrency });
    const result = await playSchedule(steps, seconds, { injectors, history, log: () => {}, revive: async () => [], concurrency });
    history.close();
    const events = readHistory(join(dir, 'history.jsonl'));
    rmSync(dir, { recursive: true, force: true });
    return { result, seen, active, events };
  };

  it('one fault at a time by default', async () => {
    const { result, seen } = await play(1, 1);
    expect(seen.injected).toBeGreaterThan(3);
    expect(seen.most).toBe(1);
    expect(result.maxConcurrent).toBe(1);
  });

  it('with a concurrency of 2, two faults hold at once, never two of one injector, and every one is healed at the end', async () => {
    const { result, seen, active, events } = await play(2, 1);
    expect(seen.most).toBe(2);
    expect(result.maxConcurrent).toBe(2);
    expect(seen.sameTwice).toBe(0);
    expect(active.size).toBe(0);
    expect(seen.healed).toBe(seen.injected);
    const faults = events.filter((e) => e.type === 'fault');
    expect(faults.filter((e) => e.type === 'fault' && e.phase === 'inject')).toHaveLength(result.faults.length);
    expect(faults.filter((e) => e.type === 'fault' && e.phase === 'heal')).toHaveLength(result.faults.length);
  });
});
