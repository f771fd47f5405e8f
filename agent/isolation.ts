// What a task may ask of its host, and what every container gets whatever it
// asks: the user it runs as, the capabilities it keeps, a read-only root
// filesystem on request. Pure: the agent's flags come in checked (main.ts),
// the Docker driver turns the result into HostConfig, the mesos
// containerizer into config.json (driver/oci/bundle.ts). See "Isolation" in
// agent/README.md for the defaults and why.
import type { FrameworkInfoOut, TaskInfoOut } from '../proto/index.js';

export interface IsolationPolicy {
  /** --allowed_host_paths: a task may mount a host path inside one of these. */
  readonly allowedHostPaths: readonly string[];
  /** --allow_privileged: a task may ask for a privileged container. */
  readonly allowPrivileged: boolean;
  /** --switch_user (Mesos): run a task as CommandInfo.user, else FrameworkInfo.user; off: as defaultUser. */
  readonly switchUser: boolean;
  /** --default_container_user: the user of tasks that name none (and of every task without --switch_user). */
  readonly defaultUser: string;
  /** --allow_root_tasks: a task may name root (uid 0) in CommandInfo.user. */
  readonly allowRoot: boolean;
  /** --effective_capabilities (Mesos's name): the capabilities a container keeps; every other one is dropped. */
  readonly capabilities: readonly string[];
}

/** The capabilities kept by default: binding a port below 1024 is what a typical service asks of root. */
export const DEFAULT_CAPABILITIES: readonly string[] = ['NET_BIND_SERVICE'];

export const STRICT: IsolationPolicy = {
  allowedHostPaths: [],
  allowPrivileged: false,
  switchUser: true,
  defaultUser: 'nobody',
  allowRoot: false,
  capabilities: DEFAULT_CAPABILITIES,
};

/** TaskInfo.labels key asking for a read-only root filesystem (with a writable /tmp). */
export const READ_ONLY_ROOTFS_LABEL = 'mesos-ts.read_only_rootfs';

/** A name or uid, optionally `:group` or `:gid`, as the engine takes it (no spaces, no leading '-'). */
export function isUserSpec(user: string): boolean {
  return /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(:[A-Za-z0-9_.][A-Za-z0-9_.-]*)?$/.test(user);
}

/** `root`, `0`, `root:group`, `0:gid`: the user is uid 0. */
export function isRoot(user: string): boolean {
  const name = user.split(':')[0] ?? '';
  return name === 'root' || /^0+$/.test(name);
}

export interface TaskUser {
  readonly user: string;
  /** Where it came from, for messages: 'CommandInfo.user', 'FrameworkInfo.user' or '--default_container_user'. */
  readonly from: string;
}

/**
 * Mesos's rule under --switch_user: CommandInfo.user, else FrameworkInfo.user. Without it, the
 * agent's own choice (Mesos: the agent's user; here --default_container_user). A FrameworkInfo.user
 * of root is the scheduler's own account on its host, not a request for root in the image: on an
 * agent that refuses root it gives the default user. A CommandInfo.user of root is a request, which
 * checkTaskUser() refuses.
 */
export function taskUser(framework: FrameworkInfoOut | null | undefined, task: TaskInfoOut, policy: IsolationPolicy): TaskUser {
  const fallback = { user: policy.defaultUser, from: '--default_container_user' };
  if (!policy.switchUser) return fallback;
  const named = task.command?.user;
  if (named) return { user: named, from: 'CommandInfo.user' };
  const frameworkUser = framework?.user;
  if (frameworkUser && (policy.allowRoot || !isRoot(frameworkUser))) return { user: frameworkUser, from: 'FrameworkInfo.user' };
  return fallback;
}

/** The user the task would run as, or why it may not. */
export function checkTaskUser(framework: FrameworkInfoOut | null | undefined, task: TaskInfoOut, policy: IsolationPolicy): string | null {
  const { user, from } = taskUser(framework, task, policy);
  if (!isUserSpec(user)) return `${from} must be a user name or uid, optionally ':group', got '${user}'`;
  if (from === 'CommandInfo.user' && isRoot(user) && !policy.allowRoot) {
    return `${from} '${user}' is root, which this agent does not allow (--allow_root_tasks is off)`;
  }
  return null;
}

/** TaskInfo.labels `mesos-ts.read_only_rootfs=true`. */
export function readOnlyRootfs(task: TaskInfoOut): boolean {
  return (task.labels?.labels ?? []).some((l) => l.key === READ_ONLY_ROOTFS_LABEL && l.value === 'true');
}

/**
 * --effective_capabilities as Mesos takes it, CapabilityInfo JSON (`{"capabilities":["NET_RAW"]}`),
 * or a comma-separated list; names with or without `CAP_`, any case. Empty keeps none.
 */
export function parseCapabilities(text: string): string[] {
  const trimmed = text.trim();
  let names: unknown[];
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`--effective_capabilities is not valid JSON: ${(err as Error).message}`);
    }
    const list = (parsed as { capabilities?: unknown } | null)?.capabilities;
    if (!Array.isArray(list)) throw new Error(`--effective_capabilities JSON must be {"capabilities": [...]}, got ${trimmed}`);
    names = list;
  } else {
    names = trimmed === '' ? [] : trimmed.split(',');
  }
  return names.map((n) => {
    const name = String(n).trim().toUpperCase().replace(/^CAP_/, '');
    if (!/^[A-Z_]+$/.test(name) || name === 'ALL') throw new Error(`--effective_capabilities: '${String(n)}' is not a capability name`);
    return name;
  });
}
