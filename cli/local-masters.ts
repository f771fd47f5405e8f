// The masters of `mesos-ts local --masters N` (N > 1): a ZooKeeper server on
// loopback (common/zk/local-server.ts), N in-process masters contending for
// leadership through zk://127.0.0.1:PORT/mesos, and a watcher that reports
// the leader as ZooKeeper names it, as agents and schedulers see it.
//
// killLeader() makes the leader die as a process would: its ZooKeeper
// session closes (its znode goes, the standbys see it at once), its gRPC
// streams and HTTP connections drop, and it never acts again. Agents and the
// demo notice only through their connections and ZooKeeper.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, Unavailable } from '../common/errors.js';
import { startLocalZooKeeper, type LocalZooKeeper } from '../common/zk/local-server.js';
import { ZkSession } from '../common/zk/session.js';
import { LeaderDetector, type LeaderInfo } from '../common/zk/detector.js';
import type { RunningMaster } from '../master/main.js';
import type { LocalTls } from './local-tls.js';
import { tlsFetch } from '../common/tls-fetch.js';

type StartMaster = typeof import('../master/main.js').startMaster;

/** Master i (from 0) listens on the base port + 100·i, as docker-compose.yml's masters do; 0 picks free ones. */
export const PORT_STEP = 100;
const ZK_PATH = '/mesos';
/** Short, as in docker-compose.yml: a master cut off from ZooKeeper steps down within 2 s. */
const ZK_SESSION_TIMEOUT_SECONDS = 2;
const TAKE_OVER_WATCH_MS = 20_000;
const TAKE_OVER_POLL_MS = 200;

export interface LocalMaster {
  /** master-1, master-2, ... */
  readonly name: string;
  readonly running: RunningMaster;
  /** Set once it stopped: killed by killLeader(), or at the end by stop(). */
  killed: boolean;
}

export interface LocalMastersOptions {
  readonly count: number;
  /** Base ports (master i adds 100·i); 0 picks free ones. */
  readonly port: number;
  readonly grpcPort: number;
  /** Holds ZooKeeper's dir. */
  readonly baseDir: string;
  readonly startMaster: StartMaster;
  readonly log: (line: string) => void;
  /** The logging flags of master n (1-based): level, format, --log_dir. */
  readonly logging?: (n: number) => Readonly<Record<string, string>>;
  /** How many agents will register: after a failover, the new leader is watched until they all re-registered. */
  readonly agents: number;
  /** What the newcomer reads. */
  readonly say: (line: string) => void;
  /** Mutual TLS (--ssl): the masters' --ssl_* flags, and what the leader watch presents. */
  readonly tls?: LocalTls;
}

export class LocalMasters {
  private leaderName: string | null = null;
  private killedAt: number | null = null;
  private watcher: ZkSession | null = null;
  private readonly leaderWaiters: (() => void)[] = [];
  private stopped = false;
  /** Recorded at start: after stop() the server's handle is gone, and the process must be too. */
  private readonly zkPid: number | null;

  private constructor(
    readonly zk: LocalZooKeeper,
    readonly masters: LocalMaster[],
    private readonly options: LocalMastersOptions,
  ) {
    this.zkPid = zk.pid();
  }

  private say(line: string): void {
    this.options.say(line);
  }

  /** What agents and the demo take as --master: the leader, through ZooKeeper. */
  get url(): string {
    return `zk://${this.zk.connectString}${ZK_PATH}`;
  }

  /**
   * Starts ZooKeeper and the masters, and resolves once one leads. On failure
   * whatever started is stopped again before the error is thrown.
   */
  static async start(options: LocalMastersOptions): Promise<LocalMasters> {
    // Its own process group: Ctrl-C must not take ZooKeeper away while the masters still help kill the tasks.
    const zk = await startLocalZooKeeper({ dir: join(options.baseDir, 'zookeeper'), ownProcessGroup: true });
    options.say(`ZooKeeper up on ${zk.connectString} (pid ${zk.pid()}, data in ${zk.dir})`);
    const group = new LocalMasters(zk, [], options);
    try {
      for (let i = 0; i < options.count; i++) {
        const step = i * PORT_STEP;
        const [port, grpcPort] = [options.port && options.port + step, options.grpcPort && options.grpcPort + step];
        const running = await options.startMaster(
          {
            ip: '127.0.0.1', port, grpc_port: grpcPort, allocation_interval: 0.5, zk: group.url, zk_session_timeout: ZK_SESSION_TIMEOUT_SECONDS,
            ...options.logging?.(i + 1), ...options.tls?.server,
          },
          (line) => options.log(`[master-${i + 1}] ${line}`),
        ).catch((err: unknown) => {
          const hint = port || grpcPort ? `; --port and --grpc_port choose other ports (master i adds ${PORT_STEP}·(i-1)), 0 picks free ones` : '';
          throw new Unavailable(`master-${i + 1} (HTTP port ${port}, gRPC port ${grpcPort}) did not start: ${errorMessage(err)}${hint}`, { cause: err });
        });
        group.masters.push({ name: `master-${i + 1}`, running, killed: false });
        options.say(`master-${i + 1} up: gRPC${options.tls ? ' (TLS)' : ''} ${running.grpcAddress}, HTTP ${running.scheme}://${running.httpAddress}`);
      }
      await group.watch();
      return group;
    } catch (err) {
      await group.stop();
      throw err;
    }
  }

