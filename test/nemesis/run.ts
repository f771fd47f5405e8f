// A randomized fault run from start to verdict: the cluster (on loopback, or
// on simulated hosts with a ZooKeeper ensemble) with its load frameworks, the
// observer, the nemesis playing its seeded schedule; then everything healed,
// the frameworks asked to stop launching and killing, the cluster left to
// settle, the end snapshot taken, the masters' terms as leader read from their
// logs, and the checker run over the history. Used by `npm run nemesis`
// (bench/nemesis.ts) and by the short runs of the test suite.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../harness/wait-until.js';
import { isTerminal, type TaskState } from '../../common/task-state.js';
import { HistoryWriter, readHistory } from './history.js';
import { checkHistory, formatVerdicts, type Verdict } from './checker.js';
import { NemesisCluster } from './cluster.js';
import { loopbackInjectors, type Injector } from './injectors.js';
import { hostInjectors } from './host-injectors.js';
import { FAKETIME_LIB } from './machines.js';
import { refusedFaults } from './fault-names.js';
import { DISK_FULL_LINE } from './disk-injector.js';
import { describeSchedule, planSchedule, playSchedule, type ScheduleOptions } from './nemesis.js';
import { Observer, endSnapshot, operatorCall, type GetState } from './observer.js';

export interface RunOptions {
  readonly seconds: number;
  readonly seed: number;
  /** Gets history.jsonl, the framework id files and, at the end, the processes' logs (logs/). */
  readonly out: string;
  readonly agents?: number;
  readonly frameworks?: number;
  /**
   * Each master, agent and ZooKeeper member (an ensemble of 3) on a simulated host of its own, with partitions and
   * ensemble members lost among the faults (needs root: network namespaces and iptables).
   */
  readonly hosts?: boolean;
  /** Faults that may hold at once (default 1); every one is healed before the end. */
  readonly concurrency?: number;
  /** Gaps between faults and how long they hold (defaults: 2-6 s and 1-7 s). */
  readonly timing?: Pick<ScheduleOptions, 'minGapMs' | 'maxGapMs' | 'minHoldMs' | 'maxHoldMs'>;
  readonly log?: (line: string) => void;
  /** Only the injectors of these names (all by default); an unknown name is an error that names the known ones. */
  readonly faults?: readonly string[];
  /** `faults` once each, in their order (see ScheduleOptions.inOrder); `seconds` still ends the run if they take longer. */
  readonly inOrder?: boolean;
  /** Checked between faults: true ends the run early (Ctrl-C). */
  readonly aborted?: () => boolean;
  /** Called with the cluster once it runs, so a caller can stop it on Ctrl-C. */
  readonly started?: (cluster: NemesisCluster) => void;
}

export interface RunReport {
  readonly seed: number;
  readonly seconds: number;
  readonly hosts: boolean;
  readonly concurrency: number;
  readonly faultsByKind: Readonly<Record<string, number>>;
  /** The most faults that held at once. */
  readonly maxConcurrent: number;
  /** Calls answered ok, by operation. */
  readonly operations: Readonly<Record<string, number>>;
  readonly updates: number;
  /** Agent log lines that say a write failed for want of space (ENOSPC): a full disk must fail loudly. */
  readonly diskErrorsLogged: number;
  /** Tasks whose containers a fill-disk fault ended: ends the agent had to write down on its full disk. */
  readonly diskFillEnded: number;
  readonly verdicts: readonly Verdict[];
  readonly violations: number;
  readonly settled: boolean;
  readonly historyPath: string;
}

// Minutes: at a load average of 60 a master restarted after the faults took more than 90 s to answer as leader.
const SETTLE_TIMEOUT_MS = 180_000;

/** From the history so far: tasks whose LAUNCH or KILL a master acknowledged and whose end no framework heard of. */
function outstanding(historyPath: string): { launched: Set<string>; killed: Set<string> } {
  const events = readHistory(historyPath);
  const calls = new Map(events.flatMap((e) => (e.type === 'call' ? [[e.id, e.taskIds ?? []] as const] : [])));
  const acked = (op: string) => new Set(events.flatMap((e) => (e.type === 'answer' && e.op === op && e.result === 'ok' ? [...(calls.get(e.id) ?? [])] : [])));
  const launched = acked('LAUNCH');
  const killed = acked('KILL');
  for (const e of events) if (e.type === 'update' && isTerminal(e.state as TaskState)) (launched.delete(e.taskId), killed.delete(e.taskId));
  return { launched, killed };
}

/**
 * The leader's state once every agent and framework is back, no task is between states, every acknowledged launch
 * is known or ended (a launch answered just before its master died is reported lost to the framework's explicit
 * reconciliation), and every task whose kill was acknowledged has ended (a master drops a kill for a task it does not
 * know yet, as Mesos does; the frameworks send it again); the last state seen if that takes too long.
 */
