// `mesos-ts local --hosts N`: the cluster on simulated hosts
// (common/hosts/network.ts) instead of loopback. A master on host m1 (with
// --masters M > 1: masters on m1..mM and a ZooKeeper server on host zk1,
// where they elect a leader) and N agents on hosts a1..aN, each a real
// `mesos-ts` process started inside its host's network namespace with
// `nsenter --net=` and bound to the host's address in 198.18.<run>.0/24
// (ZooKeeper too); the demo framework stays in this process, in
// the root namespace, and reaches the master through the bridge
// (198.18.<run>.1), as does the browser opening the master's web UI.
//
// An agent's containers live on its host. On the docker containerizer each
// agent host gets a Docker engine of its own (common/hosts/docker-engine.ts,
// dockerd started with `nsenter --net=`, data and exec roots under the run's
// directory) holding the demo image, copied from the shared engine with
// `docker save` / `docker load`, never pulled. On the mesos containerizer
// (runc) the containers inherit the agent's namespace and no engine starts.
//
// With --ssl every process serves with a certificate naming its host's
// address: the certificates are made once the hosts' addresses are known.
// With several masters, a watch follows the leader in ZooKeeper (as agents
// and the demo do); killLeader() SIGKILLs the leading master's process.
//
// stop(): agents first (SIGTERM: they kill their tasks and remove the
// containers), then the engines, the masters and ZooKeeper, then the
// namespaces, veths and bridge, and the run's directory; it returns what is
// still present (nothing, on a clean stop). The run's directory is recorded
// with the hosts (network.ts), so that after a crash the next run's sweep
// removes it too, with the mesos containerizer's containers under it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../common/errors.js';
import { flagArgs } from '../common/flags.js';
import { HostNetwork, type Host } from '../common/hosts/network.js';
import { DockerEngine, saveImages } from '../common/hosts/docker-engine.js';
import { ociContainerIds } from '../common/hosts/run-dir-leftovers.js';
import { startLocalZooKeeper, type LocalZooKeeper } from '../common/zk/local-server.js';
import { tlsFetch } from '../common/tls-fetch.js';
import { StartWatch } from '../common/proc-stats.js';
import type { LocalContainerizer } from './local-containerizer.js';
import type { LocalTls } from './local-tls.js';
import { LeaderWatch, ZK_PATH, ZK_SESSION_TIMEOUT_SECONDS, type WatchedMaster } from './local-leader-watch.js';

const CLI = fileURLToPath(new URL('../../bin/mesos-ts.js', import.meta.url));
/** On a host every port is free: the master's HTTP and gRPC ports and the agent's are the usual ones. */
const MASTER_HTTP = 5050;
const MASTER_GRPC = 5060;
const AGENT_HTTP = 5051;
/** How long a process may take to answer /health, besides its wait for a CPU (common/proc-stats.ts), and in all. */
const READY_TIMEOUT_MS = 60_000;
const READY_CAP_MS = 300_000;
const STOP_GRACE_MS = 15_000;

export interface LocalHostsOptions {
  /** 1, or more with a ZooKeeper server on a host of its own. */
  readonly masters: number;
  readonly agents: number;
  readonly baseDir: string;
  readonly containerizer: LocalContainerizer;
  /** The demo's image, copied into each host's engine (docker containerizer). */
  readonly image: string;
  /** The shared engine's socket, where the image is saved from. */
  readonly sharedSocket: string;
  /** Extra flags of master n / agent n (logging). */
  masterFlags(n: number): string[];
  agentFlags(n: number): string[];
  /** --ssl: the cluster's TLS, given the addresses its certificates must name (the hosts' and the bridge's); null for none. */
  tls(addresses: readonly string[]): LocalTls | null;
  readonly log: (line: string) => void;
  readonly say: (line: string) => void;
}

interface HostProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

type HostMaster = HostProcess & WatchedMaster & { readonly host: Host };

export class LocalHosts {
  private readonly agents: HostProcess[] = [];
  private readonly masters: HostMaster[] = [];
  private readonly engines: DockerEngine[] = [];
  private zk: LocalZooKeeper | null = null;
  private watch: LeaderWatch<HostMaster> | null = null;
  /** Mutual TLS between every process (--ssl), or null. */
  tls: LocalTls | null = null;

  private constructor(readonly net: HostNetwork, private readonly options: LocalHostsOptions) {}

  /** What agents and the demo dial: the master's gRPC address on its host, or (several masters) zk://zk1:2181/mesos. */
  get target(): string {
    return this.zk ? `zk://${this.zk.connectString}${ZK_PATH}` : `${this.net.host('m1').address}:${MASTER_GRPC}`;
  }

