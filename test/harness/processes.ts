// Masters and agents as real child processes (`node bin/mesos-ts.js ...`),
// for tests and benchmarks that kill, stop and restart them: SIGKILL a
// leader, SIGSTOP it past its session timeout, bring a master back on fresh
// ports. Each process's stdout and stderr are kept as lines (and appended,
// timestamped, to `<dir>/logs/<name>.log`); stopAll() stops every process, removes the task
// containers labelled under the group's dir, and the dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { freePort } from './zookeeper.js';
import type { Fetch } from '../../common/tls-fetch.js';
import { removeOciContainers } from './oci.js';
import type { Host } from './hosts.js';
import { StartWatch } from '../../common/proc-stats.js';

export { freePort } from './zookeeper.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO_ROOT, 'bin', 'mesos-ts.js');
const STOP_GRACE_MS = 5000;
/** How long a start may take, not counting its wait for a CPU (common/proc-stats.ts); READY_CAP_MS of wall time at most. */
const READY_TIMEOUT_MS = 30_000;
const READY_CAP_MS = 180_000;

export interface Exit {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface Proc {
  readonly name: string;
  readonly pid: number;
  /** Every line of stdout and stderr so far, in arrival order. */
  readonly lines: string[];
  /** The first line (already seen or still to come) matching `re`; throws with the last 20 lines on timeout or exit. */
  waitForLine(re: RegExp, ms: number): Promise<string>;
  signal(sig: NodeJS.Signals): void;
  /** Settles once the process has exited and its output is read. */
  readonly exited: Promise<Exit>;
  alive(): boolean;
  /** SIGCONT (it may be stopped), SIGTERM, SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface MasterProc extends Proc {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** ip:grpcPort (127.0.0.1, or its host's address), what agents and schedulers dial. */
  readonly grpcAddress: string;
  /** ip:httpPort, for /state and /health. */
  readonly httpAddress: string;
}

export interface AgentProc extends Proc {
  readonly httpPort: number;
  readonly httpAddress: string;
  readonly workDir: string;
}

class ChildProc implements Proc {
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  private readonly waiters = new Set<() => void>();
  private exit: Exit | null = null;

  constructor(readonly name: string, private readonly child: ChildProcess, log: WriteStream) {
    if (child.pid === undefined) throw new Error(`${name}: could not start ${process.execPath} ${CLI}`);
    const take = (line: string) => {
      this.lines.push(line);
      log.write(`${new Date().toISOString()} ${line}\n`);
      for (const w of this.waiters) w();
    };
    createInterface({ input: child.stdout! }).on('line', take);
    createInterface({ input: child.stderr! }).on('line', take);
    this.exited = new Promise<Exit>((resolve) => {
      // 'close' comes after 'exit' and after stdout and stderr ended: no line is lost.
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        log.end(() => resolve({ code, signal }));
        for (const w of this.waiters) w();
      });
      child.once('error', (err) => take(`[harness] ${name}: ${err.message}`));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive()) this.child.kill(sig);
  }

  waitForLine(re: RegExp, ms: number): Promise<string> {
    let seen = 0;
    const scan = () => {
      for (; seen < this.lines.length; seen++) if (re.test(this.lines[seen]!)) return this.lines[seen]!;
      return null;
    };
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        const line = scan();
        if (line !== null) return (done(), resolve(line));
        if (this.exit) return (done(), reject(this.failure(`exited (${describeExit(this.exit)}) before printing a line matching ${re}`)));
      };
      const timer = setTimeout(() => (done(), reject(this.failure(`printed no line matching ${re} within ${ms} ms`))), ms);
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    if (!this.alive()) return void (await this.exited);
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  failure(what: string): Error {
    return new Error(`${this.name} (pid ${this.pid}) ${what}; last lines:\n  ${this.lines.slice(-20).join('\n  ')}`);
  }
}

const describeExit = (e: Exit) => (e.signal ? `signal ${e.signal}` : `code ${e.code}`);

interface SpawnOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly ownProcessGroup?: boolean;
  /** Run it on this simulated host (its network namespace); the host records the pid for a sweep after a crash. */
  readonly host?: Host;
}

/**
 * A master's or agent's: `env` (LIBPROCESS_SSL_*, ...) added to its environment; with TLS on, `https` probes /health with that fetch.
 * With `host`, it runs on that simulated host, bound to the host's address on fixed ports (a namespace has every port
 * free): a master's HTTP on 5050 and gRPC on 5060, an agent's HTTP on 5051.
 */
interface ServerSpawnOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly https?: Fetch;
  readonly host?: Host;
}

const HOST_PORTS = { masterHttp: 5050, masterGrpc: 5060, agentHttp: 5051 } as const;

