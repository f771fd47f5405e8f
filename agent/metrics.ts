// The agent's metrics with Mesos's names (slave/...), served at
// /metrics/snapshot (JSON) and /metrics (Prometheus) by agent/http.ts.
// Everything is read from the agent's runners; the readings are rebuilt only
// when Agent.version moved.
import type { Agent } from './agent.js';
import type { TaskState } from '../proto/index.js';
import { Resources } from '../common/resources.js';
import { isTerminal } from '../common/task-state.js';
import { fraction, PrometheusExposition, SYSTEM_METRICS, systemMetrics, type MetricSpec, type MetricsSnapshot } from '../common/metrics.js';

const RESOURCES = ['cpus', 'mem', 'disk', 'gpus'] as const;
const UNIT: Record<(typeof RESOURCES)[number], string> = { cpus: 'CPUs', mem: 'memory in MB', disk: 'disk in MB', gpus: 'GPUs' };
const ACTIVE = ['staging', 'starting', 'running', 'killing'] as const;
const ENDED = ['finished', 'failed', 'killed', 'lost', 'error', 'dropped', 'gone'] as const;

export const AGENT_METRICS: readonly MetricSpec[] = [
  { name: 'slave/registered', kind: 'gauge', help: 'Whether this agent is registered with a master' },
  { name: 'slave/uptime_secs', kind: 'gauge', help: 'Uptime in seconds' },
  ...RESOURCES.flatMap((r): MetricSpec[] => [
    { name: `slave/${r}_total`, kind: 'gauge', help: `${UNIT[r]} this agent offers` },
    { name: `slave/${r}_used`, kind: 'gauge', help: `${UNIT[r]} held by its tasks` },
    { name: `slave/${r}_percent`, kind: 'gauge', help: `Fraction of the ${r} held by its tasks (0 to 1)` },
  ]),
  ...ACTIVE.map((s): MetricSpec => ({ name: `slave/tasks_${s}`, kind: 'gauge', help: `Tasks now in TASK_${s.toUpperCase()}` })),
  ...ENDED.map((s): MetricSpec => ({ name: `slave/tasks_${s}`, kind: 'counter', help: `Tasks that ended TASK_${s.toUpperCase()} since the agent started` })),
  { name: 'slave/executors_running', kind: 'gauge', help: 'Task containers not yet ended (each task is its own executor)' },
  { name: 'slave/frameworks_active', kind: 'gauge', help: 'Frameworks with tasks on this agent' },
  ...SYSTEM_METRICS,
];

export class AgentMetrics {
  readonly prometheus = new PrometheusExposition(AGENT_METRICS, () => this.snapshot());
  private built = -1;
  private readings: MetricsSnapshot = {};

  /** `startedAt`: when the agent process started, on the agent's clock (seconds). */
  constructor(private readonly agent: Agent, private readonly startedAt: number) {}

  snapshot(): MetricsSnapshot {
    if (this.built !== this.agent.version) {
      this.readings = readAgent(this.agent);
      this.built = this.agent.version;
    }
    return {
      ...this.readings,
      'slave/registered': registered(this.agent) ? 1 : 0,
      'slave/uptime_secs': this.agent.options.clock.now() - this.startedAt,
      ...systemMetrics(),
    };
  }
}

function readAgent(agent: Agent): MetricsSnapshot {
  const out: MetricsSnapshot = {};
  const live = [...agent.runners.values()].filter((r) => !isTerminal(r.state));
  const used = live.reduce((sum, r) => sum.add(r.resources), Resources.EMPTY);
  const total = agent.options.resources;
  for (const r of RESOURCES) {
    out[`slave/${r}_total`] = total.scalar(r);
    out[`slave/${r}_used`] = used.scalar(r);
    out[`slave/${r}_percent`] = fraction(used.scalar(r), total.scalar(r));
  }
  for (const s of ACTIVE) out[`slave/tasks_${s}`] = live.filter((r) => r.state === `TASK_${s.toUpperCase()}`).length;
  for (const s of ENDED) out[`slave/tasks_${s}`] = agent.ended.get(`TASK_${s.toUpperCase()}` as TaskState) ?? 0;
  out['slave/executors_running'] = live.length;
  out['slave/frameworks_active'] = agent.frameworks.size;
  return out;
}

function registered(agent: Agent): boolean {
  return agent.isRegistered;
}
