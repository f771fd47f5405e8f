// ContainerDriver without Docker (Mesos's "mesos" containerizer): each task
// is an OCI bundle the agent writes itself and an OCI runtime runs (runc by
// default; runtime.ts). One folder per container under <work_dir>/oci:
//
//   containers/<id>/meta.json    labels, image, output files: what list() and recovery read
//   containers/<id>/config.json  the runtime config (bundle.ts)
//   containers/<id>/rootfs       overlayfs over the image's cached rootfs (image-store.ts)
//   containers/<id>/pid, exit    written by the runtime and its supervisor (runtime.ts)
//   runc/                        the runtime's own state (--root)
//
// Launch: provision image -> root -> config.json -> checkpoint (beforeStart)
// -> supervisor started (at most launchParallelism at once) -> RUNNING as soon
// as the runtime wrote the pid file (inotify, no polling), or FAILED with the
// runtime's error if the exit file comes first. The exit
// status lives in a file, so an agent restarted after a SIGKILL reads it
// just the same; OOM kills are read from the container's memory cgroup, kept
// until remove() because the runtime runs with --keep.
import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { copyFile, readdir, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { Limiter } from '../../../common/limiter.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { LaunchError, PrepareError, type ContainerDriver, type ContainerExit, type ContainerInfo, type ContainerSpec, type ContainerStats, type ExecCommand, type ExecResult, type LaunchOptions } from '../driver.js';
import { cgroupStats } from '../cgroup-stats.js';
import { ociConfig, resolveUser } from './bundle.js';
import { defaultSeccomp, taskSeccompProfile, type SeccompProfile } from './seccomp.js';
import { ImageMissing, type ImageStore, type RootfsMaker } from './image-store.js';
import { EXIT_FILE, PID_FILE, RUNTIME_LOG, SUPERVISOR_NAME, SUPERVISOR_PID_FILE, runtimeError, type OciRuntime } from './runtime.js';
import type { Rotation } from '../../../common/rotating-file.js';

/** Every id this driver gives starts so: how the agent tells its containers from Docker's (hex ids). */
export const MESOS_ID_PREFIX = 'mesos-';

const CGROUP_PARENT = 'mesos-ts';
/**
 * Runtime starts at once by default (--oci_launch_parallelism): eight per cpu. Bursts of 100 on 2 cpus, shared
 * with other work, were all RUNNING later with 2, 4 or 8 at once than with 16 or no bound (agent/README.md).
 */
export const LAUNCH_PARALLELISM = 8 * availableParallelism();
/** How long the runtime may take to start a container before the launch is failed. */
const START_TIMEOUT_MS = 60_000;
/** How often a running container's output is checked for rotation (its exit is noticed at once, through inotify). */
const TICK_MS = 1000;

export interface OciDriverOptions {
  readonly runtime: OciRuntime;
  /** <work_dir>/oci: bundles and runtime state. */
  readonly stateDir: string;
  readonly images: ImageStore;
  readonly rootfs: RootfsMaker;
  readonly hostname: string;
  readonly cgroupRoot?: string;
  /**
   * Containers the runtime starts at once (--oci_launch_parallelism); the others of a burst wait their turn,
   * their tasks STARTING (runtime starts contend for the kernel's cgroup lock and the cpus, so together they all
   * finish late). A task killed while waiting leaves the queue and is never started. Default: LAUNCH_PARALLELISM.
   */
  readonly launchParallelism?: number;
  /** Size-based rotation of the sandbox's stdout and stderr, checked every second (copy, then truncate). Default: none. */
  readonly logRotation?: Rotation;
  /** Every task's seccomp filter (seccomp.ts; --seccomp_profile_name). Default: the default profile; null: none. */
  readonly seccomp?: SeccompProfile | null;
  /** The profile a task names (LinuxInfo.seccomp.profile_name), with the agent's --seccomp_config_dir; throws InvalidArgument. Default: the built-in names only. */
  readonly seccompNamed?: (name: string) => SeccompProfile | null;
}

interface Meta {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly image: string;
  readonly stdoutPath?: string;
  readonly stderrPath?: string;
}

export class OciDriver implements ContainerDriver {
  private readonly exits = new Map<string, Promise<ContainerExit>>();
  private readonly cgroupRoot: string;
  private readonly swapLimit: boolean;
  private readonly starts: Limiter;
  private readonly accountsOf = new Map<string, { passwd: string | null; group: string | null }>();
  /** The first list() (the agent's recovery) first destroys what the runtime runs without a bundle. */
  private swept: Promise<void> | null = null;

  constructor(private readonly options: OciDriverOptions) {
    this.cgroupRoot = options.cgroupRoot ?? '/sys/fs/cgroup';
    this.swapLimit = swapLimitSupported(this.cgroupRoot);
    this.starts = new Limiter(options.launchParallelism ?? LAUNCH_PARALLELISM);
  }

  /** Launches waiting for their turn to be started by the runtime (--oci_launch_parallelism). */
  get launchesWaiting(): number {
    return this.starts.queued;
  }

  private bundle(id: string): string {
    return join(this.options.stateDir, 'containers', id);
  }

  async launch(spec: ContainerSpec, options: LaunchOptions = {}): Promise<string> {
    if (spec.privileged) throw new LaunchError('privileged containers are not supported by the mesos containerizer; use ContainerInfo.type DOCKER');
    const id = `${MESOS_ID_PREFIX}${randomUUID()}`;
    const bundle = this.bundle(id);
    let image;
    try {
      image = await this.options.images.provision(spec.image);
    } catch (err) {
      if (err instanceof ImageMissing) throw new PrepareError(err.message, true, { cause: err });
      throw new PrepareError((err as Error).message, false, { cause: err });
    }
    options.trace?.('oci: image ready');
    try {
      // Synchronous file calls: a few small local writes, each done in microseconds, where promises cost a
      // round trip through libuv's thread pool apiece (tens of ms in all on a loaded host).
      // The root first: a pooled one's folder becomes the bundle. A bundle left without meta.json (the agent
      // killed in between) is removed by the next start's sweep.
      mkdirSync(dirname(bundle), { recursive: true });
      const mountRoot = await this.options.rootfs.make(image.rootfs, bundle);
      writeFileSync(join(bundle, 'meta.json'), JSON.stringify({ id, labels: spec.labels, image: spec.image, stdoutPath: spec.stdoutPath, stderrPath: spec.stderrPath } satisfies Meta));
      options.trace?.('oci: root ready');
      let user;
      try {
        const { passwd, group } = this.accounts(image.rootfs);
        user = resolveUser(spec.user, passwd, group, spec.image);
      } catch (err) {
        throw new LaunchError((err as Error).message);
      }
      // As Mesos does: the sandbox belongs to the task's user, who may write there (the agent runs as root).
      chownSync(dirname(spec.stdoutPath), user.uid, user.gid);
      const config = ociConfig(spec, image.config, {
        ...user, sandbox: dirname(spec.stdoutPath), cgroupsPath: `/${CGROUP_PARENT}/${id}`, swapLimit: this.swapLimit, network: spec.network ?? 'host', hostname: this.options.hostname,
        seccomp: this.seccompOf(spec),
      });
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
      options.trace?.('oci: bundle written');
      await options.beforeStart?.();
      options.signal?.throwIfAborted();
      await this.starts.run(async () => {
        options.trace?.('oci: starting');
        await this.options.runtime.supervise(id, bundle, { stdoutPath: spec.stdoutPath, stderrPath: spec.stderrPath }, mountRoot);
        await this.started(id, options.signal);
      }, options.signal);
      options.trace?.('oci: started');
      return id;
    } catch (err) {
      await this.remove(id).catch(() => {});
      if (options.signal?.aborted || err instanceof LaunchError) throw err;
      throw new LaunchError(`cannot start a container from ${spec.image}: ${(err as Error).message}`, false, { cause: err });
    }
  }

  /** The task's own filter when it names one, else the agent's (--seccomp_profile_name). */
  private seccompOf(spec: ContainerSpec): SeccompProfile | null {
    const own = spec.seccomp;
    if (own && 'unconfined' in own) return null;
    if (own) {
      try {
        return (this.options.seccompNamed ?? taskSeccompProfile)(own.profileName);
      } catch (err) {
        throw new LaunchError((err as Error).message);
      }
    }
    return this.options.seccomp === undefined ? defaultSeccomp() : this.options.seccomp;
  }

  /** The image's /etc/passwd and /etc/group (null when absent), read once per image: its root never changes. */
  private accounts(rootfs: string): { passwd: string | null; group: string | null } {
    let found = this.accountsOf.get(rootfs);
    if (!found) {
      const read = (path: string) => (existsSync(join(rootfs, path)) ? readFileSync(join(rootfs, path), 'utf8') : null);
      found = { passwd: read('etc/passwd'), group: read('etc/group') };
      this.accountsOf.set(rootfs, found);
    }
    return found;
  }

  /** Resolves once the runtime wrote the container's pid; rejects with the runtime's error if it exited first. */
  private async started(id: string, signal?: AbortSignal): Promise<void> {
    const bundle = this.bundle(id);
    const found = await appears(bundle, [PID_FILE, EXIT_FILE], START_TIMEOUT_MS, signal);
    if (found === PID_FILE) return;
    if (found === null) throw new LaunchError(`${this.options.runtime.name} did not start the container within ${START_TIMEOUT_MS / 1000}s`);
    const why = runtimeError(join(bundle, RUNTIME_LOG)) || `the runtime exited with status ${readExit(bundle)}`;
    if (/unable to find (user|group)|no matching entries/.test(why)) throw new LaunchError(`user not found in the image: ${why}`);
    throw new LaunchError(`${this.options.runtime.name} could not start the container: ${why}`);
  }

  wait(id: string): Promise<ContainerExit> {
    let exit = this.exits.get(id);
    if (!exit) {
      exit = this.exitOf(id);
      this.exits.set(id, exit);
    }
    return exit;
  }

  private async exitOf(id: string): Promise<ContainerExit> {
    const bundle = this.bundle(id);
    const meta = readMeta(bundle);
    for (let ticks = 1; ; ticks++) {
      if (existsSync(join(bundle, EXIT_FILE))) return { exitCode: readExit(bundle), oomKilled: await this.oomKilled(id) };
      if (!existsSync(bundle)) return { exitCode: -1, oomKilled: false, error: 'its container was removed' };
      await this.rotateOutput(meta);
      // Every few seconds: a supervisor that died without writing the exit (the host rebooted, it was killed by hand).
      if (ticks % 3 === 0 && !supervisorAlive(bundle) && (await sleep(500), !existsSync(join(bundle, EXIT_FILE)))) {
        return { exitCode: -1, oomKilled: false, error: `${this.options.runtime.name}'s supervisor is gone and recorded no exit status` };
      }
      await appears(bundle, [EXIT_FILE], TICK_MS).catch(() => null);
    }
  }

  private async rotateOutput(meta: Meta | null): Promise<void> {
    const rotation = this.options.logRotation;
    if (!rotation || rotation.maxBytes <= 0 || !meta) return;
    for (const path of [meta.stdoutPath, meta.stderrPath]) if (path) await rotateIfFull(path, rotation).catch(() => {});
  }

  /** The kernel's own count of OOM kills in the container's memory cgroup (v1 memory.oom_control, v2 memory.events). */
  private async oomKilled(id: string): Promise<boolean> {
    const v1 = join(this.cgroupRoot, 'memory', CGROUP_PARENT, id, 'memory.oom_control');
    const v2 = join(this.cgroupRoot, CGROUP_PARENT, id, 'memory.events');
    const text = (await readFile(v1, 'utf8').catch(() => null)) ?? (await readFile(v2, 'utf8').catch(() => ''));
    const count = /^oom_kill (\d+)$/m.exec(text)?.[1];
    return count !== undefined && Number(count) > 0;
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    if (!existsSync(this.bundle(id)) || existsSync(join(this.bundle(id), EXIT_FILE))) return;
    await this.options.runtime.kill(id, 'TERM');
    const exited = this.wait(id);
    const inTime = await Promise.race([exited.then(() => true), sleep(graceSeconds * 1000).then(() => false)]);
    if (!inTime) {
      await this.options.runtime.kill(id, 'KILL');
      await exited;
    }
  }

  async inspect(id: string): Promise<ContainerInfo | null> {
    const meta = readMeta(this.bundle(id));
    if (!meta) return null;
    const pid = readPid(this.bundle(id));
    const running = pid !== null && !existsSync(join(this.bundle(id), EXIT_FILE)) && alive(pid);
    return { id, name: id, labels: meta.labels, running, ...(running ? { pid: pid! } : {}) };
  }

  async list(labels: Readonly<Record<string, string>>): Promise<ContainerInfo[]> {
    this.swept ??= this.sweep();
    await this.swept;
    const ids = await readdir(join(this.options.stateDir, 'containers')).catch(() => [] as string[]);
    const found = await Promise.all(ids.map((id) => this.inspect(id)));
    return found.filter((c): c is ContainerInfo => c !== null && Object.entries(labels).every(([k, v]) => c.labels[k] === v));
  }

  /**
   * Containers in this driver's runtime root (its own: under the work_dir) whose bundle is gone carry no
   * labels, so recovery could never name them as orphans: they are destroyed here.
   */
  private async sweep(): Promise<void> {
    const known = await this.options.runtime.list().catch(() => []);
    for (const c of known.filter((s) => !existsSync(join(this.bundle(s.id), 'meta.json')))) {
      await this.options.runtime.delete(c.id).catch(() => {});
    }
    // A bundle without meta.json was never handed to the runtime: its root (maybe mounted) goes.
    const ids = await readdir(join(this.options.stateDir, 'containers')).catch(() => [] as string[]);
    for (const id of ids.filter((i) => !existsSync(join(this.bundle(i), 'meta.json')))) await this.remove(id).catch(() => {});
    await this.options.rootfs.clearStale();
  }

  /** The agent stops: the roots prepared ahead of launches are unmounted and removed (containers stay as they are). */
  async close(): Promise<void> {
    await this.options.rootfs.close();
  }

  /**
   * One removal per container at a time: the task runner removes its container when it sees it exit, and the
   * agent (or a caller that killed it) may remove it meanwhile. Each caller then waits for the same removal,
   * so none returns while another's unmount still runs.
   */
  remove(id: string): Promise<void> {
    let removal = this.removals.get(id);
    if (!removal) {
      removal = this.removeNow(id).finally(() => this.removals.delete(id));
      this.removals.set(id, removal);
    }
    return removal;
  }

  private readonly removals = new Map<string, Promise<void>>();

  private async removeNow(id: string): Promise<void> {
    this.exits.delete(id);
    const bundle = this.bundle(id);
    // delete --force kills a container still running (one runtime call, not two).
    await this.options.runtime.delete(id);
    await this.options.rootfs.release(bundle);
    await rm(bundle, { recursive: true, force: true });
  }

  /** The supervisor wrote the output to the sandbox all along: nothing to replay; wait() reads the exit file. */
  async reattach(id: string): Promise<ContainerInfo | null> {
    const info = await this.inspect(id);
    if (!info) return null;
    const bundle = this.bundle(id);
    if (!existsSync(join(bundle, PID_FILE)) && !existsSync(join(bundle, EXIT_FILE)) && (await this.options.runtime.state(id)) === null) {
      // The agent stopped between writing the bundle and starting it: nothing ran; its root and bundle go now.
      await this.remove(id);
      return null;
    }
    return info;
  }

  async exec(id: string, command: ExecCommand, timeoutSeconds: number): Promise<ExecResult> {
    const argv = command.shell ? ['/bin/sh', '-c', command.value] : [command.value, ...command.arguments.slice(1)];
    return this.options.runtime.exec(id, argv, command.env ?? {}, timeoutSeconds * 1000);
  }

  async stats(id: string): Promise<ContainerStats | null> {
    const info = await this.inspect(id);
    return info?.pid === undefined ? null : cgroupStats(info.pid, () => Date.now() / 1000);
  }
}

function readMeta(bundle: string): Meta | null {
  try {
    return JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as Meta;
  } catch {
    return null;
  }
}

function readPid(bundle: string): number | null {
  try {
    const pid = Number(readFileSync(join(bundle, PID_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The supervisor still runs: its pid is alive and is the supervisor (not a reused pid). */
function supervisorAlive(bundle: string): boolean {
  try {
    const pid = Number(readFileSync(join(bundle, SUPERVISOR_PID_FILE), 'utf8').trim());
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(SUPERVISOR_NAME);
  } catch {
    return false;
  }
}

/**
 * The sandbox's rotation (common/rotating-file.ts names: path.1 .. path.keep) done from outside the
 * writer: the supervisor appends (O_APPEND), so after the copy the file is truncated and writing goes on
 * at its new end. What is written between the copy and the truncation is lost (logrotate's copytruncate).
 */
async function rotateIfFull(path: string, { maxBytes, keep }: Rotation): Promise<void> {
  const size = (await stat(path).catch(() => null))?.size ?? 0;
  if (size < maxBytes) return;
  if (keep > 0) {
    await rm(`${path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {});
    await copyFile(path, `${path}.1`);
  }
  await truncate(path, 0);
}

/**
 * The first of `names` that exists in `dir`, as soon as it is created there (fs.watch: inotify, no polling
 * interval added to a launch); null after `timeoutMs` or when `dir` is gone. Rejects when `signal` aborts.
 */
function appears(dir: string, names: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<string | null> {
  return new Promise((resolve, reject) => {
    let watcher: FSWatcher | null = null;
    let timer: NodeJS.Timeout | undefined;
    const done = (found: string | null, err?: unknown) => {
      watcher?.close();
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) reject(err);
      else resolve(found);
    };
    const onAbort = () => done(null, signal!.reason);
    const look = () => names.find((n) => existsSync(join(dir, n)));
    try {
      watcher = watch(dir, () => {
        const found = look();
        if (found !== undefined) done(found);
      });
      watcher.on('error', () => done(look() ?? null));
    } catch {
      return resolve(look() ?? null);
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    timer = setTimeout(() => done(look() ?? null), timeoutMs);
    // Created before the watch began.
    const found = look();
    if (found !== undefined) done(found);
  });
}

function readExit(bundle: string): number {
  const code = Number(readFileSync(join(bundle, EXIT_FILE), 'utf8').trim());
  return Number.isInteger(code) ? code : -1;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the memory controller takes a swap limit (v1 needs swap accounting; v2 a memory.swap.max file). */
export function swapLimitSupported(root = '/sys/fs/cgroup'): boolean {
  if (existsSync(join(root, 'memory'))) return existsSync(join(root, 'memory', 'memory.memsw.limit_in_bytes'));
  return ['init.scope', 'system.slice'].some((d) => existsSync(join(root, d, 'memory.swap.max')));
}
