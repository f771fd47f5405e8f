// ContainerDriver on the Docker engine, through dockerode. Containers run
// with host networking, no privileges and no mounts; the task's cpus and mem
// become the engine's CPU quota (NanoCpus) and hard memory limit (no swap),
// so the kernel enforces them. Output is attached before start, so nothing
// the task prints is lost.
import { createWriteStream, type WriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { LaunchError, type ContainerDriver, type ContainerExit, type ContainerInfo, type ContainerSpec } from './driver.js';

export type PullPolicy = 'never' | 'missing';

export interface DockerDriverOptions {
  readonly socketPath?: string;
  readonly pull: PullPolicy;
  readonly pullTimeoutSeconds: number;
}

export class DockerDriver implements ContainerDriver {
  readonly docker: Docker;
  private readonly exits = new Map<string, Promise<ContainerExit>>();

  constructor(private readonly options: DockerDriverOptions) {
    this.docker = new Docker(options.socketPath ? { socketPath: options.socketPath } : {});
  }

  async launch(spec: ContainerSpec): Promise<string> {
    await this.ensureImage(spec.image);
    const memory = Math.round(spec.memMiB * 1024 * 1024);
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        name: `mesos-ts-${randomUUID()}`,
        Image: spec.image,
        ...(spec.argv.length > 0 ? { Cmd: [...spec.argv] } : {}),
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: { ...spec.labels },
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: {
          NetworkMode: 'host',
          NanoCpus: Math.round(spec.cpus * 1e9),
          Memory: memory,
          MemorySwap: memory,
          PidsLimit: spec.pidsLimit,
          Init: true,
          Privileged: false,
          LogConfig: { Type: 'none', Config: {} },
        },
      });
    } catch (err) {
      throw new LaunchError(`cannot create container from ${spec.image}: ${dockerMessage(err)}`, false, { cause: err });
    }
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const out = createWriteStream(spec.stdoutPath, { flags: 'a' });
      const errOut = createWriteStream(spec.stderrPath, { flags: 'a' });
      this.docker.modem.demuxStream(stream, out, errOut);
      const ended = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
      // Wait is registered before start so a fast exit is never missed.
      const waited = container.wait();
      await container.start();
      this.exits.set(container.id, this.exitOf(container, waited, ended, [out, errOut]));
      return container.id;
    } catch (err) {
      await container.remove({ force: true }).catch(() => {});
      throw new LaunchError(`cannot start container from ${spec.image}: ${dockerMessage(err)}`, false, { cause: err });
    }
  }

  private async exitOf(container: Docker.Container, waited: Promise<{ StatusCode: number }>, ended: Promise<void>, files: WriteStream[]): Promise<ContainerExit> {
    let exitCode = -1;
    try {
      exitCode = (await waited).StatusCode;
    } catch (err) {
      return { exitCode, oomKilled: false, error: dockerMessage(err) };
    }
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
    await Promise.all(files.map((f) => new Promise<void>((resolve) => f.end(resolve))));
    try {
      const info = await container.inspect();
      return { exitCode: info.State.ExitCode ?? exitCode, oomKilled: info.State.OOMKilled === true };
    } catch {
      return { exitCode, oomKilled: false };
    }
  }

  wait(id: string): Promise<ContainerExit> {
    const known = this.exits.get(id);
    if (known) return known;
    // A container started by an earlier run of the agent.
    const container = this.docker.getContainer(id);
    const exit = container.wait().then(
      async (r: { StatusCode: number }) => {
        const info = await container.inspect().catch(() => null);
        return { exitCode: info?.State.ExitCode ?? r.StatusCode, oomKilled: info?.State.OOMKilled === true };
      },
      (err: unknown) => ({ exitCode: -1, oomKilled: false, error: dockerMessage(err) }),
    );
    this.exits.set(id, exit);
    return exit;
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.round(graceSeconds)) });
    } catch (err) {
      // 304: already stopped; 404: already gone. Both mean the job is done.
      const code = (err as { statusCode?: number }).statusCode;
      if (code !== 304 && code !== 404) throw err;
    }
  }

  async remove(id: string): Promise<void> {
    this.exits.delete(id);
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }

  async list(labels: Readonly<Record<string, string>>): Promise<ContainerInfo[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const found = await this.docker.listContainers({ all: true, filters });
    return found.map((c) => ({ id: c.Id, labels: c.Labels, running: c.State === 'running' }));
  }

  /** Never hangs on a pull: with 'never' a missing image fails at once; with 'missing' the pull is bounded. */
  private async ensureImage(image: string): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) {
        throw new LaunchError(`cannot inspect image ${image}: ${dockerMessage(err)}`, false, { cause: err });
      }
    }
    if (this.options.pull === 'never') {
      throw new LaunchError(`image ${image} is not present on this agent and --docker_pull=never`, true);
    }
    try {
      await this.pull(image);
    } catch (err) {
      throw new LaunchError(`image ${image} is not present on this agent and pulling it failed: ${dockerMessage(err)}`, true, { cause: err });
    }
  }

  private async pull(image: string): Promise<void> {
    const timeoutMs = this.options.pullTimeoutSeconds * 1000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pull timed out after ${this.options.pullTimeoutSeconds}s`)), timeoutMs);
      this.docker.pull(image, (err: Error | null, stream: NodeJS.ReadableStream) => {
        if (err) {
          clearTimeout(timer);
          return reject(err);
        }
        this.docker.modem.followProgress(stream, (doneErr: Error | null) => {
          clearTimeout(timer);
          if (doneErr) reject(doneErr);
          else resolve();
        });
      });
    });
  }
}

function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; reason?: string; message?: string };
  return e?.json?.message ?? e?.message ?? String(err);
}
