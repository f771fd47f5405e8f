// A cluster on simulated hosts (hosts.ts): three ZooKeeper members, three
// masters and three agents, each on a host of its own, started as real
// processes (processes.ts) and joined through zk://zk1,zk2,zk3/mesos. The
// masters log every call they accept as leader (--log_accepted_calls), so a
// test can check from their own words that no two leaders acted at once.
// A master that lost its leadership exits, as in production: restartMasters()
// plays the supervisor that starts it again.
import { HostNetwork, type Host } from './hosts.js';
import { Faults } from './faults.js';
import { leaderOf, ProcessGroup, type AgentProc, type MasterProc } from './processes.js';
import { startZooKeeperEnsemble, type ZooKeeperEnsemble } from './zk-ensemble.js';
import { waitUntil } from './wait-until.js';
import { acceptedCallsIn, leaderIntervals, type AcceptedCall, type LeaderInterval } from './leader-intervals.js';

export { overlaps, type AcceptedCall, type LeaderInterval } from './leader-intervals.js';

export interface HostClusterOptions {
  /** Default 2 s. */
  readonly sessionTimeoutS?: number;
  /** Added to every master's flags. */
  readonly masterFlags?: readonly string[];
  /** Added to every agent's flags. */
  readonly agentFlags?: readonly string[];
}

export class HostCluster {
  readonly faults = new Faults();
  readonly group = new ProcessGroup();
  /** Every master process ever started, restarts included (their logs are all needed). */
  readonly allMasters: MasterProc[] = [];
  /** The agent of each agent host, in host order (a1, a2, a3). */
  readonly agents: AgentProc[] = [];
  private zkEnsemble: ZooKeeperEnsemble | null = null;

  private constructor(readonly net: HostNetwork, private readonly options: HostClusterOptions) {}

  static async start(options: HostClusterOptions = {}): Promise<HostCluster> {
    const net = await HostNetwork.create(['zk1', 'zk2', 'zk3', 'm1', 'm2', 'm3', 'a1', 'a2', 'a3']);
    const cluster = new HostCluster(net, options);
    try {
      cluster.zkEnsemble = await startZooKeeperEnsemble({ hosts: cluster.zkHosts });
      await Promise.all(cluster.masterHosts.map((h) => cluster.startMaster(h)));
      await Promise.all(cluster.agentHosts.map((h, i) => cluster.startAgent(h, i)));
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  get zk(): ZooKeeperEnsemble {
    return this.zkEnsemble!;
  }

  get zkUrl(): string {
    return this.zk.url('/mesos');
  }

  get zkHosts(): Host[] {
    return ['zk1', 'zk2', 'zk3'].map((n) => this.net.host(n));
  }

  get masterHosts(): Host[] {
    return ['m1', 'm2', 'm3'].map((n) => this.net.host(n));
  }

  get agentHosts(): Host[] {
    return ['a1', 'a2', 'a3'].map((n) => this.net.host(n));
  }

  /** The live master process of each master host (the latest started there). */
  get masters(): MasterProc[] {
    return this.masterHosts.map((h) => this.allMasters.filter((m) => m.name.startsWith(`${h.name}-`)).at(-1)!);
  }

  hostOf(m: MasterProc | AgentProc): Host {
    return this.net.host(m.name.split('-')[0]!);
  }

  /** Waits for a leader (it answers /state with 200), among `among` (default: the live masters). */
  async leader(among?: readonly MasterProc[], ms = 60_000): Promise<MasterProc> {
    let found: MasterProc | null = null;
    await waitUntil(async () => (found = await leaderOf(among ?? this.masters)) !== null, ms, 'a leading master');
    return found!;
  }

  /** Starts again, as standbys, the masters that exited (lost their leadership or ZooKeeper). */
  async restartMasters(): Promise<MasterProc[]> {
    const dead = this.masterHosts.filter((h, i) => !this.masters[i]!.alive());
    return Promise.all(dead.map((h) => this.startMaster(h)));
  }

  /** Every `accepted call` line logged so far by every master process. */
  acceptedCalls(): AcceptedCall[] {
    return this.allMasters.flatMap((m) => acceptedCallsIn(m.name, m.lines));
  }

  /** Per master process and term, the first and last call accepted, in order of the first. */
  leaderIntervals(): LeaderInterval[] {
    return leaderIntervals(this.acceptedCalls());
  }

  /** Stops everything; with MESOS_TS_KEEP_LOGS=DIR set, the processes' logs are copied to DIR first (ProcessGroup.stopAll). */
  async stop(): Promise<void> {
    await this.faults.heal().catch(() => {});
    await this.group.stopAll().catch(() => {});
    await this.zkEnsemble?.stop();
    await this.net.destroy();
  }

  private async startMaster(host: Host): Promise<MasterProc> {
    const n = this.allMasters.filter((m) => m.name.startsWith(`${host.name}-`)).length + 1;
    const m = await this.group.spawnMaster(`${host.name}-${n}`, [
      `--zk=${this.zkUrl}`, `--zk_session_timeout=${this.options.sessionTimeoutS ?? 2}s`, '--allocation_interval=0.2s', '--log_accepted_calls',
      ...(this.options.masterFlags ?? []),
    ], { host });
    this.allMasters.push(m);
    return m;
  }

  private async startAgent(host: Host, i: number): Promise<AgentProc> {
    const a = await this.group.spawnAgent(`${host.name}-agent`, [
      `--master=${this.zkUrl}`, `--resources=cpus:1;mem:512;disk:100;ports:[${31700 + i * 10}-${31709 + i * 10}]`, '--status_update_retry_interval=0.5s',
      ...(this.options.agentFlags ?? []),
    ], { host });
    this.agents[i] = a;
    return a;
  }
}
