// bench/failover: how long a cluster goes without a working master after
// its leader is SIGKILLed.
//
// ZooKeeper (the test harness's), 3 masters and 2 agents as child processes,
// and a scheduler in this process (the SDK, following zk://). The scheduler
// launches a few `sleep 3600` tasks once, then declines every offer (refusing
// for 1 s), so offers keep coming while a master leads. Each round kills the
// leader and measures, from the kill, until:
//   elected     ZooKeeper names another leader (LeaderDetector, as agents see it)
//   serving     the new leader answers GET /state with 200
//   agents      both agents are active on the new leader, under their old ids
//   tasks       every task is TASK_RUNNING in the new leader's /state
//   subscribed  the scheduler is SUBSCRIBED with the new leader
//   reconciled  implicit reconciliation (sent every second) answers TASK_RUNNING for every task
//   offers      the scheduler receives an offer from the new leader
// then starts a master on fresh ports so that 3 contend again. Polled figures
// have ~50 ms resolution; event figures are timed when the event arrives.
//   npx tsx bench/failover.ts [--rounds 10] [--session-timeout 2] [--round-timeout 30] [--tasks 4]
//                             [--sdk-backoff 500ms] [--logs DIR] [--verbose]
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { ProcessGroup, leaderOf, type MasterProc, type AgentProc } from '../test/harness/processes.js';
import { startZooKeeper, type TestZooKeeper } from '../test/harness/zookeeper.js';
import { ZkSession } from '../common/zk/session.js';
import { LeaderDetector, type LeaderInfo } from '../common/zk/detector.js';
import { parseFlags, type FlagSpecs } from '../common/flags.js';
import { errorMessage } from '../common/errors.js';
import { Scheduler, OfferPacker, dockerTask, parseDemand, type Logger, type OfferOut, type TaskStatusOut } from '../framework/sdk/index.js';

const FLAGS = {
  rounds: { type: 'number', default: 10, help: 'leaders killed' },
  session_timeout: { type: 'duration', default: 2, help: "the masters' --zk_session_timeout" },
  round_timeout: { type: 'duration', default: 30, help: 'a figure not reached this long after the kill is reported as missing' },
  tasks: { type: 'number', default: 4, help: 'long-running tasks launched before the first round' },
  sdk_backoff: { type: 'duration', help: "the scheduler's first reconnect delay (default: the SDK's, 500 ms)" },
  logs: { type: 'string', help: 'copy the masters\' and agents\' logs into this directory at the end' },
  verbose: { type: 'boolean', default: false, help: "print the scheduler's warnings and leader changes of each round" },
} as const satisfies FlagSpecs;

const IMAGE = 'mesos-ts/busybox:latest';
const ZK_PATH = '/mesos';
const AGENT_RESOURCES = ['cpus:1;mem:256;disk:64;ports:[31000-31009]', 'cpus:1;mem:256;disk:64;ports:[31010-31019]'];
const FIGURES = {
  elected: 'new leader elected (ZooKeeper)',
  serving: 'new leader answers /state 200',
  agents: 'both agents re-registered',
  tasks: 'tasks RUNNING on the new leader',
  subscribed: 'framework re-subscribed',
  reconciled: 'reconciliation: all RUNNING',
  offers: 'framework receives offers again',
} as const;
type Figure = keyof typeof FIGURES;
type Timings = Partial<Record<Figure, number>>;

const now = () => performance.now();
const secs = (ms: number) => (ms / 1000).toFixed(2);

/** What this process sees, each with the time it saw it (performance.now()). */
interface Observed {
  leaders: { t: number; leader: LeaderInfo | null }[];
  subscriptions: { t: number; masterId: string }[];
  offers: { t: number; masterId: string }[];
  /** Reconciliation answers (no uuid), by the master the scheduler was subscribed to. */
  reconciled: { t: number; masterId: string; taskId: string; state: string }[];
  /** Updates other than the launch's STARTING/RUNNING and reconciliation answers. */
  unexpected: { t: number; taskId: string; state: string; message: string }[];
  sdkLog: { t: number; line: string }[];
}

