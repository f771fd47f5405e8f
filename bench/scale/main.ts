// bench/scale: one master over the real wire under N simulated agents and M
// frameworks, measured as a curve over N (issue 15).
//
// For each N: a real ZooKeeper (common/zk/local-server.ts); a master started
// from dist/ as an OS process of its own (two with --failover); W agent
// worker processes hosting N/W simulated agents (sim-agent.ts: the real
// agent link and status update manager); scheduler worker processes hosting
// M SDK Schedulers that launch small tasks into every offer. Tasks report
// STARTING, RUNNING and, --task-seconds after RUNNING is acknowledged,
// FINISHED, so resources recycle. Phases, one progress line each:
//   registration  agents started -> master/slaves_active = N
//   offers        SUBSCRIBE -> first offer, per framework
//   throughput    --seconds of launching; /master/state and GET_STATE timed every --sample-ms
//   failover      (--failover) SIGKILL the leader -> standby elected, N agents back, offers again
// Prints a table; writes results.json, curve.svg and window.svg into --out.
//   npx tsx bench/scale/main.ts [--agents 100,1000] [--frameworks 10] [--seconds 60] [--failover] [--profile DIR] [--out docs/scale]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseFlags, usage, type FlagSpecs } from '../../common/flags.js';
import { errorMessage } from '../../common/errors.js';
import { MasterProc, REPO, startZooKeeperFor, stopCluster, type Cluster } from './cluster.js';
import { failover, firstOffers, forkWorkers, leaderOf, registration, throughput, until } from './phases.js';
import { table, type HarnessResult, type RunResult } from './result.js';
import { curveSvg, windowSvg } from './charts.js';
import { topSelfTime } from './profile-top.js';

const FLAGS = {
  agents: { type: 'string', default: '100', help: 'comma-separated N: simulated agents per run, one run each' },
  frameworks: { type: 'number', default: 10, help: 'M: frameworks (SDK Schedulers) per run' },
  seconds: { type: 'number', default: 60, help: 'length of the throughput window' },
  workers: { type: 'number', default: 0, help: 'agent worker processes (0: one per 500 agents, at most 4)' },
  scheduler_processes: { type: 'number', default: 0, help: 'scheduler worker processes (0: one per framework, at most 4)' },
  resources: { type: 'string', default: 'cpus:16;mem:65536;disk:100000', help: "each simulated agent's resources" },
  racks: { type: 'number', default: 10, help: 'agents get the attribute rack:r<i mod racks>' },
  demand: { type: 'string', default: 'cpus:0.1;mem:32', help: "each task's resources" },
  tasks_per_offer: { type: 'number', default: 16, help: 'tasks a framework launches into one offer at most' },
  task_seconds: { type: 'duration', default: 5, help: 'a task reports TASK_FINISHED this long after its RUNNING is acknowledged (0: never)' },
  max_in_flight: { type: 'number', default: 200, help: "a framework's tasks launched and not yet RUNNING, at most (0: no limit, an open loop)" },
  decline_seconds: { type: 'number', default: 0.2, help: 'an offer a framework has no room for (--max_in_flight reached) is declined for this long' },
  own_connections: { type: 'boolean', default: false, help: 'each simulated agent on a TCP connection of its own, as real agents are (grpc.use_local_subchannel_pool); off: the agents of one worker share one' },
  master_repo: { type: 'string', help: "run the masters from this checkout's dist/ (bin/mesos-ts.js) instead of this one's: a baseline in the same sitting" },
  master_node_args: { type: 'string', default: '', help: "more node flags for the masters, space-separated (e.g. '--max-semi-space-size=64')" },
  sample_ms: { type: 'number', default: 250, help: 'one request every this many ms, /master/state and GET_STATE in turn (0: none)' },
  allocation_interval: { type: 'duration', default: 1, help: "the master's --allocation_interval" },
  allocation_pass_budget: { type: 'duration', help: "the master's --allocation_pass_budget (default: the master's own, 50 ms; 0 for passes without bound)" },
  failover: { type: 'boolean', default: false, help: 'run a standby master and SIGKILL the leader after the throughput window' },
  session_timeout: { type: 'duration', default: 5, help: "the masters' --zk_session_timeout (1 to 10 s with the harness's ZooKeeper); a master whose loop stalls longer stops leading, and after a SIGKILL the election waits this long" },
  zk_heap_mb: { type: 'number', default: 256, help: "ZooKeeper's JVM heap (-Xmx) in MiB: what its last 500 committed proposals (the registry's writes) must fit in" },
  registration_timeout: { type: 'duration', default: 120, help: 'give up waiting for all agents after this' },
  master_trace: { type: 'boolean', default: false, help: "start the masters with bench/scale/master-trace.mjs: the master's own hops of every tenth task join the stage table (off: those stages are joined with their neighbours and the master pays nothing)" },
  profile: { type: 'string', help: 'start the masters (and the agent and scheduler workers, into agent-workers/ and scheduler-workers/) with node --cpu-prof into this directory; print the master\'s top self-time functions' },
  merge: { type: 'boolean', default: false, help: 'keep the runs already in --out/results.json (other N, or other M) and add these: one curve from several invocations' },
  out: { type: 'string', default: 'docs/scale', help: 'where results.json, curve.svg and window.svg go' },
} as const satisfies FlagSpecs;

