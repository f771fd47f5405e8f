// The cluster of a fault run: masters electing a leader in ZooKeeper, agents
// (Docker containerizer, the test image) and load frameworks as processes of
// their own. On loopback, with one ZooKeeper server; or, with `hosts`, each
// master and agent on a simulated host of its own (test/harness/hosts.ts)
// and a 3-member ZooKeeper ensemble on three more, so that the network
// between them can be cut (the frameworks and the runner stay in the root
// namespace, which reaches every host); there each agent has a Docker engine
// of its own on its host and its work_dir on a small tmpfs, and every master
// and agent a wall clock that can jump (machines.ts). Every process sits in a named slot,
// so a fault can kill one and its heal start it again in the same slot: a
// master on fresh ports (the same address on its host), an agent on its own
// work_dir (recovering its tasks), a framework with the same framework id.
// Processes are ended by their recorded pids; containers by the label of the
// group's dir; hosts by the names the run recorded.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startZooKeeper, type TestZooKeeper } from '../harness/zookeeper.js';
import { ProcessGroup, commandEnv, leaderOf, type AgentProc, type MasterProc } from '../harness/processes.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';
import { HostNetwork, type Host } from '../harness/hosts.js';
import { startZooKeeperEnsemble, type ZooKeeperEnsemble } from '../harness/zk-ensemble.js';
import { containersUnder } from '../harness/cluster.js';
import { acceptedCallsIn, leaderIntervals, type LeaderInterval } from '../harness/leader-intervals.js';
import type { LoadConfig } from './load-framework.js';
import { Machines, engineSlot } from './machines.js';

const LOAD_FRAMEWORK = fileURLToPath(new URL('./load-framework.ts', import.meta.url));
export const ZK_SESSION_TIMEOUT_S = 4;
/** On hosts: an agent cut off from the leader for 1.5 s is unreachable, and gone after 10 s more. */
const PARTITION_FLAGS = ['--agent_ping_timeout=0.5s', '--max_agent_ping_timeouts=3', '--registry_max_agent_age=10s'];

export interface ClusterOptions {
  readonly masters: number;
  readonly agents: number;
  readonly frameworks: number;
  readonly seed: number;
  /** Where history.jsonl and the framework id files go. */
  readonly out: string;
  /** Each master, agent and ZooKeeper member (3) on a simulated host of its own; the frameworks partition-aware. */
  readonly hosts?: boolean;
}

/** Where ZooKeeper runs: one server on loopback, or an ensemble on hosts. */
type Coordination = { readonly zk: TestZooKeeper; readonly ensemble?: undefined; readonly net?: undefined; readonly machines?: undefined }
  | { readonly zk?: undefined; readonly ensemble: ZooKeeperEnsemble; readonly net: HostNetwork; readonly machines: Machines };

/** A task container on an engine of the run. */
export interface TaskContainer {
  readonly taskId: string;
  readonly running: boolean;
}

/** A load framework process: a slot's current incarnation. */
export class FrameworkProc {
  readonly exited: Promise<void>;
  private done = false;

  constructor(readonly name: string, readonly incarnation: number, private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => ((this.done = true), resolve())));
  }

  get pid(): number {
    return this.child.pid!;
  }

  alive(): boolean {
    return !this.done;
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.done) this.child.kill(sig);
  }
}

export class NemesisCluster {
  readonly masters = new Map<string, MasterProc>();
  readonly agents = new Map<string, AgentProc>();
  readonly frameworks = new Map<string, FrameworkProc>();
  readonly historyPath: string;
  private masterFlags: string[] = [];
  private readonly agentFlags = new Map<string, string[]>();

  private constructor(private readonly coordination: Coordination, readonly group: ProcessGroup, readonly zkUrl: string, private readonly options: ClusterOptions) {
    this.historyPath = join(options.out, 'history.jsonl');
  }

