// The phases of one harness run, each measured from outside the master:
// registration, first offers, sustained throughput (with /master/state and
// GET_STATE sampled alongside), and failover. Each returns plain figures
// (result.ts); nothing here reaches into the master's process.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkSession } from '../../common/zk/session.js';
import { LeaderDetector } from '../../common/zk/detector.js';
import { procSample, CpuMeter } from '../../common/proc-stats.js';
import { WorkerProc, ZK_PATH, type Cluster, type MasterProc } from './cluster.js';
import { wallNow, type AgentWorkerProgress, type FrameworkTimes, type SchedulerWorkerProgress } from './ipc.js';
import { parseMasterTrace, stages, type TaskSightings } from './stages.js';
import type { Distribution, FailoverFigures, OfferFigures, RegistrationFigures, ThroughputFigures } from './result.js';

export function distribution(xs: readonly number[]): Distribution {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]! : null);
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? null };
}

/**
 * SUBSCRIBED -> first offer (ms, at the scheduler) of each framework, in the
 * order their SUBSCRIBED arrived: on an idle cluster the first subscriber is
 * offered every agent, and who subscribed after it waits for what it
 * declines (round 7 in docs/scale/README.md).
 */
export function firstOffersInOrder(fws: readonly FrameworkTimes[]): number[] {
  return fws
    .flatMap((f) => (f.subscriptions[0] && f.firstOffers[0] ? [{ subscribed: f.subscriptions[0].at, wait: f.firstOffers[0].at - f.subscriptions[0].at }] : []))
    .sort((a, b) => a.subscribed - b.subscribed)
    .map((f) => f.wait);
}

/** Polls every `everyMs` until `probe` gives something truthy; null after `ms`. */
export async function until<T>(probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms: number, everyMs = 100): Promise<T | null> {
  const deadline = wallNow() + ms;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (wallNow() > deadline) return null;
    await sleep(everyMs);
  }
}

/** Each worker's event-loop delay p99 over its last report interval, agents then schedulers. */
const workerLoops = (c: Cluster) =>
  [...c.agentWorkers, ...c.schedulerWorkers].map((w) => (w.latest ? `${w.latest.loopP99Ms.toFixed(0)}` : '?')).join('/') + ' ms';

export async function leaderOf(masters: readonly MasterProc[]): Promise<MasterProc | null> {
  for (const m of masters) if ((await m.metrics())?.['master/elected'] === 1) return m;
  return null;
}

const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);
export const agentCounts = (c: Cluster) => c.agentWorkers.map((w) => w.latest).filter((p): p is AgentWorkerProgress => p !== null);
export const schedulerCounts = (c: Cluster) => c.schedulerWorkers.map((w) => w.latest).filter((p): p is SchedulerWorkerProgress => p !== null);
const acked = (c: Cluster, state?: string) =>
  sum(agentCounts(c), (p) => (state ? p.acknowledged[state] ?? 0 : sum(Object.values(p.acknowledged), (v) => v)));

export interface AgentSpec {
  readonly agents: number;
  readonly resources: string;
  readonly racks: number;
  readonly finishAfterMs: number;
  readonly timeoutMs: number;
  readonly ownConnections: boolean;
}

/** Forks every worker up front and waits until all have loaded (the TypeScript loader takes seconds), so no phase times a start-up. */
export async function forkWorkers(c: Cluster, agentWorkers: number, schedulerProcesses: number, profileDir: string | null = null): Promise<void> {
  const dir = (kind: string) => (profileDir ? join(profileDir, kind) : null);
  for (let i = 0; i < agentWorkers; i++) c.agentWorkers.push(WorkerProc.fork<AgentWorkerProgress>('./agent-worker.ts', dir('agent-workers')));
  for (let i = 0; i < schedulerProcesses; i++) c.schedulerWorkers.push(WorkerProc.fork<SchedulerWorkerProgress>('./scheduler-worker.ts', dir('scheduler-workers')));
  await Promise.all([...c.agentWorkers, ...c.schedulerWorkers].map((w) => w.ready));
}

