// A Docker engine of a test's own, beside the shared one at
// /var/run/docker.sock (which every engineer's tests use and nobody may
// restart): its own socket, data root, exec root and pid file under a fresh
// directory, so a test can stop, SIGKILL and restart it. Each dockerd starts
// its own containerd (libcontainerd's managed one: socket and state under
// <dir>/exec/containerd, content under <dir>/data/containerd), so two engines
// never share a containerd; runc's state lives under <dir>/exec too. Task
// images are not pulled (there is no registry): the test image is saved once
// from the shared engine to a cached tar and loaded into each new engine.
//
// stop() removes every container, stops the engine by its recorded pid,
// unmounts what it left mounted under the directory (the data root's own
// bind mount, exec/netns/default) and removes the directory.
import { spawn, execFile as execFileCb } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { waitUntil } from './wait-until.js';
import { TEST_IMAGE } from './grpc-scheduler.js';

const execFile = promisify(execFileCb);

/** The saved test image, shared by every engine of every run (rebuilt when the shared engine's image is newer). */
const IMAGE_CACHE = '/tmp/mesos-ts-engine-image.tar';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export interface EngineOptions {
  /** Containers keep running while the engine is down (dockerd --live-restore). */
  readonly liveRestore: boolean;
  /** A network namespace (/var/run/netns/NAME) to start dockerd in, through `nsenter --net=`; containers with host networking then live there. */
  readonly netns?: string;
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

  /** A new engine, answering and holding the test image. `dir` is short (a unix socket path has at most 107 bytes). */
  static async start(options: EngineOptions): Promise<DockerEngine> {
    const engine = new DockerEngine(mkdtempSync('/tmp/mts-engine-'), options);
    try {
      await engine.launch();
      await engine.loadTestImage();
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

  /** Removes every container, stops the engine, unmounts and removes its directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.running()) {
      const all = await this.docker.listContainers({ all: true }).catch(() => [] as Docker.ContainerInfo[]);
      await Promise.all(all.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
      await this.signalAndWait('SIGTERM').catch(() => this.signalAndWait('SIGKILL'));
    }
    // A containerd left by a SIGKILLed engine (it records its pid) and its shims' containers.
    const containerdPid = readPid(join(this.dir, 'exec', 'containerd', 'containerd.pid'));
    if (containerdPid !== null && alive(containerdPid) && cmdline(containerdPid).includes(this.dir)) process.kill(containerdPid, 'SIGKILL');
    // Containers the engine could not remove (it was down): their processes by their cgroups, then their shims.
    for (const pid of containerProcesses(join(this.dir, 'data', 'containers'))) process.kill(pid, 'SIGKILL');
    for (const pid of shimsUnder(this.dir)) process.kill(pid, 'SIGKILL');
    await unmountUnder(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
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
    await waitUntil(async () => {
      if (!this.running()) throw new Error(`dockerd for ${d} exited at start; its log:\n${tail(join(d, 'dockerd.log'))}`);
      return this.docker.ping().then(() => true, () => false);
    }, START_TIMEOUT_MS, `dockerd answering at ${this.socketPath}`);
  }

  private async signalAndWait(sig: NodeJS.Signals): Promise<void> {
    if (this.pid === null || !alive(this.pid)) return;
    process.kill(this.pid, sig);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`dockerd ${this.pid} did not exit on ${sig}`)), STOP_TIMEOUT_MS).unref());
    await Promise.race([this.exited, timeout]);
    this.pid = null;
    // Its containerd dies with it (or, on SIGTERM, just after), but here it may stay a zombie for a while (PID 1 is
    // slow to reap): a new dockerd takes the zombie for a live containerd, waits on it and gives up. Forget its pid.
    const pidFile = join(this.dir, 'exec', 'containerd', 'containerd.pid');
    const containerd = readPid(pidFile);
    if (containerd !== null && cmdline(containerd).includes(this.dir)) await waitUntil(() => !alive(containerd), STOP_TIMEOUT_MS, `containerd ${containerd} of ${this.dir} to exit`);
    rmSync(pidFile, { force: true });
  }

  private async loadTestImage(): Promise<void> {
    savedImage ??= saveTestImage();
    await execFile('docker', ['-H', `unix://${this.socketPath}`, 'load', '-i', await savedImage]);
  }
}

let savedImage: Promise<string> | undefined;

/** The test image saved from the shared engine, once per process (another run's file is reused unless the image is newer). */
async function saveTestImage(): Promise<string> {
  const created = Date.parse((await new Docker().getImage(TEST_IMAGE).inspect()).Created);
  if (!existsSync(IMAGE_CACHE) || statSync(IMAGE_CACHE).mtimeMs < created) {
    const tmp = `${IMAGE_CACHE}.${process.pid}.${Date.now()}`;
    await execFile('docker', ['save', '-o', tmp, TEST_IMAGE]);
    renameSync(tmp, IMAGE_CACHE);
  }
  return IMAGE_CACHE;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

function readPid(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** containerd-shim processes serving this engine's containerd (their command line names its socket under `dir`). */
function shimsUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const line = cmdline(Number(entry));
    if (line.includes('containerd-shim') && line.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

/** Processes of this engine's containers (ids from its data root), as the cgroupfs driver files them: <hierarchy>/docker/<id>. */
function containerProcesses(containersDir: string): number[] {
  const pids = new Set<number>();
  for (const id of readdirSafe(containersDir)) {
    for (const hierarchy of readdirSafe('/sys/fs/cgroup')) {
      try {
        for (const line of readFileSync(join('/sys/fs/cgroup', hierarchy, 'docker', id, 'cgroup.procs'), 'utf8').split('\n')) if (Number(line) > 0) pids.add(Number(line));
      } catch {
        // Not in this hierarchy.
      }
    }
  }
  return [...pids];
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

async function unmountUnder(dir: string): Promise<void> {
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(dir));
  for (const p of points.sort().reverse()) await execFile('umount', ['-l', p]).catch(() => {});
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => !l.includes('[core]')).slice(-15).join('\n');
  } catch {
    return '';
  }
}
