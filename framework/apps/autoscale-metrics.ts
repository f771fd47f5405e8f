// Where the autoscaler's numbers come from: adapters that read the world,
// each around a pure computation the unit tests drive directly.
//
//   cpu                each running instance's agent, GET {agent}/monitor/statistics
//                      (Mesos's shape), two samples apart:
//                      utilization = Δ(user + system cpu seconds) / Δtimestamp / app.cpus,
//                      averaged over the instances with two samples
//   requestsPerSecond  each load balancer's HAProxy statistics page (--lb_stats):
//                      the frontend proxyName(appId, servicePort) of every service
//                      port, req_rate in http mode, rate (sessions) in tcp mode,
//                      summed over balancers and ports, divided by running instances
//
// A source that cannot answer gives `noData` with the reason; it never throws.
import { errorMessage } from '../../common/errors.js';
import { fetchStats, type StatRow } from '../lb/haproxy-stats.js';
import { proxyName } from '../lb/model.js';
import type { AppDefinition } from './app-definition.js';
import type { MetricValue } from './autoscaler.js';
import type { Instance } from './planner.js';

/** Reads one app's metric over its running instances. */
export interface MetricSource {
  read(app: AppDefinition, running: readonly Instance[]): Promise<MetricValue>;
}

// ---- requestsPerSecond ------------------------------------------------------

/** marathon-lb's rule for a service port's mode: HAPROXY_{n}_MODE, else http with a virtual host, else tcp. */
export function portMode(app: AppDefinition, index: number): 'http' | 'tcp' {
  const mode = app.labels[`HAPROXY_${index}_MODE`]?.toLowerCase();
  if (mode === 'http' || mode === 'tcp') return mode;
  return app.labels[`HAPROXY_${index}_VHOST`] !== undefined ? 'http' : 'tcp';
}

/** Requests (tcp: sessions) per second per running instance, from each balancer's statistics rows. */
export function requestsPerSecond(app: AppDefinition, balancers: readonly (readonly StatRow[])[], running: number): MetricValue {
  if (running === 0) return { noData: 'no running instance' };
  let total = 0;
  let found = 0;
  const names: string[] = [];
  app.portDefinitions.forEach((definition, index) => {
    const port = Number(app.labels[`HAPROXY_${index}_PORT`] ?? definition.port);
    const name = proxyName(app.id, port);
    names.push(name);
    const http = portMode(app, index) === 'http';
    for (const rows of balancers) {
      const row = rows.find((r) => r.proxy === name && r.name === 'FRONTEND');
      if (!row) continue;
      found++;
      total += http ? row.requestRate : row.sessionRate;
    }
  });
  if (names.length === 0) return { noData: 'the app has no service port, so no load balancer frontend' };
  if (found === 0) return { noData: `no frontend ${names.join(', ')} in the load balancers' statistics` };
  return { value: total / running };
}

/** The balancers' statistics pages, read afresh at each decision. */
export class LoadBalancerRequestRate implements MetricSource {
  constructor(private readonly statsUrls: readonly string[], private readonly read_: (url: string) => Promise<StatRow[]> = fetchStats) {}

  async read(app: AppDefinition, running: readonly Instance[]): Promise<MetricValue> {
    if (this.statsUrls.length === 0) return { noData: 'no load balancer statistics to read: start mesos-ts apps with --lb_stats URL[,URL]' };
    const balancers: StatRow[][] = [];
    for (const url of this.statsUrls) {
      try {
        balancers.push(await this.read_(url));
      } catch (err) {
        // A sum without one balancer would read low and scale down: no value rather than a wrong one.
        return { noData: `load balancer statistics ${url}: ${errorMessage(err)}` };
      }
    }
    return requestsPerSecond(app, balancers, running.length);
  }
}

// ---- cpu --------------------------------------------------------------------

/** One task's cumulated cpu time at a moment (seconds). */
export interface CpuSample {
  readonly cpuSeconds: number;
  readonly timestamp: number;
}

/** Task id → sample, from an agent's /monitor/statistics answer; malformed entries are skipped. */
export function cpuSamples(json: unknown): Map<string, CpuSample> {
  const out = new Map<string, CpuSample>();
  if (!Array.isArray(json)) return out;
  for (const entry of json) {
    const id = entry?.executor_id;
    const s = entry?.statistics;
    const user = s?.cpus_user_time_secs;
    const system = s?.cpus_system_time_secs;
    const timestamp = s?.timestamp;
    if (typeof id !== 'string' || ![user, system, timestamp].every((n) => typeof n === 'number' && Number.isFinite(n))) continue;
    out.set(id, { cpuSeconds: user + system, timestamp });
  }
  return out;
}

/** Average utilization of `cpus` over the tasks sampled twice with time between; noData says which part is missing. */
export function cpuUtilization(previous: ReadonlyMap<string, CpuSample>, current: ReadonlyMap<string, CpuSample>, taskIds: readonly string[], cpus: number): MetricValue {
  if (taskIds.length === 0) return { noData: 'no running instance' };
  const values: number[] = [];
  for (const id of taskIds) {
    const a = previous.get(id);
    const b = current.get(id);
    if (!a || !b || b.timestamp <= a.timestamp) continue;
    values.push(Math.max(0, b.cpuSeconds - a.cpuSeconds) / (b.timestamp - a.timestamp) / cpus);
  }
  if (values.length === 0) return { noData: `no two cpu samples yet of any of ${taskIds.length} running instance(s)` };
  return { value: values.reduce((x, y) => x + y, 0) / values.length };
}

/** The agents' per-task statistics; the previous sample of each task is kept for the next reading. */
export class AgentCpuUsage implements MetricSource {
  private samples = new Map<string, CpuSample>();

  constructor(private readonly get: (url: string) => Promise<unknown> = getJson) {}

  async read(app: AppDefinition, running: readonly Instance[]): Promise<MetricValue> {
    const located = running.filter((i) => i.agentUrl !== undefined);
    if (running.length > 0 && located.length === 0) return { noData: 'the agents of the running instances are not known (launched before this version)' };
    const current = new Map<string, CpuSample>();
    const failures: string[] = [];
    for (const agentUrl of new Set(located.map((i) => i.agentUrl!))) {
      try {
        for (const [id, sample] of cpuSamples(await this.get(`${agentUrl}/monitor/statistics`))) current.set(id, sample);
      } catch (err) {
        failures.push(`${agentUrl}: ${errorMessage(err)}`);
      }
    }
    const ids = located.map((i) => i.taskId);
    const result = cpuUtilization(this.samples, current, ids, app.cpus);
    // Keep every task's newest sample (another app's too: one source serves all apps).
    for (const id of ids) if (current.has(id)) this.samples.set(id, current.get(id)!);
    if ('noData' in result && failures.length > 0) return { noData: `${result.noData}; agent statistics failed: ${failures.join('; ')}` };
    return result;
  }

  /** Forgets the samples of tasks that are gone. */
  forget(live: ReadonlySet<string>): void {
    for (const id of this.samples.keys()) if (!live.has(id)) this.samples.delete(id);
  }
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}
