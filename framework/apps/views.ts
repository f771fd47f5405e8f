// The JSON the REST API answers with, in Marathon's shapes: apps with their
// counts, tasks, and the launch queue with why offers were declined. Pure
// functions of the framework's state.
import { appJson, type AppDefinition } from './app-definition.js';
import { isHealthy, type Instance } from './planner.js';
import type { NoMatchReason, Refusal } from './offer-matcher.js';

/** What the offers did for one app's launches, for /v2/queue (Marathon's processedOffersSummary). */
export interface OfferStats {
  processed: number;
  unused: number;
  lastUnusedOfferAt?: string;
  lastUsedOfferAt?: string;
  /** Per reason, over the last round of offers that reached this app. */
  lastRound: Map<NoMatchReason, number>;
  lastRoundProcessed: number;
  /** The last refused offers, newest last, at most LAST_UNUSED. */
  lastUnused: (Refusal & { timestamp: string })[];
}

export const LAST_UNUSED = 10;

export function newOfferStats(): OfferStats {
  return { processed: 0, unused: 0, lastRound: new Map(), lastRoundProcessed: 0, lastUnused: [] };
}

/** The stats after one round of `offers` offers, of which `refused` were refused for this app (`used`: one was used). */
export function recordOffers(stats: OfferStats, offers: number, refused: readonly Refusal[], used: boolean, now: string): OfferStats {
  const next: OfferStats = { ...stats, processed: stats.processed + offers, unused: stats.unused + refused.length };
  if (used) next.lastUsedOfferAt = now;
  if (refused.length > 0) {
    next.lastUnusedOfferAt = now;
    next.lastRound = new Map();
    for (const r of refused) next.lastRound.set(r.reason, (next.lastRound.get(r.reason) ?? 0) + 1);
    next.lastRoundProcessed = offers;
    next.lastUnused = [...stats.lastUnused, ...refused.map((r) => ({ ...r, timestamp: now }))].slice(-LAST_UNUSED);
  }
  return next;
}

export function taskJson(i: Instance): Record<string, unknown> {
  return {
    id: i.taskId,
    appId: i.appId,
    host: i.agent.hostname,
    ports: i.ports,
    servicePorts: i.servicePorts,
    slaveId: i.agentId,
    agentId: i.agentId,
    // Draining: shown as Marathon shows a task in its kill grace period, which marathon-lb and mesos-ts lb stop routing to.
    state: i.drainingSince && i.state === 'TASK_RUNNING' ? 'TASK_KILLING' : i.state,
    stagedAt: i.stagedAt,
    ...(i.startedAt && { startedAt: i.startedAt }),
    version: i.version,
    ipAddresses: [],
    localVolumes: [],
    // Only for an instance launched with a check: an instance without one has no health to report.
    ...(i.healthChecked && i.healthy !== undefined && { healthCheckResults: [{ alive: i.healthy, taskId: i.taskId, instanceId: i.taskId }] }),
  };
}

export interface AppCounts {
  readonly tasksStaged: number;
  readonly tasksRunning: number;
  readonly tasksHealthy: number;
  readonly tasksUnhealthy: number;
}

export function appCounts(app: AppDefinition, instances: readonly Instance[]): AppCounts {
  const checked = app.healthChecks.length > 0;
  return {
    tasksStaged: instances.filter((i) => i.state === 'TASK_STAGING' || i.state === 'TASK_STARTING').length,
    tasksRunning: instances.filter((i) => i.state === 'TASK_RUNNING').length,
    tasksHealthy: checked ? instances.filter((i) => isHealthy(i)).length : 0,
    tasksUnhealthy: checked ? instances.filter((i) => i.state === 'TASK_RUNNING' && i.healthy === false).length : 0,
  };
}

/** An app as GET /v2/apps shows it: definition, counts, deployments, and tasks when asked. */
export function appView(app: AppDefinition, instances: readonly Instance[], deploymentIds: readonly string[], embedTasks: boolean): Record<string, unknown> {
  return {
    ...appJson(app),
    ...appCounts(app, instances),
    deployments: deploymentIds.map((id) => ({ id })),
    ...(embedTasks && { tasks: instances.map(taskJson) }),
  };
}

/**
 * `readinessCheckResults` (GET /v2/apps?embed=apps.readiness), as Marathon
 * shapes them: one per live instance launched with a readiness check, ready
 * or not yet; balancers (mesos-ts lb, marathon-lb) leave the unready out.
 * The probe's last response is not kept (`lastResponse` is absent).
 */
export function readinessResults(app: AppDefinition, instances: readonly Instance[]): Record<string, unknown>[] {
  const name = app.readinessChecks?.[0]?.name ?? 'readinessCheck';
  return instances
    .filter((i) => i.readinessChecked && !i.killing)
    .map((i) => ({ name, taskId: i.taskId, ready: i.ready === true }));
}

/** One entry of GET /v2/queue. */
export function queueEntry(app: AppDefinition, count: number, since: string, delaySeconds: number, stats: OfferStats, appView: Record<string, unknown>): Record<string, unknown> {
  return {
    app: appView,
    count,
    since,
    delay: { timeLeftSeconds: Math.max(0, Math.ceil(delaySeconds)), overdue: false },
    processedOffersSummary: {
      processedOffersCount: stats.processed,
      unusedOffersCount: stats.unused,
      ...(stats.lastUnusedOfferAt && { lastUnusedOfferAt: stats.lastUnusedOfferAt }),
      ...(stats.lastUsedOfferAt && { lastUsedOfferAt: stats.lastUsedOfferAt }),
      rejectSummaryLastOffers: [...stats.lastRound].map(([reason, declined]) => ({ reason, declined, processed: stats.lastRoundProcessed })),
    },
    lastUnusedOffers: stats.lastUnused.map((r) => ({
      offer: { id: r.offerId, agentId: r.agentId, hostname: r.hostname },
      timestamp: r.timestamp,
      reason: [r.reason],
      message: r.message,
    })),
  };
}
