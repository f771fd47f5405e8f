// From a RunTask to what the container driver runs: validation at the edge
// (a message naming the field and value, becoming TASK_ERROR) and the pure
// translation of TaskInfo into a ContainerSpec. No I/O here.
import { isAbsolute, join, normalize, sep } from 'node:path';
import type { FrameworkInfoOut, TaskInfoOut } from '../proto/index.js';
import { Resources, rangeValues, rangesContain } from '../common/resources.js';
import { errorMessage } from '../common/errors.js';
import type { ContainerCommand, ContainerSpec } from './driver/driver.js';
import { STRICT, checkTaskUser, readOnlyRootfs, taskUser, type IsolationPolicy } from './isolation.js';

/** The isolation policy lives in isolation.ts; tests and the agent import it from here too. */
export { STRICT, type IsolationPolicy } from './isolation.js';

/** Labels on every container; `work_dir` is how an agent (and a test) finds its own. */
export const LABEL = {
  agentId: 'mesos-ts.agent_id',
  frameworkId: 'mesos-ts.framework_id',
  taskId: 'mesos-ts.task_id',
  workDir: 'mesos-ts.work_dir',
} as const;

/** Below this the container runtime itself does not start reliably. */
export const MIN_MEM_MIB = 4;

export interface SpecContext {
  readonly agentId: string;
  readonly hostname: string;
  readonly workDir: string;
  readonly defaultImage: string;
  readonly pidsLimit: number;
  /** The agent's isolation flags (default: STRICT, the agent's own defaults). */
  readonly isolation?: IsolationPolicy;
}

export type Checked = { readonly ok: true; readonly resources: Resources } | { readonly ok: false; readonly message: string };

/** Everything the agent needs from a RunTask, or the first problem found. */
export function checkTask(
  framework: FrameworkInfoOut | null | undefined,
  task: TaskInfoOut | null | undefined,
  policy: IsolationPolicy = STRICT,
): Checked {
  const fail = (message: string): Checked => ({ ok: false, message });
  if (!framework?.id?.value) return fail('RunTask.framework.id is required');
  if (!task) return fail('RunTask.task is required');
  const taskId = task.task_id?.value ?? '';
  if (!taskId) return fail('TaskInfo.task_id is required');
  // The id becomes a directory name: keep it inside the sandboxes folder.
  for (const id of [taskId, framework.id.value]) {
    if (id === '.' || id === '..' || /[/\\\0]/.test(id)) return fail(`id '${id}' must not be '.', '..' or contain '/', '\\' or NUL`);
  }
  let resources: Resources;
  try {
    resources = Resources.fromProto(task.resources, 'TaskInfo.resources');
  } catch (err) {
    return fail(errorMessage(err));
  }
  const cpus = resources.scalar('cpus');
  const mem = resources.scalar('mem');
  if (cpus <= 0) return fail(`TaskInfo.resources must include cpus > 0, got cpus:${cpus}`);
  if (mem < MIN_MEM_MIB) return fail(`TaskInfo.resources must include mem >= ${MIN_MEM_MIB} (MB), got mem:${mem}`);
  const problem = checkCommand(task) ?? checkTaskUser(framework, task, policy) ?? checkContainer(task, policy) ?? checkHealthCheck(task, resources);
  return problem ? fail(problem) : { ok: true, resources };
}

function checkCommand(task: TaskInfoOut): string | null {
  const cmd = task.command;
  if (!cmd) return task.container?.docker?.image ? null : 'TaskInfo.command or TaskInfo.container.docker.image is required';
  if (cmd.shell && !cmd.value) return 'TaskInfo.command.value is required when command.shell is true';
  if (!cmd.shell && !cmd.value && cmd.arguments.length === 0 && !task.container?.docker?.image) {
    return 'TaskInfo.command needs a value or arguments (or a docker image to run as built)';
  }
  if (cmd.uris.length > 0) return `TaskInfo.command.uris is not supported by this agent (got ${cmd.uris.length} URI(s))`;
  return checkEnvironment('TaskInfo.command.environment', cmd.environment);
}

