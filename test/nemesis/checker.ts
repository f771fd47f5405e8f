// The checker of a randomized fault run: pure and synchronous, over the parsed
// history and what the cluster looked like at the end (the leader's GET_STATE
// and the task containers on the engine). One verdict per invariant of issue
// 16, each with the first counter-examples:
//
//   launches-end        every acknowledged launch is terminal or RUNNING at the end
//   no-task-twice       at most one running container per TaskID, whenever looked at
//   updates-in-order    per task, updates follow the lifecycle; nothing after a terminal state
//                       (the reliable stream and the reconciliation answers among it)
//   changes-survive     acknowledged launches, kills and subscriptions are in the final state
//   one-leader          at most one master leads (accepts calls) at any instant: from the masters'
//                       own logs of accepted calls, the leader polls and the leadership lines (those
//                       of a master frozen or cut from ZooKeeper come late: its accepted calls decide)
//   offers-within-total the outstanding offers of a master never exceed an agent's total
//   engine-stops-reported   every task whose container an engine stop (without live-restore) ended got a terminal update
//   live-restore-keeps-tasks no task whose container ran on an engine stopped with live-restore is reported lost for it
//   full-disk-recovers      a task ended while its agent's disk was full gets its terminal update, the agent's other
//                           tasks are not reported lost, and its checkpoints read back whole and in order
//   running-has-container   every task RUNNING at the end has a running container on an engine
import { canTransition, isTerminal, type TaskState } from '../../common/task-state.js';
import { overlaps, type LeaderInterval } from '../harness/leader-intervals.js';
import type { HistoryEvent, ResourceTotals } from './history.js';

export interface EndTask {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly state: string;
}

export interface EndSnapshot {
  /** Every task the leader knows: active, unreachable and completed. */
  readonly tasks: readonly EndTask[];
  /** Every framework id the leader knows (connected or not, completed too). */
  readonly frameworks: readonly string[];
  readonly agents: readonly { readonly agentId: string; readonly total: ResourceTotals }[];
  /** The task containers of this run on the engine, running or not. */
  readonly containers: readonly { readonly taskId: string; readonly running: boolean }[];
}

export interface Verdict {
  readonly invariant: string;
  readonly description: string;
  readonly ok: boolean;
  /** How many things were checked (tasks, offers, observations...), so a pass is never vacuous unnoticed. */
  readonly checked: number;
  readonly counterExamples: readonly string[];
}

const key = (frameworkId: string | undefined, taskId: string) => `${frameworkId ?? '?'}/${taskId}`;
const at = (e: HistoryEvent) => `t=${e.t.toFixed(0)}ms`;
const terminal = (state: string) => isTerminal(state as TaskState);
/** An update's state, with where it came from and why when the history says. */
const stateOf = (u: Extract<HistoryEvent, { type: 'update' }>) => {
  const why = [u.source, u.reason, u.message].filter((x) => x).join(', ');
  return why ? `${u.state} (${why}; seen by ${u.proc})` : u.state;
};

function verdict(invariant: string, description: string, checked: number, counterExamples: string[]): Verdict {
  return { invariant, description, ok: counterExamples.length === 0, checked, counterExamples };
}

/** Acknowledged (answered ok) calls of one kind, by task key, with the call's event. */
function acknowledged(events: readonly HistoryEvent[], op: 'LAUNCH' | 'KILL'): Map<string, HistoryEvent> {
  const calls = new Map<string, Extract<HistoryEvent, { type: 'call' }>>();
  const acked = new Map<string, HistoryEvent>();
  for (const e of events) {
    if (e.type === 'call' && e.op === op) calls.set(e.id, e);
    if (e.type === 'answer' && e.op === op && e.result === 'ok') {
      const call = calls.get(e.id);
      for (const taskId of call?.taskIds ?? []) if (!acked.has(key(call!.frameworkId, taskId))) acked.set(key(call!.frameworkId, taskId), call!);
    }
  }
  return acked;
}

