// What the REST API does to the leader's state: create, update, scale,
// restart and delete apps, kill tasks, roll deployments back, and the reads.
// Each write is checked first (a bad one changes nothing), stored in
// ZooKeeper, then applied in memory, and the runtime is kicked to act on it.
// Writes go through the runtime's `serial`, so they never interleave with
// offers or status updates.
import { randomUUID } from 'node:crypto';
import { editableJson, normalizeAppId, onlyScaled, validateApp, type AppDefinition, type PortDefinition } from './app-definition.js';
import { deploymentActions, deploymentJson, type Deployment } from './deployments.js';
import { ApiError, invalid, locked, notFound } from './api-errors.js';
import type { EventBus } from './events.js';
import { show } from './json-fields.js';
import type { AppsRuntime, AppsState } from './runtime.js';
import type { AppsStore } from './store.js';
import { appView, newOfferStats, queueEntry, readinessResults, taskJson } from './views.js';
import { isInactive } from './planner.js';

/** What a write answers: the new version and the deployment that carries it out. */
export interface DeploymentRef {
  readonly version: string;
  readonly deploymentId: string;
}

/** Marathon's local_port_min..local_port_max for service ports. */
const SERVICE_PORTS: readonly [number, number] = [10000, 20000];

export class AppsOperations {
  constructor(
    private readonly state: AppsState,
    private readonly runtime: AppsRuntime,
    private readonly store: AppsStore,
    private readonly events: EventBus,
  ) {}

  // ---- writes --------------------------------------------------------------

  /** POST /v2/apps. */
  createApp(body: unknown): Promise<{ app: Record<string, unknown>; deployment: DeploymentRef }> {
    return this.runtime.serial(async () => {
      const version = this.runtime.now();
      const checked = validateApp(body, { version });
      if (!checked.ok) throw invalid(checked.details);
      if (this.state.apps.has(checked.app.id)) throw new ApiError(409, { message: `An app with id [${checked.app.id}] already exists.` });
      this.checkDependencies(checked.app);
      const app = this.withServicePorts(checked.app, null);
      const deployment = await this.deploy(null, app, false);
      this.events.publish('api_post_event', version, { clientIp: '', uri: '/v2/apps', appDefinition: app });
      return { app: this.view(app, false), deployment };
    });
  }

  /** PUT (partial unless `partial` is false) and PATCH /v2/apps/{id}; creates the app when it does not exist. */
  updateApp(rawId: string, body: unknown, options: { partial: boolean; force: boolean }): Promise<{ created: boolean; deployment: DeploymentRef; app: AppDefinition }> {
    return this.runtime.serial(async () => {
      const id = this.idOf(rawId);
      const prev = this.state.apps.get(id) ?? null;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid([{ path: '/', errors: ['expected a JSON object'] }]);
      const given = body as Record<string, unknown>;
      if (given.id !== undefined && (typeof given.id !== 'string' || normalizeAppId(given.id, id) !== id)) {
        throw invalid([{ path: '/id', errors: [`the id in the body (${show(given.id)}) is not the id in the URL (${id})`] }]);
      }
      const merged = { ...(prev && options.partial ? editableJson(prev) : {}), ...given, id };
      const version = this.runtime.now();
      const checked = validateApp(merged, { version });
      if (!checked.ok) throw invalid(checked.details);
      this.checkLock(id, options.force);
      this.checkDependencies(checked.app);
      // Service ports first: a definition that asks for port 0 again keeps its ports, and is then only a scale.
      const ported = this.withServicePorts(checked.app, prev);
      const scaleOnly = prev !== null && onlyScaled(prev, ported);
      const next: AppDefinition = {
        ...ported,
        versionInfo: scaleOnly && prev ? { lastScalingAt: version, lastConfigChangeAt: prev.versionInfo.lastConfigChangeAt } : { lastScalingAt: version, lastConfigChangeAt: version },
      };
      const deployment = await this.deploy(prev, next, scaleOnly);
      this.events.publish('api_post_event', version, { clientIp: '', uri: `/v2/apps${id}`, appDefinition: next });
      return { created: prev === null, deployment, app: next };
    });
  }

  /** POST /v2/apps/{id}/restart: a new configuration version, rolled out as an upgrade. */
  restartApp(rawId: string, force: boolean): Promise<DeploymentRef> {
    return this.runtime.serial(async () => {
      const prev = this.appOf(rawId);
      this.checkLock(prev.id, force);
      const version = this.runtime.now();
      return this.deploy(prev, { ...prev, version, versionInfo: { lastScalingAt: version, lastConfigChangeAt: version } }, false);
    });
  }

  /** DELETE /v2/apps/{id}: gone from the API at once; its instances are killed by the StopApplication deployment. */
  deleteApp(rawId: string, force: boolean): Promise<DeploymentRef> {
    return this.runtime.serial(async () => {
      const prev = this.appOf(rawId);
      this.checkLock(prev.id, force);
      const deployment = await this.deploy(prev, null, false);
      this.events.publish('app_terminated_event', this.runtime.now(), { appId: prev.id });
      return deployment;
    });
  }