function checkEnvironment(field: string, env: NonNullable<TaskInfoOut['command']>['environment']): string | null {
  for (const v of env?.variables ?? []) {
    if (!v.name) return `${field}.variables[].name is required`;
    if (v.type === 'SECRET') return `${field} variable '${v.name}' is a SECRET, which this agent does not support`;
  }
  return null;
}

/**
 * TaskInfo.health_check, as Mesos validates it (non-negative seconds, a known
 * type with its own field, an HTTP path starting with '/'), plus what this
 * agent needs: consecutive_failures >= 1, scheme http, and the port of an
 * HTTP or TCP check among the task's own ports. Absent fields have Mesos's defaults.
 */
function checkHealthCheck(task: TaskInfoOut, resources: Resources): string | null {
  const check = task.health_check;
  if (!check) return null;
  const field = 'TaskInfo.health_check';
  for (const name of ['delay_seconds', 'interval_seconds', 'timeout_seconds', 'grace_period_seconds'] as const) {
    const value = check[name] as unknown;
    if (value === undefined || value === null) continue;
    const seconds = typeof value === 'number' || typeof value === 'string' ? Number(value) : NaN;
    if (!(seconds >= 0) || seconds === Infinity) return `${field}.${name} must be a non-negative number of seconds, got ${String(value)}`;
  }
  const failures = check.consecutive_failures as unknown;
  if (failures !== undefined && failures !== null && !(Number.isInteger(failures) && (failures as number) >= 1)) {
    return `${field}.consecutive_failures must be an integer >= 1, got ${String(failures)}`;
  }
  const ports = resources.ranges('ports');
  const checkPort = (name: string, port: number | undefined): string | null => {
    if (!port) return `${name} is required`;
    return rangesContain(ports, [[port, port]]) ? null : `${name} ${port} is not one of the task's ports (${ports.map(([b, e]) => (b === e ? b : `${b}-${e}`)).join(',') || 'none'})`;
  };
  switch (check.type) {
    case 'HTTP': {
      if (!check.http) return `${field}.http is required for an HTTP health check`;
      const scheme = check.http.scheme || 'http';
      if (scheme !== 'http') return `${field}.http.scheme must be 'http' (this agent does not check https), got '${scheme}'`;
      if (check.http.path && !check.http.path.startsWith('/')) return `${field}.http.path must start with '/', got '${check.http.path}'`;
      return checkPort(`${field}.http.port`, check.http.port);
    }
    case 'TCP':
      return check.tcp ? checkPort(`${field}.tcp.port`, check.tcp.port) : `${field}.tcp is required for a TCP health check`;
    case 'COMMAND':
      if (!check.command?.value) return `${field}.command.value is required for a COMMAND health check`;
      return checkEnvironment(`${field}.command.environment`, check.command.environment);
    default:
      return `${field}.type must be HTTP, TCP or COMMAND, got ${String(check.type ?? 'none')}`;
  }
}

function checkContainer(task: TaskInfoOut, policy: IsolationPolicy): string | null {
  const volumes = task.container?.volumes ?? [];
  for (const [i, v] of volumes.entries()) {
    const field = `TaskInfo.container.volumes[${i}]`;
    if (!v.container_path || !isAbsolute(v.container_path)) return `${field}.container_path must be an absolute path, got '${v.container_path ?? ''}'`;
    if (!v.host_path || !isAbsolute(v.host_path)) return `${field}.host_path must be an absolute path (only host-path volumes are supported), got '${v.host_path ?? ''}'`;
    const host = normalize(v.host_path);
    if (!policy.allowedHostPaths.some((allowed) => host === allowed || host.startsWith(allowed.endsWith(sep) ? allowed : allowed + sep))) {
      const allowed = policy.allowedHostPaths.length > 0 ? `--allowed_host_paths (${policy.allowedHostPaths.join(', ')})` : 'no host path (--allowed_host_paths is empty)';
      return `${field}.host_path '${v.host_path}' may not be mounted: this agent allows ${allowed}`;
    }
  }
  const mesosProblem = checkMesosContainer(task) ?? checkSeccomp(task.container);
  if (mesosProblem !== null) return mesosProblem;
  const docker = task.container?.docker;
  if (!docker) return null;
  if (docker.network && docker.network !== 'HOST' && docker.network !== 'NONE') {
    return `TaskInfo.container.docker.network must be HOST or NONE (this agent runs no bridge and no user networks), got ${docker.network}`;
  }
  if (docker.privileged && !policy.allowPrivileged) return 'TaskInfo.container.docker.privileged is not allowed on this agent (--allow_privileged is off)';
  if (docker.parameters.length > 0) {
    return `TaskInfo.container.docker.parameters are not supported (got ${docker.parameters.map((p) => p.key).join(', ')})`;
  }
  return null;
}

