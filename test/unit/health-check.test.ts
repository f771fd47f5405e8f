// The health check state machine with hand-driven timers and a scripted
// probe: delay, interval, timeout, grace period, consecutive failures, what
// is reported (Mesos: every counted failure, a success only when health
// turns healthy) and resuming after an agent restart.
import { describe, expect, it } from 'vitest';
import {
  HealthChecker, describeHealthCheck, healthPolicy, type HealthCheckInfo, type HealthPolicy, type HealthResult, type ProbeResult,
} from '../../agent/health-check.js';
import { FakeTimers } from '../harness/fake-timers.js';

type Step = 'ok' | 'fail' | 'hang' | 'throw';

/**
 * A checker whose probe answers from `script` (then keeps answering its last
 * step). `probes` holds the time (s) of each probe; `results` what was reported.
 */
function setup(script: Step[], policy: Partial<HealthPolicy> = {}, previous?: boolean) {
  const timers = new FakeTimers();
  const probes: number[] = [];
  const aborted: number[] = [];
  const results: (HealthResult & { at: number })[] = [];
  const checker = new HealthChecker({
    name: 'TCP health check (127.0.0.1:31000)',
    policy: { delaySeconds: 15, intervalSeconds: 10, timeoutSeconds: 20, gracePeriodSeconds: 10, consecutiveFailures: 3, ...policy },
    now: () => timers.now / 1000,
    timers,
    ...(previous !== undefined ? { previous } : {}),
    onResult: (r) => void results.push({ ...r, at: timers.now / 1000 }),
    probe: (signal) => {
      const step = script[Math.min(probes.length, script.length - 1)]!;
      probes.push(timers.now / 1000);
      if (step === 'ok') return Promise.resolve<ProbeResult>({ healthy: true });
      if (step === 'fail') return Promise.resolve<ProbeResult>({ healthy: false, failure: 'connect ECONNREFUSED 127.0.0.1:31000' });
      if (step === 'throw') return Promise.reject(new Error('exec failed: no such container'));
      return new Promise<ProbeResult>((resolve) =>
        signal.addEventListener('abort', () => {
          aborted.push(timers.now / 1000);
          resolve({ healthy: false, failure: 'aborted' });
        }),
      );
    },
  });
  checker.start();
  const health = () => results.map((r) => r.healthy);
  return { timers, checker, probes, aborted, results, health, seconds: (s: number) => timers.advanceAsync(s * 1000) };
}