type HarnessFlags = ReturnType<typeof parseFlags<typeof FLAGS>>;

const log = (line: string) => process.stdout.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const secs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : (ms / 1000).toFixed(2));

let current: Cluster | null = null;
/**
 * Aborted by SIGINT/SIGTERM: a ZooKeeper still starting is killed in the abort itself (it is not in `current` yet),
 * and no process is started after it; `starting` settles once that start has given up.
 */
const shutdown = new AbortController();
let starting: Promise<unknown> | null = null;

async function run(n: number, flags: HarnessFlags, logs: string): Promise<Omit<RunResult, 'command' | 'at'>> {
  const workers = flags.workers || Math.min(4, Math.max(1, Math.ceil(n / 500)));
  const schedulerProcesses = flags.scheduler_processes || Math.min(4, flags.frameworks);
  const profileDir = flags.profile ? resolve(flags.profile, `n${n}`) : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const zkStart = startZooKeeperFor(logs, flags.zk_heap_mb, shutdown.signal);
  starting = zkStart.finally(() => (starting = null));
  const zk = await zkStart;
  const cluster: Cluster = { ...zk, masters: [], agentWorkers: [], schedulerWorkers: [], dir: logs };
  current = cluster;
  // Every later start first checks that no signal came: the handler stops what `current` holds at that moment.
  const start = <T>(make: () => T): T => {
    shutdown.signal.throwIfAborted();
    return make();
  };
  const masterOptions = { zkUrl: zk.zkUrl, logDir: logs, sessionTimeoutS: flags.session_timeout, allocationIntervalS: flags.allocation_interval, allocationPassBudgetS: flags.allocation_pass_budget, profileDir, trace: flags.master_trace,
    repo: flags.master_repo ? resolve(flags.master_repo) : REPO, nodeArgs: flags.master_node_args.split(' ').filter(Boolean), signal: shutdown.signal };
  try {
    cluster.masters.push(await start(() => MasterProc.start(`master-n${n}-a`, masterOptions)));
    const leader = await until(() => leaderOf(cluster.masters), 30_000);
    if (!leader) throw new Error(`no master leads 30 s after start (logs in ${logs})`);
    if (flags.failover) {
      const standby = await start(() => MasterProc.start(`master-n${n}-b`, masterOptions));
      cluster.masters.push(standby);
      if (!(await until(() => standby.metrics(), 30_000))) throw new Error(`the standby master does not answer (logs in ${logs})`);
    }
    // Without --failover agents and frameworks dial the leader's gRPC address; with it, they follow ZooKeeper.
    const master = flags.failover ? zk.zkUrl : leader.grpc;
    await start(() => forkWorkers(cluster, workers, schedulerProcesses, profileDir));
    log(`N=${n}: ZooKeeper on ${zk.zk.connectString}, leader pid ${leader.pid}${flags.failover ? ' with a standby' : ''}; starting ${n} agents in ${workers} worker(s)`);
    const reg = await registration(cluster, leader, master, {
      agents: n, resources: flags.resources, racks: flags.racks, finishAfterMs: flags.task_seconds * 1000, timeoutMs: flags.registration_timeout * 1000, ownConnections: flags.own_connections,
    });
    log(`N=${n}: registration: ${reg.registeredPerMaster}/${n} active per the master after ${secs(reg.allRegisteredMs)} s (last AgentRegistered at ${secs(reg.lastRegisteredMs)} s); ` +
      `master RSS ${reg.masterRssMb?.toFixed(0)} MB, CPU ${reg.masterCpuSeconds?.toFixed(1)} s`);
    const offers = await firstOffers(cluster, leader, master, { frameworks: flags.frameworks, demand: flags.demand, tasksPerOffer: flags.tasks_per_offer, maxInFlight: flags.max_in_flight, declineSeconds: flags.decline_seconds });
    log(`N=${n}: offers: ${offers.withOffer}/${flags.frameworks} frameworks offered; SUBSCRIBE -> first offer p50 ${secs(offers.subscribeToOfferMs.p50)} s, p99 ${secs(offers.subscribeToOfferMs.p99)} s` +
      (offers.errors.length ? `; errors: ${offers.errors.slice(0, 3).join('; ')}` : ''));
    log(`N=${n}: throughput: ${flags.seconds} s window`);
    const tp = await throughput(cluster, leader, flags.seconds, flags.sample_ms, log);
    log(`N=${n}: throughput: ${tp.tasksRunningPerSecond.toFixed(0)} tasks RUNNING/s, ${tp.updatesAckedPerSecond.toFixed(0)} updates acked/s; ` +
      `/master/state p99 ${secs(tp.stateMs.p99)} s, GET_STATE p99 ${secs(tp.getStateMs.p99)} s`);
    let fo = null;
    if (flags.failover) {
      fo = await failover(cluster, n, 60_000);
      log(`N=${n}: failover: elected (ZooKeeper) ${secs(fo.electedMs)} s, answering as leader ${secs(fo.firstAnswerAsLeaderMs)} s, ${fo.agentsBack}/${n} agents back ${secs(fo.allAgentsBackMs)} s, offers again (max) ${secs(fo.offersAgainMs?.max)} s after the SIGKILL`);
    }
    await stopCluster(cluster);
    current = null;
    const profile = profileDir ? profileOf(profileDir) : undefined;
    return { agents: n, frameworks: flags.frameworks, agentWorkers: workers, schedulerProcesses, registration: reg, offers, throughput: tp, failover: fo, ...(profile ? { profile } : {}) };
  } finally {
    if (current) await stopCluster(current).catch(() => {});
    current = null;
  }
}