/** ContainerInfo.type MESOS: an image, if any, is a DOCKER image by name (Mesos's shape); DockerInfo belongs to DOCKER containers. */
function checkMesosContainer(task: TaskInfoOut): string | null {
  const container = task.container;
  if (!container || container.type !== 'MESOS') return null;
  if (container.docker) return 'TaskInfo.container.docker is for ContainerInfo.type DOCKER; a MESOS container names its image in container.mesos.image';
  const networks = container.network_infos ?? [];
  if (networks.length > 1 || networks.some((n) => n.name !== NO_NETWORK)) {
    return `TaskInfo.container.network_infos: this agent has no CNI networks; the only one a MESOS container may name is '${NO_NETWORK}' (its own network namespace with only lo), got ${networks.map((n) => `'${n.name ?? ''}'`).join(', ')}`;
  }
  const image = container.mesos?.image;
  if (!image) return null;
  if (image.type !== 'DOCKER') return `TaskInfo.container.mesos.image.type must be DOCKER (images from the agent's local store), got ${String(image.type ?? 'none')}`;
  if (!image.docker?.name) return 'TaskInfo.container.mesos.image.docker.name is required';
  return null;
}

/** LinuxInfo.seccomp, as Mesos shapes it: exactly one of profile_name and unconfined; a MESOS container's only. */
function checkSeccomp(container: TaskInfoOut['container']): string | null {
  const seccomp = container?.linux_info?.seccomp;
  if (!seccomp) return null;
  const field = 'TaskInfo.container.linux_info.seccomp';
  if (container.type !== 'MESOS') return `${field} applies to the mesos containerizer (ContainerInfo.type MESOS); a ${String(container.type ?? 'untyped')} container runs with its engine's own profile`;
  const name = seccomp.profile_name ?? '';
  if (seccomp.unconfined === true) return name ? `${field}: profile_name ('${name}') must not be set when unconfined is true` : null;
  if (!name) return `${field} needs a profile_name (a file of the agent's --seccomp_config_dir) unless unconfined is true`;
  if (name.includes('/') || name === '.' || name === '..') return `${field}.profile_name must be a file name in the agent's --seccomp_config_dir, got '${name}'`;
  return null;
}

/** The task's own seccomp choice for ContainerSpec (checked by checkSeccomp). */
function taskSeccomp(task: TaskInfoOut): Pick<ContainerSpec, 'seccomp'> {
  const seccomp = task.container?.linux_info?.seccomp;
  if (!seccomp) return {};
  return { seccomp: seccomp.unconfined === true ? { unconfined: true } : { profileName: seccomp.profile_name ?? '' } };
}

/** A MESOS container naming the network 'none', or a DOCKER one with DockerInfo.network NONE, has only its own lo; any other, the host's. */
function containerNetwork(task: TaskInfoOut): 'host' | 'none' {
  const container = task.container;
  if (container?.type === 'MESOS') return container.network_infos?.length ? 'none' : 'host';
  return container?.docker?.network === 'NONE' ? 'none' : 'host';
}

/** The network a MESOS container names (ContainerInfo.network_infos[].name) to have none but its own loopback. */
export const NO_NETWORK = 'none';

