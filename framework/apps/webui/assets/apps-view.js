// What the apps page shows, worked out from the REST API's answers (pure:
// no DOM, no fetch): an app's status word, an instance's health, a
// deployment's progress, and why a queued launch waits, in one line.

/** 'deploying' while a deployment holds the app; else 'running', 'waiting' (fewer than wanted) or 'suspended' (0 wanted). */
export function appStatus(app) {
  if ((app.deployments ?? []).length > 0) return 'deploying';
  if (app.instances === 0) return 'suspended';
  return (app.tasksRunning ?? 0) >= app.instances ? 'running' : 'waiting';
}

/** An app's counts; `healthy` is null when the app has no health check (nothing to count). */
export function appCounts(app) {
  const checked = (app.healthChecks ?? []).length > 0;
  return { running: app.tasksRunning ?? 0, healthy: checked ? app.tasksHealthy ?? 0 : null, wanted: app.instances ?? 0 };
}

/** 'healthy', 'unhealthy', or 'no check' (the instance was launched without one, or has no result yet: 'unknown'). */
export function instanceHealth(task, app) {
  const result = task.healthCheckResults?.[0];
  if (result) return result.alive ? 'healthy' : 'unhealthy';
  return (app?.healthChecks ?? []).length > 0 ? 'unknown' : 'no check';
}

/**
 * 'current' for an instance of the app's configuration, else the version it
 * runs: a scale gives the app a new `version` but leaves its configuration
 * (versionInfo.lastConfigChangeAt) and the instances' as they were.
 */
export function instanceVersion(task, app) {
  return task.version === (app.versionInfo?.lastConfigChangeAt ?? app.version) ? 'current' : task.version;
}

/** A deployment's steps, each with 'done', 'current' or 'pending' (Marathon's currentStep is 1-based). */
export function deploymentSteps(deployment) {
  const current = deployment.currentStep ?? 0;
  return (deployment.steps ?? []).map((step, i) => ({
    actions: (step.actions ?? []).map((a) => a.action).join(', '),
    state: i + 1 < current ? 'done' : i + 1 === current ? 'current' : 'pending',
  }));
}

/** Healthy (or, without a check, running) instances of the deployment's app over the wanted count. */
export function deploymentProgress(deployment, appsById) {
  const app = appsById.get(deployment.affectedApps?.[0]);
  if (!app) return { done: 0, wanted: 0, text: 'app removed: stopping its instances' };
  const c = appCounts(app);
  const done = c.healthy ?? c.running;
  return { done, wanted: c.wanted, text: `${done} of ${c.wanted} ${c.healthy === null ? 'running' : 'healthy'}` };
}

/**
 * Why the queued launches of an app wait, as { reason, detail }: its
 * dependencies, its launch backoff, or what refused the last offers (the
 * newest refusal's message names the constraint or resource).
 */
export function waitingReason(entry) {
  if (!entry) return null;
  const deps = entry.waitingForDependencies ?? [];
  if (deps.length > 0) return { reason: 'waiting for dependencies', detail: deps.join(', ') };
  const delay = entry.delay?.timeLeftSeconds ?? 0;
  if (delay > 0) return { reason: `launch backoff: ${delay}s left`, detail: 'after tasks of this app ended without being asked to' };
  const summary = entry.processedOffersSummary?.rejectSummaryLastOffers ?? [];
  const last = (entry.lastUnusedOffers ?? []).at(-1);
  if (summary.length > 0 || last) {
    const reasons = summary.filter((r) => r.declined > 0).map((r) => `${r.reason} (${r.declined} of ${r.processed} offers)`);
    const where = last ? `${last.offer?.hostname ?? '?'}: ${last.message ?? (last.reason ?? []).join(', ')}` : '';
    return { reason: reasons.length ? reasons.join(', ') : (last.reason ?? []).join(', '), detail: where };
  }
  return { reason: 'waiting for offers', detail: '' };
}

/** "3m 2s ago"-style age of an ISO time, against `now` (ms). */
export function ageOf(iso, now) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.max(0, (now - t) / 1000) : null;
}
