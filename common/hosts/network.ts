// Simulated hosts for `mesos-ts local --hosts N`, tests and benchmarks: each
// host is a Linux network namespace (`mts<run>-<name>`) with its own loopback
// and one address in 198.18.<run>.0/24 (the benchmarking range, never a
// private one), joined by a veth pair to one bridge per run in the root
// namespace. The bridge has 198.18.<run>.1, so code in the root namespace
// reaches every host. Processes run on a host through
// `nsenter --net=/var/run/netns/<netns>` (cli/local-hosts.ts; in tests
// ProcessGroup's `host` option, zk-ensemble.ts). A Docker engine of a host's
// own is docker-engine.ts.
//
// Everything a run creates (namespaces, bridge, the pids started on its
// hosts, the directories of its engines, its mounts, its own directory with the agents'
// work_dirs and their mesos containerizer containers) is recorded in a state file under
// /run/mesos-ts-hosts, claimed atomically (the file name is the run's /24),
// with the owner's pid. A run that crashed leaves its file behind;
// sweepHosts(), called by HostNetwork.create(), removes what any file of a
// dead owner names.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mountsUnder, removeEngineLeftovers } from './engine-leftovers.js';
import { removeRunDir } from './run-dir-leftovers.js';

const run = promisify(execFile);

/** Where runs record what they create; /run is a tmpfs, emptied at boot along with every namespace. */
export const HOSTS_STATE_DIR = '/run/mesos-ts-hosts';
/** Runs take 198.18.<n>.0/24 for n in this range (198.18.0.0/24 and 198.19.0.0/16 stay free for others). */
const FIRST_RUN = 1;
const LAST_RUN = 250;
/** Host addresses start at .10: host i (0-based) is 198.18.<run>.(10 + i). */
const FIRST_HOST = 10;

export interface Host {
  /** The name the test gave it (`master1`, `zk2`, ...). */
  readonly name: string;
  /** The network namespace, /var/run/netns/<netns>. */
  readonly netns: string;
  /** This host's address on the bridge. */
  readonly address: string;
  /** The command prefix that runs a command on this host. */
  nsenter(): string[];
  /** Records a pid started on this host, so that a sweep after a crash kills it. */
  track(pid: number): void;
}

interface StateFile {
  readonly owner: number;
  /** The owner's start time (field 22 of /proc/<pid>/stat), so that a reused pid is not taken for the owner. */
  readonly ownerStart: string;
  readonly bridge: string;
  readonly namespaces: string[];
  readonly pids: { pid: number; start: string }[];
  /** Directories of Docker engines started on the hosts (docker-engine.ts): their containerd, shims and mounts go with a sweep. */
  readonly engineDirs?: string[];
  /** Directories of the run (`local`'s base dir, agents' work_dirs): removed with the mesos containerizer's containers under them (run-dir-leftovers.ts). */
  readonly runDirs?: string[];
  /** Mount points made for the hosts' processes (an agent's work_dir on a tmpfs): unmounted by a sweep. */
  readonly mounts?: string[];
}

/** `ip ARGS`; throws with ip's own message. */
async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** A process's start time in clock ticks since boot, or null when there is no such process. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const alive = (pid: number, start: string) => processStart(pid) === start;

export class HostNetwork {
  private readonly byName = new Map<string, Host>();
  readonly state: StateFile;
  private destroyed = false;

  private constructor(readonly run: number, private readonly stateFile: string) {
    this.state = { owner: process.pid, ownerStart: processStart(process.pid) ?? '', bridge: `mts${run}br`, namespaces: [], pids: [], engineDirs: [], runDirs: [], mounts: [] };
  }

  /** The per-run prefix of every name this run creates. */
  get prefix(): string {
    return `mts${this.run}`;
  }

  get bridge(): string {
    return this.state.bridge;
  }

  /** The root namespace's address on the bridge: where hosts reach test code (and the shared Docker engine's host-network tasks). */
  get rootAddress(): string {
    return `198.18.${this.run}.1`;
  }