/** Per task key, the states of its updates in the order the frameworks received them. */
function updatesByTask(events: readonly HistoryEvent[]): Map<string, Extract<HistoryEvent, { type: 'update' }>[]> {
  const byTask = new Map<string, Extract<HistoryEvent, { type: 'update' }>[]>();
  for (const e of events) {
    if (e.type !== 'update') continue;
    const k = key(e.frameworkId, e.taskId);
    byTask.set(k, [...(byTask.get(k) ?? []), e]);
  }
  return byTask;
}

const endStates = (snapshot: EndSnapshot) => new Map(snapshot.tasks.map((t) => [key(t.frameworkId, t.taskId), t.state]));

export function checkLaunchesEnd(events: readonly HistoryEvent[], snapshot: EndSnapshot): Verdict {
  const updates = updatesByTask(events);
  const finals = endStates(snapshot);
  const bad: string[] = [];
  const launches = acknowledged(events, 'LAUNCH');
  for (const [k, call] of launches) {
    const seen = updates.get(k) ?? [];
    if (seen.some((u) => terminal(u.state))) continue;
    const final = finals.get(k);
    if (final === 'TASK_RUNNING' || (final !== undefined && terminal(final))) continue;
    bad.push(`${k}: launch acknowledged at ${at(call)}, last update ${seen.at(-1)?.state ?? 'none'}, final state ${final ?? 'absent'}`);
  }
  return verdict('launches-end', 'every acknowledged launch reaches a terminal state or is running at the end', launches.size, bad);
}

export function checkNoTaskTwice(events: readonly HistoryEvent[], snapshot: EndSnapshot): Verdict {
  const bad: string[] = [];
  let looks = 0;
  for (const e of events) {
    if (e.type !== 'containers') continue;
    looks++;
    for (const [taskId, n] of Object.entries(e.running)) if (n > 1) bad.push(`${taskId}: ${n} running containers at ${at(e)}`);
  }
  const atEnd = new Map<string, number>();
  for (const c of snapshot.containers) if (c.running) atEnd.set(c.taskId, (atEnd.get(c.taskId) ?? 0) + 1);
  for (const [taskId, n] of atEnd) if (n > 1) bad.push(`${taskId}: ${n} running containers at the end`);
  return verdict('no-task-twice', 'one running container per TaskID across the cluster', looks + 1, bad);
}

/**
 * Over the reliable stream and the reconciliation answers (REASON_RECONCILIATION, no uuid) among it: as in Mesos,
 * an answer says the state of the update in flight (Task.status_update_state) while there is one, not the task's
 * latest state, so it never runs ahead of the updates an agent still redelivers (a TASK_FINISHED answer followed
 * by the agent's unacknowledged TASK_RUNNING is a counter-example).
 */
export function checkUpdatesInOrder(events: readonly HistoryEvent[]): Verdict {
  const bad: string[] = [];
  const byTask = updatesByTask(events);
  for (const [k, seen] of byTask) {
    for (let i = 1; i < seen.length; i++) {
      const from = seen[i - 1]!;
      const to = seen[i]!;
      if (from.state === to.state) continue; // At-least-once: a repeat is fine.
      // A reconciliation asked before an end arrived, answered after it: the master no longer knows the task and says
      // it is gone or lost (as Mesos answers for an unknown task); ended either way, so not a contradiction.
      if (terminal(from.state) && terminal(to.state) && to.reason === 'REASON_RECONCILIATION') continue;
      if (terminal(from.state)) {
        bad.push(`${k}: ${stateOf(to)} at ${at(to)} after terminal ${stateOf(from)} at ${at(from)}`);
        break;
      }
      if (!canTransition(from.state as TaskState, to.state as TaskState)) {
        bad.push(`${k}: ${stateOf(from)} at ${at(from)} then ${stateOf(to)} at ${at(to)}, out of order`);
        break;
      }
    }
  }
  return verdict('updates-in-order', 'per task, status updates in lifecycle order, no terminal state followed by another', byTask.size, bad);
}

