// The autoscaler's recent decisions of one app as a small inline SVG: the
// metric's value against its target above, the instances below, on one time
// axis that ends at `now`. A pure function of GET /v2/autoscale's entry for
// the app (data -> SVG text), so it is unit tested without a browser; every
// text in it (app id, metric, reasons) is escaped, and it uses presentation
// attributes only (the page's Content-Security-Policy refuses inline styles).

const WIDTH = 360, HEIGHT = 170;
const PAD = { left: 38, right: 8, top: 16, bottom: 18 };
const SPLIT = 0.58; // the share of the plot's height the metric takes; the instances get the rest
const MIN_SPAN_MS = 60_000;
const COLOURS = { value: '#2b6cb0', target: '#c05621', instances: '#2f855a' };

/** Text for XML: &, <, >, " and ' as entities. */
export function escapeXml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const finite = (v) => typeof v === 'number' && Number.isFinite(v);
const round = (v) => String(Math.round(v * 100) / 100);
const px = (v) => v.toFixed(1);

/** The decisions that can be drawn (a time and numbers), oldest first. */
export function drawableDecisions(app) {
  return (Array.isArray(app?.decisions) ? app.decisions : [])
    .map((d) => ({ ...d, t: typeof d.timestamp === 'number' ? d.timestamp : Date.parse(d.timestamp) }))
    .filter((d) => finite(d.t) && finite(d.from) && finite(d.to))
    .sort((a, b) => a.t - b.t);
}

/**
 * `app`: one entry of GET /v2/autoscale's `apps` ({ appId, metric, target,
 * minInstances, maxInstances, instances, lastValue, decisions: [{ timestamp,
 * value, target, from, to, reason }] }); `now`: ms since the epoch.
 */
export function autoscaleChart(app, now) {
  const label = `autoscaler decisions of ${app?.appId ?? ''}`;
  const open = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" class="chart autoscale-chart" role="img" aria-label="${escapeXml(label)}">`;
  const decisions = drawableDecisions(app);
  if (decisions.length === 0) {
    return `${open}<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" class="axis">no decisions yet</text></svg>`;
  }
  const end = Math.max(now, decisions.at(-1).t);
  const start = Math.min(decisions[0].t, end - MIN_SPAN_MS);
  const x = (t) => PAD.left + ((t - start) / (end - start)) * (WIDTH - PAD.left - PAD.right);
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const metricBottom = PAD.top + plotHeight * SPLIT - 6;
  const instancesTop = PAD.top + plotHeight * SPLIT + 6;
  const bottom = HEIGHT - PAD.bottom;

  const values = decisions.flatMap((d) => [d.value, d.target]).concat([app.target, app.lastValue]).filter(finite);
  const valueMax = Math.max(1e-9, ...values) * 1.1;
  const yValue = (v) => metricBottom - (v / valueMax) * (metricBottom - PAD.top);
  const counts = decisions.flatMap((d) => [d.from, d.to]).concat([app.maxInstances, app.instances]).filter(finite);
  const countMax = Math.max(1, ...counts);
  const yCount = (n) => bottom - (n / countMax) * (bottom - instancesTop);

  const parts = [open];
  const text = (tx, ty, content, anchor = 'start', cls = 'axis') =>
    parts.push(`<text x="${px(tx)}" y="${px(ty)}" text-anchor="${anchor}" class="${cls}">${escapeXml(content)}</text>`);
  const line = (y) => parts.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${px(y)}" y2="${px(y)}" class="grid"/>`);
  for (const y of [PAD.top, metricBottom, instancesTop, bottom]) line(y);
  text(PAD.left - 4, PAD.top + 4, round(valueMax), 'end');
  text(PAD.left - 4, metricBottom + 4, '0', 'end');
  text(PAD.left - 4, instancesTop + 4, round(countMax), 'end');
  text(PAD.left - 4, bottom + 4, '0', 'end');
  text(PAD.left, 11, `${app.metric ?? 'metric'} vs target`, 'start', 'axis series-label');
  text(PAD.left, instancesTop - 1 + 10, 'instances', 'start', 'axis series-label');
  text(PAD.left, HEIGHT - 4, `${Math.round((end - start) / 60_000)} min ago`);
  text(WIDTH - PAD.right, HEIGHT - 4, 'now', 'end');

  // The target as a step line (it may change between decisions), then the values it was compared with.
  const targetPoints = [];
  for (const [i, d] of decisions.entries()) {
    const target = finite(d.target) ? d.target : app.target;
    if (!finite(target)) continue;
    const next = decisions[i + 1]?.t ?? end;
    targetPoints.push(`${px(x(d.t))},${px(yValue(target))}`, `${px(x(next))},${px(yValue(target))}`);
  }
  if (targetPoints.length) parts.push(`<polyline points="${targetPoints.join(' ')}" fill="none" stroke="${COLOURS.target}" stroke-width="1.5" stroke-dasharray="4 2" class="target"/>`);
  const valuePoints = decisions.filter((d) => finite(d.value)).map((d) => `${px(x(d.t))},${px(yValue(d.value))}`);
  if (valuePoints.length) parts.push(`<polyline points="${valuePoints.join(' ')}" fill="none" stroke="${COLOURS.value}" stroke-width="2" class="value"/>`);

  // Instances: `from` until the first decision, then each decision's `to` until the next one.
  const steps = [`${px(PAD.left)},${px(yCount(decisions[0].from))}`];
  for (const [i, d] of decisions.entries()) {
    const next = decisions[i + 1]?.t ?? end;
    steps.push(`${px(x(d.t))},${px(yCount(d.from))}`, `${px(x(d.t))},${px(yCount(d.to))}`, `${px(x(next))},${px(yCount(d.to))}`);
  }
  parts.push(`<polyline points="${steps.join(' ')}" fill="none" stroke="${COLOURS.instances}" stroke-width="2" class="instances"/>`);

  // One mark per decision; hovering shows what it decided and why.
  for (const d of decisions) {
    const when = new Date(d.t).toISOString().replace(/\.\d+Z$/, 'Z');
    const why = `${when}: ${finite(d.value) ? `${round(d.value)} vs ${round(d.target ?? app.target)}, ` : ''}${d.from} → ${d.to}${d.reason ? ` (${d.reason})` : ''}`;
    parts.push(`<circle cx="${px(x(d.t))}" cy="${px(yCount(d.to))}" r="3" fill="${COLOURS.instances}" class="decision"><title>${escapeXml(why)}</title></circle>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The legend's colours, for the page. */
export const AUTOSCALE_COLOURS = COLOURS;
