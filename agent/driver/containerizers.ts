// --containerizers=docker,mesos (Mesos's flag): the agent's drivers by name,
// in order of preference, behind the one ContainerDriver the agent knows.
// A launch goes to the containerizer its spec names (ContainerInfo.type), or
// to the first one when it names none; every other call goes to the driver
// that owns the container id (the mesos containerizer's ids start 'mesos-').
import { join } from 'node:path';
import { LaunchError, type ContainerDriver, type ContainerInfo, type ContainerSpec, type LaunchOptions } from './driver.js';
import type { PullPolicy } from './docker.js';
import { OciDriver, MESOS_ID_PREFIX } from './oci/oci.js';
import { CommandRuntime, runtimeProblem } from './oci/runtime.js';
import { CommandShell } from './oci/command-shell.js';
import { ImageStore, RootfsMaker } from './oci/image-store.js';
import { RootPool } from './oci/root-pool.js';
import { seccompProfile, taskSeccompProfile } from './oci/seccomp.js';
import type { Rotation } from '../../common/rotating-file.js';
import { InvalidArgument } from '../../common/errors.js';

export type ContainerizerName = 'docker' | 'mesos';
export const CONTAINERIZER_NAMES: readonly ContainerizerName[] = ['docker', 'mesos'];

/** '--containerizers' checked: known names, no repeats, at least one. */
export function parseContainerizers(text: string): ContainerizerName[] {
  const names = text.split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) throw new InvalidArgument(`--containerizers must name at least one of ${CONTAINERIZER_NAMES.join(', ')}, got '${text}'`);
  for (const n of names) {
    if (!(CONTAINERIZER_NAMES as readonly string[]).includes(n)) throw new InvalidArgument(`--containerizers: unknown containerizer '${n}' (known: ${CONTAINERIZER_NAMES.join(', ')})`);
  }
  if (new Set(names).size !== names.length) throw new InvalidArgument(`--containerizers names a containerizer twice: '${text}'`);
  return names as ContainerizerName[];
}

export class Containerizers implements ContainerDriver {
  constructor(private readonly drivers: ReadonlyMap<ContainerizerName, ContainerDriver>, readonly order: readonly ContainerizerName[]) {}

  /** The driver of one containerizer, if this agent runs it. */
  get(name: ContainerizerName): ContainerDriver | undefined {
    return this.drivers.get(name);
  }

  launch(spec: ContainerSpec, options?: LaunchOptions): Promise<string> {
    const name = spec.containerizer ?? this.order[0]!;
    const driver = this.drivers.get(name);
    if (!driver) {
      return Promise.reject(new LaunchError(`the task needs the ${name} containerizer, which this agent does not run (--containerizers=${this.order.join(',')})`));
    }
    return driver.launch(spec, options);
  }

  /** Whether the containerizer that makes ids like this one runs here. */
  private runs(id: string): boolean {
    return this.drivers.has(ownerName(id));
  }

  private owner(id: string): ContainerDriver {
    const name = ownerName(id);
    const driver = this.drivers.get(name);
    if (!driver) throw new Error(`container ${id} belongs to the ${name} containerizer, which this agent does not run (--containerizers=${this.order.join(',')})`);
    return driver;
  }

  wait(id: string) {
    try {
      return this.owner(id).wait(id);
    } catch (err) {
      return Promise.resolve({ exitCode: -1, oomKilled: false, error: (err as Error).message });
    }
  }

  async stop(id: string, graceSeconds: number) {
    return this.owner(id).stop(id, graceSeconds);
  }

  async inspect(id: string) {
    return this.runs(id) ? this.owner(id).inspect(id) : null;
  }

  async list(labels: Readonly<Record<string, string>>): Promise<ContainerInfo[]> {
    const all = await Promise.all([...this.drivers.values()].map((d) => d.list(labels)));
    return all.flat();
  }

  async remove(id: string) {
    return this.owner(id).remove(id);
  }