  /** The leading master, if one is known. */
  leader(): LocalMaster | null {
    return this.masters.find((m) => m.name === this.leaderName) ?? null;
  }

  /** True while the ZooKeeper process still runs (after stop(), it must not). */
  zkAlive(): boolean {
    if (this.zkPid === null) return false;
    try {
      process.kill(this.zkPid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Kills the leader as a process dies (see the top of the file); resolves with its name once it is dead. */
  async killLeader(): Promise<string | null> {
    const leader = this.leader();
    if (!leader) {
      this.say('no master leads at this moment; nothing to kill');
      return null;
    }
    this.say(`killing the leader, ${leader.name}: its ZooKeeper session closes and its connections drop`);
    leader.killed = true;
    this.killedAt = Date.now();
    await leader.running.stop();
    return leader.name;
  }

  /** Stops the watcher, every master still alive and ZooKeeper (removing its data dir). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = null;
    for (const m of this.masters) {
      if (m.killed) continue;
      m.killed = true;
      await m.running.stop().catch((err: unknown) => this.say(`${m.name} stop: ${errorMessage(err)}`));
    }
    await this.zk.stop();
  }

  /** Follows the leader in ZooKeeper, saying who leads whenever it changes; resolves once one leads. */
  private async watch(): Promise<void> {
    const session = await ZkSession.connect({ servers: this.zk.connectString, sessionTimeoutMs: ZK_SESSION_TIMEOUT_SECONDS * 1000 });
    this.watcher = session;
    const detector = new LeaderDetector(session, ZK_PATH);
    const elected = new Promise<void>((resolve) => this.leaderWaiters.push(resolve));
    detector.onChange((info) => this.leaderChanged(info));
    this.leaderChanged(await detector.start());
    await elected;
  }

  private leaderChanged(info: LeaderInfo | null): void {
    const master = info ? this.masters.find((m) => m.running.httpAddress === info.http) : undefined;
    if (!master || master.name === this.leaderName) return;
    this.leaderName = master.name;
    const after = this.killedAt !== null ? ` (${((Date.now() - this.killedAt) / 1000).toFixed(1)} s after the kill)` : '';
    const http = `${master.running.scheme}://${master.running.httpAddress}`;
    const standbys = this.masters.filter((m) => m !== master && !m.killed).map((m) => m.name);
    const standing = standbys.length ? `; ${standbys.join(' and ')} stand${standbys.length === 1 ? 's' : ''} by` : '';
    this.say(`${master.name} leads${after}: web UI at ${http}/, state at ${http}/master/state${standing}`);
    for (const resolve of this.leaderWaiters.splice(0)) resolve();
    if (this.killedAt !== null) void this.watchTakeOver(master, this.killedAt);
  }

  /** After a failover: reads the new leader's /master/state, as an operator would, until every agent and the demo came back. */
  private async watchTakeOver(master: LocalMaster, killedAt: number): Promise<void> {
    const deadline = Date.now() + TAKE_OVER_WATCH_MS;
    let last = '';
    while (!this.stopped && !master.killed && Date.now() < deadline) {
      const state = await tlsFetch(this.options.tls?.client ?? null)(`${master.running.scheme}://${master.running.httpAddress}/master/state`, { signal: AbortSignal.timeout(2000) })
        .then((res) => (res.ok ? (res.json() as Promise<MasterState>) : null))
        .catch(() => null);
      const agents = state?.activated_slaves ?? 0;
      const frameworks = (state?.frameworks ?? []).filter((f) => f.active).length;
      const seen = `${agents} of ${this.options.agents} agents re-registered, ${frameworks} framework${frameworks === 1 ? '' : 's'} re-subscribed`;
      if (seen !== last && (agents > 0 || frameworks > 0)) this.say(`${master.name}: ${seen} (${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill)`);
      last = seen;
      if (agents >= this.options.agents && frameworks > 0) return;
      await sleep(TAKE_OVER_POLL_MS);
    }
  }
}

/** The part of Mesos's /master/state read here. */
interface MasterState {
  readonly activated_slaves?: number;
  readonly frameworks?: readonly { readonly active?: boolean }[];
}