export async function registration(c: Cluster, leader: MasterProc, master: string, spec: AgentSpec): Promise<RegistrationFigures> {
  const per = Math.ceil(spec.agents / c.agentWorkers.length);
  const t0 = wallNow();
  c.agentWorkers.forEach((w, i) => w.send({
    type: 'start', master, first: i * per, count: Math.max(0, Math.min(per, spec.agents - i * per)), resources: spec.resources, racks: spec.racks, finishAfterMs: spec.finishAfterMs, ownConnections: spec.ownConnections,
  }));
  const seen = await until(async () => {
    const m = await leader.metrics();
    return m && m['master/slaves_active']! >= spec.agents ? { at: wallNow(), m } : null;
  }, spec.timeoutMs);
  // The workers report every 250 ms: wait for the reports that count every agent (a loaded machine delays them).
  await until(() => sum(agentCounts(c), (p) => p.registered) >= spec.agents, seen ? 5000 : 0);
  const workers = agentCounts(c);
  const lastAt = Math.max(...workers.map((p) => p.lastRegisteredAt ?? 0));
  const after = procSample(leader.pid);
  const m = seen?.m ?? (await leader.metrics()) ?? {};
  return {
    agents: spec.agents,
    registeredPerMaster: m['master/slaves_active'] ?? 0,
    registeredPerWorkers: sum(workers, (p) => p.registered),
    allRegisteredMs: seen ? seen.at - t0 : null,
    lastRegisteredMs: lastAt > 0 ? lastAt - t0 : null,
    masterRssMb: after?.rssMb ?? null,
    masterCpuSeconds: after?.cpuSeconds ?? null,
    agentWorkersCpuSeconds: new CpuMeter(() => c.agentWorkers.map((w) => w.pid)).total(),
  };
}

export interface SchedulerSpec {
  readonly frameworks: number;
  readonly demand: string;
  readonly tasksPerOffer: number;
  readonly maxInFlight: number;
  readonly declineSeconds: number;
}

export async function firstOffers(c: Cluster, leader: MasterProc, master: string, spec: SchedulerSpec): Promise<OfferFigures> {
  const names = Array.from({ length: spec.frameworks }, (_, i) => `scale-${String(i).padStart(4, '0')}`);
  c.schedulerWorkers.forEach((w, i) => w.send({
    type: 'start', master, names: names.filter((_, j) => j % c.schedulerWorkers.length === i), demand: spec.demand, tasksPerOffer: spec.tasksPerOffer, maxInFlight: spec.maxInFlight, declineSeconds: spec.declineSeconds,
  }));
  const all = await until(() => {
    const fws = schedulerCounts(c).flatMap((p) => p.frameworks);
    return fws.length === spec.frameworks && fws.every((f) => f.firstOffers.length > 0) ? fws : null;
  }, 30_000);
  const fws = all ?? schedulerCounts(c).flatMap((p) => p.frameworks);
  const m = (await leader.metrics(10_000)) ?? {};
  return {
    frameworks: spec.frameworks,
    withOffer: fws.filter((f) => f.firstOffers.length > 0).length,
    subscribeToOfferMs: distribution(fws.flatMap((f) => (f.firstOffers[0] ? [f.firstOffers[0].at - f.subscribeSentAt] : []))),
    subscribedToOfferMs: distribution(fws.flatMap((f) => (f.firstOffers[0] && f.subscriptions[0] ? [f.firstOffers[0].at - f.subscriptions[0].at] : []))),
    subscribedToOfferInOrderMs: firstOffersInOrder(fws),
    subscribeToSubscribedMs: distribution(fws.flatMap((f) => (f.subscriptions[0] ? [f.subscriptions[0].at - f.subscribeSentAt] : []))),
    masterSubscribeToSubscribedMs: timerOf(m, 'master/subscribe_to_subscribed_ms'),
    masterSubscribedToFirstOfferMs: timerOf(m, 'master/subscribed_to_first_offer_ms'),
    allocationRunMs: m['allocator/mesos/allocation_run_ms'] ?? null,
    errors: c.schedulerWorkers.flatMap((w) => w.errors),
  };
}

/** A master timer metric (common/timer-window.ts) as a distribution: n is every value timed, the rest over its window. */
export function timerOf(m: Record<string, number>, name: string): Distribution {
  const n = m[`${name}/count`] ?? 0;
  return { n, p50: n > 0 ? m[`${name}/p50`] ?? null : null, p99: n > 0 ? m[`${name}/p99`] ?? null : null, max: n > 0 ? m[`${name}/max`] ?? null : null };
}