interface Cluster {
  readonly zk: TestZooKeeper;
  readonly group: ProcessGroup;
  readonly zkUrl: string;
  readonly masters: MasterProc[];
  readonly agents: AgentProc[];
  readonly detector: { session: ZkSession; detector: LeaderDetector };
  scheduler: Scheduler | null;
  agentIds: string[];
  taskIds: string[];
  frameworkId: string;
  nextMaster: number;
}

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  const seen: Observed = { leaders: [], subscriptions: [], offers: [], reconciled: [], unexpected: [], sdkLog: [] };
  let cluster: Cluster | null = null;
  let cleaning: Promise<void> | null = null;
  const cleanup = () => (cleaning ??= tearDown(cluster, flags.logs));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: cleaning up\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    cluster = await startCluster(flags.session_timeout, seen);
    await startFramework(cluster, flags.tasks, seen, flags.sdk_backoff);
    const results: Timings[] = [];
    for (let n = 1; n <= flags.rounds && !cleaning; n++) {
      const timings = await failoverRound(cluster, n, flags.rounds, flags.round_timeout * 1000, seen, flags.verbose);
      if (!timings) break;
      results.push(timings);
      if (n < flags.rounds) await replaceMaster(cluster, flags.session_timeout);
    }
    if (!cleaning) await finalCheck(cluster);
    if (!cleaning) printTable(results, flags.session_timeout);
  } finally {
    await cleanup();
  }
}

// ---- setting up ---------------------------------------------------------

async function startCluster(sessionTimeout: number, seen: Observed): Promise<Cluster> {
  const zk = await startZooKeeper();
  const group = new ProcessGroup();
  const zkUrl = `zk://${zk.connectString}${ZK_PATH}`;
  const session = await ZkSession.connect({ servers: zk.connectString, sessionTimeoutMs: 10_000 });
  const detector = new LeaderDetector(session, ZK_PATH);
  detector.onChange((leader) => seen.leaders.push({ t: now(), leader }));
  const cluster: Cluster = {
    zk, group, zkUrl, masters: [], agents: [], detector: { session, detector }, scheduler: null, agentIds: [], taskIds: [], frameworkId: '', nextMaster: 0,
  };
  await detector.start();
  for (let i = 0; i < 3; i++) await replaceMaster(cluster, sessionTimeout);
  const leader = await until(() => leaderOf(cluster.masters), 30_000);
  if (!leader) throw new Error('no master leads 30 s after start');
  for (const [i, resources] of AGENT_RESOURCES.entries()) {
    cluster.agents.push(await group.spawnAgent(`agent-${i}`, [`--master=${zkUrl}`, `--resources=${resources}`]));
  }
  const state = await until(async () => {
    const s = await stateOf((await leaderOf(cluster.masters))?.httpAddress);
    return s && s.agents.filter((a) => a.active).length === AGENT_RESOURCES.length ? s : null;
  }, 30_000);
  if (!state) throw new Error(`the agents did not register within 30 s:\n${cluster.agents.map((a) => a.lines.slice(-5).join('\n')).join('\n')}`);
  cluster.agentIds = state.agents.map((a) => a.id).sort();
  console.log(`ZooKeeper on ${zk.connectString}; masters ${cluster.masters.map((m) => `${m.name} (pid ${m.pid})`).join(', ')}; leader ${leader.name}; ` +
    `agents ${cluster.agents.map((a) => `${a.name} (pid ${a.pid})`).join(', ')} registered; process dir ${group.dir}`);
  return cluster;
}

/** Starts one more master (fresh ports) contending for leadership. */
async function replaceMaster(cluster: Cluster, sessionTimeout: number): Promise<void> {
  const name = `master-${cluster.nextMaster++}`;
  cluster.masters.push(await cluster.group.spawnMaster(name, [
    `--zk=${cluster.zkUrl}`, `--zk_session_timeout=${sessionTimeout}s`, '--allocation_interval=0.2s',
  ]));
}