export function checkChangesSurvive(events: readonly HistoryEvent[], snapshot: EndSnapshot): Verdict {
  const updates = updatesByTask(events);
  const finals = endStates(snapshot);
  const frameworks = new Set(snapshot.frameworks);
  const bad: string[] = [];
  const launches = acknowledged(events, 'LAUNCH');
  for (const [k, call] of launches) {
    if ((updates.get(k) ?? []).some((u) => terminal(u.state))) continue; // Its end was reported; the master may have forgotten it since.
    if (!finals.has(k)) bad.push(`launch of ${k} acknowledged at ${at(call)}: the final state does not know the task`);
  }
  const kills = acknowledged(events, 'KILL');
  for (const [k, call] of kills) {
    const final = finals.get(k);
    if ((updates.get(k) ?? []).some((u) => terminal(u.state)) || (final !== undefined && terminal(final))) continue;
    bad.push(`kill of ${k} acknowledged at ${at(call)}: the task is ${final ?? 'unknown'} at the end`);
  }
  const subscribed = new Map<string, HistoryEvent>();
  for (const e of events) if (e.type === 'subscribed' && !subscribed.has(e.frameworkId)) subscribed.set(e.frameworkId, e);
  for (const [id, e] of subscribed) if (!frameworks.has(id)) bad.push(`framework ${id} subscribed at ${at(e)}: absent from the final state`);
  return verdict('changes-survive', 'every acknowledged launch, kill and framework registration survives', launches.size + kills.size + subscribed.size, bad);
}

/** Terms of two masters over which both accepted calls (wall-clock ms from their logs). */
function overlappingTerms(events: readonly HistoryEvent[]): { terms: number; bad: string[] } {
  const intervals: LeaderInterval[] = events.flatMap((e) => (e.type === 'leader-term' ? [e] : [])).sort((a, b) => a.firstMs - b.firstMs);
  const span = (i: LeaderInterval) => `${i.master} (term ${i.term}, ${i.calls} calls from ${i.firstMs} to ${i.lastMs} ms)`;
  const bad = overlaps(intervals).map(([a, b]) => `${span(a)} and ${span(b)} both accepted calls between ${b.firstMs} and ${Math.min(a.lastMs, b.lastMs)} ms`);
  return { terms: intervals.length, bad };
}

/**
 * The masters a fault keeps from ZooKeeper (frozen, or their host cut from a member), by the fault's kind: such a master
 * stops acting silently once its session is not fresh (two thirds of the timeout) and logs its step-down only when the
 * session is over (a whole timeout, later than a successor may be elected), so its log says nothing in time; whether it
 * acted meanwhile is what its own accepted calls say (the terms above).
 */
function mastersKeptFromZooKeeper(f: FaultEvent): string[] {
  if (f.kind === 'pause-master') return [f.target];
  if (f.kind === 'isolate-host' || f.kind === 'leader-from-zookeeper') return f.target.startsWith('master-') ? [f.target] : [];
  if (f.kind === 'partition-pair' || f.kind === 'partition-one-way') {
    const ends = f.target.split(/[|>]/);
    return ends.some((h) => h.startsWith('zk-')) ? ends.filter((h) => h.startsWith('master-')) : [];
  }
  return [];
}

