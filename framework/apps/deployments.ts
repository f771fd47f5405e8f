// Deployments as Marathon shows them: an id, the target version, the apps
// affected and the steps (each a list of actions on apps). Here one
// deployment changes one app; its progress is the planner's (planner.ts):
// it is over when the app's plan is complete (or, for StopApplication, when
// no instance is left). Pure.
import type { AppDefinition } from './app-definition.js';

export type DeploymentAction = 'StartApplication' | 'ScaleApplication' | 'RestartApplication' | 'StopApplication';

export interface Deployment {
  readonly id: string;
  /** The target version (the app's `version`). */
  readonly version: string;
  readonly appId: string;
  readonly actions: readonly DeploymentAction[];
  readonly startedAt: string;
  /** The definition before this deployment (null for a new app), for DELETE /v2/deployments/{id} (roll back). */
  readonly previous: AppDefinition | null;
}

/** The actions that take `prev` (absent: a new app) to `next` (absent: deleted). */
export function deploymentActions(prev: AppDefinition | null, next: AppDefinition | null, scaleOnly: boolean): DeploymentAction[] {
  if (!next) return ['StopApplication'];
  if (!prev) return ['StartApplication', 'ScaleApplication'];
  return scaleOnly ? ['ScaleApplication'] : ['RestartApplication'];
}

/** GET /v2/deployments's form of it. `currentStep` is 1-based, as Marathon counts. */
export function deploymentJson(d: Deployment): Record<string, unknown> {
  const steps = d.actions.map((action) => ({ actions: [{ action, app: d.appId }] }));
  const last = d.actions[d.actions.length - 1]!;
  return {
    id: d.id,
    version: d.version,
    affectedApps: [d.appId],
    affectedPods: [],
    steps,
    currentActions: [{ action: last, app: d.appId, readinessCheckResults: [] }],
    currentStep: d.actions.length,
    totalSteps: d.actions.length,
  };
}