/** The surviving (last-started) master's profile: the leader's, or after a failover the new leader's. */
function profileOf(dir: string): ReturnType<typeof topSelfTime> | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  const file = files.find((f) => f.includes('-a')) ?? files[0];
  return file ? topSelfTime(join(dir, file)) : undefined;
}

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  if (flags.help) {
    process.stdout.write(usage('bench:scale', "one master under N simulated agents and M frameworks over the real wire (docs/scale/README.md)", FLAGS) + '\n');
    return;
  }
  const ns = flags.agents.split(',').map((s) => Number(s.trim()));
  if (ns.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--agents must be positive integers separated by commas, got '${flags.agents}'`);
  const out = resolve(REPO, flags.out);
  mkdirSync(out, { recursive: true });
  const logs = mkdtempSync(join(tmpdir(), 'mesos-ts-scale-'));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping every process started`);
      shutdown.abort(new Error(`${sig} received`));
      void (async () => {
        await starting?.catch(() => {});
        if (current) await stopCluster(current).catch(() => {});
      })().finally(() => process.exit(130));
    });
  }
  const startedAt = new Date().toISOString();
  const command = `npm run bench:scale -- ${process.argv.slice(2).join(' ')}`.trim();
  const file = join(out, 'results.json');
  const earlier = flags.merge && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as HarnessResult).runs : [];
  const runs: RunResult[] = [];
  for (const n of ns) {
    const r = { ...(await run(n, flags, join(logs, `n${n}`))), command, at: new Date().toISOString() };
    runs.push(r);
    if (r.profile) {
      log(`N=${n}: top self time of the master (node --cpu-prof; % of its busy time):`);
      for (const p of r.profile) log(`  ${(p.share * 100).toFixed(1).padStart(5)}%  ${p.ms.toFixed(0).padStart(7)} ms  ${p.fn}`);
    }
  }
  const result: HarnessResult = {
    command,
    startedAt, machine: { cpus: cpus().length, node: process.version },
    settings: Object.fromEntries(Object.entries(flags).filter(([k, v]) => k !== '_' && k !== 'help' && v !== undefined)) as Record<string, string | number | boolean>,
    runs: [...earlier.filter((e) => !runs.some((r) => r.agents === e.agents && r.frameworks === e.frameworks)), ...runs].sort((a, b) => a.agents - b.agents || a.frameworks - b.frameworks),
  };
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(out, 'curve.svg'), curveSvg(result));
  writeFileSync(join(out, 'window.svg'), windowSvg(result));
  console.log(`\n${table(result)}`);
  const best = runs.at(-1)!;
  console.log(`\n${runs.length} run(s); largest N=${best.agents}: ${best.registration.registeredPerMaster}/${best.agents} registered in ${secs(best.registration.allRegisteredMs)} s, ` +
    `${best.throughput.tasksRunningPerSecond.toFixed(0)} tasks/s (target 5000), ${best.throughput.updatesAckedPerSecond.toFixed(0)} updates acked/s (target 20000); ` +
    `results in ${file}; logs in ${logs}`);
}

main().then(
  () => process.exit(0),
  async (err) => {
    if (shutdown.signal.aborted) return; // A run given up for a signal: its handler stops what was started, and exits 130.
    console.error(err instanceof Error ? err.stack : errorMessage(err));
    if (current) await stopCluster(current).catch(() => {});
    process.exit(1);
  },
);
