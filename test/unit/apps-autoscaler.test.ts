// The autoscaler's decision (the Kubernetes HPA rule, tolerance, bounds,
// scale-down stabilization) as a table, and the `autoscale` field's check.
// Expected numbers are worked out in the comment beside each row.
import { describe, expect, it } from 'vitest';
import { decide, pruneHistory, type Recommendation } from '../../framework/apps/autoscaler.js';
import { onlyScaled, validateApp } from '../../framework/apps/app-definition.js';
import type { AutoscaleSpec } from '../../framework/apps/autoscale-spec.js';

const spec = (over: Partial<AutoscaleSpec> = {}): AutoscaleSpec => ({
  minInstances: 1, maxInstances: 10, metric: 'requestsPerSecond', target: 100, tolerance: 0.1, scaleDownStabilizationSeconds: 300, intervalSeconds: 15, ...over,
});
const NOW = 10_000;
const rec = (ago: number, instances: number): Recommendation => ({ at: NOW - ago, instances });

describe('autoscaler decision', () => {
  it.each([
    // name, spec, current, value, history, desired, direction
    ['doubles under double load', spec(), 2, 200, [], 4, 'up'], // ceil(2 × 200/100) = 4
    ['rounds up', spec(), 3, 150, [], 5, 'up'], // ceil(3 × 1.5) = ceil(4.5) = 5
    ['holds within the tolerance above', spec(), 4, 110, [], 4, 'hold'], // |1.1 - 1| = 0.1 ≤ 0.1
    ['holds within the tolerance below', spec(), 4, 91, [], 4, 'hold'], // |0.91 - 1| = 0.09 ≤ 0.1
    ['acts just outside the tolerance', spec(), 4, 111, [], 5, 'up'], // |1.11 - 1| = 0.11 > 0.1; ceil(4 × 1.11) = ceil(4.44) = 5
    ['a wider tolerance holds more', spec({ tolerance: 0.5 }), 4, 140, [], 4, 'hold'], // |1.4 - 1| = 0.4 ≤ 0.5
    ['clamps to maxInstances', spec({ maxInstances: 6 }), 4, 500, [], 6, 'up'], // ceil(4 × 5) = 20 → 6
    ['scales down with an empty window', spec(), 4, 50, [], 2, 'down'], // ceil(4 × 0.5) = 2, nothing else in the window
    ['clamps to minInstances', spec({ minInstances: 2 }), 4, 0, [], 2, 'down'], // ceil(4 × 0) = 0 → 2
    ['a recent higher recommendation holds a scale-down', spec(), 4, 50, [rec(60, 4)], 4, 'hold'], // max(2, 4) = 4 = current
    ['the highest of the window, not the latest', spec(), 6, 50, [rec(200, 5), rec(100, 4)], 5, 'down'], // ceil(6 × 0.5) = 3; max(3, 5, 4) = 5
    ['recommendations older than the window are forgotten', spec(), 4, 50, [rec(301, 4)], 2, 'down'], // 301 s ago > 300 s window; ceil(4 × 0.5) = 2
    ['a window of 0 scales down at once', spec({ scaleDownStabilizationSeconds: 0 }), 4, 25, [rec(0, 4)], 1, 'down'], // ceil(4 × 0.25) = 1
    ['a window never raises above current', spec(), 3, 50, [rec(10, 8)], 3, 'hold'], // min(3, max(2, 8)) = 3
    ['scale-up ignores the window', spec(), 2, 300, [rec(10, 1)], 6, 'up'], // ceil(2 × 3) = 6
    ['cpu: utilization 0.9 against 0.5', spec({ metric: 'cpu', target: 0.5 }), 2, 0.9, [], 4, 'up'], // ceil(2 × 1.8) = ceil(3.6) = 4
  ] as const)('%s', (_name, s, current, value, history, desired, direction) => {
    const d = decide({ spec: s, current, metric: { value }, history, now: NOW });
    expect({ desired: d.desired, direction: d.direction }).toEqual({ desired, direction });
    expect(d.value).toBe(value);
    expect(d.reason).not.toBe('');
  });

  it('records the clamped recommendation, before stabilization', () => {
    const d = decide({ spec: spec(), current: 4, metric: { value: 50 }, history: [rec(60, 4)], now: NOW });
    expect(d.recommendation).toEqual({ at: NOW, instances: 2 }); // ceil(4 × 0.5) = 2, kept although 4 is applied
  });

  it('holds without a value, saying why, and recommends nothing', () => {
    const d = decide({ spec: spec(), current: 3, metric: { noData: 'no running instance' }, history: [], now: NOW });
    expect(d).toEqual({ desired: 3, direction: 'hold', reason: 'no metric value: no running instance', value: null });
  });

  it('names the rule in its reason', () => {
    expect(decide({ spec: spec(), current: 2, metric: { value: 200 }, history: [], now: NOW }).reason).toContain('ceil(2 × 2) = 4');
  });

  it('prunes recommendations outside the window', () => {
    expect(pruneHistory([rec(400, 1), rec(300, 2), rec(299, 3)], NOW, 300)).toEqual([rec(299, 3)]);
  });
});

const V = '2026-01-01T00:00:00.000Z';
const base = { id: '/web', cmd: 'sleep 1000' };
const check = (json: Record<string, unknown>) => validateApp({ ...base, ...json }, { version: V });

