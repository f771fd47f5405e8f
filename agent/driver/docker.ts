// ContainerDriver on the Docker engine, through dockerode. Containers run
// with host networking (or none: DockerInfo.network NONE), no privileges and no mounts, as the spec's user, with
// every capability but the spec's dropped and no-new-privileges; the task's cpus and mem
// become the engine's CPU quota (NanoCpus) and hard memory limit (no swap),
// so the kernel enforces them. Output is attached before start, so nothing
// the task prints is lost, and docker-init is PID 1 so SIGTERM reaches the
// task's process.
import type { Writable } from 'node:stream';
import { RotatingFile, type Rotation } from '../../common/rotating-file.js';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import Docker from 'dockerode';
import { Agent as HttpAgent } from 'node:http';
import { LaunchError, RuntimeUnavailableError, SANDBOX_IN_CONTAINER, type ContainerDriver, type ContainerExit, type ContainerInfo, type ContainerSpec, type ContainerStats, type ExecCommand, type ExecResult, type LaunchOptions } from './driver.js';
import { cgroupStats } from './cgroup-stats.js';
import { backoffDelay } from '../../common/backoff.js';
import { engineStats, execInContainer, hasStatus, readContainerFile, waitExit } from './docker-calls.js';
import { resolveUser } from './oci/bundle.js';
import { chown } from 'node:fs/promises';

export type PullPolicy = 'never' | 'missing';

export interface DockerDriverOptions {
  readonly socketPath?: string;
  readonly pull: PullPolicy;
  readonly pullTimeoutSeconds: number;
  /** Size-based rotation of the sandbox's stdout and stderr (default: none). */
  readonly logRotation?: Rotation;
}

/** Asking again whether the engine is back, after it went away. */
const ENGINE_BACKOFF = { initialDelayMs: 200, maxDelayMs: 2000 } as const;

/** How long to wait for the output streams to drain once the container exited. */
const DRAIN_MS = 2000;

/** Exit statuses of a container ended by SIGTERM or SIGKILL (128 + the signal). */
const SIGNALLED = new Set([128 + 15, 128 + 9]);
/**
 * How long the engine is watched after a container was ended by a signal the agent did not send:
 * an engine stopped without live-restore stops its containers itself (SIGTERM, then SIGKILL) and
 * then goes away; if it does within this window, the task did not end of its own accord. dockerd
 * closes its listener before it stops the containers, so a new connection is refused at once.
 */
const ENGINE_SHUTDOWN_WINDOW_MS = 5000;
const ENGINE_PING_MS = 250;
/**
 * dockerd handles a container's OOM event apart from its exit event, and may record the exit first:
 * an OOM-killed container then inspects as OOMKilled false, exit 137, for a while. A SIGKILLed
 * container the agent did not stop is inspected again every OOM_EVENT_POLL_MS until it reads
 * OOM-killed or OOM_EVENT_GRACE_MS have passed. Two fresh-clone CI runs saw a 32 MB memory hog
 * reported as "exited with status 137": the first with no second look, the second with one look
 * 300 ms later, on a machine loaded by the whole suite.
 */
const OOM_EVENT_GRACE_MS = 3000;
const OOM_EVENT_POLL_MS = 250;

export class DockerDriver implements ContainerDriver {
  readonly docker: Docker;
  private readonly exits = new Map<string, Promise<ContainerExit>>();
  /** Init pids of running containers, so that stats() asks the engine once per container. */
  private readonly pids = new Map<string, number>();
  /** Containers this driver asked the engine to stop: a signal that ended one of them was ours. */
  private readonly stopping = new Set<string>();
  /** Each image's /etc/passwd and /etc/group (null when absent), by image name: whose the sandbox becomes. */
  private readonly accountsOf = new Map<string, { passwd: string | null; group: string | null }>();
  /**
   * The engine asked on a new connection each time. A stopping dockerd closes its listener first and
   * stops its containers after, while connections kept alive are still served until it exits: only a
   * new connection tells at once that it is going away.
   */
  private readonly probe: Docker;

  constructor(private readonly options: DockerDriverOptions) {
    this.docker = new Docker(options.socketPath ? { socketPath: options.socketPath } : {});
    // docker-modem takes the agent its requests go through; dockerode's types do not list it.
    const probeOptions = { ...(options.socketPath ? { socketPath: options.socketPath } : {}), agent: new HttpAgent({ keepAlive: false }) };
    this.probe = new Docker(probeOptions as Docker.DockerOptions);
  }

