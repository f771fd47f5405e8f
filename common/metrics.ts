// Metrics as Mesos names them (`master/tasks_running`), served two ways: the
// flat JSON of /metrics/snapshot, and the Prometheus text exposition of
// /metrics (prom-client), where each name becomes `mesos_` + the name with
// every character Prometheus does not allow replaced by `_`
// (`mesos_master_tasks_running`). Both come from one snapshot function, so a
// scrape and a snapshot taken together carry the same values. Masters and
// agents both report the `system/*` readings of their host.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { Counter, Gauge, Registry } from 'prom-client';

export interface MetricSpec {
  /** Mesos's name, e.g. `master/tasks_finished`. */
  readonly name: string;
  /** A counter only grows (since the process started); a gauge is a reading. */
  readonly kind: 'counter' | 'gauge';
  readonly help: string;
}

export type MetricsSnapshot = Record<string, number>;

export const SYSTEM_METRICS: readonly MetricSpec[] = [
  { name: 'system/cpus_total', kind: 'gauge', help: 'Number of CPUs of this host' },
  { name: 'system/load_1min', kind: 'gauge', help: 'Load average of the past minute' },
  { name: 'system/load_5min', kind: 'gauge', help: 'Load average of the past 5 minutes' },
  { name: 'system/load_15min', kind: 'gauge', help: 'Load average of the past 15 minutes' },
  { name: 'system/mem_total_bytes', kind: 'gauge', help: 'Memory of this host in bytes' },
  { name: 'system/mem_free_bytes', kind: 'gauge', help: 'Free memory of this host in bytes' },
];

export function systemMetrics(): MetricsSnapshot {
  const [load1 = 0, load5 = 0, load15 = 0] = loadavg();
  return {
    'system/cpus_total': cpus().length,
    'system/load_1min': load1,
    'system/load_5min': load5,
    'system/load_15min': load15,
    'system/mem_total_bytes': totalmem(),
    'system/mem_free_bytes': freemem(),
  };
}

/** used / total as Mesos reports `*_percent` (a fraction, 0 when there is nothing). */
export function fraction(used: number, total: number): number {
  return total > 0 ? used / total : 0;
}

export function prometheusName(name: string): string {
  return `mesos_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

export class PrometheusExposition {
  private readonly registry = new Registry();
  private readonly metrics: { spec: MetricSpec; metric: Counter | Gauge }[];

  constructor(specs: readonly MetricSpec[], private readonly snapshot: () => MetricsSnapshot) {
    this.metrics = specs.map((spec) => {
      const config = { name: prometheusName(spec.name), help: `${spec.help} (Mesos: ${spec.name})`, registers: [this.registry] };
      return { spec, metric: spec.kind === 'counter' ? new Counter(config) : new Gauge(config) };
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of one fresh snapshot. */
  async text(): Promise<string> {
    const values = this.snapshot();
    for (const { spec, metric } of this.metrics) {
      const value = values[spec.name] ?? 0;
      if (metric instanceof Counter) {
        // The count is kept elsewhere (it is in the JSON snapshot too); the counter only carries it.
        metric.reset();
        metric.inc(Math.max(0, value));
      } else {
        metric.set(value);
      }
    }
    return this.registry.metrics();
  }
}

export interface MetricsSource {
  snapshot(): MetricsSnapshot;
  readonly prometheus: PrometheusExposition;
}

/** GET /metrics/snapshot (JSON, as Mesos serves it) and GET /metrics (Prometheus); false for other paths. */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse, path: string, source: MetricsSource): Promise<boolean> {
  if (path !== '/metrics/snapshot' && path !== '/metrics') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end(`${req.method} is not allowed on ${path}; use GET\n`);
    return true;
  }
  const [type, body] = path === '/metrics' ? [source.prometheus.contentType, await source.prometheus.text()] : ['application/json', JSON.stringify(source.snapshot())];
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }).end(req.method === 'HEAD' ? undefined : body);
  return true;
}
