// `mesos-ts local`: a whole cluster on this machine — a master and two
// agents on loopback, then the demo framework launching real container
// tasks — with the tasks' states drawn live. On exit or Ctrl-C everything
// stops and every container the agents started is removed.
//
// With --masters N (N > 1) it also runs ZooKeeper, and N masters elect a
// leader in it (cli/local-masters.ts); agents and the demo follow the leader
// through zk://. --kill_leader_after kills the leader while the demo runs,
// to watch a failover.
//
// With --hosts N (root only) the master and N agents run as processes on
// simulated hosts, each in a network namespace of its own with an address in
// 198.18.0.0/15, and each agent's containers live on its host
// (cli/local-hosts.ts); --ssl and --kill_leader_after work there too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { flagArgs, parseFlags, usage, type Flags } from '../common/flags.js';
import { errorMessage, InvalidArgument } from '../common/errors.js';
import type { RunningMaster } from '../master/main.js';
import type { RunningAgent } from '../agent/main.js';
import type { LocalMasters } from './local-masters.js';
import { LiveArea } from './live-area.js';
import { LOG_FLAGS } from '../common/log/flags.js';
import { localTls, type LocalTls } from './local-tls.js';
import { chooseContainerizer, type LocalContainerizer } from './local-containerizer.js';
import type { LocalHosts } from './local-hosts.js';
import { containersUnder, recordRun, RUN_DIR_PREFIX, sweepLocalRuns } from './local-sweep.js';
import { ociContainerIds } from '../common/hosts/run-dir-leftovers.js';

export const LOCAL_FLAGS = {
  agents: { type: 'number', default: 2, help: 'how many agents to start (with --hosts, --hosts decides)' },
  hosts: {
    type: 'number', default: 0,
    help: 'run the masters and N agents as processes on simulated hosts, one each (network namespaces, addresses in 198.18.0.0/15, a bridge to this namespace; '
      + 'needs root), with ZooKeeper on a host too when --masters > 1; on the docker containerizer each agent host gets a Docker engine of its own '
      + '(the image copied from the shared engine), so its containers live on its host; --containerizer=mesos runs them under runc in the agent\'s namespace. '
      + 'A master listens on its host\'s address at 5050 (HTTP, web UI) and 5060 (gRPC): --port and --grpc_port are for loopback',
  },
  tasks: { type: 'number', default: 10, help: 'how many demo tasks to launch' },
  image: { type: 'string', default: 'mesos-ts/busybox:latest', help: 'image of the demo tasks' },
  masters: {
    type: 'number', default: 1,
    help: 'how many masters; more than 1 also runs ZooKeeper on loopback, the masters elect a leader in it and agents and the demo follow the leader',
  },
  port: { type: 'number', default: 5050, help: "master's HTTP port (/master/state); with several masters, master i adds 100·(i-1); 0 picks free ones" },
  grpc_port: { type: 'number', default: 5060, help: "master's gRPC port; with several masters, master i adds 100·(i-1); 0 picks free ones" },
  kill_leader_after: {
    type: 'duration',
    help: 'with --masters > 1: kill the leading master this long after the demo starts (seconds, or with a unit) and watch another take over (on --hosts: SIGKILL of its process)',
  },
  containerizer: {
    type: 'string', default: 'auto',
    help: "'docker', 'mesos' (runc, no Docker engine) or 'auto': Docker when an engine answers (at DOCKER_HOST's unix socket or /var/run/docker.sock), else mesos, with a line saying so",
  },
  keep_running: { type: 'boolean', default: false, help: 'after the demo, keep the cluster up until Ctrl-C' },
  logging_level: LOG_FLAGS.logging_level,
  log_dir: { type: 'string', help: "also keep the cluster's log in DIR: master-N/mesos-master.log, agent-N/mesos-agent.log (the live display stays clean)" },
  ssl: {
    type: 'boolean', default: false,
    help: 'mutual TLS between every process (also with LIBPROCESS_SSL_ENABLED=true): certificates from LIBPROCESS_SSL_CERT_FILE etc., else made by scripts/make-certs.sh (on --hosts, naming the hosts\' addresses too)',
  },
  certs_dir: { type: 'string', help: "with --ssl: where scripts/make-certs.sh puts the certificates, kept after the run (default: the run's own directory, removed)" },
} as const;

type LocalFlags = Flags<typeof LOCAL_FLAGS>;

const say = (line: string) => process.stdout.write(`\x1b[1m[local]\x1b[0m ${line}\n`);