  /**
   * Sweeps dead runs' leftovers, claims a free /24, and brings up the bridge
   * and one host per name. Throws (after removing what it made) if any step fails.
   */
  static async create(names: readonly string[]): Promise<HostNetwork> {
    if (new Set(names).size !== names.length) throw new Error(`host names must differ, got ${names.join(', ')}`);
    if (names.length > 200) throw new Error(`at most 200 hosts per run, got ${names.length}`);
    await sweepHosts();
    const net = HostNetwork.claimFree();
    try {
      await ip('link', 'add', net.bridge, 'type', 'bridge');
      net.save();
      await ip('addr', 'add', `${net.rootAddress}/24`, 'dev', net.bridge);
      await ip('link', 'set', net.bridge, 'up');
      for (const name of names) await net.addHost(name);
      return net;
    } catch (err) {
      await net.destroy();
      throw err;
    }
  }

  host(name: string): Host {
    const h = this.byName.get(name);
    if (!h) throw new Error(`no host '${name}' (hosts: ${[...this.byName.keys()].join(', ')})`);
    return h;
  }

  hosts(): Host[] {
    return [...this.byName.values()];
  }

  /**
   * Kills the processes started on the hosts, removes the engines' leftovers,
   * the namespaces (their veths go with them), the bridge and the state file.
   * Resolves with what is still present (leftovers(), looked at before the
   * state file goes: after that another run may take the same names).
   */
  async destroy(): Promise<string[]> {
    if (this.destroyed) return [];
    this.destroyed = true;
    await removeLeftovers(this.state, this.prefix);
    const left = await this.leftovers();
    rmSync(this.stateFile, { force: true });
    return left;
  }

  /** Records the directory of a Docker engine started on a host, so that a sweep after a crash removes what it left. */
  trackEngineDir(dir: string): void {
    this.state.engineDirs?.push(dir);
    this.save();
  }

  /** Records a mount point made for a host's process (a tmpfs work_dir), so that a sweep after a crash unmounts it. */
  trackMount(path: string): void {
    this.state.mounts?.push(path);
    this.save();
  }

  /**
   * Records a directory of the run, so that destroy(), or a sweep after a crash, removes it with the
   * mesos containerizer's containers recorded under it (their processes, cgroups and mounts).
   */
  trackRunDir(dir: string): void {
    this.state.runDirs?.push(dir);
    this.save();
  }

  /**
   * What of this run is still present (once destroy() removed it all, nothing should be):
   * namespaces, links, live recorded pids and engine directories, each named.
   */
  async leftovers(): Promise<string[]> {
    const left: string[] = [];
    for (const ns of await netnsList()) if (ns.startsWith(`${this.prefix}-`)) left.push(`namespace ${ns}`);
    for (const link of await linkNames()) if (link === this.bridge || new RegExp(`^${this.prefix}v\\d+$`).test(link)) left.push(`link ${link}`);
    for (const { pid, start } of this.state.pids) if (alive(pid, start)) left.push(`process ${pid}`);
    for (const dir of this.state.engineDirs ?? []) if (existsSync(dir)) left.push(`engine directory ${dir}`);
    for (const dir of this.state.runDirs ?? []) if (existsSync(dir)) left.push(`run directory ${dir}`);
    for (const path of this.state.mounts ?? []) if (mountsUnder(path).includes(path)) left.push(`mount ${path}`);
    return left;
  }

  private async addHost(name: string): Promise<void> {
    if (!/^[a-z0-9-]{1,20}$/.test(name)) throw new Error(`host name must be 1 to 20 of a-z, 0-9 and '-', got '${name}'`);
    const index = this.byName.size;
    const netns = `${this.prefix}-${name}`;
    const veth = `${this.prefix}v${index}`;
    const address = `198.18.${this.run}.${FIRST_HOST + index}`;
    await ip('netns', 'add', netns);
    this.state.namespaces.push(netns);
    this.save();
    await ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
    await ip('link', 'set', veth, 'master', this.bridge, 'up');
    await ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', netns, 'link', 'set', 'eth0', 'up');
    await ip('-n', netns, 'link', 'set', 'lo', 'up');
    this.byName.set(name, {
      name, netns, address,
      nsenter: () => ['nsenter', `--net=/var/run/netns/${netns}`],
      track: (pid) => {
        const start = processStart(pid);
        if (start === null) return;
        this.state.pids.push({ pid, start });
        this.save();
      },
    });
  }

