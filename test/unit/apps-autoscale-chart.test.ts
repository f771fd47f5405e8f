// The apps page's autoscaler chart (framework/apps/webui/assets/autoscale-chart.js):
// GET /v2/autoscale's entry for an app, in the contract's shape, drawn as
// SVG text: the value and target lines, the instances as steps, one mark per
// decision with its reason, every text escaped.
import { describe, expect, it } from 'vitest';
import { autoscaleChart, drawableDecisions, escapeXml, type AutoscaleApp } from '../../framework/apps/webui/assets/autoscale-chart.js';

const T0 = Date.parse('2026-12-06T08:00:00Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

const APP: AutoscaleApp = {
  appId: '/prod/web', metric: 'requests_per_second', target: 100, minInstances: 1, maxInstances: 5, instances: 3, lastValue: 90,
  decisions: [
    { timestamp: at(60), value: 180, target: 100, from: 2, to: 3, reason: 'above target' },
    { timestamp: at(0), value: 150, target: 100, from: 1, to: 2, reason: 'above target' },
    { timestamp: at(120), value: 40, target: 100, from: 3, to: 2, reason: 'below target' },
  ],
};

/** The numbers of a polyline of the given class, as [x, y] pairs. */
function points(svg: string, cls: string): [number, number][] {
  const m = new RegExp(`<polyline points="([^"]*)"[^>]*class="${cls}"`).exec(svg);
  if (!m) return [];
  return m[1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

describe('autoscaleChart', () => {
  it('draws the decisions oldest first: value vs target above, instances as steps below', () => {
    const svg = autoscaleChart(APP, T0 + 180_000);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    const value = points(svg, 'value');
    expect(value).toHaveLength(3);
    // Left to right in time; 180 is the highest value so it is drawn highest (smallest y), 40 the lowest.
    expect(value.map(([x]) => x)).toEqual([...value.map(([x]) => x)].sort((a, b) => a - b));
    expect(value[1]![1]).toBeLessThan(value[0]![1]);
    expect(value[2]![1]).toBeGreaterThan(value[0]![1]);
    // The target line is flat at 100: between 150's and 40's heights.
    const target = points(svg, 'target');
    expect(new Set(target.map(([, y]) => y)).size).toBe(1);
    expect(target[0]![1]).toBeGreaterThan(value[0]![1]);
    expect(target[0]![1]).toBeLessThan(value[2]![1]);
    // Instances 1 -> 2 -> 3 -> 2: the step line rises twice, falls once, and ends at `now` (the right edge).
    const steps = points(svg, 'instances').map(([, y]) => y);
    const changes = steps.slice(1).map((y, i) => Math.sign(y - steps[i]!)).filter((s) => s !== 0);
    expect(changes).toEqual([-1, -1, 1]); // SVG's y grows downwards: up is negative
    expect(points(svg, 'instances').at(-1)![0]).toBe(352);
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('<title>2026-12-06T08:02:00Z: 40 vs 100, 3 → 2 (below target)</title>');
    expect(svg).toContain('requests_per_second vs target');
  });

  it('escapes every text that comes from users: app id, metric, reasons', () => {
    const hostile: AutoscaleApp = {
      ...APP, appId: '/x"><script>alert(1)</script>', metric: '<b>m</b>',
      decisions: [{ timestamp: at(0), value: 1, target: 2, from: 1, to: 2, reason: `</title><script>alert('r')</script>&` }],
    };
    const svg = autoscaleChart(hostile, T0 + 60_000);
    expect(svg).not.toMatch(/<script|<b>|<\/title><script/);
    expect(svg).toContain('aria-label="autoscaler decisions of /x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(svg).toContain('&lt;/title&gt;&lt;script&gt;alert(&#39;r&#39;)&lt;/script&gt;&amp;');
    expect(svg).toContain('&lt;b&gt;m&lt;/b&gt; vs target');
    expect(escapeXml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('says so when there is nothing to draw, and drops decisions without a time or counts', () => {
    expect(autoscaleChart({ ...APP, decisions: [] }, T0)).toContain('>no decisions yet</text>');
    const odd: AutoscaleApp = { ...APP, decisions: [{ timestamp: 'yesterday', from: 1, to: 2 }, { timestamp: at(0), from: 1, to: Number.NaN }, { timestamp: T0, value: null, from: 2, to: 3 }] };
    expect(drawableDecisions(odd).map((d) => d.to)).toEqual([3]);
    const svg = autoscaleChart(odd, T0);
    expect(points(svg, 'value')).toEqual([]); // no value to draw
    expect(svg.match(/<circle /g)).toHaveLength(1);
    // A single decision at `now` still gets a minute of axis, not a division by zero.
    expect(svg).not.toContain('NaN');
    expect(svg).toContain('>1 min ago</text>');
  });
});
