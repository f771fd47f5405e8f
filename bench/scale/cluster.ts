// The processes of one harness run: a real ZooKeeper, one or two masters
// started from dist/ (bin/mesos-ts.js) as OS processes of their own, and the
// forked agent and scheduler workers. Every process is kept by its pid and
// ended by it: workers are asked to stop, then SIGKILLed if they linger;
// masters get SIGTERM (so that --cpu-prof writes its profile), then SIGKILL.
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalZooKeeper, freePort, type LocalZooKeeper } from '../../common/zk/local-server.js';
import type { FromWorker, ToWorker, AgentWorkerProgress, SchedulerWorkerProgress } from './ipc.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const ZK_PATH = '/mesos';

export interface MasterOptions {
  readonly zkUrl: string;
  readonly logDir: string;
  readonly sessionTimeoutS: number;
  readonly allocationIntervalS: number;
  /** The master's --allocation_pass_budget; absent: the master's default. */
  readonly allocationPassBudgetS?: number;
  /** Start node with --cpu-prof into this directory. */
  readonly profileDir: string | null;
  /** Write the master's launch-trace hops of traced tasks into <logDir>/<name>.trace (master-trace.mjs). */
  readonly trace?: boolean;
  /** The checkout whose bin/mesos-ts.js (and dist/) runs the master (default: this one). */
  readonly repo?: string;
  /** More node flags for the master. */
  readonly nodeArgs?: readonly string[];
  /** Aborted (a signal to the harness): no master is spawned any more. */
  readonly signal?: AbortSignal;
}

export class MasterProc {
  readonly exited: Promise<void>;

  private constructor(readonly name: string, readonly child: ChildProcess, readonly http: string, readonly grpc: string, readonly traceFile: string | null) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(name: string, o: MasterOptions): Promise<MasterProc> {
    const [http, grpc] = [await freePort(), await freePort()];
    // Checked right before the spawn: a signal that came while the ports were found must not leave a master unrecorded.
    o.signal?.throwIfAborted();
    const log = openSync(join(o.logDir, `${name}.log`), 'a');
    const prof = o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
    const traceFile = o.trace ? join(o.logDir, `${name}.trace`) : null;
    const trace = traceFile ? ['--import', join(REPO, 'bench/scale/master-trace.mjs')] : [];
    const child = spawn(process.execPath, [
      ...(o.nodeArgs ?? []), ...prof, ...trace, join(o.repo ?? REPO, 'bin/mesos-ts.js'), 'master', `--zk=${o.zkUrl}`, '--ip=127.0.0.1', `--port=${http}`, `--grpc_port=${grpc}`,
      `--zk_session_timeout=${o.sessionTimeoutS}s`, `--allocation_interval=${o.allocationIntervalS}s`, '--logging_level=WARNING',
      ...(o.allocationPassBudgetS !== undefined ? [`--allocation_pass_budget=${o.allocationPassBudgetS}s`] : []),
    ], { stdio: ['ignore', log, log], env: traceFile ? { ...process.env, SCALE_TRACE_FILE: traceFile } : process.env });
    closeSync(log);
    return new MasterProc(name, child, `127.0.0.1:${http}`, `127.0.0.1:${grpc}`, traceFile);
  }

  /** /metrics/snapshot, or null while it does not answer. */
  async metrics(timeoutMs = 2000): Promise<Record<string, number> | null> {
    const res = await fetch(`http://${this.http}/metrics/snapshot`, { signal: AbortSignal.timeout(timeoutMs) }).catch(() => null);
    if (!res || res.status !== 200) return null;
    return (await res.json().catch(() => null)) as Record<string, number> | null;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const ended = await Promise.race([this.exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!ended) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

export class WorkerProc<P extends AgentWorkerProgress | SchedulerWorkerProgress> {
  latest: P | null = null;
  /** The event-loop delay p99 of each report since this was last emptied. */
  readonly loopP99Ms: number[] = [];
  /** The traced tasks of the last report that carried them (an answer to 'hops'). */
  hops: P['hops'] | null = null;
  readonly errors: string[] = [];
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  private constructor(readonly child: ChildProcess) {
    this.ready = new Promise((resolve) => child.on('message', (m: FromWorker) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'error') this.errors.push(m.message);
      else {
        this.latest = m as P;
        this.loopP99Ms.push(this.latest.loopP99Ms);
        if (this.latest.hops) this.hops = this.latest.hops;
      }
    }));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** `profileDir`: node --cpu-prof into it (the profile is written when the worker exits). */
  static fork<P extends AgentWorkerProgress | SchedulerWorkerProgress>(file: string, profileDir: string | null = null): WorkerProc<P> {
    const prof = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const child = fork(fileURLToPath(new URL(file, import.meta.url)), [], { execArgv: ['--import', 'tsx', ...prof], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new WorkerProc<P>(child);
  }

  send(m: ToWorker): void {
    if (this.child.connected) this.child.send(m);
  }

  /** Asks it to stop (it sends its last counts); SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ type: 'stop' });
    const ended = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!ended) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

export interface Cluster {
  readonly zk: LocalZooKeeper;
  readonly zkUrl: string;
  readonly masters: MasterProc[];
  readonly agentWorkers: WorkerProc<AgentWorkerProgress>[];
  readonly schedulerWorkers: WorkerProc<SchedulerWorkerProgress>[];
  readonly dir: string;
}

/** `signal`: aborted while ZooKeeper starts, its JVM is killed at once and this rejects (nothing is left running). */
export async function startZooKeeperFor(dir: string, heapMb: number, signal?: AbortSignal): Promise<Pick<Cluster, 'zk' | 'zkUrl'>> {
  mkdirSync(dir, { recursive: true });
  // Ticks of 500 ms: sessions of 1 to 10 s. ZooKeeper keeps its last 500 committed proposals in memory
  // (commitLogCount): before the registry's task journal a heap of 256 MiB ran out 20 s into a window at
  // N=100 (docs/scale/README.md, round 10); with it, 256 MiB is the default again (round 11).
  const zk = await startLocalZooKeeper({ tickTimeMs: 500, heapMb, signal });
  return { zk, zkUrl: `zk://${zk.connectString}${ZK_PATH}` };
}

/** Everything down, workers first (their teardown reaches a live master), then masters, then ZooKeeper. */
export async function stopCluster(c: Cluster): Promise<void> {
  await Promise.all(c.schedulerWorkers.map((w) => w.stop()));
  await Promise.all(c.agentWorkers.map((w) => w.stop()));
  await Promise.all(c.masters.map((m) => m.stop()));
  await c.zk.stop();
}