  private save(): void {
    writeFileSync(this.stateFile, JSON.stringify(this.state));
  }

  /** Takes the first /24 no other state file holds: creating the file with 'wx' is the claim, so two runs never share one. */
  static claimFree(): HostNetwork {
    mkdirSync(HOSTS_STATE_DIR, { recursive: true });
    for (let n = FIRST_RUN; n <= LAST_RUN; n++) {
      const file = join(HOSTS_STATE_DIR, `run-${n}.json`);
      const net = new HostNetwork(n, file);
      try {
        writeFileSync(file, JSON.stringify(net.state), { flag: 'wx' });
      } catch {
        continue;
      }
      return net;
    }
    throw new Error(`all ${LAST_RUN - FIRST_RUN + 1} host networks are taken (see ${HOSTS_STATE_DIR})`);
  }
}

async function linkNames(): Promise<string[]> {
  return (await ip('-o', 'link', 'show')).split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined);
}

async function netnsList(): Promise<string[]> {
  return (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0]).filter((ns): ns is string => ns !== undefined && ns !== '');
}

/**
 * Kills the recorded pids, removes what the engines left (engine-leftovers.ts) and the run's directories (run-dir-leftovers.ts),
 * then removes the links named `<prefix>v<n>` (the root ends of the veths: deleting one end deletes the pair) and the bridge,
 * and the namespaces named `<prefix>-*`. The veths are deleted by name
 * because the kernel frees a deleted namespace, and its devices, lazily: a
 * next run could otherwise find the names still taken.
 */
async function removeLeftovers(state: StateFile, prefix: string): Promise<void> {
  for (const { pid, start } of state.pids) {
    if (alive(pid, start)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }
  for (const { pid, start } of state.pids) for (let i = 0; i < 100 && alive(pid, start); i++) await new Promise((r) => setTimeout(r, 20));
  for (const dir of state.engineDirs ?? []) await removeEngineLeftovers(dir);
  for (const path of state.mounts ?? []) if (mountsUnder(path).includes(path)) await run('umount', ['-l', path]).catch(() => {});
  // After the engines and mounts: an engine's directory or a mount may be inside a run directory.
  for (const dir of state.runDirs ?? []) await removeRunDir(dir);
  for (const link of await linkNames()) if (new RegExp(`^${prefix}v\\d+$`).test(link)) await ip('link', 'del', link).catch(() => {});
  await ip('link', 'del', state.bridge).catch(() => {});
  for (const ns of await netnsList()) if (ns.startsWith(`${prefix}-`) || state.namespaces.includes(ns)) await ip('netns', 'del', ns).catch(() => {});
}

/**
 * Removes what every state file of a dead owner names (a run that crashed or
 * was killed), and the file; files of live owners are left alone. Returns the
 * files swept.
 */
export async function sweepHosts(): Promise<string[]> {
  let files: string[];
  try {
    files = readdirSync(HOSTS_STATE_DIR).filter((f) => /^run-\d+\.json$/.test(f));
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const f of files) {
    const path = join(HOSTS_STATE_DIR, f);
    let state: StateFile | null = null;
    try {
      state = JSON.parse(readFileSync(path, 'utf8')) as StateFile;
    } catch {
      // Being written this instant (a claim writes it whole at once) or torn by a crash: judged by its age.
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st || Date.now() - st.mtimeMs < 10_000) continue;
    }
    if (state && alive(state.owner, state.ownerStart)) continue;
    const n = Number(/\d+/.exec(f)![0]);
    await removeLeftovers(state ?? { owner: 0, ownerStart: '', bridge: `mts${n}br`, namespaces: [], pids: [] }, `mts${n}`);
    rmSync(path, { force: true });
    swept.push(path);
  }
  return swept;
}
