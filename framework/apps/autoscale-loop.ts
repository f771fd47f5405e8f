// The autoscaler's plumbing, on the leader only: every second it looks for
// autoscaled apps whose `intervalSeconds` has passed, reads the app's metric
// (autoscale-metrics.ts), asks decide() (autoscaler.ts), and on a change
// scales the app through the same path as PUT /v2/apps/{id} {instances},
// which creates a deployment. While a deployment of the app runs it holds
// and says so (the recommendation still counts for the scale-down window). Every decision, change or hold, is published on /v2/events
// as `autoscale_decision_event` and kept for GET /v2/autoscale: the last 100
// per app, in memory only (a new leader starts with an empty list and an
// empty stabilization window).
import { errorMessage } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log/logger.js';
import type { AppDefinition } from './app-definition.js';
import type { AutoscaleMetric, AutoscaleSpec } from './autoscale-spec.js';
import { decide, pruneHistory, type MetricValue, type Recommendation } from './autoscaler.js';
import type { AgentCpuUsage, MetricSource } from './autoscale-metrics.js';
import type { EventBus } from './events.js';
import type { AppsState } from './runtime.js';

/** GET /v2/autoscale's form of one decision. */
export interface DecisionRecord {
  readonly timestamp: string;
  readonly value: number | null;
  readonly target: number;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

/** GET /v2/autoscale's form of one app (the web UI charts it). */
export interface AutoscaleEntry {
  readonly appId: string;
  readonly metric: AutoscaleMetric;
  readonly target: number;
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly instances: number;
  readonly lastValue: number | null;
  readonly decisions: readonly DecisionRecord[];
}

export interface AutoscaleLoopOptions {
  readonly state: AppsState;
  /** Sets the app's instances as PUT /v2/apps/{id} {"instances": n} does (a scale deployment). */
  readonly scale: (appId: string, instances: number) => Promise<unknown>;
  readonly sources: { readonly cpu: MetricSource & Pick<AgentCpuUsage, 'forget'>; readonly requestsPerSecond: MetricSource };
  readonly events: EventBus;
  readonly clock: Clock;
  readonly log: Logger;
  /** How often due apps are looked for (default 1000 ms). */
  readonly tickMs?: number;
}

export const DECISIONS_KEPT = 100;

interface AppRecord {
  spec: string;
  nextAt: number;
  history: Recommendation[];
  decisions: DecisionRecord[];
  lastValue: number | null;
  scalings: { up: number; down: number };
}

export class AutoscaleLoop {
  private readonly records = new Map<string, AppRecord>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(private readonly options: AutoscaleLoopOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Decides for every autoscaled app that is due; one run at a time. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = this.options.clock.now();
      const apps = this.autoscaled();
      for (const id of this.records.keys()) if (!apps.some((a) => a.id === id)) this.records.delete(id);
      this.options.sources.cpu.forget(new Set(this.options.state.instances.keys()));
      for (const app of apps) {
        const record = this.recordOf(app, now);
        if (now < record.nextAt) continue;
        record.nextAt = now + app.autoscale.intervalSeconds;
        await this.evaluate(app, record).catch((err: unknown) => this.options.log.warn(`apps: autoscale ${app.id}: ${errorMessage(err)}`));
      }
    } finally {
      this.busy = false;
    }
  }

  entries(): AutoscaleEntry[] {
    return this.autoscaled().sort((a, b) => a.id.localeCompare(b.id)).map((app) => this.entryOf(app));
  }

  /** One app's entry; null when it does not exist or is not autoscaled. */
  entry(appId: string): AutoscaleEntry | null {
    const app = this.options.state.apps.get(appId);
    return app?.autoscale ? this.entryOf(app as Autoscaled) : null;
  }

