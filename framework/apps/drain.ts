// Draining an instance before its KILL, so that load balancers stop sending it
// new connections and the requests it holds can finish:
//
//   kill wanted (scale-down, upgrade, restart, DELETE task, app deleted) of a RUNNING, healthy instance
//     ──> stored in ZooKeeper as draining (killing, drainingSince): a new leader carries the drain on
//     ──> shown as TASK_KILLING (tasks JSON, status_update_event, instance_changed_event 'Killing'):
//         mesos-ts lb drains its servers in HAProxy, marathon-lb leaves it out of its configuration
//     ──> --lb_stats pages polled until each shows the instance's servers gone, or DRAIN/MAINT with no
//         session left; without --lb_stats, --drain_wait; at the latest --drain_timeout after drainingSince
//     ──> KILL (with the app's taskKillGracePeriodSeconds, as any kill)
//
// Instances that cannot be serving (unhealthy, not RUNNING, unreachable, lost) are killed at once.
// Drains run beside the framework's serial work: one poller reads each stats page once per round for
// every drain, and only the KILL goes through `serial`.
import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log/logger.js';
import { fetchStats, type StatRow } from '../lb/haproxy-stats.js';
import { proxyName, serverName } from '../lb/model.js';
import type { EventBus } from './events.js';
import type { Instance } from './planner.js';
import type { AppsStore } from './store.js';

export interface DrainOptions {
  /** HAProxy statistics pages (--lb_stats); none: wait `waitSeconds` instead. */
  readonly lbStats: readonly string[];
  /** Longest a drain waits for the stats pages, from drainingSince (--drain_timeout). */
  readonly timeoutSeconds: number;
  /** The wait with no stats page, for event-driven balancers to take the instance out (--drain_wait). */
  readonly waitSeconds: number;
  /** How often the stats pages are read while drains run. */
  readonly pollMs: number;
  /** Reads one stats page (default: over HTTP, fetchStats); unit tests give their own rows. */
  readonly readStats?: (url: string) => Promise<readonly StatRow[]>;
}

/** One HAProxy server of an instance: backend `proxyName(appId, servicePort)`, server `serverName(taskId, i)`. */
export interface DrainTarget {
  readonly backend: string;
  readonly server: string;
}

export type DrainVerdict = { readonly drained: true } | { readonly drained: false; readonly waitingOn: readonly string[] };

/** The servers a load balancer has for the instance, one per service port (as mesos-ts lb and marathon-lb name them). */
export function drainTargets(inst: Instance): DrainTarget[] {
  return inst.servicePorts.map((port, i) => ({ backend: proxyName(inst.appId, port), server: serverName(inst.taskId, i) }));
}

/** Drained on one load balancer: each server gone, or in DRAIN/MAINT with no current session. */
export function drainVerdict(rows: readonly StatRow[], targets: readonly DrainTarget[]): DrainVerdict {
  const waitingOn: string[] = [];
  for (const t of targets) {
    const row = rows.find((r) => r.proxy === t.backend && r.name === t.server);
    if (!row) continue;
    if (/^(DRAIN|MAINT)/.test(row.status) && row.sessions === 0) continue;
    waitingOn.push(`${t.backend}/${t.server} (${row.status || 'no status'}, ${row.sessions} session(s))`);
  }
  return waitingOn.length === 0 ? { drained: true } : { drained: false, waitingOn };
}

/**
 * Whether a kill of `inst` drains first: only an instance a balancer may be routing to, RUNNING and not
 * failing its health check. Readiness is not asked for: a balancer that is not shown readiness results
 * (mesos-ts lb reading our API) routes a healthy instance before it is ready.
 */
export function drainsFirst(inst: Instance): boolean {
  return inst.state === 'TASK_RUNNING' && !inst.killing && (!inst.healthChecked || inst.healthy === true);
}

export interface DrainerPorts {
  readonly instances: Map<string, Instance>;
  readonly store: AppsStore;
  readonly events: EventBus;
  readonly clock: Clock;
  readonly log: Logger;
  /** Sends the KILL, in the runtime's serial work; called once the drain is over. */
  readonly kill: (taskId: string, why: string) => Promise<void>;
}