  async close(): Promise<void> {
    await Promise.all([...this.drivers.values()].map((d) => d.close?.()));
  }

  async reattach(id: string, output: { readonly stdoutPath: string; readonly stderrPath: string; readonly sinceSeconds: number }) {
    return this.runs(id) ? this.owner(id).reattach(id, output) : null;
  }

  async exec(id: string, command: Parameters<ContainerDriver['exec']>[1], timeoutSeconds: number) {
    return this.owner(id).exec(id, command, timeoutSeconds);
  }

  async stats(id: string) {
    return this.runs(id) ? this.owner(id).stats(id) : null;
  }
}

/** The containerizer that made a container id: the mesos containerizer's start 'mesos-', Docker's are hex. */
function ownerName(id: string): ContainerizerName {
  return id.startsWith(MESOS_ID_PREFIX) ? 'mesos' : 'docker';
}

export interface ContainerizerFlags {
  readonly containerizers: readonly ContainerizerName[];
  readonly workDir: string;
  readonly hostname: string;
  /** The sandbox's stdout/stderr rotation (--sandbox_log_max_size, --sandbox_log_rotations), on either path. */
  readonly logRotation: Rotation;
  readonly docker: { readonly socketPath: string; readonly pull: PullPolicy; readonly pullTimeoutSeconds: number };
  /** rootPool: container roots mounted ahead of launches, per image (0: none); launchParallelism: runtime starts at once (default: OciDriver's). */
  readonly oci: {
    readonly runtime: string; readonly registry: string; readonly storeDir: string; readonly rootPool: number; readonly seccompProfile: string; readonly seccompConfigDir?: string;
    readonly capabilities: readonly string[]; readonly launchParallelism?: number;
  };
  readonly log: (line: string) => void;
}

/**
 * The drivers --containerizers names, each checked before the agent starts: Docker must answer
 * its socket, the OCI runtime must run on this host. Throws a message naming the flag.
 */
export async function createContainerizers(flags: ContainerizerFlags): Promise<Containerizers> {
  const drivers = new Map<ContainerizerName, ContainerDriver>();
  for (const name of flags.containerizers) {
    if (name === 'docker') {
      // Loaded only by an agent that runs Docker: dockerode is about 100 ms of a process's start.
      const { DockerDriver } = await import('./docker.js');
      const driver = new DockerDriver({ ...flags.docker, logRotation: flags.logRotation });
      await driver.docker.ping().catch((err: Error) => {
        throw new Error(`no Docker engine answers at ${flags.docker.socketPath} (${err.message}); run scripts/setup.sh to start one, or run --containerizers=mesos`);
      });
      drivers.set(name, driver);
    } else {
      const seccomp = seccompProfile(flags.oci.seccompProfile, flags.oci.seccompConfigDir, flags.oci.capabilities);
      const problem = await runtimeProblem(flags.oci.runtime);
      if (problem) throw new Error(problem);
      const stateDir = join(flags.workDir, 'oci');
      // The runtime commands' output files under the work_dir: what a killed agent left there is cleared at the next start.
      const shell = new CommandShell(join(stateDir, 'commands'));
      drivers.set(name, new OciDriver({
        runtime: new CommandRuntime(flags.oci.runtime, join(stateDir, 'runtime'), shell), stateDir,
        images: new ImageStore(flags.oci.registry, flags.oci.storeDir), rootfs: new RootfsMaker(flags.log, new RootPool(join(stateDir, 'pool'), flags.oci.rootPool, flags.log), shell), hostname: flags.hostname,
        logRotation: flags.logRotation, seccomp, ...(flags.oci.launchParallelism !== undefined ? { launchParallelism: flags.oci.launchParallelism } : {}),
        seccompNamed: (name) => taskSeccompProfile(name, flags.oci.seccompConfigDir, flags.oci.capabilities),
      }));
    }
  }
  return new Containerizers(drivers, flags.containerizers);
}
