// The masters of `mesos-ts local --masters N` (N > 1): a ZooKeeper server on
// loopback (common/zk/local-server.ts), N in-process masters contending for
// leadership through zk://127.0.0.1:PORT/mesos, and a watcher that reports
// the leader as ZooKeeper names it, as agents and schedulers see it
// (local-leader-watch.ts).
//
// killLeader() makes the leader die as a process would: its ZooKeeper
// session closes (its znode goes, the standbys see it at once), its gRPC
// streams and HTTP connections drop, and it never acts again. Agents and the
// demo notice only through their connections and ZooKeeper.
import { join } from 'node:path';
import { errorMessage, Unavailable } from '../common/errors.js';
import { startLocalZooKeeper, type LocalZooKeeper } from '../common/zk/local-server.js';
import type { RunningMaster } from '../master/main.js';
import type { LocalTls } from './local-tls.js';
import { LeaderWatch, ZK_PATH, ZK_SESSION_TIMEOUT_SECONDS, type WatchedMaster } from './local-leader-watch.js';

type StartMaster = typeof import('../master/main.js').startMaster;

/** Master i (from 0) listens on the base port + 100·i, as docker-compose.yml's masters do; 0 picks free ones. */
export const PORT_STEP = 100;

export interface LocalMaster extends WatchedMaster {
  readonly running: RunningMaster;
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
  /** Told ZooKeeper's pid as soon as it runs (recorded for a sweep, should this process be killed). */
  readonly onZooKeeper?: (pid: number | null) => void;
}

export class LocalMasters {
  private watcher: LeaderWatch<LocalMaster> | null = null;
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
    options.onZooKeeper?.(zk.pid());
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
        group.masters.push({ name: `master-${i + 1}`, running, killed: false, httpAddress: running.httpAddress, scheme: running.scheme });
        options.say(`master-${i + 1} up: gRPC${options.tls ? ' (TLS)' : ''} ${running.grpcAddress}, HTTP ${running.scheme}://${running.httpAddress}`);
      }
      group.watcher = await LeaderWatch.start({
        servers: zk.connectString, masters: group.masters, agents: options.agents, say: options.say, tls: options.tls?.client ?? null,
      });
      return group;
    } catch (err) {
      await group.stop();
      throw err;
    }
  }

  /** The leading master, if one is known. */
  leader(): LocalMaster | null {
    return this.watcher?.leader() ?? null;
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

  /** After a kill: the take-over watch reads the new leader's state once more and says what it had (see LeaderWatch.settle). */
  settleTakeOver(): Promise<void> {
    return this.watcher?.settle() ?? Promise.resolve();
  }

  /** Kills the leader as a process dies (see the top of the file); resolves with its name once it is dead. */
  async killLeader(): Promise<string | null> {
    const leader = this.leader();
    if (!leader) {
      this.say('no master leads at this moment; nothing to kill');
      return null;
    }
    this.say(`killing the leader, ${leader.name}: its ZooKeeper session closes and its connections drop`);
    this.watcher?.killed(leader);
    await leader.running.stop();
    return leader.name;
  }

  /** Stops the watcher, every master still alive and ZooKeeper (removing its data dir). */
  async stop(): Promise<void> {
    this.watcher?.stop();
    this.watcher = null;
    for (const m of this.masters) {
      if (m.killed) continue;
      m.killed = true;
      await m.running.stop().catch((err: unknown) => this.say(`${m.name} stop: ${errorMessage(err)}`));
    }
    await this.zk.stop();
  }
}