interface Drain {
  readonly taskId: string;
  readonly why: string;
  readonly targets: readonly DrainTarget[];
  /** Seconds since the epoch. */
  readonly deadline: number;
}

export class Drainer {
  private readonly drains = new Map<string, Drain>();
  private polling = false;
  private stopped = false;
  /** Stats pages that did not answer at the last read (warned once until they answer again). */
  private readonly failing = new Set<string>();

  constructor(private readonly options: DrainOptions, private readonly ports: DrainerPorts) {}

  /** Marks `inst` draining (stored first, then shown) and kills it once drained. */
  async begin(inst: Instance, why: string): Promise<void> {
    const { store, events, instances, log } = this.ports;
    const now = new Date(this.ports.clock.now() * 1000).toISOString();
    const next: Instance = { ...inst, killing: true, drainingSince: inst.drainingSince ?? now };
    await store.putInstance(next);
    instances.set(next.taskId, next);
    log.info(`apps: draining ${inst.taskId} of ${inst.appId} before its kill (${why})`);
    const task = { appId: inst.appId, host: inst.agent.hostname, ports: inst.ports, version: inst.version };
    events.publish('status_update_event', now, {
      slaveId: inst.agentId, agentId: inst.agentId, taskId: inst.taskId, taskStatus: 'TASK_KILLING', message: `draining before its kill: ${why}`, ...task,
    });
    events.publish('instance_changed_event', now, { instanceId: inst.taskId, condition: 'Killing', runSpecId: inst.appId, agentId: inst.agentId, host: inst.agent.hostname, runSpecVersion: inst.version });
    this.follow(next, why);
  }

  /** A new leader's draining instances (loaded from ZooKeeper): their drains go on, their deadlines unchanged. */
  resume(instances: Iterable<Instance>): void {
    for (const inst of instances) if (inst.drainingSince) this.follow(inst, 'a drain begun by the previous leader');
  }

  stop(): void {
    this.stopped = true;
    this.drains.clear();
  }

  private follow(inst: Instance, why: string): void {
    if (this.stopped || this.drains.has(inst.taskId)) return;
    const since = Date.parse(inst.drainingSince ?? '') / 1000;
    const limit = this.options.lbStats.length > 0 ? this.options.timeoutSeconds : this.options.waitSeconds;
    this.drains.set(inst.taskId, { taskId: inst.taskId, why, targets: drainTargets(inst), deadline: (Number.isFinite(since) ? since : this.ports.clock.now()) + limit });
    if (!this.polling) void this.poll();
  }

  /** While drains run: read every stats page, end the drains that are over, wait, again. */
  private async poll(): Promise<void> {
    this.polling = true;
    try {
      while (!this.stopped && this.drains.size > 0) {
        const pages = await Promise.all(this.options.lbStats.map((url) => this.read(url)));
        const now = this.ports.clock.now();
        for (const d of [...this.drains.values()]) {
          const verdicts = pages.map((rows, i) => (rows ? drainVerdict(rows, d.targets) : { drained: false as const, waitingOn: [`${this.options.lbStats[i]} (no answer)`] }));
          const drained = pages.length > 0 && verdicts.every((v) => v.drained);
          if (!drained && now < d.deadline) continue;
          this.drains.delete(d.taskId);
          if (!drained && pages.length > 0) {
            const waiting = verdicts.flatMap((v) => (v.drained ? [] : v.waitingOn));
            this.ports.log.warn(`apps: ${d.taskId}: not drained after --drain_timeout ${this.options.timeoutSeconds} s (still ${waiting.join(', ')}); killing it`);
          }
          void this.ports.kill(d.taskId, d.why);
        }
        if (this.drains.size > 0) await new Promise((r) => setTimeout(r, this.options.pollMs));
      }
    } finally {
      this.polling = false;
    }
  }

  private async read(url: string): Promise<readonly StatRow[] | null> {
    try {
      const rows = await (this.options.readStats ?? fetchStats)(url);
      if (this.failing.delete(url)) this.ports.log.info(`apps: ${url} answers again`);
      return rows;
    } catch (err) {
      if (!this.failing.has(url)) this.ports.log.warn(`apps: load balancer statistics ${url}: ${errorMessage(err)}; its drains wait (at most --drain_timeout)`);
      this.failing.add(url);
      return null;
    }
  }
}