/** Checks that --hosts can run here: a whole number, and root (namespaces, veths, a bridge, nsenter). */
export function checkHosts(hosts: number, uid: number | undefined): void {
  if (!Number.isInteger(hosts) || hosts < 0) throw new InvalidArgument(`--hosts must be a whole number >= 0, got ${hosts}`);
  if (hosts > 200) throw new InvalidArgument(`--hosts must be at most 200, got ${hosts}`);
  if (hosts > 0 && uid !== 0) {
    throw new InvalidArgument(
      `--hosts needs root: it creates network namespaces, veth pairs and a bridge and starts processes in them with nsenter (uid here is ${uid ?? 'unknown'}); run it as root, e.g. sudo npm run local -- --hosts ${hosts}`,
    );
  }
}

/** Checks the flags before anything starts; messages name the flag and the value. */
export function checkLocalFlags(flags: LocalFlags, uid = process.getuid?.()): void {
  if (!Number.isInteger(flags.masters) || flags.masters < 1) throw new InvalidArgument(`--masters must be a whole number >= 1, got ${flags.masters}`);
  checkHosts(flags.hosts, uid);
  if (flags.kill_leader_after !== undefined) {
    if (flags.masters < 2) throw new InvalidArgument(`--kill_leader_after needs --masters 2 or more (a standby to take over), got --masters ${flags.masters}`);
    if (!(flags.kill_leader_after > 0)) throw new InvalidArgument(`--kill_leader_after must be positive, got ${flags.kill_leader_after}`);
  }
}

