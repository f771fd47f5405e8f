// The agent's view of a container runtime. The task runner depends only on
// this interface; agent/driver/docker.ts puts the Docker engine behind it
// (a second containerizer can implement it without Docker).

export interface ContainerSpec {
  readonly image: string;
  /** argv; empty means the image's default command. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly cpus: number;
  readonly memMiB: number;
  readonly pidsLimit: number;
  /** Files the container's stdout and stderr are appended to. */
  readonly stdoutPath: string;
  readonly stderrPath: string;
}

export interface ContainerExit {
  readonly exitCode: number;
  readonly oomKilled: boolean;
  readonly error?: string;
}

export interface ContainerInfo {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly running: boolean;
}

/** Why a launch failed before the container ran; `imageMissing` is the reason callers most need to tell apart. */
export class LaunchError extends Error {
  override readonly name = 'LaunchError';
  constructor(message: string, readonly imageMissing = false, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface ContainerDriver {
  /** Creates and starts the container; rejects with LaunchError. */
  launch(spec: ContainerSpec): Promise<string>;
  /** Resolves when the container exits. */
  wait(id: string): Promise<ContainerExit>;
  /** SIGTERM, then SIGKILL after `graceSeconds`. */
  stop(id: string, graceSeconds: number): Promise<void>;
  remove(id: string): Promise<void>;
  /** Containers carrying all these labels (running or not). */
  list(labels: Readonly<Record<string, string>>): Promise<ContainerInfo[]>;
}