async function settle(cluster: NemesisCluster, agents: number, frameworks: number): Promise<{ state: GetState; settled: boolean }> {
  let last: GetState | null = null;
  const settled = await waitUntil(async () => {
    const leader = await cluster.leader();
    const state = leader && (await operatorCall<GetState>(leader.httpAddress, 'GET_STATE', 'get_state'));
    if (!state) return false;
    last = state;
    const activeAgents = (state.get_agents?.agents ?? []).filter((a) => a.active).length;
    const activeFrameworks = (state.get_frameworks?.frameworks ?? []).filter((f) => f.active).length;
    const between = (state.get_tasks?.tasks ?? []).filter((t) => t.state !== 'TASK_RUNNING').length;
    if (activeAgents !== agents || activeFrameworks !== frameworks || between > 0 || (state.get_tasks?.unreachable_tasks ?? []).length > 0) return false;
    // Every acknowledged launch known to the leader (or ended), every acknowledged kill carried out.
    const { launched, killed } = outstanding(cluster.historyPath);
    const tasks = new Set((state.get_tasks?.tasks ?? []).map((t) => t.task_id.value));
    return [...launched].every((id) => tasks.has(id)) && ![...killed].some((id) => tasks.has(id));
  }, SETTLE_TIMEOUT_MS, 'the cluster to settle').then(() => true, () => false);
  if (!last) throw new Error(`no leader answered GET_STATE within ${SETTLE_TIMEOUT_MS / 1000} s after the faults were healed`);
  return { state: last, settled };
}

/** The injectors named in `names`, in that order (every one when absent); throws on a name no injector has. */
export function onlyNamed(injectors: readonly Injector[], names?: readonly string[]): Injector[] {
  if (!names) return [...injectors];
  const known = injectors.map((i) => i.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0 || names.length === 0) throw new Error(`unknown fault ${unknown.join(', ') || '(none given)'}; this cluster's faults: ${known.join(', ')}`);
  return [...new Set(names)].map((n) => injectors.find((i) => i.name === n)!);
}

/** A run refused before it started anything: what it was asked for cannot be done. */
export class RunRefused extends Error {
  override readonly name = 'RunRefused';
}

/** Why these options cannot make a run (empty when they can): checked before anything starts. */
export function refusedOptions(o: Pick<RunOptions, 'seconds' | 'concurrency' | 'hosts' | 'faults' | 'inOrder' | 'agents' | 'frameworks'>): string[] {
  const reasons: string[] = [];
  const whole = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) reasons.push(`${name} must be a whole number of at least ${min}, got ${v}`);
  };
  if (!(o.seconds > 0)) reasons.push(`seconds must be more than 0, got ${o.seconds}`);
  whole('concurrency', o.concurrency, 1);
  whole('agents', o.agents, 1);
  whole('frameworks', o.frameworks, 1);
  if (o.inOrder && !o.faults) reasons.push('in order needs the faults to play (--faults)');
  if (o.faults) reasons.push(...refusedFaults(o.faults, { hosts: o.hosts ?? false, clockJumps: FAKETIME_LIB !== null }));
  return reasons;
}

