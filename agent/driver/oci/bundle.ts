// A task's OCI runtime config (config.json), built from its ContainerSpec.
// Pure: the image's config, the resolved user and the host's cgroup facts
// come in as arguments. The limits are those of the Docker path
// (docker.ts createOptions): CFS quota from cpus (plus cpu shares, as Mesos's
// cgroups isolator sets), a hard memory limit with no swap, a pids limit.
// Namespaces pid, mount, ipc and uts always; network only for 'none' (a new,
// empty netns): 'host' shares the agent's. Mounts, masked and read-only paths
// are runc's defaults (`runc spec`).
import { SANDBOX_IN_CONTAINER, type ContainerSpec } from '../driver.js';

export { SANDBOX_IN_CONTAINER };

const CFS_PERIOD_US = 100_000;
/** Mesos's cgroups isolator: 1024 shares per cpu, at least 2 (the kernel's minimum). */
const SHARES_PER_CPU = 1024;

/** What the image's own config says (OCI image config), the parts a task inherits. */
export interface ImageConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly workingDir?: string;
}

export interface BundleContext {
  /** The resolved user (names looked up in the image's /etc/passwd and /etc/group). */
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids?: readonly number[];
  /** The task's sandbox on the host, bind-mounted at SANDBOX_IN_CONTAINER. */
  readonly sandbox: string;
  /** The container's cgroup, relative to each hierarchy's root (runc's cgroupfs driver). */
  readonly cgroupsPath: string;
  /** Whether the host's memory controller takes a swap limit (v1 without swap accounting does not). */
  readonly swapLimit: boolean;
  /** 'host' (the default, as the Docker path) or 'none' (a new network namespace holding only lo). */
  readonly network: 'host' | 'none';
  readonly hostname: string;
  /** The OCI linux.seccomp filter (seccomp.ts), or null for none. */
  readonly seccomp?: Readonly<Record<string, unknown>> | null;
}

/** The process a container runs: the task's entrypoint/args over the image's, as Docker combines them. */
export function processArgs(spec: ContainerSpec, image: ImageConfig): string[] {
  const entrypoint = spec.command.entrypoint ?? image.entrypoint ?? [];
  const args = spec.command.entrypoint ? (spec.command.args ?? []) : (spec.command.args ?? image.cmd ?? []);
  return [...entrypoint, ...args];
}

export function ociConfig(spec: ContainerSpec, image: ImageConfig, ctx: BundleContext): Record<string, unknown> {
  const args = processArgs(spec, image);
  if (args.length === 0) throw new Error(`image ${spec.image} names no command and the task gives none`);
  const memory = Math.round(spec.memMiB * 1024 * 1024);
  const caps = spec.capabilities.map((c) => `CAP_${c}`);
  const env = mergeEnv(image.env ?? [], { ...spec.env, MESOS_SANDBOX: SANDBOX_IN_CONTAINER });
  const namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, ...(ctx.network === 'none' ? [{ type: 'network' }] : [])];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: ctx.uid, gid: ctx.gid, ...(ctx.additionalGids?.length ? { additionalGids: [...ctx.additionalGids] } : {}) },
      args,
      env,
      cwd: image.workingDir || '/',
      // The task's capabilities only (agent/isolation.ts: --effective_capabilities, NET_BIND_SERVICE by default); none inheritable or ambient.
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      // runc spec's default: raising the limit past the agent's own hard limit needs CAP_SYS_RESOURCE, which the task has not.
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: spec.readOnlyRootfs },
    hostname: ctx.hostname,
    mounts: [
      ...DEFAULT_MOUNTS,
      ...(ctx.network === 'host' ? HOST_NETWORK_FILES : []),
      { destination: SANDBOX_IN_CONTAINER, type: 'bind', source: ctx.sandbox, options: ['rbind', 'rw', 'nosuid', 'nodev'] },
      ...spec.mounts.map((m) => ({ destination: m.containerPath, type: 'bind', source: m.hostPath, options: ['rbind', m.readOnly ? 'ro' : 'rw', 'nosuid', 'nodev'] })),
      ...(spec.readOnlyRootfs ? [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] }] : []),
    ],
    linux: {
      cgroupsPath: ctx.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        cpu: { shares: Math.max(2, Math.round(spec.cpus * SHARES_PER_CPU)), quota: Math.round(spec.cpus * CFS_PERIOD_US), period: CFS_PERIOD_US },
        memory: { limit: memory, ...(ctx.swapLimit ? { swap: memory } : {}), swappiness: 0 },
        pids: { limit: spec.pidsLimit },
      },
      namespaces,
      ...(ctx.seccomp ? { seccomp: ctx.seccomp } : {}),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}

/** KEY=VALUE lines: the image's first, the task's overriding by name. */
function mergeEnv(image: readonly string[], task: Readonly<Record<string, string>>): string[] {
  const merged = new Map<string, string>();
  for (const line of image) {
    const eq = line.indexOf('=');
    if (eq > 0) merged.set(line.slice(0, eq), line.slice(eq + 1));
  }
  if (!merged.has('PATH')) merged.set('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  for (const [k, v] of Object.entries(task)) merged.set(k, v);
  return [...merged].map(([k, v]) => `${k}=${v}`);
}

/** runc spec's mounts. */
const DEFAULT_MOUNTS = [
  { destination: '/proc', type: 'proc', source: 'proc' },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
];

/** With the host's network the host's name resolution comes too (read-only), as Docker's --network=host does. */
const HOST_NETWORK_FILES = ['/etc/resolv.conf', '/etc/hosts'].map((f) => ({ destination: f, type: 'bind', source: f, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] }));

/** runc spec's masked and read-only paths. */
const MASKED_PATHS = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * A user spec ('name', 'uid', 'name:group', 'uid:gid') resolved against the image's
 * /etc/passwd and /etc/group text (null when absent). Throws naming what is missing.
 */
export function resolveUser(user: string, passwd: string | null, group: string | null, image: string): { uid: number; gid: number } {
  const [name = '', groupName] = user.split(':');
  const entries = (text: string | null) => (text ?? '').split('\n').map((l) => l.split(':')).filter((f) => f.length >= 3 && f[0] !== '');
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(name)) {
    uid = Number(name);
    const row = entries(passwd).find((f) => f[2] === name);
    gid = row ? Number(row[3]) : uid;
  } else {
    const row = entries(passwd).find((f) => f[0] === name);
    if (!row) throw new Error(`user '${name}' does not exist in image ${image} (no matching entry in its /etc/passwd)`);
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (groupName !== undefined) {
    if (/^\d+$/.test(groupName)) gid = Number(groupName);
    else {
      const row = entries(group).find((f) => f[0] === groupName);
      if (!row) throw new Error(`group '${groupName}' does not exist in image ${image} (no matching entry in its /etc/group)`);
      gid = Number(row[2]);
    }
  }
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`user '${user}' has a malformed entry in image ${image}`);
  return { uid, gid };
}
