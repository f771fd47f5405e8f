// Hand-written SVG charts, no dependencies: line charts (a value over
// time, one line per series) and grouped bar charts, each with a title,
// axes with ticks, grid lines and a legend. The output opens in any
// browser. Charts are panels placed on a page, so one file can hold
// several side by side (compare.svg).

export interface LineSeries {
  readonly name: string;
  /** [x, y] in data units, x increasing. */
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly xMax: number;
  /** Defaults to the largest y (at least 1e-9). */
  readonly yMax?: number;
  /** Draw each series as a step function (a value holds until the next point). */
  readonly step?: boolean;
}

export interface BarChart {
  readonly title: string;
  readonly yLabel: string;
  /** One bar per category in each group, in this order (the legend). */
  readonly categories: readonly string[];
  readonly groups: readonly { readonly label: string; readonly values: readonly (number | null)[] }[];
  readonly yMax?: number;
  /** Digits after the point in the value printed above each bar. */
  readonly digits?: number;
}

export type Panel = { readonly kind: 'line'; readonly chart: LineChart } | { readonly kind: 'bar'; readonly chart: BarChart };

/** Tableau 10: distinguishable, and readable when printed in grey. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const PANEL_WIDTH = 820;
const PANEL_HEIGHT = 440;
const MARGIN = { top: 48, right: 190, bottom: 56, left: 70 };
const LEGEND_ROW = 17;

/** A page of panels side by side, with an optional page title above them. */
export function svgPage(panels: readonly Panel[], title?: string): string {
  const top = title ? 36 : 0;
  const width = PANEL_WIDTH * panels.length;
  const height = PANEL_HEIGHT + top;
  const body = panels.map((p, i) => {
    const g = p.kind === 'line' ? linePanel(p.chart, `clip-${i}`) : barPanel(p.chart);
    return `<g transform="translate(${PANEL_WIDTH * i},${top})">\n${g}</g>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...(title ? [text(width / 2, 25, title, { anchor: 'middle', size: 18, bold: true })] : []),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function linePanel(chart: LineChart, clip: string): string {
  const plot = plotArea();
  const ys = chart.series.flatMap((s) => s.points.map(([, y]) => y));
  const xTicks = niceTicks(chart.xMax);
  const yTicks = niceTicks(chart.yMax ?? Math.max(1e-9, ...ys));
  const xMax = xTicks.at(-1)!;
  const yMax = yTicks.at(-1)!;
  const px = (x: number): number => plot.x + (x / xMax) * plot.w;
  const py = (y: number): number => plot.y + plot.h - (Math.min(y, yMax) / yMax) * plot.h;
  const lines = chart.series.map((s, i) => {
    const pts = chart.step ? stepPoints(s.points) : s.points;
    const coords = pts.map(([x, y]) => `${fmt(px(x))},${fmt(py(y))}`).join(' ');
    const dash = dashOf(s, i) ? ` stroke-dasharray="${dashOf(s, i)}"` : '';
    return `<polyline fill="none" stroke="${color(i)}" stroke-width="1.6"${dash} points="${coords}"><title>${esc(s.name)}</title></polyline>`;
  });
  return [
    text(PANEL_WIDTH / 2 - (MARGIN.right - MARGIN.left) / 2, 28, chart.title, { anchor: 'middle', size: 15, bold: true }),
    `<clipPath id="${clip}"><rect x="${plot.x}" y="${plot.y - 2}" width="${plot.w + 2}" height="${plot.h + 4}"/></clipPath>`,
    axes(plot, xTicks.map((v) => [px(v), v]), yTicks.map((v) => [py(v), v]), chart.xLabel, chart.yLabel),
    `<g clip-path="url(#${clip})">`,
    ...lines,
    '</g>',
    legend(chart.series.map((s, i) => ({ name: s.name, color: color(i), dash: dashOf(s, i), bar: false }))),
  ].join('\n');
}

function barPanel(chart: BarChart): string {
  const plot = plotArea();
  const values = chart.groups.flatMap((g) => g.values.filter((v): v is number => v !== null));
  const yTicks = niceTicks(chart.yMax ?? Math.max(1e-9, ...values));
  const yMax = yTicks.at(-1)!;
  const py = (y: number): number => plot.y + plot.h - (Math.min(y, yMax) / yMax) * plot.h;
  const groupWidth = plot.w / Math.max(1, chart.groups.length);
  const barWidth = (groupWidth * 0.7) / Math.max(1, chart.categories.length);
  const bars: string[] = [];
  chart.groups.forEach((g, gi) => {
    const x0 = plot.x + gi * groupWidth + groupWidth * 0.15;
    g.values.forEach((v, ci) => {
      const x = x0 + ci * barWidth;
      const label = v === null ? 'n/a' : v.toFixed(chart.digits ?? 2);
      if (v !== null) {
        bars.push(`<rect x="${fmt(x)}" y="${fmt(py(v))}" width="${fmt(barWidth * 0.92)}" height="${fmt(plot.y + plot.h - py(v))}" fill="${color(ci)}"><title>${esc(`${g.label} ${chart.categories[ci] ?? ''}: ${label}`)}</title></rect>`);
      }
      bars.push(text(x + barWidth * 0.46, py(v ?? 0) - 4, label, { anchor: 'middle', size: 10 }));
    });
  });
  const xLabels = chart.groups.map((g, gi) => [plot.x + (gi + 0.5) * groupWidth, g.label] as const);
  return [
    text(PANEL_WIDTH / 2 - (MARGIN.right - MARGIN.left) / 2, 28, chart.title, { anchor: 'middle', size: 15, bold: true }),
    axes(plot, [], yTicks.map((v) => [py(v), v]), '', chart.yLabel),
    ...xLabels.map(([x, label]) => text(x, plot.y + plot.h + 18, label, { anchor: 'middle', size: 12 })),
    ...bars,
    legend(chart.categories.map((name, i) => ({ name, color: color(i), dash: '', bar: true }))),
  ].join('\n');
}

interface Plot {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

function plotArea(): Plot {
  return { x: MARGIN.left, y: MARGIN.top, w: PANEL_WIDTH - MARGIN.left - MARGIN.right, h: PANEL_HEIGHT - MARGIN.top - MARGIN.bottom };
}

/** Grid, axis lines, ticks with labels, axis titles. Ticks are [pixel, value]. */
function axes(plot: Plot, xTicks: readonly (readonly [number, number])[], yTicks: readonly (readonly [number, number])[], xLabel: string, yLabel: string): string {
  const bottom = plot.y + plot.h;
  const out: string[] = ['<g stroke="#e6e6e6" stroke-width="1">'];
  for (const [y] of yTicks) out.push(`<line x1="${plot.x}" y1="${fmt(y)}" x2="${plot.x + plot.w}" y2="${fmt(y)}"/>`);
  for (const [x] of xTicks) out.push(`<line x1="${fmt(x)}" y1="${plot.y}" x2="${fmt(x)}" y2="${bottom}"/>`);
  out.push('</g>', '<g stroke="#333333" stroke-width="1">');
  out.push(`<line x1="${plot.x}" y1="${bottom}" x2="${plot.x + plot.w}" y2="${bottom}"/>`, `<line x1="${plot.x}" y1="${plot.y}" x2="${plot.x}" y2="${bottom}"/>`);
  for (const [y] of yTicks) out.push(`<line x1="${plot.x - 5}" y1="${fmt(y)}" x2="${plot.x}" y2="${fmt(y)}"/>`);
  for (const [x] of xTicks) out.push(`<line x1="${fmt(x)}" y1="${bottom}" x2="${fmt(x)}" y2="${bottom + 5}"/>`);
  out.push('</g>');
  for (const [y, v] of yTicks) out.push(text(plot.x - 8, y + 4, tickLabel(v), { anchor: 'end' }));
  for (const [x, v] of xTicks) out.push(text(x, bottom + 18, tickLabel(v), { anchor: 'middle' }));
  if (xLabel) out.push(text(plot.x + plot.w / 2, bottom + 42, xLabel, { anchor: 'middle', size: 13 }));
  const cy = plot.y + plot.h / 2;
  out.push(`<text x="18" y="${fmt(cy)}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${fmt(cy)})">${esc(yLabel)}</text>`);
  return out.join('\n');
}

function legend(entries: readonly { name: string; color: string; dash: string; bar: boolean }[]): string {
  const x = PANEL_WIDTH - MARGIN.right + 16;
  const fits = Math.floor((PANEL_HEIGHT - MARGIN.top - 10) / LEGEND_ROW);
  const shown = entries.length > fits ? entries.slice(0, fits - 1) : entries;
  const out = shown.map((e, i) => {
    const y = MARGIN.top + 6 + i * LEGEND_ROW;
    const mark = e.bar
      ? `<rect x="${x}" y="${y - 5}" width="22" height="10" fill="${e.color}"/>`
      : `<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${e.color}" stroke-width="2.5"${e.dash ? ` stroke-dasharray="${e.dash}"` : ''}/>`;
    return `${mark}\n${text(x + 28, y + 4, truncate(e.name, 22), {})}`;
  });
  if (shown.length < entries.length) out.push(text(x, MARGIN.top + 6 + shown.length * LEGEND_ROW + 4, `… and ${entries.length - shown.length} more`, {}));
  return `<g>\n${out.join('\n')}\n</g>`;
}

