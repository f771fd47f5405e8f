// The fault run's checker on hand-built histories: a clean history passes
// every invariant, and each invariant fails on a history that breaks it.
import { describe, expect, it } from 'vitest';
import { LIVE_RESTORE_GRACE_MS, checkHistory, formatVerdicts, type EndSnapshot, type Verdict } from '../../test/nemesis/checker.js';
import type { HistoryEntry, HistoryEvent } from '../../test/nemesis/history.js';

const FW = 'm1-0000';
const AGENT = 'm1-S0';
const TOTAL = { cpus: 1, mem: 512 };

/** Entries stamped 10 ms apart, seen by `fw-1` unless they say otherwise. */
function history(...entries: (HistoryEntry & { proc?: string })[]): HistoryEvent[] {
  return entries.map((e, i) => ({ proc: 'fw-1', ...e, t: (i + 1) * 10 }) as HistoryEvent);
}

const launch = (id: string, taskId: string, offerId = 'm1-O0'): HistoryEntry[] => [
  { type: 'call', id, op: 'LAUNCH', frameworkId: FW, taskIds: [taskId], offerIds: [offerId] },
  { type: 'answer', id, op: 'LAUNCH', result: 'ok', frameworkId: FW },
];
const update = (taskId: string, state: string): HistoryEntry => ({ type: 'update', frameworkId: FW, taskId, state, agentId: AGENT });
const offer = (offerId: string, cpus: number, frameworkId = FW): HistoryEntry => ({ type: 'offer', frameworkId, offerId, agentId: AGENT, resources: { cpus, mem: 100 } });

const fault = (phase: 'inject' | 'heal', kind: string, tasks?: string[], ended?: string[]): HistoryEntry => ({ type: 'fault', phase, kind, target: 'agent-1', description: '', ...(tasks && { tasks }), ...(ended && { ended }) });
const checkpoints = (over: Partial<Extract<HistoryEntry, { type: 'checkpoints' }>> = {}): HistoryEntry => ({ type: 'checkpoints', agent: 'agent-1', tasks: 2, updates: 5, outOfOrder: [], ...over });

/**
 * A run where one task ran and finished and another is running at the end, an engine stop without live-restore
 * ended a third (reported TASK_GONE), and the running one kept its container over an engine stop with live-restore.
 */
const clean = (): HistoryEvent[] => history(
  { type: 'agent', agentId: AGENT, total: TOTAL },
  { type: 'master-log', master: 'master-1', event: 'leading' },
  { type: 'leaders', leaders: ['master-1'] },
  { type: 'subscribed', frameworkId: FW, masterId: 'm1' },
  offer('m1-O0', 1),
  ...launch('c1', 'a'),
  update('a', 'TASK_STARTING'), update('a', 'TASK_RUNNING'), update('a', 'TASK_RUNNING'), update('a', 'TASK_FINISHED'),
  offer('m1-O1', 1),
  ...launch('c2', 'b', 'm1-O1'),
  update('b', 'TASK_RUNNING'),
  { type: 'containers', running: { b: 1 } },
  offer('m1-O9', 0.5),
  ...launch('c3', 'c', 'm1-O9'),
  update('c', 'TASK_RUNNING'),
  fault('inject', 'restart-engine', ['c']),
  update('c', 'TASK_GONE'),
  fault('heal', 'restart-engine'),
  fault('inject', 'restart-engine-live-restore', ['b']),
  fault('heal', 'restart-engine-live-restore'),
);

/** clean(), then agent-1's disk filled (from t=5010 ms) while b ran and c's container was ended (c had ended already: TASK_GONE), its checkpoints read back whole. */
const withFill = (...after: HistoryEntry[]): HistoryEvent[] => [
  ...clean(), ...history(fault('inject', 'fill-disk', ['b', 'c'], ['c']), fault('heal', 'fill-disk'), checkpoints(), ...after).map((e) => ({ ...e, t: 5000 + e.t })),
];

