// The app definition's `autoscale` section (a mesos-ts extension; Marathon
// has none): its type, its defaults, and its check, field by field, into
// Marathon's 422 details (`/autoscale/target`, ...). Pure.
//
//   { "minInstances": 1, "maxInstances": 10, "metric": "cpu", "target": 0.5,
//     "tolerance": 0.1, "scaleDownStabilizationSeconds": 300, "intervalSeconds": 15 }
//
// `cpu`: target utilization as a fraction of the cpus each instance asks for
// (0.5 = 50 %, as the Kubernetes HPA's averageUtilization). `requestsPerSecond`:
// target requests (tcp: connections) per second per instance, read from the
// load balancers. The app's `instances` must lie in [minInstances, maxInstances].
import { Collector, isObject, knownFields, num, show } from './json-fields.js';

export type AutoscaleMetric = 'cpu' | 'requestsPerSecond';

export interface AutoscaleSpec {
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly metric: AutoscaleMetric;
  readonly target: number;
  /** No change while |value / target - 1| is at most this (Kubernetes: 0.1). */
  readonly tolerance: number;
  /** A scale-down takes the highest recommendation of this many last seconds (Kubernetes: 300). */
  readonly scaleDownStabilizationSeconds: number;
  /** How often the metric is read and a decision taken. */
  readonly intervalSeconds: number;
}

export const AUTOSCALE_DEFAULTS = { tolerance: 0.1, scaleDownStabilizationSeconds: 300, intervalSeconds: 15 } as const;

const FIELDS = ['minInstances', 'maxInstances', 'metric', 'target', 'tolerance', 'scaleDownStabilizationSeconds', 'intervalSeconds'] as const;
const METRICS: readonly AutoscaleMetric[] = ['cpu', 'requestsPerSecond'];

/** Checks `autoscale` (undefined: none) against the app's `instances`; problems go to `c`. */
export function parseAutoscale(c: Collector, v: unknown, instances: number): AutoscaleSpec | undefined {
  if (v === undefined || v === null) return undefined;
  const path = '/autoscale';
  if (!isObject(v)) {
    c.add(path, `expected an object {minInstances, maxInstances, metric, target}, got ${show(v)}`);
    return undefined;
  }
  knownFields(c, v, path, FIELDS);
  const required = (field: string): boolean => {
    if (v[field] !== undefined) return true;
    c.add(`${path}/${field}`, 'is required');
    return false;
  };
  const hasMin = required('minInstances');
  const hasMax = required('maxInstances');
  const hasTarget = required('target');
  const minInstances = num(c, v, 'minInstances', `${path}/minInstances`, 1, { min: 1, integer: true });
  const maxInstances = num(c, v, 'maxInstances', `${path}/maxInstances`, 1, { min: 1, integer: true });
  const target = num(c, v, 'target', `${path}/target`, 1, {});
  if (hasTarget && typeof v.target === 'number' && !(v.target > 0)) c.add(`${path}/target`, `got ${v.target}, expected more than 0`);
  const metric = v.metric;
  if (metric === undefined) c.add(`${path}/metric`, `is required: one of ${METRICS.join(', ')}`);
  else if (!METRICS.includes(metric as AutoscaleMetric)) c.add(`${path}/metric`, `expected one of ${METRICS.join(', ')}, got ${show(metric)}`);
  const tolerance = num(c, v, 'tolerance', `${path}/tolerance`, AUTOSCALE_DEFAULTS.tolerance, { min: 0, max: 0.99 });
  const scaleDownStabilizationSeconds = num(c, v, 'scaleDownStabilizationSeconds', `${path}/scaleDownStabilizationSeconds`, AUTOSCALE_DEFAULTS.scaleDownStabilizationSeconds, { min: 0, max: 3600 });
  const intervalSeconds = num(c, v, 'intervalSeconds', `${path}/intervalSeconds`, AUTOSCALE_DEFAULTS.intervalSeconds, { min: 1, max: 3600 });
  const bounded = hasMin && hasMax && Number.isInteger(minInstances) && Number.isInteger(maxInstances);
  if (bounded && minInstances > maxInstances) c.add(path, `minInstances (${minInstances}) must be at most maxInstances (${maxInstances})`);
  else if (bounded && (instances < minInstances || instances > maxInstances)) {
    c.add('/instances', `got ${instances}; with autoscale it must lie in [minInstances, maxInstances] = [${minInstances}, ${maxInstances}]`);
  }
  return { minInstances, maxInstances, metric: metric as AutoscaleMetric, target, tolerance, scaleDownStabilizationSeconds, intervalSeconds };
}
