// A Docker engine of our own, beside the shared one at /var/run/docker.sock
// (which nobody may restart): its own socket, data root, exec root and pid
// file under one directory, so that it can be stopped, SIGKILLed and
// restarted, and, with `netns`, live on a simulated host (network.ts).
// Each dockerd starts its own containerd (libcontainerd's managed one:
// socket and state under <dir>/exec/containerd, content under
// <dir>/data/containerd), so two engines never share a containerd; runc's
// state lives under <dir>/exec too.
//
// On a host, dockerd is started with `nsenter --net=/var/run/netns/NAME`:
// its host-network containers then bind inside that namespace. `ip netns
// exec` does not do: it remounts /sys, and the engine loses the cgroup mounts.
//
// Images are never pulled (there may be no registry): `load` names a tar
// made by saveImages() from another engine (`docker save`), loaded at start.
//
// stop() removes every container, stops the engine by its pid, and removes
// what it left under the directory (engine-leftovers.ts) and the directory.
import { spawn, execFile as execFileCb } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { alive, cmdline, containerdPidFile, readPid, removeEngineLeftovers } from './engine-leftovers.js';

const execFile = promisify(execFileCb);

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export interface EngineOptions {
  /** Containers keep running while the engine is down (dockerd --live-restore). */
  readonly liveRestore: boolean;
  /** A network namespace (/var/run/netns/NAME) to start dockerd in, through `nsenter --net=`; containers with host networking then live there. */
  readonly netns?: string;
  /** The engine's directory (created; a unix socket path has at most 107 bytes); default a new /tmp/mts-engine-XXXXXX. */
  readonly dir?: string;
  /** A `docker save` tar (saveImages()) to load once the engine answers. */
  readonly load?: string;
}

export class DockerEngine {
  /** unix socket path, for the agent's --docker_socket. */
  readonly socketPath: string;
  readonly docker: Docker;
  private pid: number | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(readonly dir: string, private readonly options: EngineOptions) {
    this.socketPath = join(dir, 'docker.sock');
    this.docker = new Docker({ socketPath: this.socketPath });
  }

  /** A new engine, answering and holding the images of options.load; on failure, what started is removed. */
  static async start(options: EngineOptions): Promise<DockerEngine> {
    const dir = options.dir ?? mkdtempSync('/tmp/mts-engine-');
    mkdirSync(dir, { recursive: true });
    const engine = new DockerEngine(dir, options);
    try {
      await engine.launch();
      if (options.load) await execFile('docker', ['-H', `unix://${engine.socketPath}`, 'load', '-i', options.load]);
    } catch (err) {
      await engine.stop();
      throw err;
    }
    return engine;
  }

  /** The engine's pid while it runs. */
  get enginePid(): number | null {
    return this.pid;
  }

  running(): boolean {
    return this.pid !== null && alive(this.pid);
  }

  /** Stops the engine: SIGTERM, and waits for it to exit (with --live-restore its containers keep running). */
  async terminate(): Promise<void> {
    await this.signalAndWait('SIGTERM');
  }

  /** SIGKILLs the engine, as a crash would. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /** Starts the engine again on the same directories; resolves once it answers. */
  async restart(): Promise<void> {
    if (this.running()) await this.terminate();
    await this.launch();
  }

  /** Containers of this engine carrying `label` (key=value), running or not. */
  async containers(label: string): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [label] } });
  }

  /** Removes every container, stops the engine, removes what it left and its directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.running()) {
      const all = await this.docker.listContainers({ all: true }).catch(() => [] as Docker.ContainerInfo[]);
      await Promise.all(all.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
      await this.signalAndWait('SIGTERM').catch(() => this.signalAndWait('SIGKILL'));
    }
    await removeEngineLeftovers(this.dir);
  }

  private async launch(): Promise<void> {
    const d = this.dir;
    mkdirSync(join(d, 'data'), { recursive: true });
    mkdirSync(join(d, 'exec'), { recursive: true });
    const args = [
      '-H', `unix://${this.socketPath}`, '--data-root', join(d, 'data'), '--exec-root', join(d, 'exec'), '--pidfile', join(d, 'docker.pid'),
      '--bridge=none', '--iptables=false', '--ip-masq=false', ...(this.options.liveRestore ? ['--live-restore'] : []),
    ];
    const [cmd, argv] = this.options.netns ? ['nsenter', [`--net=${this.options.netns}`, 'dockerd', ...args]] : ['dockerd', args];
    const log = openSync(join(d, 'dockerd.log'), 'a');
    const child = spawn(cmd, argv, { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    if (child.pid === undefined) throw new Error(`cannot start dockerd for ${d}`);
    this.pid = child.pid;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.unref();
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await this.docker.ping().then(() => true, () => false))) {
      if (!this.running()) throw new Error(`dockerd for ${d} exited at start; its log:\n${tail(join(d, 'dockerd.log'))}`);
      if (Date.now() > deadline) throw new Error(`dockerd for ${d} did not answer at ${this.socketPath} within ${START_TIMEOUT_MS} ms`);
      await sleep(100);
    }
  }

  private async signalAndWait(sig: NodeJS.Signals): Promise<void> {
    if (this.pid === null || !alive(this.pid)) return;
    process.kill(this.pid, sig);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`dockerd ${this.pid} did not exit on ${sig}`)), STOP_TIMEOUT_MS).unref());
    await Promise.race([this.exited, timeout]);
    this.pid = null;
    // Its containerd dies with it (or, on SIGTERM, just after), but here it may stay a zombie for a while (PID 1 is
    // slow to reap): a new dockerd takes the zombie for a live containerd, waits on it and gives up. Forget its pid.
    const pidFile = containerdPidFile(this.dir);
    const containerd = readPid(pidFile);
    if (containerd !== null && cmdline(containerd).includes(this.dir)) {
      const until = Date.now() + STOP_TIMEOUT_MS;
      while (alive(containerd)) {
        if (Date.now() > until) throw new Error(`containerd ${containerd} of ${this.dir} did not exit within ${STOP_TIMEOUT_MS} ms`);
        await sleep(50);
      }
    }
    rmSync(pidFile, { force: true });
  }
}

/** `docker save` of `images` from the engine at `from` (the docker CLI's -H, e.g. unix:///var/run/docker.sock) into `file`. */
export async function saveImages(images: readonly string[], file: string, from?: string): Promise<string> {
  await execFile('docker', [...(from ? ['-H', from] : []), 'save', '-o', file, ...images]);
  return file;
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => !l.includes('[core]')).slice(-15).join('\n');
  } catch {
    return '';
  }
}