  static async start(options: ClusterOptions): Promise<NemesisCluster> {
    const coordination = options.hosts ? await startHosts(options) : { zk: await retried(() => startZooKeeper()) };
    const zkUrl = coordination.zk ? `zk://${coordination.zk.connectString}/mesos-ts-nemesis` : coordination.ensemble.url('/mesos-ts-nemesis');
    const cluster = new NemesisCluster(coordination, new ProcessGroup(), zkUrl, options);
    try {
      cluster.masterFlags = [
        `--zk=${cluster.zkUrl}`, `--zk_session_timeout=${ZK_SESSION_TIMEOUT_S}s`, '--allocation_interval=0.2s', '--log_accepted_calls',
        ...(options.hosts ? PARTITION_FLAGS : []),
      ];
      await Promise.all(Array.from({ length: options.masters }, (_, i) => retried(() => cluster.startMaster(`master-${i + 1}`))));
      for (let i = 1; i <= options.agents; i++) {
        const name = `agent-${i}`;
        const engine = await cluster.prepareMachine(name);
        cluster.agentFlags.set(name, [
          `--master=${cluster.zkUrl}`, `--resources=cpus:1;mem:256;disk:100;ports:[${32000 + i * 100}-${32009 + i * 100}]`, ...(engine ? [`--docker_socket=${engine}`] : []),
        ]);
        await retried(() => cluster.startAgent(name));
      }
      for (let i = 1; i <= options.frameworks; i++) cluster.startFramework(`fw-${i}`);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** The single ZooKeeper server of a loopback cluster. */
  get zk(): TestZooKeeper {
    if (!this.coordination.zk) throw new Error('this cluster runs a ZooKeeper ensemble on hosts, not one server');
    return this.coordination.zk;
  }

  /** The ZooKeeper ensemble of a cluster on hosts. */
  get ensemble(): ZooKeeperEnsemble {
    if (!this.coordination.ensemble) throw new Error('this cluster runs on loopback, without an ensemble');
    return this.coordination.ensemble;
  }

  /** On hosts: the agents' engines, work_dirs and the processes' clocks. */
  get machines(): Machines {
    if (!this.coordination.machines) throw new Error('this cluster runs on loopback, on the shared engine and the real clock');
    return this.coordination.machines;
  }

  /** On hosts, an agent's engine on its host and its work_dir on a tmpfs; the engine's socket, or null on loopback. */
  private async prepareMachine(agent: string): Promise<string | null> {
    const machines = this.coordination.machines;
    if (!machines) return null;
    machines.mountWorkDir(join(this.group.dir, agent)); // Where ProcessGroup puts the agent's work_dir.
    return (await retried(() => machines.startEngine(agent, this.hostOf(agent)!))).engine.socketPath;
  }

  /** The run's task containers (labelled with a work_dir of this run): on the shared engine on loopback, on every agent's engine that answers on hosts. */
  async taskContainers(): Promise<TaskContainer[]> {
    const machines = this.coordination.machines;
    const engines = [...(machines?.engines.values() ?? [])].filter((e) => e.engine.running());
    const lists = await Promise.all([
      ...(machines ? [] : [containersUnder(this.group.dir)]),
      ...engines.map((e) => e.engine.containers('mesos-ts.work_dir').catch(() => [])),
    ]);
    return lists.flat().filter((c) => (c.Labels['mesos-ts.work_dir'] ?? '').startsWith(this.group.dir))
      .map((c) => ({ taskId: c.Labels['mesos-ts.task_id'] ?? '?', running: c.State === 'running' }));
  }

  /** On hosts: the task containers running on an agent's engine, TaskID to container id, oldest first (none while the engine is down). */
  async runningTasksOn(agent: string): Promise<Map<string, string>> {
    const engine = this.coordination.machines?.engines.get(agent)?.engine;
    if (!engine?.running()) return new Map();
    const all = await engine.containers('mesos-ts.task_id').catch(() => []);
    const running = all.filter((c) => c.State === 'running').sort((a, b) => a.Created - b.Created);
    return new Map(running.map((c) => [c.Labels['mesos-ts.task_id']!, c.Id]));
  }

  /** The simulated host of a slot (master-1, agent-2, zk-3), when the cluster runs on hosts. */
  hostOf(slot: string): Host | undefined {
    return this.coordination.net?.host(slot);
  }

  /** Every simulated host, masters first, then agents and ZooKeeper members; none on loopback. */
  hosts(): Host[] {
    return this.coordination.net?.hosts() ?? [];
  }

  /**
   * Per master process and term, the span over which it accepted calls as leader, from its own log: the
   * master is named with its pid, since a slot's restarts share its name.
   */
  leaderTerms(): LeaderInterval[] {
    const masters = this.group.processes().filter((p): p is MasterProc => 'grpcAddress' in p);
    return leaderIntervals(masters.flatMap((m) => acceptedCallsIn(`${m.name} (pid ${m.pid})`, m.lines)));
  }

  async startMaster(name: string): Promise<MasterProc> {
    const m = await this.group.spawnMaster(name, this.masterFlags, { host: this.hostOf(name), env: this.coordination.machines?.clockEnv(name) });
    this.masters.set(name, m);
    return m;
  }

  /** Same name, same work_dir: a restarted agent recovers the tasks it checkpointed. */
  async startAgent(name: string): Promise<AgentProc> {
    const a = await this.group.spawnAgent(name, this.agentFlags.get(name)!, { host: this.hostOf(name), env: this.coordination.machines?.clockEnv(name) });
    this.agents.set(name, a);
    return a;
  }

  /** The framework id of a slot's earlier incarnation, if it ever subscribed. */
  frameworkId(name: string): string | undefined {
    const file = this.frameworkIdFile(name);
    return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
  }

  startFramework(name: string): FrameworkProc {
    const incarnation = (this.frameworks.get(name)?.incarnation ?? -1) + 1;
    const config: LoadConfig = {
      master: this.zkUrl, name: `nemesis-${name}`, proc: name, history: this.historyPath, frameworkIdFile: this.frameworkIdFile(name),
      frameworkId: this.frameworkId(name), incarnation, seed: this.options.seed + Number(name.replace(/\D/g, '')), image: TEST_IMAGE, maxTasks: 3,
      partitionAware: this.options.hosts ?? false,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_FRAMEWORK, JSON.stringify(config)], {
      env: commandEnv(), stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(this.group.dir, 'logs', `${name}.log`), { flags: 'a' });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const proc = new FrameworkProc(name, incarnation, child);
    this.frameworks.set(name, proc);
    return proc;
  }

  leader(): Promise<MasterProc | null> {
    return leaderOf([...this.masters.values()]);
  }

  /** Starts again every master, agent, agent's engine and framework whose process ended, except those in `held` (a fault keeps them down). */
  async reviveExited(held: ReadonlySet<string> = new Set()): Promise<string[]> {
    const down = <P extends { alive(): boolean }>(slots: Map<string, P>) => [...slots].filter(([name, p]) => !p.alive() && !held.has(name)).map(([name]) => name);
    const masters = down(this.masters);
    const agents = down(this.agents);
    const frameworks = down(this.frameworks);
    // An agent's engine whose restart failed (a heal that timed out under load), unless a fault keeps it down.
    const engines = [...(this.coordination.machines?.engines ?? [])].filter(([agent, e]) => !e.engine.running() && !held.has(engineSlot(agent))).map(([agent]) => agent);
    // At once: a master takes seconds to answer on a loaded machine.
    await Promise.all([
      ...masters.map((n) => this.startMaster(n)), ...agents.map((n) => this.startAgent(n)), ...engines.map((n) => this.coordination.machines!.restartEngine(n)),
    ]);
    for (const name of frameworks) this.startFramework(name);
    return [...masters, ...agents, ...engines.map(engineSlot), ...frameworks];
  }

  /** Ends the frameworks, then every master and agent, their containers (and on hosts the agents' engines and work_dirs), and ZooKeeper. */
  async stop(): Promise<void> {
    await Promise.all([...this.frameworks.values()].map(async (f) => {
      f.signal('SIGCONT');
      f.signal('SIGTERM');
      const timer = setTimeout(() => f.signal('SIGKILL'), 5000);
      await f.exited;
      clearTimeout(timer);
    }));
    // The agents before their engines and work_dirs go.
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
    await this.coordination.machines?.stop();
    await this.group.stopAll();
    await (this.coordination.zk ?? this.coordination.ensemble).stop();
    await this.coordination.net?.destroy();
  }

  private frameworkIdFile(name: string): string {
    return join(this.options.out, `${name}.framework-id`);
  }
}

/**
 * `start`, again up to `attempts` times if it fails: at a load average above 30 (others' tests on the shared
 * machine), a node process or a JVM can take longer to answer than the harness waits (30 s for /health).
 */
async function retried<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
  }
}

/** The hosts (a namespace per master, agent and ZooKeeper member) and the ensemble on its three; all removed if a step fails. */
async function startHosts(options: ClusterOptions): Promise<Coordination> {
  const slots = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
  const net = await HostNetwork.create([...slots('master', options.masters), ...slots('agent', options.agents), ...slots('zk', 3)]);
  try {
    const ensemble = await retried(() => startZooKeeperEnsemble({ hosts: slots('zk', 3).map((n) => net.host(n)) }));
    return { ensemble, net, machines: new Machines(net, join(options.out, 'clocks')) };
  } catch (err) {
    await net.destroy();
    throw err;
  }
}
