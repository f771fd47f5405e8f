// The allocation pass budget charges each decision what one offer cost in
// the passes before: a pass stops once its time plus the offers it still
// owes would pass the budget. The clock is a variable the test moves.
import { describe, expect, it } from 'vitest';
import { PassBudget } from '../../master/pass-budget.js';

describe('PassBudget', () => {
  it('without a budget gives no bound', () => {
    expect(new PassBudget(0, () => 0).pass()).toBeUndefined();
  });

  it('before any offer was timed, charges each its first guess', () => {
    let now = 100;
    const outOfTime = new PassBudget(10, () => now, 0.01).pass()!;
    now = 104;
    expect(outOfTime(600)).toBe(false); // 4 + 600 x 0.01 = 10 ms
    expect(outOfTime(601)).toBe(true);
  });

  it('charges each decision what the offers measured before cost', () => {
    let now = 0;
    const budget = new PassBudget(10, () => now);
    budget.offered(100, 5); // 0.05 ms an offer: the first figure replaces the guess
    const outOfTime = budget.pass()!;
    now = 4;
    expect(outOfTime(100)).toBe(false); // 4 + 100 x 0.05 = 9 ms
    expect(outOfTime(121)).toBe(true); // 4 + 6.05 = 10.05 ms
  });

  it('moves the estimate a quarter of the way to each new pass', () => {
    const budget = new PassBudget(10, () => 0);
    budget.offered(0, 100); // no offers: nothing learned
    expect(budget.offerMs).toBe(0.1); // FIRST_GUESS_OFFER_MS
    budget.offered(10, 10); // 1 ms each: the first figure is taken whole
    expect(budget.offerMs).toBe(1);
    budget.offered(10, 50); // 5 ms each
    expect(budget.offerMs).toBe(2);
  });
});