export function checkOneLeader(events: readonly HistoryEvent[]): Verdict {
  const { terms, bad } = overlappingTerms(events);
  const leadingSince = new Map<string, HistoryEvent>();
  const kept = new Map<string, string[]>(); // By fault kind: one fault of a kind at a time.
  // Kept from ZooKeeper by a fault since healed: its step-down is logged when its session is over, which can come
  // after the heal and after a successor leads (a CI run: healed at +3.3 s, successor at +3.7 s, step-down at +4.3 s).
  // Unheard until its log says anything again; meanwhile its accepted calls are what counts (the terms above).
  const healedUnheard = new Set<string>();
  const unheard = (master: string) => healedUnheard.has(master) || [...kept.values()].some((masters) => masters.includes(master));
  let checked = terms;
  for (const e of events) {
    if (e.type === 'leaders') {
      checked++;
      if (e.leaders.length > 1) bad.push(`${e.leaders.join(' and ')} all answered as leader in one poll at ${at(e)}`);
    } else if (e.type === 'fault' && mastersKeptFromZooKeeper(e).length > 0) {
      if (e.phase === 'inject') kept.set(e.kind, mastersKeptFromZooKeeper(e));
      else {
        for (const master of kept.get(e.kind) ?? []) healedUnheard.add(master);
        kept.delete(e.kind);
      }
    } else if (e.type === 'fault' && e.kind === 'kill-master' && e.phase === 'inject') {
      leadingSince.delete(e.target);
    } else if (e.type === 'master-log') {
      checked++;
      healedUnheard.delete(e.master);
      if (e.event !== 'leading') {
        leadingSince.delete(e.master);
        continue;
      }
      // A frozen master accepts nothing, and one cut from ZooKeeper stops acting unannounced; either must step down
      // before acting again (the terms above).
      for (const [other, since] of leadingSince) {
        if (other !== e.master && !unheard(other)) bad.push(`${e.master} began leading at ${at(e)} while ${other}, leading since ${at(since)}, had not stepped down`);
      }
      leadingSince.set(e.master, e);
    }
  }
  return verdict('one-leader', 'at most one master leads at any instant', checked, bad);
}

/** Offers a master has out, by offer id; a master's offers die with its (re)subscriptions, rescinds and uses. */
export function checkOffersWithinTotal(events: readonly HistoryEvent[], snapshot: EndSnapshot): Verdict {
  const totals = new Map<string, ResourceTotals>(snapshot.agents.map((a) => [a.agentId, a.total]));
  for (const e of events) if (e.type === 'agent') totals.set(e.agentId, e.total);
  const out = new Map<string, Extract<HistoryEvent, { type: 'offer' }>>();
  const masterOf = (offerId: string) => offerId.slice(0, Math.max(0, offerId.lastIndexOf('-O')));
  const dropFramework = (frameworkId: string | undefined, proc: string | undefined) => {
    for (const [id, o] of out) if (o.frameworkId === frameworkId || o.proc === proc) out.delete(id);
  };
  const bad: string[] = [];
  let offers = 0;
  for (const e of events) {
    if (e.type === 'rescind') out.delete(e.offerId);
    else if (e.type === 'call') for (const id of e.offerIds ?? []) out.delete(id);
    else if (e.type === 'subscribed' || e.type === 'disconnected') dropFramework(e.frameworkId, undefined);
    else if (e.type === 'fault' && e.phase === 'inject' && /^(kill|pause)-framework$/.test(e.kind)) dropFramework(undefined, e.target);
    else if (e.type === 'offer') {
      offers++;
      out.set(e.offerId, e);
      const total = totals.get(e.agentId);
      if (!total) {
        bad.push(`offer ${e.offerId} at ${at(e)} names agent ${e.agentId}, whose total is not known`);
        continue;
      }
      const sum: Record<string, number> = {};
      for (const o of out.values()) {
        if (o.agentId !== e.agentId || masterOf(o.offerId) !== masterOf(e.offerId)) continue;
        for (const [name, amount] of Object.entries(o.resources)) sum[name] = (sum[name] ?? 0) + amount;
      }
      for (const [name, amount] of Object.entries(sum)) {
        if (amount > (total[name] ?? 0) + 1e-6) bad.push(`agent ${e.agentId} at ${at(e)}: ${name} ${amount} outstanding in offers of one master, total ${total[name] ?? 0}`);
      }
    }
  }
  return verdict('offers-within-total', 'outstanding offers never exceed an agent\'s total', offers, bad);
}