/**
 * How long one request took, body read; null when it failed. A body still
 * being read when the 10 s bound runs out counts as the time until then (a
 * floor), not as a failure: a starved master at N=5,000 sends /master/state
 * that slowly, and the abort, unawaited, had ended the harness.
 */
async function timed(url: string, init?: RequestInit): Promise<number | null> {
  const t = wallNow();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }).catch(() => null);
  if (!res || res.status !== 200) return void (await res?.body?.cancel().catch(() => {})), null;
  await res.arrayBuffer().catch(() => {});
  return wallNow() - t;
}

/** Runs for `seconds`, counting acknowledgements, polling the metrics each second and timing /master/state and GET_STATE every `sampleMs`. */
export async function throughput(c: Cluster, leader: MasterProc, seconds: number, sampleMs: number, progress: (line: string) => void): Promise<ThroughputFigures> {
  const cpu = {
    master: new CpuMeter(() => [leader.pid]), agents: new CpuMeter(() => c.agentWorkers.map((w) => w.pid)),
    schedulers: new CpuMeter(() => c.schedulerWorkers.map((w) => w.pid)), zk: new CpuMeter(() => [c.zk.pid() ?? 0]),
  };
  for (const w of [...c.agentWorkers, ...c.schedulerWorkers]) w.loopP99Ms.length = 0;
  const queued0 = procSample(leader.pid)?.runQueueSeconds ?? 0;
  const cpu0 = { master: cpu.master.total(), agents: cpu.agents.total(), schedulers: cpu.schedulers.total(), zk: cpu.zk.total() };
  const launched = () => sum(schedulerCounts(c), (p) => p.launched);
  const start = { t: wallNow(), running: acked(c, 'TASK_RUNNING'), all: acked(c), launched: launched() };
  const end = start.t + seconds * 1000;
  const state: number[] = [];
  const getState: number[] = [];
  const loopP99: number[] = [];
  const eventsWaiting: number[] = [];
  const rss: number[] = [];
  const zkRss: number[] = [];
  const bytes0 = (await leader.metrics())?.['registrar/bytes_written'] ?? 0;
  const rssByTasks: [number, number | null, number | null][] = [];
  const perSecond: [number, number][] = [];
  // One request per tick, /master/state and GET_STATE in turn; a tick starts `sampleMs` after the previous one started, or when it ended if it took longer.
  const sampler = (async () => {
    for (let i = 0; sampleMs > 0 && wallNow() < end; i++) {
      const tick = wallNow();
      const t = i % 2 === 0
        ? await timed(`http://${leader.http}/master/state`)
        : await timed(`http://${leader.http}/api/v1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"GET_STATE"}' });
      if (t !== null) (i % 2 === 0 ? state : getState).push(t);
      await sleep(Math.max(0, tick + sampleMs - wallNow()));
    }
  })();
  // A write of our own to ZooKeeper each second: what a registry write waits for (a ZooKeeper write is synced to its disk).
  const zkWrites: number[] = [];
  const probe = await ZkSession.connect({ servers: c.zk.connectString, sessionTimeoutMs: 10_000 });
  await probe.mkdirp('/scale-probe');
  const prober = (async () => {
    while (wallNow() < end) {
      const t = wallNow();
      const ok = await probe.commit([{ op: 'set', path: '/scale-probe', data: Buffer.from(String(t)) }]).then(() => true, () => false);
      if (ok) zkWrites.push(wallNow() - t);
      await sleep(Math.max(0, t + 1000 - wallNow()));
    }
  })();
  let masterLostAtS: number | null = null;
  let last = start;
  while (wallNow() < end) {
    await sleep(Math.min(1000, Math.max(0, end - wallNow())));
    const m = await leader.metrics();
    if (masterLostAtS === null) {
      const why = lostLeader(leader, m);
      if (why) {
        masterLostAtS = (wallNow() - start.t) / 1000;
        progress(`  ${why} (see its log: a stalled loop outlives its ZooKeeper session); figures from here on are void`);
      }
    }
    if (m) {
      loopP99.push(m['master/event_loop_delay_p99_ms'] ?? 0);
      eventsWaiting.push(m['master/framework_event_queue_messages'] ?? 0);
    }
    const rssMb = procSample(leader.pid)?.rssMb ?? null;
    rss.push(rssMb ?? 0);
    zkRss.push(procSample(c.zk.pid() ?? 0)?.rssMb ?? 0);
    rssByTasks.push([(wallNow() - start.t) / 1000, m?.['master/tasks_running'] ?? null, rssMb]);
    const now = { t: wallNow(), running: acked(c, 'TASK_RUNNING'), all: acked(c), launched: launched() };
    const rate = ((now.running - last.running) * 1000) / (now.t - last.t);
    perSecond.push([(now.t - start.t) / 1000, rate]);
    progress(`  ${((now.t - start.t) / 1000).toFixed(0).padStart(3)} s: ${Math.round(rate)} tasks RUNNING/s, ${now.running - start.running} in the window, ` +
      `loop p99 ${(m?.['master/event_loop_delay_p99_ms'] ?? 0).toFixed(0)} ms, tasks running ${m?.['master/tasks_running'] ?? '?'}, RSS ${rssMb?.toFixed(0) ?? '?'} MB, ` +
      `events waiting in the master ${m?.['master/framework_event_queue_messages'] ?? '?'}, worker loop p99 ${workerLoops(c)}`);
    last = now;
  }
  await sampler;
  await prober;
  probe.close();
  const hops = await tracedHops(c, leader);
  const t1 = wallNow();
  const span = (t1 - start.t) / 1000;
  const m = (await leader.metrics(10_000)) ?? {};
  return {
    seconds: span,
    launched: launched() - start.launched,
    runningAcked: acked(c, 'TASK_RUNNING') - start.running,
    updatesAcked: acked(c) - start.all,
    tasksRunningPerSecond: (acked(c, 'TASK_RUNNING') - start.running) / span,
    updatesAckedPerSecond: (acked(c) - start.all) / span,
    tasksRunningAtEnd: m['master/tasks_running'] ?? null,
    tasksFinishedTotal: m['master/tasks_finished'] ?? null,
    perSecond,
    agentAcksByState: Object.fromEntries(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED', 'TASK_KILLED'].map((st) => [st, acked(c, st)])),
    schedulerCounts: {
      offers: sum(schedulerCounts(c), (p) => p.offers), launched: launched(), launchErrors: sum(schedulerCounts(c), (p) => p.launchErrors),
      running: sum(schedulerCounts(c), (p) => p.running), finished: sum(schedulerCounts(c), (p) => p.finished), other: sum(schedulerCounts(c), (p) => p.otherUpdates),
    },
    launchToStartingMs: distribution(schedulerCounts(c).flatMap((p) => p.latency.starting)),
    launchToRunningMs: distribution(schedulerCounts(c).flatMap((p) => p.latency.running)),
    stateMs: distribution(state),
    getStateMs: distribution(getState),
    eventLoopP99Ms: distribution(loopP99),
    frameworkEventsWaiting: distribution(eventsWaiting),
    workerLoopP99Ms: {
      agents: distribution(c.agentWorkers.flatMap((w) => w.loopP99Ms)), schedulers: distribution(c.schedulerWorkers.flatMap((w) => w.loopP99Ms)),
    },
    zkWriteMs: distribution(zkWrites),
    hopsMs: hops,
    allocationRunMs: timerOf(m, 'allocator/mesos/allocation_run_ms'),
    masterRssMbMax: Math.max(0, ...rss),
    zkRssMbMax: Math.max(0, ...zkRss),
    registryBytesWritten: (m['registrar/bytes_written'] ?? bytes0) - bytes0,
    masterRssByTasks: rssByTasks,
    masterLostAtS,
    masterRunQueueSeconds: (procSample(leader.pid)?.runQueueSeconds ?? queued0) - queued0,
    cpuSeconds: {
      master: cpu.master.total() - cpu0.master, agents: cpu.agents.total() - cpu0.agents,
      schedulers: cpu.schedulers.total() - cpu0.schedulers, zookeeper: cpu.zk.total() - cpu0.zk,
    },
  };
}

/** Why `leader` is no longer the leader it was (it says so, or it exited: a deposed master ends with code 1), or null. */
function lostLeader(leader: MasterProc, m: Record<string, number> | null): string | null {
  if (m && m['master/elected'] !== 1) return 'the master no longer leads';
  const { exitCode, signalCode } = leader.child;
  if (exitCode !== null || signalCode !== null) return `the master exited (${signalCode ?? `code ${exitCode}`})`;
  return null;
}

/**
 * Every tenth task, stage by stage (stages.ts): what its scheduler and its
 * agent saw, and with --master_trace what the leader saw, on the wall clock
 * of one machine.
 */
async function tracedHops(c: Cluster, leader: MasterProc): Promise<Record<string, Distribution>> {
  const workers = [...c.agentWorkers, ...c.schedulerWorkers] as WorkerProc<AgentWorkerProgress | SchedulerWorkerProgress>[];
  for (const w of workers) {
    w.hops = null;
    w.send({ type: 'hops' });
  }
  await until(() => workers.every((w) => w.hops !== null), 5000, 50);
  await sleep(leader.traceFile ? 300 : 0); // the master writes its trace every 200 ms
  const agentSide = new Map(c.agentWorkers.flatMap((w) => Object.entries(w.hops ?? {})));
  const masterSide = leader.traceFile && existsSync(leader.traceFile) ? parseMasterTrace(readFileSync(leader.traceFile, 'utf8')) : new Map<string, Record<string, number[]>>();
  const tasks: TaskSightings[] = c.schedulerWorkers.flatMap((w) => Object.entries(w.hops ?? {}).map(([taskId, s]) => ({ s, a: agentSide.get(taskId), m: masterSide.get(taskId) })));
  return Object.fromEntries(stages(tasks, distribution).map((st) => [st.name, st.ms]));
}

/** SIGKILLs the leader; times the standby's election, all agents back on it, and every framework's first offer from it. */
export async function failover(c: Cluster, agents: number, timeoutMs: number): Promise<FailoverFigures> {
  const old = await leaderOf(c.masters);
  const standby = c.masters.find((m) => m !== old);
  if (!old || !standby) throw new Error('failover needs a leader and a standby');
  const oldIds = new Set(schedulerCounts(c).flatMap((p) => p.frameworks.map((f) => f.subscriptions.at(-1)?.masterId ?? '')));
  // The election as agents and schedulers see it: the leader's znode in ZooKeeper.
  const session = await ZkSession.connect({ servers: c.zk.connectString, sessionTimeoutMs: 10_000 });
  const detector = new LeaderDetector(session, ZK_PATH);
  const first = await detector.start();
  let electedMs: number | null = null;
  let t0 = wallNow();
  detector.onChange((leader) => {
    if (leader && leader.id !== first?.id) electedMs ??= wallNow() - t0;
  });
  let answeredMs: number | null = null;
  let agentsMs: number | null = null;
  try {
    t0 = wallNow();
    old.child.kill('SIGKILL');
    await until(async () => {
      const m = await standby.metrics(5000);
      if (m?.['master/elected'] === 1) answeredMs ??= wallNow() - t0;
      if (answeredMs !== null && (m?.['master/slaves_active'] ?? 0) >= agents) agentsMs ??= wallNow() - t0;
      return agentsMs !== null;
    }, timeoutMs, 50);
  } finally {
    detector.stop();
    session.close();
  }
  const offered = await until(() => {
    const fws = schedulerCounts(c).flatMap((p) => p.frameworks);
    const again = fws.map((f) => f.firstOffers.find((o) => o.at > t0 && !oldIds.has(o.masterId))?.at);
    return again.every((x) => x !== undefined) ? (again as number[]) : null;
  }, timeoutMs);
  const m = (await standby.metrics()) ?? {};
  c.masters.splice(c.masters.indexOf(old), 1);
  return {
    electedMs, firstAnswerAsLeaderMs: answeredMs, allAgentsBackMs: agentsMs,
    agentsBack: m['master/slaves_active'] ?? 0,
    registryFetchMs: m['registrar/state_fetch_ms'] ?? null,
    offersAgainMs: offered ? distribution(offered.map((t) => t - t0)) : null,
    agentsReregisteredAfterElectionMs: agentsMs !== null && electedMs !== null ? agentsMs - electedMs : null,
  };
}