  private get socketPath(): string {
    return this.options.socketPath ?? '/var/run/docker.sock';
  }

  async launch(spec: ContainerSpec, options: LaunchOptions = {}): Promise<string> {
    const container = await this.create(spec, options.signal, options.trace);
    options.trace?.('docker: created');
    let attached: NodeJS.ReadableStream | null = null;
    try {
      const stream = (attached = await container.attach({ stream: true, stdout: true, stderr: true }));
      const files = this.outputFiles(spec.stdoutPath, spec.stderrPath);
      this.docker.modem.demuxStream(stream, files[0], files[1]);
      const drained = new Promise<void>((resolve) => {
        for (const event of ['end', 'close', 'error']) stream.on(event, () => resolve());
      });
      options.trace?.('docker: attached');
      await this.handSandbox(container, spec);
      await options.beforeStart?.();
      options.signal?.throwIfAborted();
      options.trace?.('docker: starting');
      await container.start();
      options.trace?.('docker: started');
      // The wait is sent only once the start has returned, with the default condition
      // ('not-running'): the container has started by then, so the wait answers when it
      // exits, or at once with its real status if it has exited already. A wait sent
      // before the start is a race on a busy engine, which handles the two requests in
      // either order: 'not-running' seen before the start answers at once with status 0
      // (a running task reported FINISHED); 'next-exit' seen after a quick task has
      // already exited waits for an exit that never comes (the task stays RUNNING for
      // ever, and a kill finds its container already stopped).
      const waited = waitExit(this.socketPath, container.id);
      this.exits.set(container.id, this.exitOf(container, waited, drained, files, spec));
      return container.id;
    } catch (err) {
      // The attach connection is closed by this side too: one the engine failed to end would hold the agent's process for ever.
      (attached as { destroy?: () => void } | null)?.destroy?.();
      await container.remove({ force: true }).catch(() => {});
      if (options.signal?.aborted || err instanceof LaunchError) throw err;
      const message = dockerMessage(err);
      // runc: "unable to find user alice: no matching entries in passwd file", deep in an OCI error.
      if (/unable to find user|no matching entries in (passwd|group)/.test(message)) {
        throw new LaunchError(`user '${spec.user}' does not exist in image ${spec.image} (no matching entry in its /etc/passwd or /etc/group)`, false, { cause: err });
      }
      throw new LaunchError(`cannot start a container from ${spec.image}: ${message}`, false, { cause: err });
    }
  }

  /**
   * As Mesos does (and the mesos containerizer): the sandbox, mounted at MESOS_SANDBOX, belongs to the task's
   * user, resolved in the image's own /etc/passwd and /etc/group (read once per image), who may so write
   * there. A user the image lacks is left to the engine, whose refusal at start names it.
   */
  private async handSandbox(container: Docker.Container, spec: ContainerSpec): Promise<void> {
    let accounts = spec.forcePull ? undefined : this.accountsOf.get(spec.image);
    if (!accounts) {
      accounts = { passwd: await readContainerFile(container, '/etc/passwd'), group: await readContainerFile(container, '/etc/group') };
      this.accountsOf.set(spec.image, accounts);
    }
    let user;
    try {
      user = resolveUser(spec.user, accounts.passwd, accounts.group, spec.image);
    } catch {
      return;
    }
    await chown(dirname(spec.stdoutPath), user.uid, user.gid);
  }

  wait(id: string): Promise<ContainerExit> {
    const known = this.exits.get(id);
    if (known) return known;
    // A container this driver did not start (an earlier run of the agent).
    const container = this.docker.getContainer(id);
    const exit = this.exitOf(container, waitExit(this.socketPath, container.id), Promise.resolve(), []);
    this.exits.set(id, exit);
    return exit;
  }

  async reattach(id: string, output: { stdoutPath: string; stderrPath: string; sinceSeconds: number }): Promise<ContainerInfo | null> {
    const info = await this.inspect(id);
    if (!info) return null;
    const container = this.docker.getContainer(id);
    // The container's own log (the engine kept it while nobody was attached) from where the sandbox stopped.
    const stream = (await container.logs({ follow: true, stdout: true, stderr: true, since: Math.floor(output.sinceSeconds) })) as unknown as NodeJS.ReadableStream;
    const files = this.outputFiles(output.stdoutPath, output.stderrPath);
    this.docker.modem.demuxStream(stream, files[0], files[1]);
    const drained = new Promise<void>((resolve) => {
      for (const event of ['end', 'close', 'error']) stream.on(event, () => resolve());
    });
    this.exits.set(id, this.exitOf(container, waitExit(this.socketPath, container.id), drained, files, output));
    return info;
  }