type FaultEvent = Extract<HistoryEvent, { type: 'fault' }>;
const faultsOf = (events: readonly HistoryEvent[], kind: string, phase: 'inject' | 'heal') =>
  events.filter((e): e is FaultEvent => e.type === 'fault' && e.kind === kind && e.phase === phase);

/** An engine stopped without live-restore stops its containers: each of their tasks must be reported ended, never forgotten. */
export function checkEngineStopsReported(events: readonly HistoryEvent[]): Verdict {
  const ended = new Set(events.flatMap((e) => (e.type === 'update' && terminal(e.state) ? [e.taskId] : [])));
  const bad: string[] = [];
  let checked = 0;
  for (const f of faultsOf(events, 'restart-engine', 'inject')) {
    for (const taskId of f.tasks ?? []) {
      checked++;
      if (!ended.has(taskId)) bad.push(`${taskId}: its container ran on ${f.target}'s engine, stopped at ${at(f)}, and no terminal update was ever received`);
    }
  }
  return verdict('engine-stops-reported', 'every task whose container an engine stop ended got a terminal update', checked, bad);
}

/** Terminal states that say a container was lost; a task ending by itself (FINISHED) or killed (KILLED) is fine meanwhile. */
const LOSS_STATES = new Set(['TASK_LOST', 'TASK_GONE', 'TASK_FAILED', 'TASK_ERROR', 'TASK_DROPPED']);
/** How long after a live-restore engine is back its tasks must not be reported lost (unless another fault comes sooner). */
export const LIVE_RESTORE_GRACE_MS = 20_000;

/**
 * Per fault of `kind` (injected), the updates of `tasks(f)` that report a loss between the fault before it (nothing
 * else was injected since) and the next fault, or LIVE_RESTORE_GRACE_MS after its heal: those tasks should have kept
 * running. Returns how many tasks were watched and the counter-examples.
 */
function lossesOver(events: readonly HistoryEvent[], kind: string, tasksOf: (f: FaultEvent) => readonly string[], why: (f: FaultEvent) => string): { checked: number; bad: string[] } {
  const bad: string[] = [];
  let checked = 0;
  const faults = events.filter((e): e is FaultEvent => e.type === 'fault');
  for (const [i, f] of faults.entries()) {
    if (f.kind !== kind || f.phase !== 'inject') continue;
    const from = faults[i - 1]?.t ?? -Infinity;
    const heal = faults.slice(i + 1).find((h) => h.kind === f.kind && h.target === f.target && h.phase === 'heal');
    const next = faults.slice(i + 1).find((n) => n.phase === 'inject');
    const until = Math.min(heal ? heal.t + LIVE_RESTORE_GRACE_MS : Infinity, next?.t ?? Infinity);
    const tasks = new Set(tasksOf(f));
    checked += tasks.size;
    for (const e of events) {
      if (e.type !== 'update' || !tasks.has(e.taskId) || e.t <= from || e.t > until || !LOSS_STATES.has(e.state)) continue;
      bad.push(`${e.taskId}: ${stateOf(e)} at ${at(e)}, ${why(f)}`);
      tasks.delete(e.taskId);
    }
  }
  return { checked, bad };
}

/**
 * An engine stopped with live-restore leaves its containers running and the agent takes them back: from the fault
 * before it (nothing else was injected since) until the next fault, or LIVE_RESTORE_GRACE_MS after the engine is back,
 * none of its tasks may be reported lost, failed or gone.
 */
export function checkLiveRestoreKeepsTasks(events: readonly HistoryEvent[]): Verdict {
  const { checked, bad } = lossesOver(events, 'restart-engine-live-restore', (f) => f.tasks ?? [],
    (f) => `its container on ${f.target}'s engine (stopped with live-restore at ${at(f)}) should have kept running`);
  return verdict('live-restore-keeps-tasks', 'tasks keep running over an engine restart with live-restore', checked, bad);
}

