// The outbox drains what a registry write released within a budget per
// turn of the event loop, and the rest on later turns, in order: each
// effect here costs 1 ms on a clock the test moves, and `defer` keeps the
// next turn until the test runs it.
import { describe, expect, it } from 'vitest';
import { Outbox, type DrainBudget } from '../../master/outbox.js';
import type { Effect } from '../../master/operations/effects.js';
import type { FrameworkId } from '../../master/state/records.js';

/** Effect `i`: a stream to drop, named by its number, so the order they ran in can be read back. */
const effect = (i: number): Effect => ({ type: 'dropStream', frameworkId: 'fw' as FrameworkId, streamId: String(i) });
const effects = (from: number, count: number) => Array.from({ length: count }, (_, k) => effect(from + k));

function outbox(budgetMs: number) {
  let now = 0;
  const ran: number[] = [];
  const turns: (() => void)[] = [];
  const budget: DrainBudget = { budgetMs, elapsedMs: () => now, defer: (fn) => void turns.push(fn) };
  const box = new Outbox(
    (list) => {
      for (const e of list) {
        ran.push(Number((e as { streamId: string }).streamId));
        now += 1;
      }
    },
    (err) => {
      throw err;
    },
    budget,
  );
  /** Runs the next deferred turn; false when none is asked for. */
  const nextTurn = () => {
    const fn = turns.shift();
    fn?.();
    return fn !== undefined;
  };
  return { box, ran, turns, nextTurn };
}

/** A registry write the test completes. */
function write() {
  let done!: () => void;
  const stored = new Promise<void>((res) => (done = res));
  return { stored, done: async () => (done(), await stored, await Promise.resolve()) };
}

describe('Outbox drain budget', () => {
  it('runs what one write released over several turns, in order, within the budget each turn', async () => {
    const { box, ran, turns, nextTurn } = outbox(10);
    const w = write();
    const settled = box.push(w.stored, effects(0, 35));
    let resolved = false;
    void settled.then(() => (resolved = true));
    await w.done();
    expect(ran).toEqual(effects(0, 10).map((_, i) => i)); // 10 effects of 1 ms: the budget of one turn.
    expect(turns).toHaveLength(1);
    expect(resolved).toBe(false);
    const perTurn = [ran.length];
    while (nextTurn()) perTurn.push(ran.length - perTurn.reduce((a, b) => a + b, 0));
    expect(perTurn).toEqual([10, 10, 10, 5]);
    expect(ran).toEqual([...Array(35).keys()]);
    await settled;
    expect(resolved).toBe(true);
  });

  it('keeps later operations behind the rest of a write cut by the budget, even those with nothing to wait for', async () => {
    const { box, ran, nextTurn } = outbox(5);
    const w = write();
    void box.push(w.stored, effects(0, 8));
    await w.done();
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    void box.push(null, effects(100, 2)); // Wrote nothing: it would run at once on an empty outbox.
    expect(box.runNow(effects(200, 1))).toBe(false); // An allocation pass's offers wait too.
    void box.push(null, effects(200, 1));
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    while (nextTurn());
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 200]);
    expect(box.runNow(effects(300, 1))).toBe(true); // Nothing waits any more.
    expect(ran.at(-1)).toBe(300);
  });

  it('stops at a write still in flight after the ready ones, and runs nothing once stopped', async () => {
    const { box, ran, turns, nextTurn } = outbox(3);
    const first = write();
    const second = write();
    void box.push(first.stored, effects(0, 4));
    void box.push(second.stored, effects(10, 2));
    await first.done();
    expect(ran).toEqual([0, 1, 2]);
    nextTurn();
    expect(ran).toEqual([0, 1, 2, 3]); // The second write is not stored yet.
    expect(turns).toHaveLength(0);
    await second.done();
    expect(ran).toEqual([0, 1, 2, 3, 10, 11]);
    const third = write();
    const rejected = box.push(third.stored, effects(20, 5));
    await third.done();
    expect(ran.slice(6)).toEqual([20, 21, 22]);
    box.stop(new Error('no longer leading'));
    await expect(rejected).rejects.toThrow('no longer leading');
    while (nextTurn());
    expect(ran.slice(6)).toEqual([20, 21, 22]);
  });

  it('runs everything in one turn without a budget', async () => {
    const { box, ran, turns } = outbox(0);
    const w = write();
    void box.push(w.stored, effects(0, 50));
    await w.done();
    expect(ran).toHaveLength(50);
    expect(turns).toHaveLength(0);
  });
});