  private outputFiles(stdoutPath: string, stderrPath: string): readonly [Writable, Writable] {
    const rotation = this.options.logRotation ?? { maxBytes: 0, keep: 0 };
    return [new RotatingFile(stdoutPath, rotation), new RotatingFile(stderrPath, rotation)];
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    this.stopping.add(id);
    try {
      // The engine takes whole seconds; round up so a grace is never cut short.
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.ceil(graceSeconds)) });
    } catch (err) {
      // 304: already stopped; 404: already gone. Both mean the job is done.
      if (!hasStatus(err, 304, 404)) throw err;
    }
  }

  async inspect(id: string): Promise<ContainerInfo | null> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      const pid = info.State.Running && info.State.Pid > 0 ? info.State.Pid : undefined;
      if (pid !== undefined) this.pids.set(info.Id, pid);
      return { id: info.Id, name: info.Name.replace(/^\//, ''), labels: info.Config.Labels ?? {}, running: info.State.Running, ...(pid !== undefined ? { pid } : {}) };
    } catch (err) {
      if (hasStatus(err, 404)) return null;
      throw err;
    }
  }

  async list(labels: Readonly<Record<string, string>>): Promise<ContainerInfo[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const found = await this.docker.listContainers({ all: true, filters });
    return found.map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), labels: c.Labels, running: c.State === 'running' }));
  }

  /**
   * Read from the container's cgroup files (through its init pid, asked of the engine once):
   * a handful of small async reads, with no engine round trip, while the engine's one-shot
   * stats reads the same files and adds a request and its JSON per container. The engine is
   * asked only when the files are out of reach (an agent in another pid or cgroup namespace).
   */
  async stats(id: string): Promise<ContainerStats | null> {
    const pid = this.pids.get(id) ?? (await this.inspect(id))?.pid;
    if (pid === undefined) return null;
    const read = await cgroupStats(pid, () => Date.now() / 1000);
    if (read) return read;
    return engineStats(this.docker, id);
  }

  async remove(id: string): Promise<void> {
    this.exits.delete(id);
    this.pids.delete(id);
    this.stopping.delete(id);
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      // 404: gone already; 409: removal already in progress.
      if (!hasStatus(err, 404, 409)) throw err;
    }
  }

  private async exitOf(
    container: Docker.Container,
    waited: Promise<{ StatusCode: number }>,
    drained: Promise<void>,
    files: readonly Writable[],
    output?: { readonly stdoutPath: string; readonly stderrPath: string },
  ): Promise<ContainerExit> {
    let exitCode = -1;
    let error: string | undefined;
    let engineGone = false;
    try {
      exitCode = (await waited).StatusCode;
    } catch (err) {
      error = dockerMessage(err);
      engineGone = isEngineGone(err);
    }
    const brokeAt = Date.now() / 1000;
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, DRAIN_MS))]);
    await Promise.all(files.map((f) => new Promise<void>((resolve) => f.end(resolve))));
    if (engineGone && this.exits.has(container.id)) return this.afterEngineReturns(container, brokeAt, output);
    this.pids.delete(container.id); // The pid may be reused by now.
    if (error !== undefined) return { exitCode, oomKilled: false, error };
    try {
      const info = await container.inspect();
      const exit = { exitCode: info.State.ExitCode ?? exitCode, oomKilled: info.State.OOMKilled === true };
      if (exit.exitCode === 128 + 9 && this.endedByOthersSignal(container.id, exit)) exit.oomKilled = await oomKilledLate(container);
      if (!this.endedByOthersSignal(container.id, exit) || !(await this.engineGoesAway())) return exit;
      // The engine stopped it on its way down (no live-restore): its status is not the task's.
      return this.exits.has(container.id) ? this.afterEngineReturns(container, brokeAt, output) : exit;
    } catch (err) {
      // The engine went away just as the container stopped: it was stopping it on its way down (no live-restore).
      if (isEngineGone(err) && this.exits.has(container.id)) return this.afterEngineReturns(container, Date.now() / 1000, output);
      return { exitCode, oomKilled: false };
    }
  }

  /**
   * The engine stopped answering while the container was watched (it restarted, or crashed): the
   * container is not given up. Once the engine answers again, a container still running (the engine
   * has --live-restore) is watched again, its output followed from where it broke; one that stopped
   * is reported with its exit status, marked `engineRestarted` when the engine has no live-restore
   * (the engine stopped it: its status is not the task's); one that is gone is lost.
   */
  private async afterEngineReturns(container: Docker.Container, brokeAt: number, output?: { readonly stdoutPath: string; readonly stderrPath: string }): Promise<ContainerExit> {
    const liveRestore = await this.engineBack();
    if (!this.exits.has(container.id)) return { exitCode: -1, oomKilled: false, error: 'removed while the Docker engine was away' };
    let info: Docker.ContainerInspectInfo;
    try {
      info = await container.inspect();
    } catch (err) {
      if (isEngineGone(err)) return this.afterEngineReturns(container, brokeAt, output);
      this.pids.delete(container.id);
      return { exitCode: -1, oomKilled: false, error: `its container is gone after the Docker engine came back: ${dockerMessage(err)}` };
    }
    if (info.State.Running) {
      if (!output) return this.exitOf(container, waitExit(this.socketPath, container.id), Promise.resolve(), []);
      try {
        if (!(await this.reattach(container.id, { ...output, sinceSeconds: brokeAt }))) return { exitCode: -1, oomKilled: false, error: 'its container is gone after the Docker engine came back' };
      } catch (err) {
        if (isEngineGone(err)) return this.afterEngineReturns(container, brokeAt, output);
        throw err;
      }
      return this.exits.get(container.id)!;
    }
    this.pids.delete(container.id);
    return { exitCode: info.State.ExitCode ?? -1, oomKilled: info.State.OOMKilled === true, ...(liveRestore ? {} : { engineRestarted: true }) };
  }


  /** Ended by SIGTERM or SIGKILL (not the kernel's OOM killer) that this driver did not ask for. */
  private endedByOthersSignal(id: string, exit: ContainerExit): boolean {
    return SIGNALLED.has(exit.exitCode) && !exit.oomKilled && !this.stopping.has(id);
  }

  /** Whether the engine stops answering within ENGINE_SHUTDOWN_WINDOW_MS. */
  private async engineGoesAway(): Promise<boolean> {
    const until = Date.now() + ENGINE_SHUTDOWN_WINDOW_MS;
    while (Date.now() < until) {
      try {
        await this.probe.ping();
      } catch (err) {
        if (isEngineGone(err)) return true;
      }
      await new Promise((resolve) => setTimeout(resolve, ENGINE_PING_MS));
    }
    return false;
  }

  /** Resolves once the engine answers again, with whether it keeps containers across its restarts. */
  private async engineBack(): Promise<boolean> {
    for (let retry = 0; ; retry++) {
      try {
        const info = (await this.docker.info()) as { LiveRestoreEnabled?: boolean };
        return info.LiveRestoreEnabled === true;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(retry, ENGINE_BACKOFF)));
      }
    }
  }

  /**
   * The image is not looked up before every launch: creating the container is the lookup (the
   * engine answers 404 when it has no such image), and only then is the image pulled (or, with
   * --docker_pull=never, the launch failed) and the create tried once more. force_pull_image asks
   * the registry first, as before.
   */
  private async create(spec: ContainerSpec, signal?: AbortSignal, trace?: (hop: string) => void): Promise<Docker.Container> {
    if (spec.forcePull) await this.ensureImage(spec.image, true, signal);
    signal?.throwIfAborted();
    trace?.('docker: creating');
    try {
      return await this.docker.createContainer(createOptions(spec));
    } catch (err) {
      if (!hasStatus(err, 404)) throw cannotCreate(spec, err, this.socketPath);
    }
    await this.ensureImage(spec.image, false, signal);
    signal?.throwIfAborted();
    try {
      return await this.docker.createContainer(createOptions(spec));
    } catch (err) {
      throw cannotCreate(spec, err, this.socketPath);
    }
  }

  /** Never hangs on a pull: with 'never' a missing image fails at once; with 'missing' the pull is bounded. */
  private async ensureImage(image: string, forcePull: boolean, signal?: AbortSignal): Promise<void> {
    const present = await this.hasImage(image);
    if (present && (!forcePull || this.options.pull === 'never')) return;
    if (this.options.pull === 'never') {
      throw new LaunchError(`image ${image} is not present on this agent and --docker_pull=never`, true);
    }
    try {
      await this.pull(image, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      const what = present ? `pulling image ${image} (force_pull_image) failed` : `image ${image} is not present on this agent and pulling it failed`;
      throw new LaunchError(`${what}: ${dockerMessage(err)}`, !present, { cause: err });
    }
  }

  private async hasImage(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (err) {
      if (hasStatus(err, 404)) return false;
      throw new LaunchError(`cannot inspect image ${image}: ${dockerMessage(err)}`, false, { cause: err });
    }
  }

  private async pull(image: string, signal?: AbortSignal): Promise<void> {
    const seconds = this.options.pullTimeoutSeconds;
    const timeout = AbortSignal.timeout(seconds * 1000);
    const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const stream = await this.docker.pull(image, { abortSignal });
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
        abortSignal.addEventListener('abort', () => reject(abortSignal.reason), { once: true });
      });
    } catch (err) {
      if (timeout.aborted && !signal?.aborted) throw new Error(`pull timed out after ${seconds}s (--docker_pull_timeout)`, { cause: err });
      throw err;
    }
  }

  /**
   * docker exec: the command runs in the container's namespaces with its environment; the result
   * keeps the last 4 KiB of its output. Past the timeout its process tree is killed through /proc
   * (only processes in this container's cgroup: an agent in its own PID namespace kills nothing)
   * and the result says so with exit code -1 (docker-calls.ts). An engine that does not answer is a
   * RuntimeUnavailableError: the command was not run at all.
   */
  async exec(id: string, command: ExecCommand, timeoutSeconds: number): Promise<ExecResult> {
    try {
      return await execInContainer(this.docker, id, command, timeoutSeconds);
    } catch (err) {
      if (isEngineGone(err)) throw new RuntimeUnavailableError(`the Docker engine at ${this.socketPath} does not answer: ${dockerMessage(err)}`, { cause: err });
      throw err;
    }
  }
}


function createOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const memory = Math.round(spec.memMiB * 1024 * 1024);
  return {
    name: `mesos-ts-${randomUUID()}`,
    Image: spec.image,
    ...(spec.command.entrypoint ? { Entrypoint: [...spec.command.entrypoint] } : {}),
    ...(spec.command.args ? { Cmd: [...spec.command.args] } : {}),
    Env: [...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`), `MESOS_SANDBOX=${SANDBOX_IN_CONTAINER}`],
    Labels: { ...spec.labels },
    User: spec.user,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      NetworkMode: spec.network === 'none' ? 'none' : 'host',
      NanoCpus: Math.round(spec.cpus * 1e9),
      Memory: memory,
      MemorySwap: memory,
      PidsLimit: spec.pidsLimit,
      Init: true,
      Privileged: spec.privileged,
      ...(spec.privileged ? {} : { CapDrop: ['ALL'], CapAdd: [...spec.capabilities] }),
      SecurityOpt: ['no-new-privileges'],
      ...(spec.readOnlyRootfs ? { ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,nosuid,nodev,mode=1777' } } : {}),
      // The sandbox at Mesos's path, as the mesos containerizer mounts it; the task's own mounts after it.
      Binds: [`${dirname(spec.stdoutPath)}:${SANDBOX_IN_CONTAINER}:rw`, ...spec.mounts.map((m) => `${m.hostPath}:${m.containerPath}:${m.readOnly ? 'ro' : 'rw'}`)],
      // Output goes to the sandbox through the attach stream. The engine keeps a bounded copy
      // too, so that an agent that restarts can replay what was printed while it was down.
      LogConfig: { Type: 'local', Config: { 'max-size': '8m', 'max-file': '1', compress: 'false' } },
    },
  };
}

function cannotCreate(spec: ContainerSpec, err: unknown, socketPath: string): LaunchError {
  if (isEngineGone(err)) return new LaunchError(`the Docker engine at ${socketPath} does not answer (${dockerMessage(err)}): cannot create a container from ${spec.image}`, false, { cause: err });
  return new LaunchError(`cannot create a container from ${spec.image}: ${dockerMessage(err)}`, false, { cause: err });
}

/** The engine itself did not answer (its socket is gone or refused, the connection dropped), as opposed to an error it sent. */
function isEngineGone(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string; message?: string } | null;
  if (e?.statusCode !== undefined) return false;
  return ['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE'].includes(e?.code ?? '') || /socket hang up|aborted/i.test(e?.message ?? '');
}

function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string } | null;
  return (e?.json?.message ?? e?.message ?? String(err)).trim();
}

/** Whether the engine records the OOM kill of a SIGKILLed container within OOM_EVENT_GRACE_MS (see there). */
async function oomKilledLate(container: Docker.Container): Promise<boolean> {
  for (let waited = 0; waited < OOM_EVENT_GRACE_MS; waited += OOM_EVENT_POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, OOM_EVENT_POLL_MS));
    if ((await container.inspect()).State.OOMKilled === true) return true;
  }
  return false;
}