export async function localCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(LOCAL_FLAGS, argv, { env: process.env });
  if (flags.help) {
    process.stdout.write(usage('local', 'Runs a master (or several, with ZooKeeper), agents and a demo framework on this machine (on loopback, or on simulated hosts with --hosts).', LOCAL_FLAGS) + '\n');
    return 0;
  }
  checkLocalFlags(flags);
  // Imported once --help is out of the way: together they load gRPC, the .proto files and dockerode.
  const [{ default: Docker }, { startMaster }, { startAgent }, { runDemo, renderDemo }, { LocalMasters }, { LocalHosts }] = await Promise.all([
    import('dockerode'), import('../master/main.js'), import('../agent/main.js'), import('../framework/examples/demo.js'), import('./local-masters.js'), import('./local-hosts.js'),
  ]);
  const { containerizer, docker, socketPath } = await chooseContainerizer(flags.containerizer, flags.image, process.env, Docker, say);
  const swept = await sweepLocalRuns(docker ?? new Docker({ socketPath }));
  if (swept.length > 0) say(`removed what ${swept.length} earlier run(s) killed before their clean-up left: ${swept.join(', ')}`);
  const base = mkdtempSync(join(tmpdir(), RUN_DIR_PREFIX));
  // On hosts the run's directory is recorded with the hosts (cli/local-hosts.ts).
  if (flags.hosts === 0) recordRun(base);
  // On hosts the certificates must name the hosts' addresses, known once the hosts are up: LocalHosts makes them then.
  const makeTls = (addresses: readonly string[]) => localTls(flags.ssl, process.env, flags.certs_dir ?? join(base, 'certs'), say, addresses);
  let tls: LocalTls | null = null;
  try {
    if (flags.hosts === 0) tls = makeTls([]);
  } catch (err) {
    rmSync(base, { recursive: true, force: true });
    throw err;
  }
  const abort = new AbortController();
  const onSignal = () => {
    say('interrupted: killing the tasks and shutting down');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The cluster's log is collected (its last lines are shown if the demo fails), not printed over the live display.
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const logging = localLogging(flags);
  const cluster: LocalCluster = { masters: flags.masters, target: '', master: null, group: null, agents: [], hosts: null, tls, onHosts: flags.hosts > 0 };
  let live: LiveArea | null = null;
  // While the table is drawn, lines go above it.
  const tell = (line: string) => (live ? live.print(`\x1b[1m[local]\x1b[0m ${line}`) : say(line));
  try {
    if (flags.hosts > 0) {
      cluster.hosts = await LocalHosts.start({
        masters: flags.masters, agents: flags.hosts, baseDir: base, containerizer, image: flags.image, sharedSocket: socketPath,
        masterFlags: (n) => flagArgs(logging.master(n)), agentFlags: (n) => flagArgs(logging.agent(n)), tls: makeTls, log, say,
      });
      cluster.target = cluster.hosts.target;
      cluster.tls = cluster.hosts.tls;
    } else {
      await startMasters(cluster, flags, { startMaster, LocalMasters, baseDir: base, log, logging, tell });
      await startAgents(cluster, flags.agents, { startAgent, baseDir: base, log, logging, containerizer, socketPath });
    }
    const agents = cluster.hosts ? flags.hosts : cluster.agents.length;
    if (cluster.tls) say(`to use the CLI on this cluster: ${Object.entries(cluster.tls.clientEnv).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    const following = cluster.group ? ` following the leader through ${cluster.target}` : '';
    const where = cluster.hosts ? ', each on its host' : '';
    say(`${agents} agents up (cpus:1;mem:1024 each${where})${following}; launching ${flags.tasks} container tasks from ${flags.image} on the ${containerizer} containerizer`);
    live = process.stdout.isTTY ? new LiveArea() : null;
    const killable = cluster.group ?? cluster.hosts;
    const killer = killable && flags.kill_leader_after !== undefined ? killLeaderAfter(killable, flags.kill_leader_after, tell) : null;
    const result = await runDemo({
      master: cluster.target,
      tls: cluster.tls?.client ?? null,
      tasks: flags.tasks,
      image: flags.image,
      containerizer,
      signal: abort.signal,
      onProgress: (view) => live?.draw(renderDemo(view, { color: true })),
      onEvent: live ? undefined : (line: string) => say(line),
      // Said while the demo's framework is still subscribed: what the new leader had after a kill.
      beforeTeardown: async () => killer?.demoEnded(abort.signal.aborted),
    }).finally(() => killer?.demoEnded(abort.signal.aborted)); // Also when the demo failed before it ran.
    live?.done();
    live = null;
    say(result.ok ? `all ${result.finished} tasks FINISHED` : `demo ended: ${result.summary}`);
    if (flags.keep_running && !abort.signal.aborted) {
      say('cluster stays up; Ctrl-C to stop');
      await new Promise((resolve) => abort.signal.addEventListener('abort', resolve, { once: true }));
    }
    return result.ok ? 0 : 1;
  } catch (err) {
    live?.done();
    say(`failed: ${errorMessage(err)}`);
    if (logs.length) process.stdout.write(logs.slice(-20).map((l) => `  ${l}\n`).join(''));
    return 1;
  } finally {
    // A signal during the clean-up must not cut it short: by default it would end this process and leave the cluster up.
    const patience = () => say('still stopping the cluster: wait for the clean-up line (Ctrl-\\ quits at once, leaving it behind)');
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal).on('SIGINT', patience).on('SIGTERM', patience);
    await stopCluster(cluster, docker, base).finally(() => process.off('SIGINT', patience).off('SIGTERM', patience));
  }
}

/** What a run started; stopCluster() takes down whatever of it is up. */
interface LocalCluster {
  /** --masters: 1, or several with ZooKeeper. */
  readonly masters: number;
  /** What agents and the demo dial: the master's gRPC address, or zk://... with several masters. */
  target: string;
  master: RunningMaster | null;
  group: LocalMasters | null;
  readonly agents: RunningAgent[];
  /** --hosts: the master and agents as processes on simulated hosts, instead of `master` and `agents`. */
  hosts: LocalHosts | null;
  /** Mutual TLS between every process (--ssl), or null. */
  tls: LocalTls | null;
  /** --hosts: set before `hosts`, which stays null when their start failed (having removed what it made). */
  readonly onHosts: boolean;
}

type MasterModules = { startMaster: typeof import('../master/main.js').startMaster; LocalMasters: typeof LocalMasters };

/** The cluster's logging flags: text lines (collected, or in --log_dir as master[-N]/ and agent-N/ files). */
interface LocalLogging {
  master(n: number): { logging_level: string; log_format: string; log_dir?: string };
  agent(n: number): { logging_level: string; log_format: string; log_dir?: string };
}

function localLogging(flags: LocalFlags): LocalLogging {
  const base = { logging_level: flags.logging_level, log_format: 'text' };
  const dir = (name: string) => (flags.log_dir ? { log_dir: join(flags.log_dir, name) } : {});
  return { master: (n) => ({ ...base, ...dir(`master-${n}`) }), agent: (n) => ({ ...base, ...dir(`agent-${n}`) }) };
}

/** One master as before, or (--masters > 1) ZooKeeper and the masters electing a leader in it. */
async function startMasters(
  cluster: LocalCluster,
  flags: LocalFlags,
  { startMaster, LocalMasters, baseDir, log, logging, tell }: MasterModules & { baseDir: string; log: (line: string) => void; logging: LocalLogging; tell: (line: string) => void },
): Promise<void> {
  if (flags.masters > 1) {
    cluster.group = await LocalMasters.start({
      count: flags.masters, port: flags.port, grpcPort: flags.grpc_port, baseDir, startMaster, log, logging: logging.master, agents: flags.agents, say: tell,
      onZooKeeper: (pid) => recordRun(baseDir, pid),
      ...(cluster.tls ? { tls: cluster.tls } : {}),
    });
    cluster.target = cluster.group.url;
    return;
  }
  cluster.master = await startMaster({
    ip: '127.0.0.1', port: flags.port, grpc_port: flags.grpc_port, allocation_interval: 0.5, ...logging.master(1), ...cluster.tls?.server,
  }, log);
  say(`master up: gRPC${cluster.tls ? ' (TLS)' : ''} ${cluster.master.grpcAddress}, state at ${cluster.master.scheme}://${cluster.master.httpAddress}/master/state`);
  cluster.target = cluster.master.grpcAddress;
}

/** Agents with cpus:1;mem:1024 and 100 ports each, registering with cluster.target; pushed one by one so a failure stops those already up. */
async function startAgents(
  cluster: LocalCluster,
  count: number,
  { startAgent, baseDir, log, logging, containerizer, socketPath }: {
    startAgent: typeof import('../agent/main.js').startAgent; baseDir: string; log: (line: string) => void; logging: LocalLogging; containerizer: LocalContainerizer; socketPath: string;
  },
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const ports = `[${31000 + i * 100}-${31000 + i * 100 + 99}]`;
    cluster.agents.push(
      await startAgent({
        master: cluster.target, ip: '127.0.0.1', port: 0, work_dir: join(baseDir, `agent-${i + 1}`),
        resources: `cpus:1;mem:1024;disk:2048;ports:${ports}`, attributes: `rack:r${i + 1}`, log, containerizers: containerizer, docker_socket: socketPath, ...logging.agent(i + 1), ...cluster.tls?.server,
      }),
    );
  }
}

/** Agents first (they kill their tasks and remove the containers), then the masters and ZooKeeper; then checks that nothing is left. */
async function stopCluster(cluster: LocalCluster, docker: Docker | null, base: string): Promise<void> {
  if (cluster.hosts) return stopHosts(cluster.hosts, docker, base);
  if (cluster.onHosts) return rmSync(base, { recursive: true, force: true }); // Its start failed, and said what it left.
  const { master, group, agents } = cluster;
  say(`stopping agents (removing their containers) and ${cluster.masters > 1 ? 'the masters and ZooKeeper' : 'the master'}`);
  for (const agent of agents) await agent.stop({ killTasks: true }).catch((err: unknown) => say(`agent stop: ${errorMessage(err)}`));
  await master?.stop();
  await group?.stop().catch((err: unknown) => say(`stopping the masters and ZooKeeper: ${errorMessage(err)}`));
  const left = docker ? (await containersUnder(docker, base)).length : ociContainerIds(base).length;
  const zkLeft = group?.zkAlive() ?? false;
  say(left === 0 && !zkLeft ? 'clean: no container or process left behind'
    : `warning: ${left} container(s)${zkLeft ? ' and the ZooKeeper process' : ''} still present`);
  rmSync(base, { recursive: true, force: true });
}

/** --hosts: everything on the hosts stops; then no container, process, engine, namespace, veth or bridge of the run may be left. */
async function stopHosts(hosts: LocalHosts, docker: Docker | null, base: string): Promise<void> {
  say(`stopping agents (removing their containers), then ${hosts.describeRest()}, then the hosts (namespaces, veths, bridge)`);
  const left = await hosts.stop().catch((err: unknown) => [`(stop failed: ${errorMessage(err)})`]);
  const containers = docker ? (await containersUnder(docker, base)).length : 0;
  if (containers > 0) left.push(`${containers} container(s) on the shared engine`);
  say(left.length === 0 ? 'clean: no container, process, engine, namespace, veth or bridge left behind' : `warning: still present: ${left.join(', ')}`);
  rmSync(base, { recursive: true, force: true });
}

/** Kills the leader `seconds` into the demo; if the demo ends first, says so and kills nothing. */
function killLeaderAfter(group: { killLeader(): Promise<unknown>; settleTakeOver(): Promise<void> }, seconds: number, tell: (line: string) => void): { demoEnded(interrupted: boolean): Promise<void> } {
  tell(`the leader will be killed ${seconds} s into the demo`);
  let fired = false;
  let ended: Promise<void> | null = null;
  const timer = setTimeout(() => {
    fired = true;
    group.killLeader().catch((err: unknown) => tell(`killing the leader: ${errorMessage(err)}`));
  }, seconds * 1000);
  return {
    /** Once a kill fired, resolves when the new leader's state was read once more (its re-registered agents and frameworks said). Idempotent. */
    demoEnded(interrupted) {
      ended ??= (async () => {
        clearTimeout(timer);
        if (fired) return group.settleTakeOver();
        if (interrupted) return;
        tell(`the demo ended before --kill_leader_after ${seconds} s; no master was killed (try more --tasks)`);
      })();
      return ended;
    },
  };
}