  /** DELETE /v2/apps/{id}/tasks/{taskId}: kill one task; with scale, the app's instances drop by one so it is not replaced. */
  killTask(rawId: string, taskId: string, scale: boolean, force: boolean): Promise<{ task: Record<string, unknown> } | DeploymentRef> {
    return this.runtime.serial(async () => {
      const app = this.appOf(rawId);
      const inst = this.state.instances.get(taskId);
      if (!inst || inst.appId !== app.id) throw notFound(`Task '${taskId}' does not exist`);
      if (!scale) {
        await this.runtime.kill(inst, 'DELETE /v2/apps/{id}/tasks/{taskId}');
        return { task: taskJson(inst) };
      }
      this.checkLock(app.id, force);
      const version = this.runtime.now();
      const next: AppDefinition = { ...app, instances: Math.max(0, app.instances - 1), version, versionInfo: { ...app.versionInfo, lastScalingAt: version } };
      await this.runtime.kill(inst, 'DELETE /v2/apps/{id}/tasks/{taskId}?scale=true');
      return this.deploy(app, next, true);
    });
  }

  /** DELETE /v2/deployments/{id}: with force, just forget it; otherwise roll back to the definition before it. */
  cancelDeployment(id: string, force: boolean): Promise<DeploymentRef | null> {
    return this.runtime.serial(async () => {
      const d = this.state.deployments.get(id);
      if (!d) throw notFound(`DeploymentPlan ${id} does not exist`);
      this.state.deployments.delete(id);
      await this.store.deleteDeployment(id);
      this.events.publish('deployment_failed', this.runtime.now(), { id, plan: { id, version: d.version }, reason: force ? 'canceled with force' : 'rolled back' });
      if (force) return null;
      const current = this.state.apps.get(d.appId) ?? null;
      if (!d.previous) return current ? this.deploy(current, null, false) : null;
      const version = this.runtime.now();
      // The previous configuration version comes back, so its instances count as current again.
      const back: AppDefinition = { ...d.previous, version, versionInfo: { lastScalingAt: version, lastConfigChangeAt: d.previous.versionInfo.lastConfigChangeAt } };
      return this.deploy(current, back, current !== null && onlyScaled(current, back));
    });
  }

  // ---- reads ---------------------------------------------------------------

  listApps(embed: { tasks: boolean; lastTaskFailure: boolean; readiness?: boolean }, idPrefix?: string): Record<string, unknown>[] {
    return [...this.state.apps.values()]
      .filter((a) => !idPrefix || a.id === idPrefix || a.id.startsWith(`${idPrefix}/`))
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((a) => {
        const view = this.view(a, embed.tasks, embed.lastTaskFailure);
        return embed.readiness ? { ...view, readinessCheckResults: readinessResults(a, this.state.instancesOf(a.id)) } : view;
      });
  }

  getApp(rawId: string): Record<string, unknown> {
    return this.view(this.appOf(rawId), true, true);
  }

  tasks(rawId: string): Record<string, unknown>[] {
    return this.state.instancesOf(this.appOf(rawId).id).map(taskJson);
  }

  async versions(rawId: string): Promise<string[]> {
    return this.store.versions(this.appOf(rawId).id);
  }

  async version(rawId: string, version: string): Promise<AppDefinition> {
    const app = this.appOf(rawId);
    const found = await this.store.version(app.id, version);
    if (!found) throw notFound(`App '${app.id}' does not exist in version ${version}`);
    return found;
  }

  /** GET /v2/tasks: every instance of every app. */
  allTasks(): Record<string, unknown>[] {
    return [...this.state.instances.values()].map(taskJson);
  }

  /** DELETE /v2/queue/{id}/delay: launch again now, forgetting the app's failures. */
  resetDelay(rawId: string): void {
    const app = this.appOf(rawId);
    this.runtime.resetDelay(app.id);
    this.runtime.kick();
  }

  deployments(): Record<string, unknown>[] {
    return [...this.state.deployments.values()].map(deploymentJson);
  }

  deployment(id: string): Record<string, unknown> {
    const d = this.state.deployments.get(id);
    if (!d) throw notFound(`DeploymentPlan ${id} does not exist`);
    return deploymentJson(d);
  }