describe('HealthChecker', () => {
  it('waits delay_seconds before the first probe, then interval_seconds after each', async () => {
    const { probes, seconds } = setup(['ok'], { delaySeconds: 15, intervalSeconds: 10 });
    await seconds(14.9);
    expect(probes).toEqual([]);
    await seconds(40);
    expect(probes).toEqual([15, 25, 35, 45]); // 15 + n * 10, up to 54.9 s
  });

  it('reports healthy on the first success only', async () => {
    const { results, seconds } = setup(['ok'], { delaySeconds: 0, intervalSeconds: 1 });
    await seconds(5);
    expect(results).toEqual([
      { healthy: true, consecutiveFailures: 0, kill: false, message: 'TCP health check (127.0.0.1:31000) passed', at: 0 },
    ]);
  });

  it('ignores failures before the first success while in the grace period, which counts from start (the delay included)', async () => {
    // delay 2, interval 1, grace 4: probes at 2, 3, 4 are within grace; 5 counts.
    const { results, probes, seconds } = setup(['fail'], { delaySeconds: 2, intervalSeconds: 1, gracePeriodSeconds: 4, consecutiveFailures: 10 });
    await seconds(4);
    expect(probes).toEqual([2, 3, 4]);
    expect(results).toEqual([]);
    await seconds(1);
    expect(results).toMatchObject([{ healthy: false, consecutiveFailures: 1, kill: false, at: 5 }]);
  });

  it('applies no grace once a check has passed', async () => {
    const { health, seconds } = setup(['ok', 'fail'], { delaySeconds: 0, intervalSeconds: 1, gracePeriodSeconds: 100 });
    await seconds(1);
    expect(health()).toEqual([true, false]);
  });

  it('a grace period of 0 ignores nothing', async () => {
    const { results, seconds } = setup(['fail'], { delaySeconds: 0, gracePeriodSeconds: 0, consecutiveFailures: 5 });
    await seconds(0);
    expect(results).toMatchObject([{ healthy: false, consecutiveFailures: 1 }]);
  });

  it('reports every counted failure (as Mesos executors do) and the first success after failures', async () => {
    const { results, seconds } = setup(['ok', 'fail', 'fail', 'ok', 'ok', 'fail'], { delaySeconds: 0, intervalSeconds: 1, gracePeriodSeconds: 0 });
    await seconds(10);
    expect(results.map((r) => [r.at, r.healthy, r.consecutiveFailures])).toEqual([
      [0, true, 0],
      [1, false, 1],
      [2, false, 2],
      [3, true, 0], // counter reset: the next failure is the first again
      [5, false, 1],
      [6, false, 2],
      [7, false, 3],
    ]);
    expect(results.at(-1)).toMatchObject({
      kill: true,
      failure: 'connect ECONNREFUSED 127.0.0.1:31000',
      message: 'TCP health check (127.0.0.1:31000) failed 3 time(s) in a row (consecutive_failures: 3): connect ECONNREFUSED 127.0.0.1:31000',
    });
  });

  it('asks for the kill at consecutive_failures and stops probing', async () => {
    const { results, probes, seconds } = setup(['fail'], { delaySeconds: 1, intervalSeconds: 1, gracePeriodSeconds: 0, consecutiveFailures: 2 });
    await seconds(30);
    expect(probes).toEqual([1, 2]);
    expect(results.map((r) => r.kill)).toEqual([false, true]);
  });

  it('fails and aborts a probe that does not answer within timeout_seconds', async () => {
    const { results, aborted, probes, seconds } = setup(['hang'], { delaySeconds: 0, intervalSeconds: 1, timeoutSeconds: 2, gracePeriodSeconds: 0 });
    await seconds(1.9);
    expect(results).toEqual([]);
    await seconds(0.1);
    expect(aborted).toEqual([2]);
    expect(results).toMatchObject([{ healthy: false, failure: 'no answer within 2s', at: 2 }]);
    await seconds(1);
    expect(probes).toEqual([0, 3]); // the interval runs from the end of a check: checks never overlap
  });

  it('waits for a probe as long as it takes with timeout_seconds 0 (Mesos: no timeout)', async () => {
    const { results, aborted, seconds } = setup(['hang'], { delaySeconds: 0, timeoutSeconds: 0, gracePeriodSeconds: 0 });
    await seconds(3600);
    expect(results).toEqual([]);
    expect(aborted).toEqual([]);
  });

  it('counts a probe that throws as a failure, naming the error', async () => {
    const { results, seconds } = setup(['throw'], { delaySeconds: 0, gracePeriodSeconds: 0 });
    await seconds(0);
    expect(results).toMatchObject([{ healthy: false, failure: 'exec failed: no such container' }]);
  });

  it('stop() aborts the probe under way and reports nothing more', async () => {
    const { checker, results, aborted, probes, seconds } = setup(['hang'], { delaySeconds: 1, timeoutSeconds: 5, gracePeriodSeconds: 0 });
    await seconds(2);
    checker.stop();
    await seconds(100);
    expect(probes).toEqual([1]);
    expect(aborted).toEqual([2]);
    expect(results).toEqual([]);
  });

  it('resumes from the health reported before an agent restart: no delay, no grace, no repeated healthy update', async () => {
    const healthy = setup(['ok', 'fail'], { delaySeconds: 15, intervalSeconds: 1, gracePeriodSeconds: 60 }, true);
    await healthy.seconds(2);
    expect(healthy.probes).toEqual([1, 2]);
    expect(healthy.results.map((r) => [r.at, r.healthy])).toEqual([[2, false]]);

    const unhealthy = setup(['ok'], { delaySeconds: 15, intervalSeconds: 1 }, false);
    await unhealthy.seconds(1);
    expect(unhealthy.results.map((r) => [r.at, r.healthy])).toEqual([[1, true]]);
  });
});

describe('healthPolicy and describeHealthCheck', () => {
  const check = (over: Record<string, unknown>) => over as unknown as HealthCheckInfo;

  it("fills in Mesos's defaults", () => {
    expect(healthPolicy(check({ type: 'TCP', tcp: { port: 1 } }))).toEqual({
      delaySeconds: 15, intervalSeconds: 10, timeoutSeconds: 20, gracePeriodSeconds: 10, consecutiveFailures: 3,
    });
  });

  it('names each kind of check', () => {
    expect(describeHealthCheck(check({ type: 'HTTP', http: { port: 31000, path: '/health' } }))).toBe('HTTP health check (GET http://127.0.0.1:31000/health)');
    expect(describeHealthCheck(check({ type: 'HTTP', http: { port: 31000, path: '' } }))).toBe('HTTP health check (GET http://127.0.0.1:31000/)');
    expect(describeHealthCheck(check({ type: 'TCP', tcp: { port: 31001 } }))).toBe('TCP health check (127.0.0.1:31001)');
    expect(describeHealthCheck(check({ type: 'COMMAND', command: { shell: true, value: 'test -f /ready', arguments: [] } }))).toBe(
      'COMMAND health check (test -f /ready)',
    );
    expect(describeHealthCheck(check({ type: 'COMMAND', command: { shell: false, value: '/bin/test', arguments: ['test', '-f', '/ready'] } }))).toBe(
      'COMMAND health check (["/bin/test","-f","/ready"])',
    );
  });
});