export class ProcessGroup {
  /** Holds the agents' work_dirs and `logs/`; removed by stopAll(). */
  readonly dir: string;
  private readonly procs: ChildProc[] = [];

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'mesos-ts-procs-'));
    mkdirSync(join(this.dir, 'logs'));
  }

  /** A master on fresh loopback ports; resolves once its HTTP endpoint answers /health (leading or not). */
  async spawnMaster(name: string, flags: string[], options: ServerSpawnOptions = {}): Promise<MasterProc> {
    const [httpPort, grpcPort] = options.host ? [HOST_PORTS.masterHttp, HOST_PORTS.masterGrpc] : await twoFreePorts();
    const ip = options.host?.address ?? '127.0.0.1';
    const proc = this.spawn(name, ['master', `--ip=${ip}`, `--port=${httpPort}`, `--grpc_port=${grpcPort}`, '--quiet=false', ...flags], options);
    await this.healthy(proc, ip, httpPort, options.https);
    return Object.assign(proc, {
      grpcPort, httpPort, grpcAddress: `${ip}:${grpcPort}`, httpAddress: `${ip}:${httpPort}`,
    });
  }

  /**
   * An agent with its work_dir at `<dir>/<name>` (the same name again is the
   * same agent restarted), never pulling images, with a 1 s kill grace period;
   * `flags` (at least --master) come last and win. Resolves once its HTTP
   * endpoint answers, which is before it has registered with a master.
   */
  async spawnAgent(name: string, flags: string[], options: ServerSpawnOptions = {}): Promise<AgentProc> {
    const httpPort = options.host ? HOST_PORTS.agentHttp : await freePort();
    const ip = options.host?.address ?? '127.0.0.1';
    const workDir = join(this.dir, name);
    const proc = this.spawn(name, [
      'agent', `--ip=${ip}`, `--port=${httpPort}`, `--work_dir=${workDir}`, '--docker_pull=never', '--kill_grace_period=1s', '--quiet=false', ...flags,
    ], options);
    await this.healthy(proc, ip, httpPort, options.https);
    return Object.assign(proc, { httpPort, httpAddress: `${ip}:${httpPort}`, workDir });
  }

  /**
   * Any other `mesos-ts` subcommand (`local`, `demo`, ...) as `node bin/mesos-ts.js ARGS`; stopAll() stops it too.
   * `env` is added to its environment (MESOS_ZK, MESOS_TS_MASTER, ...). `ownProcessGroup` makes it the leader of
   * a process group, as a shell makes a foreground job, so that `process.kill(-pid, 'SIGINT')` is a terminal's
   * Ctrl-C: every process of the group gets it.
   */
  spawnCommand(name: string, args: string[], options: SpawnOptions = {}): Proc {
    return this.spawn(name, args, options);
  }

  /** Every process started so far, alive or not. */
  processes(): readonly Proc[] {
    return this.procs;
  }

  /** Stops every process and removes the dir; with MESOS_TS_KEEP_LOGS=DIR set, the logs are copied to DIR first. */
  async stopAll(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
    const keep = process.env.MESOS_TS_KEEP_LOGS;
    if (keep) cpSync(join(this.dir, 'logs'), keep, { recursive: true });
    await removeContainersUnder(this.dir);
    // The mesos containerizer's containers, recorded in each agent's work_dir (<dir>/<name>).
    await removeOciContainers(readdirSync(this.dir).map((name) => join(this.dir, name)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private spawn(name: string, args: string[], options: SpawnOptions = {}): ChildProc {
    // nsenter execs the command after entering the namespace: the pid is the command's.
    const [command, ...prefix] = [...(options.host?.nsenter() ?? []), process.execPath, CLI];
    const child = spawn(command!, [...prefix, ...args], {
      cwd: REPO_ROOT, env: commandEnv(options.env), detached: options.ownProcessGroup ?? false, stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) options.host?.track(child.pid);
    const log = createWriteStream(join(this.dir, 'logs', `${name}.log`), { flags: 'a' });
    log.write(`# ${new Date().toISOString()} pid ${child.pid}: mesos-ts ${args.join(' ')}\n`);
    const proc = new ChildProc(name, child, log);
    this.procs.push(proc);
    return proc;
  }

  private async healthy(proc: ChildProc, ip: string, httpPort: number, https?: Fetch): Promise<void> {
    const watch = new StartWatch(proc.pid);
    for (;;) {
      const res = await (https ?? fetch)(`${https ? 'https' : 'http'}://${ip}:${httpPort}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
      if (res?.ok) return;
      if (!proc.alive()) {
        const exit = await proc.exited;
        throw proc.failure(`exited (${describeExit(exit)}) before answering /health on port ${httpPort}`);
      }
      if (watch.ownMs() > READY_TIMEOUT_MS || watch.wallMs() > READY_CAP_MS) {
        const when = watch.describe();
        await proc.stop();
        throw proc.failure(`did not answer /health on port ${httpPort} ${when} (the limit: ${READY_TIMEOUT_MS} ms besides waiting for a CPU, ${READY_CAP_MS} ms in all)`);
      }
      await sleep(50);
    }
  }
}

/**
 * A command's environment: this process's without the MESOS_* and
 * LIBPROCESS_* variables the commands read as flags (a developer's shell may
 * set some), plus `env`.
 */
export function commandEnv(env: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('MESOS_') && !key.startsWith('LIBPROCESS_'))), ...env };
}

/** The leading master: it answers GET /state with 200 (standbys answer 307, or 503 with no leader known). */
export async function leaderOf(masters: readonly MasterProc[]): Promise<MasterProc | null> {
  const answers = await Promise.all(
    masters.map(async (m) => {
      if (!m.alive()) return false;
      const res = await fetch(`http://${m.httpAddress}/state`, { redirect: 'manual', signal: AbortSignal.timeout(1000) }).catch(() => null);
      await res?.body?.cancel();
      return res?.status === 200;
    }),
  );
  return masters.find((_, i) => answers[i]) ?? null;
}

async function twoFreePorts(): Promise<[number, number]> {
  const a = await freePort();
  for (;;) {
    const b = await freePort();
    if (b !== a) return [a, b];
  }
}

/** Task containers carry their agent's work_dir as a label; those under `base` are ours. */
async function removeContainersUnder(base: string): Promise<void> {
  const docker = new Docker();
  // A shared engine that does not answer holds nothing we could remove (agents on hosts have engines of their own).
  const all = await docker.listContainers({ all: true, filters: { label: ['mesos-ts.work_dir'] } }).catch(() => [] as Docker.ContainerInfo[]);
  const ours = all.filter((c) => (c.Labels['mesos-ts.work_dir'] ?? '').startsWith(base));
  await Promise.all(ours.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
}
