// The choices of the machine faults of a fault run (engine restarts, clock
// jumps) are functions of their seeded draws: the same seed picks the same,
// only what can be hit is picked, jumps stay within their range both ways;
// and a run's fault list is narrowed by name, an unknown name refused.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../master/allocator/seeded-random.js';
import { JUMP_RANGE_S, chooseClockTarget, chooseEngine, drawJump, type EngineChoice } from '../../test/nemesis/machine-injectors.js';
import { onlyNamed } from '../../test/nemesis/run.js';
import type { Injector } from '../../test/nemesis/injectors.js';

const ENGINES: EngineChoice[] = [
  { slot: 'agent-1', liveRestore: true, running: true },
  { slot: 'agent-2', liveRestore: false, running: true },
  { slot: 'agent-3', liveRestore: true, running: false },
  { slot: 'agent-4', liveRestore: false, running: true },
];

const draws = <T>(n: number, seed: number, draw: (random: () => number) => T): T[] => {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => draw(random));
};

describe('machine fault choices', () => {
  it('an engine restart picks a running engine of its own mode, the same for the same seed', () => {
    const live = draws(50, 1, (r) => chooseEngine(ENGINES, true, r));
    expect(new Set(live)).toEqual(new Set(['agent-1'])); // agent-3 is stopped.
    const plain = draws(50, 1, (r) => chooseEngine(ENGINES, false, r));
    expect(new Set(plain)).toEqual(new Set(['agent-2', 'agent-4']));
    expect(draws(50, 1, (r) => chooseEngine(ENGINES, false, r))).toEqual(plain);
    expect(draws(50, 2, (r) => chooseEngine(ENGINES, false, r))).not.toEqual(plain);
    expect(chooseEngine(ENGINES.map((e) => ({ ...e, running: false })), false, seededRandom(1))).toBeUndefined();
  });

  it('a clock jump is 1 to 10 minutes, forward and back, replayed by its seed', () => {
    const jumps = draws(200, 3, drawJump);
    for (const s of jumps) {
      expect(Number.isInteger(s)).toBe(true);
      expect(Math.abs(s)).toBeGreaterThanOrEqual(JUMP_RANGE_S.min);
      expect(Math.abs(s)).toBeLessThanOrEqual(JUMP_RANGE_S.max);
    }
    expect(jumps.some((s) => s > 0) && jumps.some((s) => s < 0)).toBe(true);
    expect(draws(200, 3, drawJump)).toEqual(jumps);
  });

  it('a clock jump hits the leader about half the time, any live process otherwise, and nothing when none lives', () => {
    const live = ['master-1', 'master-2', 'agent-1'];
    const picks = draws(400, 4, (r) => chooseClockTarget(live, 'master-2', r));
    const leader = picks.filter((p) => p === 'master-2').length;
    expect(leader).toBeGreaterThan(400 * 0.5); // Half by choice, plus its share of the other half.
    expect(new Set(picks)).toEqual(new Set(live));
    expect(new Set(draws(50, 4, (r) => chooseClockTarget(live, null, r)))).toEqual(new Set(live));
    expect(chooseClockTarget([], null, seededRandom(4))).toBeUndefined();
  });

  it('a run keeps only the faults named, and refuses a name no injector has', () => {
    const injector = (name: string): Injector => ({ name, inject: async () => null, heal: async () => {}, holding: () => new Set() });
    const all = ['kill-master', 'restart-engine', 'fill-disk', 'jump-clock'].map(injector);
    expect(onlyNamed(all).map((i) => i.name)).toEqual(['kill-master', 'restart-engine', 'fill-disk', 'jump-clock']);
    expect(onlyNamed(all, ['fill-disk', 'jump-clock']).map((i) => i.name)).toEqual(['fill-disk', 'jump-clock']);
    expect(() => onlyNamed(all, ['fill-disk', 'melt-cpu'])).toThrow("unknown fault melt-cpu; this cluster's faults: kill-master, restart-engine, fill-disk, jump-clock");
    expect(() => onlyNamed(all, [])).toThrow(/unknown fault \(none given\)/);
  });
});