  /** Creates the hosts, then ZooKeeper and the masters, the engines (docker) and the agents; on failure stops what started and throws. */
  static async start(options: LocalHostsOptions): Promise<LocalHosts> {
    const masterHosts = Array.from({ length: options.masters }, (_, i) => `m${i + 1}`);
    const agentHosts = Array.from({ length: options.agents }, (_, i) => `a${i + 1}`);
    const net = await HostNetwork.create([...(options.masters > 1 ? ['zk1'] : []), ...masterHosts, ...agentHosts]);
    // Recorded at once: a sweep after a crash removes it with the containers under it.
    net.trackRunDir(options.baseDir);
    const run = new LocalHosts(net, options);
    try {
      const hosts = net.hosts().map((h) => `${h.name} ${h.address}`).join(', ');
      options.say(`${net.hosts().length} hosts up: ${hosts}; namespaces ${net.prefix}-*, bridge ${net.bridge} at ${net.rootAddress}; files under ${options.baseDir}`);
      run.tls = options.tls([net.rootAddress, ...net.hosts().map((h) => h.address)]);
      if (options.masters > 1) await run.startZooKeeper();
      await Promise.all(masterHosts.map((name, i) => run.startMaster(net.host(name), i)));
      if (run.zk) await run.watchLeader();
      const engines = options.containerizer === 'docker' ? await run.startEngines(agentHosts.map((name) => net.host(name))) : [];
      for (const [i, name] of agentHosts.entries()) await run.startAgent(net.host(name), i, engines[i]);
      return run;
    } catch (err) {
      const left = await run.stop();
      options.say(left.length === 0 ? 'the start failed; what it made is removed' : `the start failed; still present: ${left.join(', ')}`);
      throw err;
    }
  }

  /** Stops everything (see the top of the file); returns what is still present, each named. */
  async stop(): Promise<string[]> {
    this.watch?.stop();
    await Promise.all(this.agents.map((p) => stopProcess(p)));
    // Counted before the engines stop (stopping an engine removes whatever containers it still holds) and before the run's directory goes.
    const containers = (await this.containersLeft()) + ociContainerIds(this.options.baseDir).length;
    await Promise.all(this.engines.map((e) => e.stop().catch((err: unknown) => this.options.say(`stopping the engine in ${e.dir}: ${errorMessage(err)}`))));
    await Promise.all(this.masters.map((p) => stopProcess(p)));
    await this.zk?.stop();
    const left = await this.net.destroy();
    return [...(containers > 0 ? [`${containers} container(s) on the hosts`] : []), ...left];
  }

  /** What stop() stops after the agents, in words. */
  describeRest(): string {
    const engines = this.engines.length > 0 ? 'their Docker engines, ' : '';
    return `${engines}${this.masters.length > 1 ? 'the masters and ZooKeeper' : 'the master'}`;
  }