function count<T>(items: readonly T[], keyOf: (x: T) => string | null): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const x of items) {
    const k = keyOf(x);
    if (k !== null) counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

export async function runNemesis(options: RunOptions): Promise<RunReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const agents = options.agents ?? 3;
  const frameworks = options.frameworks ?? 2;
  const hosts = options.hosts ?? false;
  const concurrency = options.concurrency ?? 1;
  const refused = refusedOptions(options);
  if (refused.length > 0) throw new RunRefused(refused.join('; '));
  mkdirSync(options.out, { recursive: true });
  log(`[nemesis] seed ${options.seed}, ${options.seconds} s of faults (${concurrency} at most at once) ${hosts ? 'on simulated hosts' : 'on loopback'}; history in ${options.out}/history.jsonl`);
  const cluster = await NemesisCluster.start({ masters: 3, agents, frameworks, seed: options.seed, out: options.out, hosts });
  options.started?.(cluster);
  const history = new HistoryWriter(cluster.historyPath, 'runner');
  const observer = new Observer(cluster, history);
  try {
    observer.start();
    // Minutes, not seconds: at a load average of 50 a leader frozen for 3 s by the machine loses its session, and the next one
    // takes 10 s and more to take over before the frameworks can subscribe.
    await waitUntil(() => [...cluster.frameworks.keys()].every((name) => cluster.frameworkId(name) !== undefined), 180_000, 'every load framework to subscribe');
    if (hosts && !FAKETIME_LIB) log('[nemesis] no libfaketime (Debian package faketime): no clock jumps in this run');
    const injectors = onlyNamed(hosts ? hostInjectors(cluster) : loopbackInjectors(cluster), options.faults);
    const steps = planSchedule({ seed: options.seed, seconds: options.seconds, injectors: injectors.map((i) => i.name), concurrency, inOrder: options.inOrder, ...options.timing });
    const zk = hosts ? 'a 3-member ZooKeeper ensemble, each process on a host of its own' : 'ZooKeeper';
    log(`[nemesis] cluster up (${agents} agents, ${frameworks} frameworks, 3 masters, ${zk}); schedule:\n${describeSchedule(steps, concurrency)}`);
    const started = Date.now();
    const progress = setInterval(() => log(`[nemesis] t+${((Date.now() - started) / 1000).toFixed(0)}s of ${options.seconds}s`), 30_000);
    const result = await playSchedule(steps, options.seconds, {
      injectors, history, log, revive: (held) => cluster.reviveExited(held), aborted: options.aborted, concurrency,
    }).finally(() => clearInterval(progress));
    const seconds = (Date.now() - started) / 1000;
    for (const i of injectors) await i.heal().catch((err: unknown) => log(`[nemesis] healing ${i.name} failed: ${String(err).split('\n')[0]}`));
    // A master frozen past its session exits once resumed: give it the moment, then start again what ended
    // (again, up to five times, if a start timed out on a loaded machine: at a load average above 30 a node process can take
    // more than the harness's 30 s to answer /health).
    await sleep(2000);
    for (let attempt = 1; ; attempt++) {
      const failed = await cluster.reviveExited().then(() => null, (err: unknown) => err);
      if (failed === null) break;
      if (attempt === 5) throw failed;
      log(`[nemesis] starting again what had exited failed (attempt ${attempt}): ${String(failed).split('\n')[0]}`);
    }
    for (const f of cluster.frameworks.values()) f.signal('SIGUSR1');
    // A call a framework had under way when told still lands: the end state must not predate it (a kill that ends a
    // task after the state was taken, and before the containers are listed, would look like a task running without one).
    await sleep(3000);
    log('[nemesis] faults over, everything healed; waiting for the cluster to settle');
    const { state, settled } = await settle(cluster, agents, frameworks);
    if (!settled) log(`[nemesis] the cluster did not settle within ${SETTLE_TIMEOUT_MS / 1000} s; checking what it reached`);
    await observer.pollLeaders();
    observer.readMasterLogs();
    await observer.sampleContainers();
    for (const term of cluster.leaderTerms()) history.record({ type: 'leader-term', ...term });
    const snapshot = await endSnapshot(cluster, state);
    observer.stop();
    const events = readHistory(cluster.historyPath);
    const verdicts = checkHistory(events, snapshot);
    const violations = verdicts.reduce((n, v) => n + v.counterExamples.length, 0);
    const calls = new Map(events.flatMap((e) => (e.type === 'call' ? [[e.id, e.op] as const] : [])));
    const report: RunReport = {
      seed: options.seed, seconds, settled, historyPath: cluster.historyPath, verdicts, violations, hosts, concurrency,
      faultsByKind: count(result.faults, (f) => f.kind), maxConcurrent: result.maxConcurrent,
      operations: count(events, (e) => (e.type === 'answer' && e.result === 'ok' ? calls.get(e.id) ?? e.op : null)),
      updates: events.filter((e) => e.type === 'update').length,
      diskFillEnded: result.faults.reduce((n, f) => n + (f.kind === 'fill-disk' ? f.ended?.length ?? 0 : 0), 0),
      diskErrorsLogged: cluster.group.processes().filter((p) => 'workDir' in p).reduce((n, p) => n + p.lines.filter((l) => DISK_FULL_LINE.test(l)).length, 0),
    };
    log(formatReport(report));
    return report;
  } finally {
    observer.stop();
    history.close();
    cpSync(join(cluster.group.dir, 'logs'), join(options.out, 'logs'), { recursive: true });
    await cluster.stop();
  }
}

export function formatReport(r: RunReport): string {
  const kv = (o: Readonly<Record<string, number>>) => Object.entries(o).sort().map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `[nemesis] seed ${r.seed}${r.hosts ? ' on hosts' : ''}: ${r.seconds.toFixed(0)} s of faults; ${r.settled ? 'settled' : 'did NOT settle'} afterwards`,
    `  faults injected: ${kv(r.faultsByKind)} (${r.concurrency} allowed at once, ${r.maxConcurrent} at most)`,
    `  operations acknowledged: ${kv(r.operations)}; status updates received: ${r.updates}; tasks ended on a full disk: ${r.diskFillEnded}; agent log lines on a full disk (ENOSPC): ${r.diskErrorsLogged}`,
    formatVerdicts(r.verdicts).split('\n').map((l) => `  ${l}`).join('\n'),
    `  violations: ${r.violations}`,
  ].join('\n');
}