  /** Prometheus text: each autoscaled app's last value, target and instances, and the scalings made. */
  metricsText(): string {
    const lines = [
      '# HELP mesos_ts_apps_autoscale_value Last metric value of an autoscaled app (cpu: utilization of its cpus; requestsPerSecond: per instance).',
      '# TYPE mesos_ts_apps_autoscale_value gauge',
    ];
    const apps = this.autoscaled();
    const label = (app: Autoscaled): string => `app="${app.id}",metric="${app.autoscale.metric}"`;
    for (const app of apps) {
      const v = this.records.get(app.id)?.lastValue;
      if (v !== null && v !== undefined) lines.push(`mesos_ts_apps_autoscale_value{${label(app)}} ${v}`);
    }
    lines.push('# HELP mesos_ts_apps_autoscale_target Target of an autoscaled app.', '# TYPE mesos_ts_apps_autoscale_target gauge');
    for (const app of apps) lines.push(`mesos_ts_apps_autoscale_target{${label(app)}} ${app.autoscale.target}`);
    lines.push('# HELP mesos_ts_apps_autoscale_scalings_total Scalings the autoscaler applied.', '# TYPE mesos_ts_apps_autoscale_scalings_total counter');
    for (const app of apps) {
      const s = this.records.get(app.id)?.scalings ?? { up: 0, down: 0 };
      lines.push(`mesos_ts_apps_autoscale_scalings_total{app="${app.id}",direction="up"} ${s.up}`, `mesos_ts_apps_autoscale_scalings_total{app="${app.id}",direction="down"} ${s.down}`);
    }
    return lines.join('\n') + '\n';
  }

  private async evaluate(app: Autoscaled, record: AppRecord): Promise<void> {
    const { state, sources, clock } = this.options;
    const spec = app.autoscale;
    const running = state.instancesOf(app.id).filter((i) => i.state === 'TASK_RUNNING' && !i.killing);
    const metric: MetricValue = await sources[spec.metric].read(app, running);
    // The app may have changed while the metric was read: decide on what it is now.
    const now = clock.now();
    const current = state.apps.get(app.id);
    if (!current?.autoscale || JSON.stringify(current.autoscale) !== record.spec) return;
    const instances = current.instances;
    const deploying = state.deploymentsOf(app.id);
    // While a deployment runs, the rule still runs and its recommendation counts for later scale-downs, but nothing changes.
    let decision = decide({ spec, current: instances, metric, history: record.history, now });
    if (decision.recommendation) record.history = [...pruneHistory(record.history, now, spec.scaleDownStabilizationSeconds), decision.recommendation];
    if (deploying.length > 0 && decision.direction !== 'hold') {
      decision = { ...decision, desired: instances, direction: 'hold', reason: `hold: deployment ${deploying.map((d) => d.id).join(', ')} of this app is running (${decision.reason})` };
    }
    let to = decision.desired;
    let reason = decision.reason;
    if (decision.direction !== 'hold') {
      try {
        await this.options.scale(app.id, decision.desired);
        record.scalings[decision.direction]++;
        this.options.log.info(`apps: autoscale ${app.id}: ${instances} → ${decision.desired}: ${reason}`);
      } catch (err) {
        to = instances;
        reason = `${reason}; not applied: ${errorMessage(err)}`;
        this.options.log.warn(`apps: autoscale ${app.id}: ${reason}`);
      }
    }
    if (decision.value !== null) record.lastValue = decision.value;
    const timestamp = new Date(now * 1000).toISOString();
    const entry: DecisionRecord = { timestamp, value: decision.value, target: spec.target, from: instances, to, reason };
    record.decisions = [...record.decisions, entry].slice(-DECISIONS_KEPT);
    this.options.events.publish('autoscale_decision_event', timestamp, {
      appId: app.id, metric: spec.metric, value: decision.value, target: spec.target, currentInstances: instances, desiredInstances: to, reason,
    });
  }

  private autoscaled(): Autoscaled[] {
    return [...this.options.state.apps.values()].filter((a): a is Autoscaled => a.autoscale !== undefined);
  }

  /** The app's record; a changed autoscale section starts a new stabilization window (the decisions stay). */
  private recordOf(app: Autoscaled, now: number): AppRecord {
    const spec = JSON.stringify(app.autoscale);
    let record = this.records.get(app.id);
    if (!record) {
      record = { spec, nextAt: now, history: [], decisions: [], lastValue: null, scalings: { up: 0, down: 0 } };
      this.records.set(app.id, record);
    } else if (record.spec !== spec) {
      Object.assign(record, { spec, nextAt: now, history: [] });
    }
    return record;
  }

  private entryOf(app: Autoscaled): AutoscaleEntry {
    const { minInstances, maxInstances, metric, target } = app.autoscale;
    const record = this.records.get(app.id);
    return { appId: app.id, metric, target, minInstances, maxInstances, instances: app.instances, lastValue: record?.lastValue ?? null, decisions: record?.decisions ?? [] };
  }
}

type Autoscaled = AppDefinition & { readonly autoscale: AutoscaleSpec };