const end = (over: Partial<EndSnapshot> = {}): EndSnapshot => ({
  tasks: [{ frameworkId: FW, taskId: 'b', state: 'TASK_RUNNING' }],
  frameworks: [FW],
  agents: [{ agentId: AGENT, total: TOTAL }],
  containers: [{ taskId: 'a', running: false }, { taskId: 'b', running: true }],
  ...over,
});

const failed = (verdicts: Verdict[]) => verdicts.filter((v) => !v.ok).map((v) => v.invariant);
const examples = (verdicts: Verdict[], invariant: string) => verdicts.find((v) => v.invariant === invariant)!.counterExamples;

describe('the fault run checker', () => {
  it('passes a clean history on every invariant, each having checked something', () => {
    const verdicts = checkHistory(withFill(), end());
    expect(failed(verdicts)).toEqual([]);
    expect(verdicts.map((v) => v.invariant)).toEqual([
      'launches-end', 'no-task-twice', 'updates-in-order', 'changes-survive', 'one-leader', 'offers-within-total',
      'engine-stops-reported', 'live-restore-keeps-tasks', 'full-disk-recovers', 'running-has-container',
    ]);
    expect(verdicts.find((v) => v.invariant === 'full-disk-recovers')!.checked).toBe(3); // c's end, b kept, one read-back.
    for (const v of verdicts) expect(v.checked).toBeGreaterThan(0);
    expect(formatVerdicts(verdicts)).toMatch(/^PASS launches-end \(3 checked\)/);
  });

  it('launches-end: an acknowledged launch still STAGING at the end', () => {
    const verdicts = checkHistory(clean(), end({ tasks: [{ frameworkId: FW, taskId: 'b', state: 'TASK_STAGING' }] }));
    expect(failed(verdicts)).toEqual(['launches-end']);
    expect(examples(verdicts, 'launches-end')).toEqual(['m1-0000/b: launch acknowledged at t=130ms, last update TASK_RUNNING, final state TASK_STAGING']);
  });

  it('no-task-twice: two running containers for one TaskID, during the run or at the end', () => {
    const during = checkHistory([...clean(), ...history({ type: 'containers', running: { b: 2 } }).map((e) => ({ ...e, t: 1000 }))], end());
    expect(failed(during)).toEqual(['no-task-twice']);
    expect(examples(during, 'no-task-twice')).toEqual(['b: 2 running containers at t=1000ms']);
    const atEnd = checkHistory(clean(), end({ containers: [{ taskId: 'b', running: true }, { taskId: 'b', running: true }] }));
    expect(examples(atEnd, 'no-task-twice')).toEqual(['b: 2 running containers at the end']);
  });

  it('updates-in-order: a non-terminal state after a terminal one, and a step back in the lifecycle', () => {
    const afterEnd = checkHistory([...clean(), { ...update('a', 'TASK_RUNNING'), t: 1000, proc: 'fw-1' } as HistoryEvent], end());
    expect(failed(afterEnd)).toEqual(['updates-in-order']);
    expect(examples(afterEnd, 'updates-in-order')).toEqual(['m1-0000/a: TASK_RUNNING at t=1000ms after terminal TASK_FINISHED at t=110ms']);
    const back = checkHistory([...clean(), { ...update('b', 'TASK_STARTING'), t: 1000, proc: 'fw-1' } as HistoryEvent], end());
    expect(examples(back, 'updates-in-order')).toEqual(['m1-0000/b: TASK_RUNNING at t=150ms then TASK_STARTING at t=1000ms, out of order']);
  });

  it('updates-in-order: a reconciliation answer ahead of the stream is a counter-example; one that repeats the update in flight is not', () => {
    const answer = (state: string) => ({ ...update('b', state), reason: 'REASON_RECONCILIATION', source: 'SOURCE_MASTER' }) as HistoryEntry;
    const ahead = [...clean(), ...history(answer('TASK_FINISHED'), update('b', 'TASK_RUNNING'), update('b', 'TASK_FINISHED')).map((e) => ({ ...e, t: 1000 + e.t }))];
    expect(examples(checkHistory(ahead, end({ tasks: [] })), 'updates-in-order')).toEqual(['m1-0000/b: TASK_RUNNING at t=1020ms after terminal TASK_FINISHED (SOURCE_MASTER, REASON_RECONCILIATION; seen by fw-1) at t=1010ms']);
    const behind = [...clean(), ...history(answer('TASK_RUNNING'), update('b', 'TASK_RUNNING'), answer('TASK_RUNNING'), update('b', 'TASK_FINISHED')).map((e) => ({ ...e, t: 1000 + e.t }))];
    expect(examples(checkHistory(behind, end({ tasks: [] })), 'updates-in-order')).toEqual([]);
  });

  it('updates-in-order: a terminal reconciliation answer after a terminal update is no counter-example (a task the master dropped, reconciled by name)', () => {
    const dropped = { ...update('d', 'TASK_DROPPED'), reason: 'REASON_INVALID_OFFERS', source: 'SOURCE_MASTER' } as HistoryEntry;
    const gone = { ...update('d', 'TASK_GONE'), reason: 'REASON_RECONCILIATION', source: 'SOURCE_MASTER' } as HistoryEntry;
    const h = [...clean(), ...history(dropped, gone).map((e) => ({ ...e, t: 1000 + e.t }))];
    expect(examples(checkHistory(h, end({ tasks: [] })), 'updates-in-order')).toEqual([]);
    const thenRunning = [...h, { ...update('d', 'TASK_RUNNING'), t: 2000, proc: 'fw-1' } as HistoryEvent];
    expect(examples(checkHistory(thenRunning, end({ tasks: [] })), 'updates-in-order')).toEqual([
      'm1-0000/d: TASK_RUNNING at t=2000ms after terminal TASK_GONE (SOURCE_MASTER, REASON_RECONCILIATION; seen by fw-1) at t=1020ms',
    ]);
  });

  it('changes-survive: a launch, a kill and a subscription the final state does not show', () => {
    const killed = history(
      ...clean(),
      { type: 'call', id: 'k1', op: 'KILL', frameworkId: FW, taskIds: ['b'] },
      { type: 'answer', id: 'k1', op: 'KILL', result: 'ok' },
      { type: 'subscribed', frameworkId: 'm1-0001', masterId: 'm1' },
    );
    const verdicts = checkHistory(killed, end({ tasks: [] }));
    expect(failed(verdicts)).toContain('changes-survive');
    expect(examples(verdicts, 'changes-survive')).toEqual([
      'launch of m1-0000/b acknowledged at t=130ms: the final state does not know the task',
      'kill of m1-0000/b acknowledged at t=260ms: the task is unknown at the end',
      'framework m1-0001 subscribed at t=280ms: absent from the final state',
    ]);
  });

  it('changes-survive: a kill that errored or a task that ended is no counter-example', () => {
    const h = history(...clean(), { type: 'call', id: 'k1', op: 'KILL', frameworkId: FW, taskIds: ['b'] }, { type: 'answer', id: 'k1', op: 'KILL', result: 'timeout' });
    expect(failed(checkHistory(h, end()))).toEqual([]);
  });

  it('one-leader: two masters answering as leader in one poll, and one leading before the other stepped down', () => {
    const poll = checkHistory([...clean(), ...history({ type: 'leaders', leaders: ['master-1', 'master-2'] }).map((e) => ({ ...e, t: 1000 }))], end());
    expect(failed(poll)).toEqual(['one-leader']);
    expect(examples(poll, 'one-leader')).toEqual(['master-1 and master-2 all answered as leader in one poll at t=1000ms']);
    const logs = checkHistory([...clean(), ...history({ type: 'master-log', master: 'master-2', event: 'leading' }).map((e) => ({ ...e, t: 1000 }))], end());
    expect(examples(logs, 'one-leader')).toEqual(['master-2 began leading at t=1000ms while master-1, leading since t=20ms, had not stepped down']);
  });

  it('one-leader: two masters whose logs show them accepting calls over overlapping spans; terms one after the other pass', () => {
    const term = (master: string, t: number, firstMs: number, lastMs: number): HistoryEntry => ({ type: 'leader-term', master, term: t, firstMs, lastMs, calls: 5 });
    const apart = checkHistory(history(...clean(), term('master-1 (pid 10)', 1, 1000, 2000), term('master-2 (pid 11)', 2, 2001, 3000)), end());
    expect(failed(apart)).toEqual([]);
    expect(apart.find((v) => v.invariant === 'one-leader')!.checked).toBeGreaterThanOrEqual(2);
    const both = checkHistory(history(...clean(), term('master-2 (pid 11)', 2, 1900, 3000), term('master-1 (pid 10)', 1, 1000, 2000)), end());
    expect(failed(both)).toEqual(['one-leader']);
    expect(examples(both, 'one-leader')).toEqual([
      'master-1 (pid 10) (term 1, 5 calls from 1000 to 2000 ms) and master-2 (pid 11) (term 2, 5 calls from 1900 to 3000 ms) both accepted calls between 1900 and 2000 ms',
    ]);
  });

  it('one-leader: a successor is fine once the old leader stepped down, was killed, or while it is frozen or cut from ZooKeeper', () => {
    const tail = (entries: HistoryEntry[]) => history(...entries).map((e) => ({ ...e, t: 1000 + e.t }));
    const hit = (kind: string, target: string, phase: 'inject' | 'heal' = 'inject'): HistoryEntry => ({ type: 'fault', phase, kind, target, description: '' });
    const successor: HistoryEntry = { type: 'master-log', master: 'master-2', event: 'leading' };
    for (const before of [
      [{ type: 'master-log', master: 'master-1', event: 'stepped-down' }],
      [hit('kill-master', 'master-1')], [hit('pause-master', 'master-1')], [hit('isolate-host', 'master-1')],
      [hit('leader-from-zookeeper', 'master-1')], [hit('partition-pair', 'zk-2|master-1')], [hit('partition-one-way', 'master-1>zk-3')],
      // Healed before the successor leads, its step-down not yet logged (it comes when its session is over).
      [hit('isolate-host', 'master-1'), hit('isolate-host', 'master-1', 'heal')],
    ] as HistoryEntry[][]) {
      expect(failed(checkHistory([...clean(), ...tail([...before, successor])], end()))).toEqual([]);
    }
    // A cut that leaves it ZooKeeper, or one healed after which its log spoke again (it led on): its log must have said it stepped down.
    const ledOn: HistoryEntry = { type: 'master-log', master: 'master-1', event: 'leading' };
    for (const before of [[hit('isolate-host', 'master-1'), hit('isolate-host', 'master-1', 'heal'), ledOn], [hit('isolate-host', 'agent-1')], [hit('partition-pair', 'master-1|agent-2')]]) {
      expect(failed(checkHistory([...clean(), ...tail([...before, successor])], end()))).toEqual(['one-leader']);
    }
  });

  it('offers-within-total: two outstanding offers of one master that together exceed the agent', () => {
    const h = history(...clean(), offer('m1-O2', 0.6), offer('m1-O3', 0.6, 'm1-0001'));
    const verdicts = checkHistory(h, end());
    expect(failed(verdicts)).toEqual(['offers-within-total']);
    expect(examples(verdicts, 'offers-within-total')).toEqual(['agent m1-S0 at t=270ms: cpus 1.2 outstanding in offers of one master, total 1']);
  });

  it('offers-within-total: offers used, declined, rescinded, of a resubscribed framework or of another master do not count', () => {
    const h = history(
      ...clean(),
      offer('m1-O2', 1),
      { type: 'rescind', frameworkId: FW, offerId: 'm1-O2' },
      offer('m1-O3', 1),
      { type: 'call', id: 'd1', op: 'DECLINE', frameworkId: FW, offerIds: ['m1-O3'] },
      offer('m1-O4', 1),
      { type: 'subscribed', frameworkId: FW, masterId: 'm1' },
      offer('m1-O5', 1),
      offer('m2-O0', 1),
    );
    expect(failed(checkHistory(h, end()))).toEqual([]);
  });

  it('engine-stops-reported: a task whose container an engine stop ended never reported ended', () => {
    const forgotten = clean().filter((e) => !(e.type === 'update' && e.taskId === 'c' && e.state === 'TASK_GONE'));
    const verdicts = checkHistory(forgotten, end());
    expect(failed(verdicts)).toContain('engine-stops-reported');
    expect(examples(verdicts, 'engine-stops-reported')).toEqual(["c: its container ran on agent-1's engine, stopped at t=210ms, and no terminal update was ever received"]);
  });

  it('live-restore-keeps-tasks: a task reported lost over a live-restore engine restart; a later loss after another fault, or its own end, is not', () => {
    const withUpdate = (state: string, at: number, more: HistoryEntry[] = []) => [
      ...clean(), ...history(...more, update('b', state)).map((e, i, all) => ({ ...e, t: i === all.length - 1 ? at : at - 1 })),
    ];
    const lost = checkHistory(withUpdate('TASK_LOST', 1000), end({ tasks: [] }));
    expect(failed(lost)).toEqual(['live-restore-keeps-tasks']);
    expect(examples(lost, 'live-restore-keeps-tasks')).toEqual(["b: TASK_LOST at t=1000ms, its container on agent-1's engine (stopped with live-restore at t=240ms) should have kept running"]);
    expect(failed(checkHistory(withUpdate('TASK_FINISHED', 1000), end({ tasks: [] })))).toEqual([]);
    expect(failed(checkHistory(withUpdate('TASK_GONE', 1000, [fault('inject', 'isolate-host')]), end({ tasks: [] })))).toEqual([]);
    expect(failed(checkHistory(withUpdate('TASK_LOST', 250 + LIVE_RESTORE_GRACE_MS + 1), end({ tasks: [] })))).toEqual([]);
  });

  it('full-disk-recovers: the ended task never reported ended, another task lost for the fill, checkpoints unreadable or out of order', () => {
    const endedB = [...clean(), ...history(fault('inject', 'fill-disk', ['b'], ['b']), fault('heal', 'fill-disk')).map((e) => ({ ...e, t: 5000 + e.t }))];
    expect(examples(checkHistory(endedB, end()), 'full-disk-recovers')).toEqual([
      "b: its container was ended while agent-1's disk was full (t=5010ms), and no terminal update was ever received",
    ]);
    const lost = checkHistory(withFill(update('b', 'TASK_LOST')), end({ tasks: [] }));
    expect(failed(lost)).toEqual(['full-disk-recovers']);
    expect(examples(lost, 'full-disk-recovers')).toEqual(["b: TASK_LOST at t=5040ms, it ran on agent-1, whose disk was full from t=5010ms, and should have kept running"]);
    const corrupt = [...withFill(), { ...checkpoints({ error: 'cannot read task.json: Unexpected end of JSON input', outOfOrder: ['b: TASK_RUNNING -> TASK_STAGING'] }), t: 9000, proc: 'nemesis' } as HistoryEvent];
    expect(examples(checkHistory(corrupt, end()), 'full-disk-recovers')).toEqual([
      "agent-1's checkpoints, read back after its disk was freed (t=9000ms): cannot read task.json: Unexpected end of JSON input",
      "agent-1's checkpoint at t=9000ms holds updates out of order: b: TASK_RUNNING -> TASK_STAGING",
    ]);
  });

  it('running-has-container: a task RUNNING at the end with no running container on any engine', () => {
    const verdicts = checkHistory(clean(), end({ containers: [{ taskId: 'b', running: false }] }));
    expect(failed(verdicts)).toEqual(['running-has-container']);
    expect(examples(verdicts, 'running-has-container')).toEqual(['m1-0000/b: TASK_RUNNING at the end, with no running container on any engine']);
    // Its end reached the framework after the leader's state was taken, before the containers were listed: no ghost.
    const endedSince = checkHistory([...clean(), { ...update('b', 'TASK_FINISHED'), t: 9000, proc: 'fw-1' } as HistoryEvent], end({ containers: [{ taskId: 'b', running: false }] }));
    expect(failed(endedSince)).toEqual([]);
  });
});
