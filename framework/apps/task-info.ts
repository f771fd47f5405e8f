// An app instance as a Mesos TaskInfo: the Docker task of the SDK's
// dockerTask(), plus Marathon's environment (PORT0..N, PORTS, HOST,
// MARATHON_APP_ID, ...), the app's health check as a Mesos HealthCheck (the
// agent runs it), the kill grace period and the user. Also the launch delay
// after failures, Marathon's backoff. Pure.
import type { TaskInfoIn } from '../../proto/index.js';
import type { HealthCheck as HealthCheckIn } from '../../proto/gen/mesos/v1/HealthCheck.js';
import { backoffDelay } from '../../common/backoff.js';
import { dockerTask } from '../sdk/task-builder.js';
import { appIdKey, type AppDefinition, type HealthCheck } from './app-definition.js';
import type { Launch } from './offer-matcher.js';

/** A new task id for an instance of the app: `prod_web.<uuid>` (Marathon's form). */
export function newTaskId(app: AppDefinition, uuid: string): string {
  return `${appIdKey(app.id)}.${uuid}`;
}

/** The app id a task id belongs to, by its prefix; null for a task id of another form. */
export function appKeyOfTask(taskId: string): string | null {
  const dot = taskId.indexOf('.');
  return dot > 0 ? taskId.slice(0, dot) : null;
}

/** Marathon's task environment, on top of the app's env. */
export function taskEnv(app: AppDefinition, taskId: string, host: string, ports: readonly number[]): Record<string, string> {
  const env: Record<string, string> = { ...app.env };
  ports.forEach((port, i) => {
    env[`PORT${i}`] = String(port);
    const def = app.portDefinitions[i];
    if (def?.name) env[`PORT_${def.name.toUpperCase().replace(/-/g, '_')}`] = String(port);
    if (def && def.port !== 0) env[`PORT_${def.port}`] = String(port);
  });
  if (ports.length > 0) {
    env.PORT = String(ports[0]);
    env.PORTS = ports.join(',');
  }
  env.HOST = host;
  env.MARATHON_APP_ID = app.id;
  env.MARATHON_APP_VERSION = app.version;
  env.MARATHON_APP_RESOURCE_CPUS = String(app.cpus);
  env.MARATHON_APP_RESOURCE_MEM = String(app.mem);
  env.MARATHON_APP_RESOURCE_DISK = String(app.disk);
  env.MESOS_TASK_ID = taskId;
  return env;
}

/** The Mesos HealthCheck the agent runs for the app's check (HTTP and TCP run on the agent too: see the README). */
export function mesosHealthCheck(check: HealthCheck, ports: readonly number[]): HealthCheckIn {
  const timing = {
    delay_seconds: check.delaySeconds,
    interval_seconds: check.intervalSeconds,
    timeout_seconds: check.timeoutSeconds,
    grace_period_seconds: check.gracePeriodSeconds,
    // Marathon's 0 means "never kill for failed checks".
    consecutive_failures: check.maxConsecutiveFailures === 0 ? 2 ** 31 - 1 : check.maxConsecutiveFailures,
  };
  if (check.protocol === 'COMMAND') return { ...timing, type: 'COMMAND', command: { shell: true, value: check.command?.value ?? '' } };
  const port = check.port ?? ports[check.portIndex ?? 0] ?? 0;
  if (check.protocol === 'MESOS_TCP' || check.protocol === 'TCP') return { ...timing, type: 'TCP', tcp: { port } };
  return { ...timing, type: 'HTTP', http: { port, path: check.path ?? '/', scheme: 'http' } };
}

/** The TaskInfo of one launch. `defaultImage` runs apps that name no container. */
export function appTaskInfo(launch: Launch, taskId: string, defaultImage: string): TaskInfoIn {
  const { app, offer, ports } = launch;
  const task = dockerTask({
    taskId,
    name: app.id.slice(1).split('/').reverse().join('.'),
    agentId: offer.agentId,
    resources: launch.resources,
    ...(offer.role && offer.role !== '*' && { allocationRole: offer.role }),
    image: app.container?.docker.image ?? defaultImage,
    ...(app.cmd !== undefined && { command: app.cmd }),
    ...(app.args !== undefined && app.args.length > 0 && { argv: app.args }),
    env: taskEnv(app, taskId, offer.agent.hostname, ports),
    labels: { ...app.labels, MARATHON_APP_ID: app.id, MARATHON_APP_VERSION: app.versionInfo.lastConfigChangeAt },
    ...(app.taskKillGracePeriodSeconds !== undefined && { killGracePeriodSeconds: app.taskKillGracePeriodSeconds }),
    network: 'HOST',
    ...(app.container?.docker.forcePullImage && { forcePullImage: true }),
  });
  const check = app.healthChecks[0];
  return {
    ...task,
    ...(app.user !== undefined && { command: { ...task.command, user: app.user } }),
    ...(check && { health_check: mesosHealthCheck(check, ports) }),
  };
}

/** Seconds to wait before the next launch after `failures` failed tasks in a row: backoffSeconds × backoffFactor^(failures-1), at most maxLaunchDelaySeconds. */
export function launchDelaySeconds(app: AppDefinition, failures: number): number {
  if (failures <= 0) return 0;
  const ms = backoffDelay(failures - 1, { initialDelayMs: app.backoffSeconds * 1000, maxDelayMs: app.maxLaunchDelaySeconds * 1000, multiplier: app.backoffFactor });
  return ms / 1000;
}