async function startFramework(cluster: Cluster, count: number, seen: Observed, backoff: number | undefined): Promise<void> {
  const logger: Logger = {
    debug: () => {},
    info: (line) => seen.sdkLog.push({ t: now(), line }),
    warn: (line) => seen.sdkLog.push({ t: now(), line: `warn: ${line}` }),
  };
  const scheduler = new Scheduler({
    master: cluster.zkUrl, framework: { name: 'bench-failover', failoverTimeoutSeconds: 3600, checkpoint: true }, logger,
    ...(backoff !== undefined && { reconnect: { initialDelayMs: Math.round(backoff * 1000) } }),
  });
  cluster.scheduler = scheduler;
  const demand = parseDemand('cpus:0.1;mem:16');
  const launched = new Map<string, string>(); // task id -> agent id
  const running = new Set<string>();
  let masterId = '';
  const perAgent = Math.ceil(count / AGENT_RESOURCES.length);
  scheduler.on('subscribed', (e) => {
    masterId = e.masterInfo?.id ?? '';
    seen.subscriptions.push({ t: now(), masterId });
    if (cluster.taskIds.length > 0) void scheduler.reconcile().catch(() => {});
  });
  scheduler.on('offers', (e) => {
    seen.offers.push({ t: now(), masterId });
    for (const offer of e.offers) void answerOffer(scheduler, offer, launched, perAgent, count, demand);
  });
  scheduler.on('update', (e: { status: TaskStatusOut }) => {
    const taskId = e.status.task_id?.value ?? '';
    const state = String(e.status.state);
    if (e.status.reason === 'REASON_RECONCILIATION' && !e.status.uuid?.length) seen.reconciled.push({ t: now(), masterId, taskId, state });
    else if (state === 'TASK_RUNNING' && !running.has(taskId)) running.add(taskId);
    else if (state !== 'TASK_STARTING') seen.unexpected.push({ t: now(), taskId, state, message: e.status.message ?? '' });
  });
  await scheduler.start();
  cluster.frameworkId = scheduler.frameworkId ?? '';
  const ok = await until(() => running.size >= count || null, 60_000);
  if (!ok) throw new Error(`only ${running.size}/${count} tasks RUNNING after 60 s (launched: ${[...launched.keys()].join(', ')})`);
  cluster.taskIds = [...launched.keys()].sort();
  const spread = AGENT_RESOURCES.map((_, i) => [...launched.values()].filter((a) => a === cluster.agentIds[i]).length);
  console.log(`framework ${cluster.frameworkId}: ${count} tasks RUNNING (${spread.join(' + ')} on the two agents)\n`);
  // Every later subscription is followed by implicit reconciliation, repeated every second (as Mesos advises).
  setInterval(() => void scheduler.reconcile().catch(() => {}), 1000).unref();
}

/** Launches what is still to launch on this offer's agent, or declines it (refusing 1 s). */
async function answerOffer(
  scheduler: Scheduler, offer: OfferOut, launched: Map<string, string>, perAgent: number, count: number, demand: ReturnType<typeof parseDemand>,
): Promise<void> {
  const agentId = offer.agent_id?.value ?? '';
  const packer = OfferPacker.of(offer);
  const tasks = [];
  while (launched.size < count && [...launched.values()].filter((a) => a === agentId).length < perAgent) {
    const resources = packer.take(demand);
    if (!resources) break;
    const taskId = `failover-${launched.size}`;
    launched.set(taskId, agentId);
    tasks.push(dockerTask({ taskId, agentId, resources, image: IMAGE, command: 'sleep 3600' }));
  }
  try {
    if (tasks.length > 0) await scheduler.launch(offer, tasks, { refuseSeconds: 1 });
    else await scheduler.decline(offer, { refuseSeconds: 1 });
  } catch (err) {
    if (tasks.length > 0) process.stderr.write(`launching ${tasks.map((t) => t.task_id?.value).join(', ')} failed: ${errorMessage(err)}\n`);
  }
}