/** 0 and evenly spaced round values (1, 2, 2.5 or 5 × 10^k) up to at least `max`. */
export function niceTicks(max: number, target = 5): number[] {
  const raw = max / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const count = Math.max(1, Math.ceil(max / step - 1e-9));
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/** A step function's corners: each value holds until the next point's x. */
function stepPoints(points: readonly (readonly [number, number])[]): (readonly [number, number])[] {
  const out: (readonly [number, number])[] = [];
  points.forEach(([x, y], i) => {
    const prev = points[i - 1];
    if (prev) out.push([x, prev[1]]);
    out.push([x, y]);
  });
  return out;
}

const color = (i: number): string => PALETTE[i % PALETTE.length]!;
/** Dashed when asked; dotted once the palette's colours repeat, so no two series look alike. */
const dashOf = (s: LineSeries, i: number): string => (s.dashed ? '6 3' : i >= PALETTE.length ? '2 2' : '');
const fmt = (v: number): string => String(Math.round(v * 10) / 10);
const tickLabel = (v: number): string => (Math.abs(v) >= 10000 ? `${Number((v / 1000).toPrecision(6))}k` : String(Number(v.toPrecision(6))));
const truncate = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function text(x: number, y: number, content: string, o: { anchor?: 'start' | 'middle' | 'end'; size?: number; bold?: boolean }): string {
  const attrs = [`x="${fmt(x)}"`, `y="${fmt(y)}"`];
  if (o.anchor && o.anchor !== 'start') attrs.push(`text-anchor="${o.anchor}"`);
  if (o.size) attrs.push(`font-size="${o.size}"`);
  if (o.bold) attrs.push('font-weight="bold"');
  return `<text ${attrs.join(' ')}>${esc(content)}</text>`;
}

/** XML text and attribute escaping. */
export function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
