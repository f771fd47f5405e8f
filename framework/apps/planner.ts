// What one app needs now, from its definition and its live instances. Pure
// and synchronous: the service applies the plan (launches from offers, kills)
// and asks again after every change, so a deployment is nothing but the
// plan reaching `complete`.
//
//   no old-version instances   → scale: launch the missing, kill the extra (killSelection)
//   old-version instances left → rolling upgrade:
//        launch new while live ≤ maxCapacity = ⌊instances × (1 + maximumOverCapacity)⌋
//        kill old while healthy ≥ minHealthy = ⌈instances × minimumHealthCapacity⌉
//   complete: `instances` live, all of the current version, all healthy, nothing being killed
//   unreachable longer than unreachableStrategy.inactiveAfterSeconds: left out (so replaced)
//
// Healthy: RUNNING and, when the instance was launched with a health check, reported healthy.
import type { AppDefinition } from './app-definition.js';
import type { AgentFacts } from './constraints.js';

/** Where an instance is in Mesos's task lifecycle (non-terminal states only: terminal instances are dropped). */
export type InstanceState = 'TASK_STAGING' | 'TASK_STARTING' | 'TASK_RUNNING' | 'TASK_KILLING' | 'TASK_UNREACHABLE';

/** One task of an app, as the framework records it (stored in ZooKeeper before its launch). */
export interface Instance {
  readonly taskId: string;
  readonly appId: string;
  /** The app's lastConfigChangeAt when launched: which configuration this instance runs. */
  readonly version: string;
  readonly agentId: string;
  readonly agent: AgentFacts;
  /** The agent's HTTP endpoint (from its offer's url), where the autoscaler reads the task's cpu usage. */
  readonly agentUrl?: string;
  readonly ports: readonly number[];
  readonly servicePorts: readonly number[];
  readonly stagedAt: string;
  readonly state: InstanceState;
  readonly startedAt?: string;
  /** Launched with a health check (its version's, not necessarily the app's current one). */
  readonly healthChecked?: boolean;
  /** Launched with a readiness check: it counts for its deployment only once `ready`. */
  readonly readinessChecked?: boolean;
  /** Its readiness check answered one of the ready status codes (checked by the framework, once). */
  readonly ready?: boolean;
  /** Last health reported by the agent; undefined until the first check result. */
  readonly healthy?: boolean;
  /** Set while Mesos reports the instance TASK_UNREACHABLE. */
  readonly unreachableSince?: string;
  /** The framework asked for the kill (scale down, upgrade, delete): its end is no failure. */
  readonly killing?: boolean;
  /** Set (with `killing`) when its drain began: load balancers take it out, then it is killed (drain.ts). */
  readonly drainingSince?: string;
}

export interface AppPlan {
  /** How many more instances to launch now (the launch queue's count). */
  readonly launch: number;
  readonly kill: readonly Instance[];
  readonly complete: boolean;
  readonly healthy: number;
}

/** RUNNING, not being killed, passing its health check and ready, for the checks it was launched with. */
export function isHealthy(i: Instance): boolean {
  return i.state === 'TASK_RUNNING' && !i.killing && (!i.healthChecked || i.healthy === true) && (!i.readinessChecked || i.ready === true);
}

/** The current instances first to go: unhealthy before healthy, then by killSelection (YOUNGEST_FIRST: latest staged first). */
export function killOrder(app: AppDefinition, instances: readonly Instance[]): Instance[] {
  const age = (i: Instance): number => Date.parse(i.stagedAt);
  return [...instances].sort((a, b) =>
    Number(isHealthy(a)) - Number(isHealthy(b)) ||
    (app.killSelection === 'YOUNGEST_FIRST' ? age(b) - age(a) : age(a) - age(b)) ||
    a.taskId.localeCompare(b.taskId));
}

/** Upgrade bounds; never a capacity that leaves no room to start a new instance while keeping minHealthy. */
export function upgradeBounds(app: AppDefinition): { minHealthy: number; maxCapacity: number } {
  const minHealthy = Math.ceil(app.instances * app.upgradeStrategy.minimumHealthCapacity - 1e-9);
  const over = Math.floor(app.instances * (1 + app.upgradeStrategy.maximumOverCapacity) + 1e-9);
  return { minHealthy, maxCapacity: Math.max(over, minHealthy + 1) };
}

/** Unreachable for longer than the app's inactiveAfterSeconds: replaced, no longer counted (nor killable). */
export function isInactive(app: AppDefinition, i: Instance, now: number): boolean {
  const s = app.unreachableStrategy;
  if (!s || s === 'disabled' || i.state !== 'TASK_UNREACHABLE' || i.unreachableSince === undefined) return false;
  return now - Date.parse(i.unreachableSince) / 1000 >= s.inactiveAfterSeconds;
}

/** Unreachable for longer than the app's expungeAfterSeconds: to be forgotten. */
export function isExpunged(app: AppDefinition, i: Instance, now: number): boolean {
  const s = app.unreachableStrategy;
  if (!s || s === 'disabled' || i.state !== 'TASK_UNREACHABLE' || i.unreachableSince === undefined) return false;
  return now - Date.parse(i.unreachableSince) / 1000 >= s.expungeAfterSeconds;
}

/** What the app needs now. `all`: its live (non-terminal) instances; `now`: seconds since the epoch. */
export function planApp(app: AppDefinition, all: readonly Instance[], now: number): AppPlan {
  const instances = all.filter((i) => !isInactive(app, i, now));
  const current = instances.filter((i) => !i.killing);
  const killing = instances.length - current.length;
  const fresh = current.filter((i) => i.version === app.versionInfo.lastConfigChangeAt);
  const old = current.filter((i) => i.version !== app.versionInfo.lastConfigChangeAt);
  const healthy = current.filter((i) => isHealthy(i)).length;
  if (old.length === 0) {
    const extra = fresh.length - app.instances;
    return {
      launch: Math.max(0, -extra),
      kill: extra > 0 ? killOrder(app, fresh).slice(0, extra) : [],
      complete: extra === 0 && killing === 0 && healthy === app.instances,
      healthy,
    };
  }
  const { minHealthy, maxCapacity } = upgradeBounds(app);
  const kill: Instance[] = [];
  let healthyLeft = healthy;
  for (const i of killOrder(app, old)) {
    if (!isHealthy(i)) kill.push(i);
    else if (healthyLeft - 1 >= minHealthy) {
      kill.push(i);
      healthyLeft--;
    }
  }
  // New instances fill the room left by what stays alive (kills still count until they are gone).
  const room = maxCapacity - instances.length;
  const launch = Math.max(0, Math.min(app.instances - fresh.length, room));
  // Too many new ones (the upgrade also scaled down): the extra go as well.
  const extraFresh = fresh.length - app.instances;
  if (extraFresh > 0) kill.push(...killOrder(app, fresh).slice(0, extraFresh));
  return { launch, kill, complete: false, healthy };
}