// ---- one round ----------------------------------------------------------

interface MasterState {
  id: string;
  agents: { id: string; active: boolean }[];
  frameworks: { id: string; active: boolean; tasks: { id: string; state: string }[] }[];
}

async function failoverRound(cluster: Cluster, n: number, rounds: number, timeoutMs: number, seen: Observed, verbose: boolean): Promise<Timings | null> {
  const old = await settled(cluster, timeoutMs);
  if (!old) {
    console.log(`round ${n}/${rounds}: no master leads; stopping here`);
    return null;
  }
  const oldId = cluster.detector.detector.current()?.id ?? '';
  const t0 = now();
  old.signal('SIGKILL');
  const { timings, leader, state } = await measure(cluster, seen, oldId, t0, timeoutMs);
  await old.exited;
  cluster.masters.splice(cluster.masters.indexOf(old), 1);
  const newName = cluster.masters.find((m) => m.httpAddress === leader?.http)?.name ?? '?';
  const shown = (Object.keys(FIGURES) as Figure[]).map((f) => `${f} ${timings[f] === undefined ? '—' : secs(timings[f])}`).join(', ');
  console.log(`round ${n}/${rounds}: SIGKILL ${old.name} (pid ${old.pid}) -> ${newName}: ${shown} s`);
  for (const f of Object.keys(FIGURES) as Figure[]) {
    if (timings[f] === undefined) console.log(`  missing ${f}: ${missing(f, cluster, leader, state, seen, t0, timeoutMs)}`);
  }
  for (const u of seen.unexpected.filter((x) => x.t >= t0)) console.log(`  unexpected update: ${u.taskId} ${u.state} at +${secs(u.t - t0)} s "${u.message}"`);
  const odd = seen.reconciled.filter((r) => r.t >= t0 && r.state !== 'TASK_RUNNING');
  for (const r of odd) console.log(`  reconciliation answered ${r.taskId} ${r.state} at +${secs(r.t - t0)} s (master ${r.masterId.slice(0, 8)})`);
  if (verbose) {
    const lines = [
      ...seen.leaders.map((l) => ({ t: l.t, line: `ZooKeeper: leader ${l.leader ? `${l.leader.http} (${l.leader.id})` : 'none'}` })),
      ...seen.sdkLog.map((l) => ({ t: l.t, line: `scheduler: ${l.line}` })),
    ].filter((x) => x.t >= t0).sort((a, b) => a.t - b.t);
    for (const l of lines) console.log(`  +${secs(l.t - t0)} s ${l.line}`);
  }
  return timings;
}

/** Polls the new leader's /state and looks at what the detector and the scheduler saw since t0, until every figure is in or time is up. */
async function measure(cluster: Cluster, seen: Observed, oldId: string, t0: number, timeoutMs: number) {
  const timings: Timings = {};
  let leader: LeaderInfo | null = null;
  let state: MasterState | null = null;
  const deadline = t0 + timeoutMs;
  while (now() < deadline && (Object.keys(FIGURES) as Figure[]).some((f) => timings[f] === undefined)) {
    leader ??= seen.leaders.find((e) => e.t >= t0 && e.leader && e.leader.id !== oldId)?.leader ?? null;
    if (leader) {
      timings.elected ??= seen.leaders.find((e) => e.leader === leader)!.t - t0;
      const at = now();
      state = (await stateOf(leader.http)) ?? state;
      if (state?.id === leader.id) {
        timings.serving ??= at - t0;
        if (agentsBack(cluster, state)) timings.agents ??= at - t0;
        if (tasksRunning(cluster, state)) timings.tasks ??= at - t0;
      }
      const newId = leader.id;
      const since = <T extends { t: number; masterId: string }>(xs: T[]) => xs.filter((x) => x.t >= t0 && x.masterId === newId);
      timings.subscribed ??= minus(since(seen.subscriptions)[0]?.t, t0);
      timings.offers ??= minus(since(seen.offers)[0]?.t, t0);
      timings.reconciled ??= minus(allRunningAt(cluster.taskIds, since(seen.reconciled)), t0);
    }
    await sleep(50);
  }
  return { timings, leader, state };
}