/** Which containerizer a task asks for: ContainerInfo.type, or none (the agent's first). */
export function containerizerOf(task: TaskInfoOut): 'docker' | 'mesos' | undefined {
  const type = task.container?.type;
  return type === 'MESOS' ? 'mesos' : type === 'DOCKER' ? 'docker' : undefined;
}

/** `<work_dir>/sandboxes/<framework_id>/<task_id>`; the ids were checked by checkTask. */
export function sandboxPath(workDir: string, frameworkId: string, taskId: string): string {
  return join(workDir, 'sandboxes', frameworkId, taskId);
}

/**
 * Mesos semantics: shell runs `/bin/sh -c value`; otherwise `value` is the
 * program and `arguments` its argv, argv[0] included. Only arguments (no
 * value) go to the image's own entrypoint; nothing runs the image as built.
 */
export function containerCommand(task: TaskInfoOut): ContainerCommand {
  const cmd = task.command;
  if (!cmd) return {};
  if (cmd.shell) return { entrypoint: ['/bin/sh', '-c', cmd.value] };
  if (cmd.value) return { entrypoint: [cmd.value, ...cmd.arguments.slice(1)] };
  return cmd.arguments.length > 0 ? { args: [...cmd.arguments] } : {};
}

/** PORT0..PORTn over the task's sorted ports, PORT = PORT0, the MESOS_* ids; the task's own variables win. */
export function taskEnvironment(ctx: SpecContext, frameworkId: string, task: TaskInfoOut, resources: Resources): Record<string, string> {
  const env: Record<string, string> = {
    MESOS_TASK_ID: task.task_id?.value ?? '',
    MESOS_FRAMEWORK_ID: frameworkId,
    MESOS_AGENT_ID: ctx.agentId,
    HOST: ctx.hostname,
  };
  const ports = rangeValues(resources.ranges('ports'));
  ports.forEach((p, i) => (env[`PORT${i}`] = String(p)));
  if (ports.length > 0) {
    env.PORT = String(ports[0]);
    env.PORTS = ports.join(',');
  }
  for (const v of task.command?.environment?.variables ?? []) env[v.name] = v.value;
  return env;
}

export function containerSpec(ctx: SpecContext, framework: FrameworkInfoOut, task: TaskInfoOut, resources: Resources): ContainerSpec {
  const frameworkId = framework.id?.value ?? '';
  const taskId = task.task_id?.value ?? '';
  const isolation = ctx.isolation ?? STRICT;
  const sandbox = sandboxPath(ctx.workDir, frameworkId, taskId);
  const containerizer = containerizerOf(task);
  return {
    ...(containerizer ? { containerizer } : {}),
    image: task.container?.docker?.image || task.container?.mesos?.image?.docker?.name || ctx.defaultImage,
    forcePull: task.container?.docker?.force_pull_image === true,
    command: containerCommand(task),
    env: taskEnvironment(ctx, frameworkId, task, resources),
    labels: { [LABEL.agentId]: ctx.agentId, [LABEL.frameworkId]: frameworkId, [LABEL.taskId]: taskId, [LABEL.workDir]: ctx.workDir },
    cpus: resources.scalar('cpus'),
    memMiB: resources.scalar('mem'),
    pidsLimit: ctx.pidsLimit,
    privileged: task.container?.docker?.privileged === true,
    user: taskUser(framework, task, isolation).user,
    capabilities: isolation.capabilities,
    readOnlyRootfs: readOnlyRootfs(task),
    network: containerNetwork(task),
    ...taskSeccomp(task),
    mounts: (task.container?.volumes ?? []).map((v) => ({ hostPath: normalize(v.host_path), containerPath: v.container_path, readOnly: v.mode !== 'RW' })),
    stdoutPath: join(sandbox, 'stdout'),
    stderrPath: join(sandbox, 'stderr'),
  };
}

/** A kill policy's grace in seconds, or undefined when the policy names none (0 is a real grace). */
export function graceSeconds(policy: { grace_period?: { nanoseconds?: number | string | null } | null } | null | undefined): number | undefined {
  const grace = policy?.grace_period;
  if (!grace) return undefined;
  const seconds = Number(grace.nanoseconds ?? 0) / 1e9;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