describe('the autoscale field', () => {
  it('fills the defaults', () => {
    const r = check({ instances: 2, autoscale: { minInstances: 1, maxInstances: 5, metric: 'cpu', target: 0.5 } });
    expect(r.ok && r.app.autoscale).toEqual({ minInstances: 1, maxInstances: 5, metric: 'cpu', target: 0.5, tolerance: 0.1, scaleDownStabilizationSeconds: 300, intervalSeconds: 15 });
  });

  it('is optional, and null removes it', () => {
    for (const autoscale of [undefined, null]) {
      const r = check({ autoscale });
      expect(r.ok && r.app.autoscale).toBeUndefined();
    }
  });

  it('reads back what it stored', () => {
    const first = check({ autoscale: { minInstances: 1, maxInstances: 3, metric: 'requestsPerSecond', target: 20, intervalSeconds: 2 } });
    if (!first.ok) throw new Error('expected valid');
    const again = validateApp(JSON.parse(JSON.stringify(first.app)), { version: V });
    expect(again.ok && again.app.autoscale).toEqual(first.app.autoscale);
  });

  it('adding, changing or removing it is a scale, not a restart of the tasks', () => {
    const app = (json: Record<string, unknown>) => {
      const r = check(json);
      if (!r.ok) throw new Error(JSON.stringify(r.details));
      return r.app;
    };
    const plain = app({ instances: 2 });
    const scaled = app({ instances: 3, autoscale: { minInstances: 1, maxInstances: 5, metric: 'cpu', target: 0.5 } });
    expect(onlyScaled(plain, scaled)).toBe(true);
    expect(onlyScaled(scaled, app({ instances: 3, autoscale: { minInstances: 2, maxInstances: 4, metric: 'requestsPerSecond', target: 9 } }))).toBe(true);
    expect(onlyScaled(scaled, plain)).toBe(true);
    expect(onlyScaled(scaled, app({ instances: 3, cpus: 2, autoscale: { minInstances: 1, maxInstances: 5, metric: 'cpu', target: 0.5 } }))).toBe(false);
  });

  it.each([
    [{ autoscale: 'yes' }, '/autoscale', 'expected an object'],
    [{ autoscale: { maxInstances: 3, metric: 'cpu', target: 1 } }, '/autoscale/minInstances', 'is required'],
    [{ autoscale: { minInstances: 1, metric: 'cpu', target: 1 } }, '/autoscale/maxInstances', 'is required'],
    [{ autoscale: { minInstances: 1, maxInstances: 3, metric: 'cpu' } }, '/autoscale/target', 'is required'],
    [{ autoscale: { minInstances: 1, maxInstances: 3, target: 1 } }, '/autoscale/metric', 'is required'],
    [{ autoscale: { minInstances: 1, maxInstances: 3, metric: 'memory', target: 1 } }, '/autoscale/metric', 'expected one of cpu, requestsPerSecond, got "memory"'],
    [{ autoscale: { minInstances: 1, maxInstances: 3, metric: 'cpu', target: 0 } }, '/autoscale/target', 'got 0, expected more than 0'],
    [{ autoscale: { minInstances: 1, maxInstances: 3, metric: 'cpu', target: -1 } }, '/autoscale/target', 'got -1, expected more than 0'],
    [{ autoscale: { minInstances: 1, maxInstances: 3, metric: 'cpu', target: '50%' } }, '/autoscale/target', 'expected a number, got "50%"'],
    [{ autoscale: { minInstances: 0, maxInstances: 3, metric: 'cpu', target: 1 } }, '/autoscale/minInstances', 'got 0, expected 1 or more'],
    [{ autoscale: { minInstances: 1.5, maxInstances: 3, metric: 'cpu', target: 1 } }, '/autoscale/minInstances', 'expected a whole number, got 1.5'],
    [{ instances: 4, autoscale: { minInstances: 5, maxInstances: 3, metric: 'cpu', target: 1 } }, '/autoscale', 'minInstances (5) must be at most maxInstances (3)'],
    [{ instances: 4, autoscale: { minInstances: 1, maxInstances: 3, metric: 'cpu', target: 1 } }, '/instances', 'got 4; with autoscale it must lie in [minInstances, maxInstances] = [1, 3]'],
    [{ instances: 1, autoscale: { minInstances: 2, maxInstances: 3, metric: 'cpu', target: 1 } }, '/instances', 'got 1; with autoscale'],
    [{ autoscale: { minInstances: 1, maxInstances: 3, metric: 'cpu', target: 1, tolerance: 1 } }, '/autoscale/tolerance', 'got 1, expected 0.99 or less'],
    [{ autoscale: { minInstances: 1, maxInstances: 3, metric: 'cpu', target: 1, scaleDownStabilizationSeconds: -1 } }, '/autoscale/scaleDownStabilizationSeconds', 'got -1, expected 0 or more'],
    [{ autoscale: { minInstances: 1, maxInstances: 3, metric: 'cpu', target: 1, intervalSeconds: 0 } }, '/autoscale/intervalSeconds', 'got 0, expected 1 or more'],
    [{ autoscale: { minInstances: 1, maxInstances: 3, metric: 'cpu', target: 1, window: 3 } }, '/autoscale/window', 'unknown field'],
  ])('refuses %j at its path', (json, path, error) => {
    const r = check(json);
    expect(r.ok).toBe(false);
    const found = !r.ok && r.details.find((d) => d.path === path);
    expect(found, JSON.stringify(!r.ok && r.details)).toBeTruthy();
    expect(found && found.errors.some((e) => e.includes(error)), JSON.stringify(found)).toBe(true);
  });
});
