// StartWatch (common/proc-stats.ts): a start's time, less its main thread's
// wait for a CPU, read from this machine's /proc.
import { describe, expect, it } from 'vitest';
import { procSample, StartWatch } from '../../common/proc-stats.js';

describe('StartWatch', () => {
  it('counts all the wall time of a process that is gone (no run-queue wait to take off)', () => {
    let now = 1_000;
    const watch = new StartWatch(2 ** 31 - 1, () => now);
    now += 45_000;
    expect(watch.wallMs()).toBe(45_000);
    expect(watch.ownMs()).toBe(45_000);
    expect(watch.describe()).toMatch(/^after 45\.0 s \(0\.0 s waiting for a CPU; load average [\d.]+\)$/);
  });

  it('takes off the run-queue wait /proc reports for a live process, and nothing more', () => {
    let now = 0;
    const before = procSample(process.pid)!;
    const watch = new StartWatch(process.pid, () => now);
    // Some CPU of our own, so that there is a chance to wait for one (the machine is shared).
    for (const end = Date.now() + 100; Date.now() < end;);
    now = 10_000;
    const waited = 10_000 - watch.ownMs();
    const after = procSample(process.pid)!;
    // The watch's own samples lie between these two.
    expect(waited).toBeGreaterThanOrEqual(0);
    expect(waited).toBeLessThanOrEqual((after.runQueueSeconds - before.runQueueSeconds) * 1000 + 1e-6);
    expect(watch.wallMs()).toBe(10_000);
  });
});