  /** Task containers still on the hosts' engines (the mesos containerizer's are counted from the run's directory). */
  private async containersLeft(): Promise<number> {
    const counts = await Promise.all(this.engines.map((e) => e.containers('mesos-ts.work_dir').then((cs) => cs.length, () => 0)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async startZooKeeper(): Promise<void> {
    const host = this.net.host('zk1');
    // Its own process group: Ctrl-C must not take ZooKeeper away while the masters still help kill the tasks.
    this.zk = await startLocalZooKeeper({ dir: join(this.options.baseDir, 'zookeeper'), ownProcessGroup: true, host: { address: host.address, prefix: host.nsenter() } });
    const pid = this.zk.pid();
    if (pid !== null) host.track(pid);
    this.options.say(`ZooKeeper up on host zk1: ${this.zk.connectString}`);
  }

  private get scheme(): 'http' | 'https' {
    return this.tls ? 'https' : 'http';
  }

  private async startMaster(host: Host, i: number): Promise<void> {
    const zk = this.zk ? [`--zk=${this.target}`, `--zk_session_timeout=${ZK_SESSION_TIMEOUT_SECONDS}s`] : [];
    const name = `master-${i + 1}`;
    const proc = this.spawn(host, name, [
      'master', `--ip=${host.address}`, `--port=${MASTER_HTTP}`, `--grpc_port=${MASTER_GRPC}`, '--allocation_interval=0.5s', ...zk, ...this.options.masterFlags(i + 1),
    ]);
    const master: HostMaster = { ...proc, host, httpAddress: `${host.address}:${MASTER_HTTP}`, scheme: this.scheme, killed: false };
    this.masters.push(master);
    await this.ready(master, host, MASTER_HTTP);
    const ui = this.zk ? '' : `, web UI at ${this.scheme}://${master.httpAddress}/`;
    this.options.say(`${name} up on host ${host.name}: gRPC${this.tls ? ' (TLS)' : ''} ${host.address}:${MASTER_GRPC}${ui}`);
  }

  /** With ZooKeeper: follows the leader, saying which master leads with its web UI (reachable from this namespace); resolves once one leads. */
  private async watchLeader(): Promise<void> {
    this.watch = await LeaderWatch.start({
      servers: this.zk!.connectString, masters: this.masters, agents: this.options.agents, say: this.options.say, tls: this.tls?.client ?? null,
      where: (m) => ` on host ${m.host.name}`,
    }, READY_TIMEOUT_MS);
    this.options.say(`agents and the demo follow the leader through ${this.target}`);
  }

  /** After a kill: the take-over watch reads the new leader's state once more and says what it had (see LeaderWatch.settle). */
  settleTakeOver(): Promise<void> {
    return this.watch?.settle() ?? Promise.resolve();
  }

  /** SIGKILLs the leading master's process, as a crash would; resolves with its name once it is gone (null when none leads). */
  async killLeader(): Promise<string | null> {
    const leader = this.watch?.leader();
    if (!leader) {
      this.options.say('no master leads at this moment; nothing to kill');
      return null;
    }
    this.options.say(`killing the leader, ${leader.name} (pid ${leader.child.pid} on host ${leader.host.name}) with SIGKILL: its ZooKeeper session expires and its connections drop`);
    this.watch!.killed(leader);
    leader.child.kill('SIGKILL');
    await leader.exited;
    return leader.name;
  }

  /** One engine per agent host, in parallel, each loaded with the demo image saved once from the shared engine. */
  private async startEngines(hosts: readonly Host[]): Promise<DockerEngine[]> {
    const tar = await saveImages([this.options.image], join(this.options.baseDir, 'image.tar'), `unix://${this.options.sharedSocket}`);
    const started = await Promise.allSettled(hosts.map(async (host) => {
      const dir = join(this.options.baseDir, `engine-${host.name}`);
      this.net.trackEngineDir(dir);
      const engine = await DockerEngine.start({ liveRestore: false, netns: `/var/run/netns/${host.netns}`, dir, load: tar });
      if (engine.enginePid !== null) host.track(engine.enginePid);
      this.engines.push(engine);
      return engine;
    }));
    const engines = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new Error(`a Docker engine on a host did not start: ${errorMessage(failed.reason)}`);
    this.options.say(`${hosts.length} Docker engines up, one per agent host, each holding ${this.options.image} (loaded from the shared engine, not pulled)`);
    return engines;
  }

  private async startAgent(host: Host, i: number, engine: DockerEngine | undefined): Promise<void> {
    const ports = `[${31000 + i * 100}-${31000 + i * 100 + 99}]`;
    const agent = this.spawn(host, `agent-${i + 1}`, [
      'agent', `--master=${this.target}`, `--ip=${host.address}`, `--port=${AGENT_HTTP}`, `--work_dir=${join(this.options.baseDir, `agent-${i + 1}`)}`,
      `--resources=cpus:1;mem:1024;disk:2048;ports:${ports}`, `--attributes=rack:r${i + 1}`, `--containerizers=${this.options.containerizer}`,
      '--docker_pull=never', ...(engine ? [`--docker_socket=${engine.socketPath}`] : []), ...this.options.agentFlags(i + 1),
    ]);
    this.agents.push(agent);
    await this.ready(agent, host, AGENT_HTTP);
  }

  /** `mesos-ts ARGS` on `host`, in a process group of its own (Ctrl-C reaches `local`, which stops it in order); its lines go to the log. */
  private spawn(host: Host, name: string, args: string[]): HostProcess {
    const [nsenter, ...prefix] = host.nsenter();
    const tls = this.tls ? flagArgs(this.tls.server) : [];
    const child = spawn(nsenter!, [...prefix, process.execPath, CLI, ...args, ...tls, '--quiet=false'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) host.track(child.pid);
    const take = (line: string) => this.options.log(`[${name}@${host.name}] ${line}`);
    createInterface({ input: child.stdout! }).on('line', take);
    createInterface({ input: child.stderr! }).on('line', take);
    const exited = new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      child.once('error', (err) => (take(`cannot start: ${err.message}`), resolve()));
    });
    return { name, child, exited };
  }

  private async ready(proc: HostProcess, host: Host, port: number): Promise<void> {
    const watch = new StartWatch(proc.child.pid ?? 0);
    for (;;) {
      const res = await tlsFetch(this.tls?.client ?? null)(`${this.scheme}://${host.address}:${port}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
      if (res?.ok) return;
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${proc.name} on host ${host.name} exited before answering /health on ${host.address}:${port}`);
      if (watch.ownMs() > READY_TIMEOUT_MS || watch.wallMs() > READY_CAP_MS) {
        throw new Error(`${proc.name} on host ${host.name} did not answer /health on ${host.address}:${port} ${watch.describe()}`);
      }
      await sleep(100);
    }
  }
}

/** SIGTERM (an agent then kills its tasks), SIGKILL after a grace; resolves once it has exited. */
async function stopProcess(proc: HostProcess): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await proc.exited;
  clearTimeout(timer);
}