/**
 * An agent's disk filled while it had writes to make: the task whose container the fault ended gets its terminal
 * update once space returns; the agent's other tasks are not reported lost for it; its checkpoints, read back after
 * the space returned, are whole and each task's updates in lifecycle order.
 */
export function checkFullDiskRecovers(events: readonly HistoryEvent[]): Verdict {
  const ended = new Set(events.flatMap((e) => (e.type === 'update' && terminal(e.state) ? [e.taskId] : [])));
  const fills = faultsOf(events, 'fill-disk', 'inject');
  const bad: string[] = [];
  let checked = 0;
  for (const f of fills) {
    for (const taskId of f.ended ?? []) {
      checked++;
      if (!ended.has(taskId)) bad.push(`${taskId}: its container was ended while ${f.target}'s disk was full (${at(f)}), and no terminal update was ever received`);
    }
  }
  const kept = lossesOver(events, 'fill-disk', (f) => (f.tasks ?? []).filter((t) => !(f.ended ?? []).includes(t)),
    (f) => `it ran on ${f.target}, whose disk was full from ${at(f)}, and should have kept running`);
  checked += kept.checked;
  bad.push(...kept.bad);
  for (const e of events) {
    if (e.type !== 'checkpoints') continue;
    checked++;
    if (e.error) bad.push(`${e.agent}'s checkpoints, read back after its disk was freed (${at(e)}): ${e.error}`);
    for (const o of e.outOfOrder) bad.push(`${e.agent}'s checkpoint at ${at(e)} holds updates out of order: ${o}`);
  }
  return verdict('full-disk-recovers', 'a full disk loses no update and corrupts no checkpoint', checked, bad);
}

/**
 * The leader's RUNNING tasks at the end each have a running container on one of the run's engines, unless the task's
 * end reached its framework meanwhile: the containers are listed after the leader's state is taken, and a short task
 * launched just before the frameworks stopped can end in between (the history is read after both).
 */
export function checkRunningHasContainer(events: readonly HistoryEvent[], snapshot: EndSnapshot): Verdict {
  const running = new Set(snapshot.containers.filter((c) => c.running).map((c) => c.taskId));
  const ended = new Set(events.flatMap((e) => (e.type === 'update' && terminal(e.state) ? [key(e.frameworkId, e.taskId)] : [])));
  const tasks = snapshot.tasks.filter((t) => t.state === 'TASK_RUNNING' && !ended.has(key(t.frameworkId, t.taskId)));
  const bad = tasks.filter((t) => !running.has(t.taskId)).map((t) => `${key(t.frameworkId, t.taskId)}: TASK_RUNNING at the end, with no running container on any engine`);
  return verdict('running-has-container', 'no task is reported running without a running container', tasks.length, bad);
}

export function checkHistory(events: readonly HistoryEvent[], snapshot: EndSnapshot): Verdict[] {
  return [
    checkLaunchesEnd(events, snapshot),
    checkNoTaskTwice(events, snapshot),
    checkUpdatesInOrder(events),
    checkChangesSurvive(events, snapshot),
    checkOneLeader(events),
    checkOffersWithinTotal(events, snapshot),
    checkEngineStopsReported(events),
    checkLiveRestoreKeepsTasks(events),
    checkFullDiskRecovers(events),
    checkRunningHasContainer(events, snapshot),
  ];
}

/** One line per invariant, PASS or FAIL with how much was checked, and the first `max` counter-examples of a failure. */
export function formatVerdicts(verdicts: readonly Verdict[], max = 5): string {
  const lines: string[] = [];
  for (const v of verdicts) {
    lines.push(`${v.ok ? 'PASS' : 'FAIL'} ${v.invariant} (${v.checked} checked): ${v.description}`);
    for (const c of v.counterExamples.slice(0, max)) lines.push(`     ${c}`);
    if (v.counterExamples.length > max) lines.push(`     ... and ${v.counterExamples.length - max} more`);
  }
  return lines.join('\n');
}