/** Waits (up to timeoutMs) until one master leads with both agents, all tasks and the framework; returns the leader. */
async function settled(cluster: Cluster, timeoutMs: number): Promise<MasterProc | null> {
  const ok = await until(async () => {
    const leader = await leaderOf(cluster.masters);
    const state = await stateOf(leader?.httpAddress);
    const fw = state?.frameworks.find((f) => f.id === cluster.frameworkId);
    const detected = cluster.detector.detector.current()?.http === leader?.httpAddress;
    return leader && state && detected && fw?.active && agentsBack(cluster, state) && tasksRunning(cluster, state) ? leader : null;
  }, timeoutMs);
  if (ok) return ok;
  const leader = await leaderOf(cluster.masters);
  console.log(`  (the cluster did not settle within ${secs(timeoutMs)} s; killing ${leader?.name ?? 'nobody'} anyway)`);
  return leader;
}

/** When the answers had named every task TASK_RUNNING (the latest answer for each counts). */
function allRunningAt(taskIds: readonly string[], answers: readonly { t: number; taskId: string; state: string }[]): number | undefined {
  const latest = new Map<string, string>();
  for (const a of answers) {
    latest.set(a.taskId, a.state);
    if (taskIds.every((id) => latest.get(id) === 'TASK_RUNNING')) return a.t;
  }
  return undefined;
}

function agentsBack(cluster: Cluster, state: MasterState): boolean {
  const active = new Set(state.agents.filter((a) => a.active).map((a) => a.id));
  return cluster.agentIds.every((id) => active.has(id));
}

function tasksRunning(cluster: Cluster, state: MasterState): boolean {
  const tasks = state.frameworks.find((f) => f.id === cluster.frameworkId)?.tasks ?? [];
  const running = tasks.filter((t) => t.state === 'TASK_RUNNING').map((t) => t.id).sort();
  return running.length === cluster.taskIds.length && running.every((id, i) => id === cluster.taskIds[i]);
}

/** Why a figure was not reached, from what was seen. */
function missing(f: Figure, cluster: Cluster, leader: LeaderInfo | null, state: MasterState | null, seen: Observed, t0: number, timeoutMs: number): string {
  const within = `not within ${secs(timeoutMs)} s`;
  if (!leader) return `${within}: ZooKeeper named no new leader`;
  if (f === 'serving') return `${within}: ${leader.http} never answered /state with 200 as ${leader.id}`;
  if (!state) return `${within}: no /state from the new leader`;
  const fw = state.frameworks.find((x) => x.id === cluster.frameworkId);
  if (f === 'agents') return `${within}: active agents ${JSON.stringify(state.agents.map((a) => `${a.id.slice(-3)}${a.active ? '' : ' (inactive)'}`))}, expected ${cluster.agentIds.map((a) => a.slice(-3)).join(', ')}`;
  if (f === 'tasks') return `${within}: the new leader's tasks of the framework: ${fw ? JSON.stringify(fw.tasks.map((t) => `${t.id}:${t.state}`)) : 'framework unknown'}`;
  const subs = seen.subscriptions.filter((s) => s.t >= t0);
  const last = seen.sdkLog.filter((l) => l.t >= t0).slice(-2).map((l) => `+${secs(l.t - t0)} s ${l.line}`).join(' | ');
  if (f === 'subscribed') return `${within}: scheduler state ${cluster.scheduler?.state}; subscriptions since the kill: ${subs.length}; last SDK lines: ${last || 'none'}`;
  if (f === 'offers') return `${within}: ${subs.some((s) => s.masterId === leader.id) ? 'subscribed, but no offer came' : 'never subscribed with the new leader'}; framework ${fw?.active ? 'active' : 'not active'} on it`;
  const answers = seen.reconciled.filter((r) => r.t >= t0 && r.masterId === leader.id);
  return `${within}: answers from the new leader: ${answers.length === 0 ? 'none' : JSON.stringify([...new Map(answers.map((a) => [a.taskId, a.state]))])}`;
}

