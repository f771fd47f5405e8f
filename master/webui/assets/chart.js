// Allocation over time, drawn as inline SVG from samples the page keeps
// (one a second, the last five minutes): the cluster's cpus and mem in use,
// and each framework's dominant share, all as fractions of the total. The
// time axis grows with the samples, from 30 s to five minutes.
import { h, svg, percent, duration } from './dom.js';

const KEEP = 300;
const MIN_SPAN_MS = 30_000;
const WIDTH = 720, HEIGHT = 180, PAD = { left: 40, right: 10, top: 10, bottom: 20 };
const PALETTE = ['#e6550d', '#31a354', '#756bb1', '#d6616b', '#3182bd', '#8c6d31', '#e7ba52', '#17becf'];

export class AllocationChart {
  constructor() {
    this.samples = []; // { t (ms), cpus, mem, shares: Map(frameworkId -> share) }
    this.names = new Map(); // frameworkId -> name, for the legend
    this.colours = new Map();
  }

  sample(t, totals, frameworkRows) {
    const fraction = (k) => (totals.total[k] > 0 ? totals.used[k] / totals.total[k] : 0);
    const shares = new Map();
    for (const f of frameworkRows) {
      shares.set(f.id, f.dominant.share);
      this.names.set(f.id, f.name || f.id);
      if (!this.colours.has(f.id)) this.colours.set(f.id, PALETTE[this.colours.size % PALETTE.length]);
    }
    this.samples.push({ t, cpus: fraction('cpus'), mem: fraction('mem'), shares });
    if (this.samples.length > KEEP) this.samples.splice(0, this.samples.length - KEEP);
  }

  /** The chart and its legend, as new elements. */
  render() {
    const series = [
      { label: 'cpus used', colour: '#08519c', width: 2.5, value: (s) => s.cpus },
      { label: 'mem used', colour: '#6baed6', width: 2, value: (s) => s.mem },
      ...[...this.colours.keys()]
        .filter((id) => this.samples.some((s) => s.shares.has(id)))
        .map((id) => ({ label: `share of ${this.names.get(id)}`, colour: this.colours.get(id), width: 1.5, dash: '4 2', value: (s) => s.shares.get(id) })),
    ];
    const plot = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', 'aria-label': 'allocation over time' });
    const end = this.samples.at(-1)?.t ?? 0;
    const span = Math.max(MIN_SPAN_MS, end - (this.samples[0]?.t ?? end));
    const x = (t) => PAD.left + ((t - (end - span)) / span) * (WIDTH - PAD.left - PAD.right);
    const y = (v) => PAD.top + (1 - v) * (HEIGHT - PAD.top - PAD.bottom);
    for (const v of [0, 0.25, 0.5, 0.75, 1]) {
      plot.append(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: 'grid' }));
      plot.append(svg('text', { x: PAD.left - 4, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, percent(v).replace('.0', '')));
    }
    plot.append(svg('text', { x: PAD.left, y: HEIGHT - 4, class: 'axis' }, `${duration(span / 1000)} ago`));
    plot.append(svg('text', { x: WIDTH - PAD.right, y: HEIGHT - 4, class: 'axis', 'text-anchor': 'end' }, 'now'));
    for (const s of series) {
      // A series is broken where it has no sample (a framework that came or went).
      const runs = [[]];
      for (const sample of this.samples) {
        const v = s.value(sample);
        if (v === undefined) runs.push([]);
        else runs.at(-1).push(`${x(sample.t).toFixed(1)},${y(v).toFixed(1)}`);
      }
      for (const points of runs.filter((r) => r.length > 0)) {
        plot.append(svg('polyline', { points: points.join(' '), fill: 'none', stroke: s.colour, 'stroke-width': s.width, 'stroke-dasharray': s.dash ?? null }));
      }
    }
    const legend = h('ul', { class: 'legend' }, series.map((s) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = s.colour;
      const last = this.samples.length ? s.value(this.samples.at(-1)) : undefined;
      return h('li', {}, swatch, s.label, last === undefined ? '' : ` (${percent(last)})`);
    }));
    return [plot, legend];
  }
}
