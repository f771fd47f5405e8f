// The apps framework's AppsStore in memory, for unit tests of its runtime and
// operations; integration tests use ZkAppsStore against a real ZooKeeper.
import { appIdKey, type AppDefinition } from '../../framework/apps/app-definition.js';
import type { Deployment } from '../../framework/apps/deployments.js';
import type { Instance } from '../../framework/apps/planner.js';
import type { AppsStore, LoadedState } from '../../framework/apps/store.js';

export class MemoryAppsStore implements AppsStore {
  frameworkId: string | null = null;
  readonly apps = new Map<string, AppDefinition>();
  readonly appVersions = new Map<string, Map<string, AppDefinition>>();
  readonly instances = new Map<string, Instance>();
  readonly deployments = new Map<string, Deployment>();
  /** Writes so far, to check that a refused request wrote nothing. */
  writes = 0;

  async load(): Promise<LoadedState> {
    return { frameworkId: this.frameworkId, apps: [...this.apps.values()], instances: [...this.instances.values()], deployments: [...this.deployments.values()] };
  }

  async saveFrameworkId(id: string): Promise<void> {
    this.writes++;
    this.frameworkId = id;
  }

  async putApp(app: AppDefinition): Promise<void> {
    this.writes++;
    this.apps.set(app.id, app);
    const versions = this.appVersions.get(appIdKey(app.id)) ?? new Map<string, AppDefinition>();
    versions.set(app.version, app);
    this.appVersions.set(appIdKey(app.id), versions);
  }

  async deleteApp(id: string): Promise<void> {
    this.writes++;
    this.apps.delete(id);
    this.appVersions.delete(appIdKey(id));
  }

  async versions(id: string): Promise<string[]> {
    return [...(this.appVersions.get(appIdKey(id))?.keys() ?? [])].sort().reverse();
  }

  async version(id: string, version: string): Promise<AppDefinition | null> {
    return this.appVersions.get(appIdKey(id))?.get(version) ?? null;
  }

  async putInstance(instance: Instance): Promise<void> {
    this.writes++;
    this.instances.set(instance.taskId, instance);
  }

  async deleteInstance(taskId: string): Promise<void> {
    this.writes++;
    this.instances.delete(taskId);
  }

  async putDeployment(deployment: Deployment): Promise<void> {
    this.writes++;
    this.deployments.set(deployment.id, deployment);
  }

  async deleteDeployment(id: string): Promise<void> {
    this.writes++;
    this.deployments.delete(id);
  }
}
