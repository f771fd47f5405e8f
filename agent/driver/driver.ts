// The agent's view of a container runtime. The task runner depends only on
// this interface; agent/driver/docker.ts puts the Docker engine behind it
// (a second containerizer can implement it without Docker).

/** Where the task's sandbox appears inside its container, on every containerizer (Mesos's path); MESOS_SANDBOX names it. */
export const SANDBOX_IN_CONTAINER = '/mnt/mesos/sandbox';

/**
 * What to run. `entrypoint` replaces the image's entrypoint (the task named
 * its program); `args` alone keeps the image's entrypoint and replaces its
 * command; neither runs the image as built.
 */
export interface ContainerCommand {
  readonly entrypoint?: readonly string[];
  readonly args?: readonly string[];
}

export interface ContainerSpec {
  /** Which containerizer runs it (ContainerInfo.type); absent: the agent's first (--containerizers). */
  readonly containerizer?: 'docker' | 'mesos';
  readonly image: string;
  /** Ask the registry for a newer image even when one is present. */
  readonly forcePull: boolean;
  readonly command: ContainerCommand;
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly cpus: number;
  readonly memMiB: number;
  readonly pidsLimit: number;
  /** Only when the agent allows it (--allow_privileged) and the task asks. */
  readonly privileged: boolean;
  /** Who the task runs as: a name or uid, optionally ':group' (the image must know a name). */
  readonly user: string;
  /** The capabilities kept (names without CAP_); every other one is dropped. Ignored when privileged. */
  readonly capabilities: readonly string[];
  /** The root filesystem read-only, with a writable tmpfs on /tmp. */
  readonly readOnlyRootfs: boolean;
  /** 'host' (the agent's network) or 'none' (its own network namespace with only lo: Docker's NetworkMode none). Default: host. */
  readonly network?: 'host' | 'none';
  /**
   * The task's own seccomp filter (ContainerInfo.linux_info.seccomp), instead of the agent's: none, or a
   * profile of --seccomp_config_dir by name. The mesos containerizer only (a Docker task cannot ask: task-spec.ts).
   */
  readonly seccomp?: { readonly unconfined: true } | { readonly profileName: string };
  /** Host paths the agent allowed (--allowed_host_paths); read-only unless the task asked for RW. */
  readonly mounts: readonly { readonly hostPath: string; readonly containerPath: string; readonly readOnly: boolean }[];
  /** Files the container's stdout and stderr are appended to. */
  readonly stdoutPath: string;
  readonly stderrPath: string;
}

export interface ContainerExit {
  readonly exitCode: number;
  readonly oomKilled: boolean;
  /** Set when the runtime lost track of the container (container removed by hand, supervisor gone). */
  readonly error?: string;
  /** The runtime restarted and stopped the container itself (a Docker engine without live-restore): `exitCode` is not the task's. */
  readonly engineRestarted?: boolean;
}

export interface ContainerInfo {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly running: boolean;
  /** The host pid of the container's init process, when it runs. */
  readonly pid?: number;
}

/**
 * A running container's usage, as the kernel accounts it (Mesos's
 * ResourceStatistics names, in ResourceStatistics units). Fields the
 * runtime cannot tell are left out.
 */
export interface ContainerStats {
  /** Seconds since the epoch, when read. */
  readonly timestamp: number;
  readonly cpus_user_time_secs?: number;
  readonly cpus_system_time_secs?: number;
  /** CPU quota / period, the cpus the kernel lets it use. */
  readonly cpus_limit?: number;
  readonly cpus_nr_periods?: number;
  readonly cpus_nr_throttled?: number;
  readonly cpus_throttled_time_secs?: number;
  /** All memory charged to the container (cache included). */
  readonly mem_total_bytes?: number;
  readonly mem_limit_bytes?: number;
  readonly mem_rss_bytes?: number;
  readonly mem_cache_bytes?: number;
  readonly processes?: number;
}

/** A command run inside a running container, as TaskInfo.command runs (shell: `/bin/sh -c value`; else `value` with argv `arguments`). */
export interface ExecCommand {
  readonly shell: boolean;
  readonly value: string;
  /** argv, argv[0] included (as in Mesos); ignored when `shell`. */
  readonly arguments: readonly string[];
  /** Added to the container's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ExecResult {
  /** -1 when the command did not end within its timeout. */
  readonly exitCode: number;
  /** The end of its stdout and stderr together (bounded). */
  readonly output: string;
}

/** Why a launch failed before the task ran; `imageMissing` is the case callers most need to tell apart. */
export class LaunchError extends Error {
  override readonly name: string = 'LaunchError';
  constructor(message: string, readonly imageMissing = false, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The container runtime itself does not answer (the Docker engine is down or restarting): nothing was asked of the container. */
export class RuntimeUnavailableError extends Error {
  override readonly name = 'RuntimeUnavailableError';
}

/** The container's root filesystem could not be provisioned (its image is not in the store). Mesos reports it as REASON_CONTAINER_LAUNCH_FAILED too; the message says which step failed. */
export class PrepareError extends LaunchError {
  override readonly name = 'PrepareError';
}

export interface LaunchOptions {
  /** Aborts the launch (the task was killed meanwhile); a container already created is removed. */
  readonly signal?: AbortSignal;
  /** Told each step of the launch by name ('docker: created', ...), for the launch trace. */
  readonly trace?: (hop: string) => void;
  /**
   * Awaited right before the container is started (it may be created meanwhile): the agent's
   * checkpoint of the task. A rejection fails the launch (with its LaunchError, if it is one)
   * and removes the container, which never ran.
   */
  readonly beforeStart?: () => Promise<void>;
}

export interface ContainerDriver {
  /** Pulls if allowed and needed, creates and starts the container; rejects with LaunchError. */
  launch(spec: ContainerSpec, options?: LaunchOptions): Promise<string>;
  /** Resolves when the container exits (never rejects: a lost container is an exit with `error`). */
  wait(id: string): Promise<ContainerExit>;
  /** SIGTERM, then SIGKILL after `graceSeconds`; a container already gone is not an error. */
  stop(id: string, graceSeconds: number): Promise<void>;
  /** null when no such container exists. */
  inspect(id: string): Promise<ContainerInfo | null>;
  /** Containers carrying all these labels (running or not). */
  list(labels: Readonly<Record<string, string>>): Promise<ContainerInfo[]>;
  /** Kills if needed and removes; a container already gone is not an error. */
  remove(id: string): Promise<void>;
  /** The agent stops: what the driver prepared ahead of launches is released (its containers are left as they are). */
  close?(): Promise<void>;
  /**
   * Takes back a container an earlier run of the agent started: its output
   * from `sinceSeconds` (epoch) on is appended to the files again, and wait()
   * reports its exit, even if it exited meanwhile. null when it is gone.
   */
  reattach(id: string, output: { readonly stdoutPath: string; readonly stderrPath: string; readonly sinceSeconds: number }): Promise<ContainerInfo | null>;
  /**
   * Runs a command inside the running container and resolves with its exit
   * status; past `timeoutSeconds` (0: no limit) it is killed if it can be.
   * Rejects only when the command cannot be started (e.g. no such container).
   */
  exec(id: string, command: ExecCommand, timeoutSeconds: number): Promise<ExecResult>;
  /** The running container's usage now; null when it is not running (or gone). Never blocks the caller's loop. */
  stats(id: string): Promise<ContainerStats | null>;
}
