// The master with --allocation_pass_budget: a pass that runs out of time
// (its offers' making counted in, ../../master/pass-budget.ts) makes the offers it decided, then the master runs the next pass at once
// (after other queued work) until the round is over. The monotonic clock the
// budget reads is a counter, so the cut falls at the same place every run.
import { describe, expect, it } from 'vitest';
import { MasterHarness } from '../harness/master-harness.js';

describe('allocation passes bounded in time, in the master', () => {
  it('offers every agent over several short passes, each counted as carried, its offers charged to its budget', async () => {
    let ms = 0;
    const runs: { carried?: boolean }[] = [];
    // Each read of the clock is 1 ms later: a budget of 2.5 ms lets a pass visit 3 agents when offers cost nothing.
    const h = await MasterHarness.start({ allocationPassBudget: 0.0025, elapsedMs: () => ms++ });
    h.master.events.listen((e) => {
      if (e.type === 'ALLOCATION_RUN') runs.push(e);
    });
    for (let i = 0; i < 12; i++) await h.addAgent(`a${i}`, 'cpus:4;mem:1024');
    const fw = await h.subscribe('fw');
    await h.settle();
    expect(new Set(fw.offers().map((o) => o.agent_id!.value)).size).toBe(12);
    const sizes = fw.events.filter((e) => e.type === 'OFFERS').map((e) => e.offers?.offers?.length ?? 0);
    // The first pass has no figure for what an offer costs; the next ones charge what its offers took (clock reads).
    expect(sizes[0]).toBe(3);
    expect(sizes.slice(1).every((n) => n < 3)).toBe(true);
    expect(runs.filter((r) => r.carried).length).toBe(sizes.length - 1);
  });

  it('without a budget, offers every agent in one pass', async () => {
    const h = await MasterHarness.start();
    for (let i = 0; i < 12; i++) await h.addAgent(`a${i}`, 'cpus:4;mem:1024');
    const fw = await h.subscribe('fw');
    await h.settle();
    expect(fw.offers().length).toBe(12);
    expect(fw.events.filter((e) => e.type === 'OFFERS').length).toBe(1);
  });
});