// ---- the end ------------------------------------------------------------

async function finalCheck(cluster: Cluster): Promise<void> {
  const running = await new Docker().listContainers({ filters: { label: ['mesos-ts.work_dir'], status: ['running'] } });
  const ours = running.filter((c) => (c.Labels['mesos-ts.work_dir'] ?? '').startsWith(cluster.group.dir + '/'));
  const tasks = ours.map((c) => c.Labels['mesos-ts.task_id'] ?? '?').sort();
  const same = tasks.length === cluster.taskIds.length && tasks.every((t, i) => t === cluster.taskIds[i]);
  console.log(`\ntask containers running at the end: ${tasks.length} (${same ? 'exactly the tasks launched, none lost or duplicated' : `expected ${cluster.taskIds.join(', ')}, found ${tasks.join(', ')}`})`);
}

function printTable(results: Timings[], sessionTimeout: number): void {
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
  console.log(`\n${'after SIGKILL of the leader (s)'.padEnd(36)}${'median'.padStart(8)}${'p95'.padStart(8)}${'measured'.padStart(11)}`);
  for (const [f, label] of Object.entries(FIGURES) as [Figure, string][]) {
    const xs = results.map((r) => r[f]).filter((x): x is number => x !== undefined);
    const cell = (v: number | null) => (v === null ? '—' : secs(v)).padStart(8);
    console.log(`${label.padEnd(36)}${cell(xs.length ? pct(xs, 50) : null)}${cell(xs.length ? pct(xs, 95) : null)}${`${xs.length}/${results.length}`.padStart(11)}`);
  }
  const offers = results.map((r) => r.offers).filter((x): x is number => x !== undefined);
  const median = offers.length ? pct(offers, 50) : null;
  const verdict = median === null ? 'NOT MEASURED' : median < 3000 ? 'MET' : 'MISSED';
  const allMeasured = offers.length === results.length ? '' : ` (in ${offers.length} of ${results.length} rounds)`;
  console.log(`\ntarget: offers again < 3 s median: ${median === null ? '—' : `${secs(median)} s`}${allMeasured} -> ${verdict}` +
    ` (ZooKeeper session timeout ${sessionTimeout} s; Apache Mesos's default session timeout alone is 10 s)`);
}

async function tearDown(cluster: Cluster | null, logs: string | undefined): Promise<void> {
  if (!cluster) return;
  await cluster.scheduler?.teardown({ signal: AbortSignal.timeout(5000) }).catch(() => cluster.scheduler?.close());
  cluster.detector.detector.stop();
  cluster.detector.session.close();
  await Promise.all(cluster.group.processes().map((p) => p.stop()));
  if (logs) {
    cpSync(join(cluster.group.dir, 'logs'), logs, { recursive: true });
    console.log(`logs of the masters and agents copied to ${logs}`);
  }
  await cluster.group.stopAll();
  await cluster.zk.stop();
}

// ---- helpers ------------------------------------------------------------

async function stateOf(httpAddress: string | undefined): Promise<MasterState | null> {
  if (!httpAddress) return null;
  const res = await fetch(`http://${httpAddress}/state`, { redirect: 'manual', signal: AbortSignal.timeout(1000) }).catch(() => null);
  if (res?.status !== 200) {
    await res?.body?.cancel();
    return null;
  }
  return (await res.json().catch(() => null)) as MasterState | null;
}

/** Polls `probe` every 50 ms until it gives something truthy; null after `ms`. */
async function until<T>(probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms: number): Promise<T | null> {
  const deadline = now() + ms;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (now() > deadline) return null;
    await sleep(50);
  }
}

const minus = (t: number | undefined, t0: number) => (t === undefined ? undefined : t - t0);

await main();