  queue(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const [appId, since] of this.state.queuedSince) {
      const app = this.state.apps.get(appId);
      if (!app) continue;
      const now = Date.parse(this.runtime.now()) / 1000;
      const live = this.state.instancesOf(appId).filter((i) => !i.killing && !isInactive(app, i, now) && i.version === app.versionInfo.lastConfigChangeAt).length;
      const count = Math.max(0, app.instances - live);
      if (count === 0) continue;
      const entry = queueEntry(app, count, since, this.runtime.delayLeft(appId), this.state.offerStats.get(appId) ?? newOfferStats(), this.view(app, false));
      const waiting = this.runtime.waitingFor(app);
      out.push(waiting.length > 0 ? { ...entry, waitingForDependencies: waiting } : entry);
    }
    return out;
  }

  // ---- helpers -------------------------------------------------------------

  private view(app: AppDefinition, embedTasks: boolean, embedFailure = false): Record<string, unknown> {
    const view = appView(app, this.state.instancesOf(app.id), this.state.deploymentsOf(app.id).map((d) => d.id), embedTasks);
    const failure = this.state.lastTaskFailure.get(app.id);
    return embedFailure && failure ? { ...view, lastTaskFailure: failure } : view;
  }

  private idOf(rawId: string): string {
    const id = normalizeAppId(rawId);
    if (!id) throw invalid([{ path: '/id', errors: [`'${rawId}' is not a valid app id`] }]);
    return id;
  }

  private appOf(rawId: string): AppDefinition {
    const id = this.idOf(rawId);
    const app = this.state.apps.get(id);
    if (!app) throw notFound(`App '${id}' does not exist`);
    return app;
  }

  /** Every dependency exists, and none leads back to the app. */
  private checkDependencies(app: AppDefinition): void {
    const errors: { path: string; errors: string[] }[] = [];
    app.dependencies.forEach((id, i) => {
      if (!this.state.apps.has(id)) errors.push({ path: `/dependencies(${i})`, errors: [`App '${id}' does not exist`] });
    });
    const seen = new Set<string>();
    const reaches = (from: string): boolean => {
      if (from === app.id) return true;
      if (seen.has(from)) return false;
      seen.add(from);
      return (this.state.apps.get(from)?.dependencies ?? []).some(reaches);
    };
    if (errors.length === 0 && app.dependencies.some(reaches)) errors.push({ path: '/dependencies', errors: ['the dependencies form a cycle'] });
    if (errors.length > 0) throw invalid(errors);
  }

  private checkLock(appId: string, force: boolean): void {
    const running = this.state.deploymentsOf(appId);
    if (running.length > 0 && !force) throw locked(running.map((d) => d.id));
  }

  /** Port definitions asking for port 0 get a free service port (kept from the previous version by index). */
  private withServicePorts(app: AppDefinition, prev: AppDefinition | null): AppDefinition {
    if (app.requirePorts) return app;
    const taken = new Set<number>();
    for (const other of this.state.apps.values()) if (other.id !== app.id) for (const p of other.portDefinitions) taken.add(p.port);
    const clash = app.portDefinitions.findIndex((p) => p.port !== 0 && taken.has(p.port));
    if (clash >= 0) throw invalid([{ path: `/portDefinitions(${clash})/port`, errors: [`service port ${app.portDefinitions[clash]!.port} is used by another app`] }]);
    let next = SERVICE_PORTS[0];
    const mine = new Set(app.portDefinitions.map((p) => p.port));
    const portDefinitions: PortDefinition[] = app.portDefinitions.map((p, i) => {
      if (p.port !== 0) return p;
      const kept = prev?.portDefinitions[i]?.port;
      if (kept && !taken.has(kept) && !mine.has(kept)) {
        mine.add(kept);
        return { ...p, port: kept };
      }
      while (taken.has(next) || mine.has(next)) next++;
      if (next >= SERVICE_PORTS[1]) throw invalid([{ path: `/portDefinitions(${i})/port`, errors: ['no service port is left'] }]);
      mine.add(next);
      return { ...p, port: next };
    });
    return { ...app, portDefinitions };
  }

  /** Stores the change and its deployment (replacing a running one, which ?force allowed), then lets the runtime act. */
  private async deploy(prev: AppDefinition | null, next: AppDefinition | null, scaleOnly: boolean): Promise<DeploymentRef> {
    const appId = (next ?? prev)!.id;
    for (const old of this.state.deploymentsOf(appId)) {
      this.state.deployments.delete(old.id);
      await this.store.deleteDeployment(old.id);
    }
    const version = next?.version ?? this.runtime.now();
    const d: Deployment = { id: randomUUID(), version, appId, actions: deploymentActions(prev, next, scaleOnly), startedAt: this.runtime.now(), previous: prev };
    if (next) await this.store.putApp(next);
    else await this.store.deleteApp(appId);
    await this.store.putDeployment(d);
    if (next) this.state.apps.set(appId, next);
    else {
      this.state.apps.delete(appId);
      this.state.offerStats.delete(appId);
      this.state.queuedSince.delete(appId);
      this.state.lastTaskFailure.delete(appId);
    }
    this.state.deployments.set(d.id, d);
    if (!scaleOnly) this.runtime.resetDelay(appId);
    this.events.publish('deployment_info', this.runtime.now(), { plan: deploymentJson(d), currentStep: { actions: d.actions.map((action) => ({ action, app: appId })) } });
    this.runtime.kick(); // a launch wanted now REVIVEs offers

    return { version, deploymentId: d.id };
  }
}
