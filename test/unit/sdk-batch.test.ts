// BatchPlan as a table of events in, decisions out: offers and statuses are
// built with fixtures, the plan is pure, the clock is manual.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { Resources } from '../../common/resources.js';
import type { OfferOut, TaskStatusOut } from '../../proto/index.js';
import { BatchPlan, formatTaskLine, type BatchTaskSpec } from '../../framework/sdk/batch.js';
import { parseDemand } from '../../framework/sdk/matching.js';

const spec = (id: string, resources = 'cpus:0.5;mem:32'): BatchTaskSpec => ({ id, demand: parseDemand(resources), task: { image: 'busybox', command: 'true' } });
const offer = (id: string, agent: string, text = 'cpus:1;mem:128'): OfferOut =>
  ({ id: { value: id }, agent_id: { value: agent }, hostname: `${agent}.local`, resources: Resources.parse(text).toProto(), allocation_info: null }) as unknown as OfferOut;
const status = (taskId: string, state: TaskStatusOut['state'], extra: Partial<TaskStatusOut> = {}): TaskStatusOut =>
  ({ task_id: { value: taskId }, agent_id: { value: 'S1' }, state, message: '', ...extra }) as TaskStatusOut;
const states = (plan: BatchPlan) => plan.views().map((v) => `${v.taskId || v.id}:${v.state}`);

describe('BatchPlan', () => {
  it('packs pending tasks into offers and declines the offers it does not use', () => {
    const plan = new BatchPlan([spec('a'), spec('b'), spec('c')], { clock: new ManualClock() });
    const d = plan.offers([offer('o1', 'S1'), offer('o2', 'S2'), offer('o3', 'S3')]);
    expect(d.launches.map((l) => [l.offerId, l.tasks.map((t) => `${t.task_id?.value}@${t.agent_id?.value}`)])).toEqual([
      ['o1', ['a@S1', 'b@S1']],
      ['o2', ['c@S2']],
    ]);
    expect(d.declines).toEqual(['o3']);
    expect(d.launched.map((v) => v.id)).toEqual(['a', 'b', 'c']);
    expect(states(plan)).toEqual(['a:TASK_STAGING', 'b:TASK_STAGING', 'c:TASK_STAGING']);
    expect(plan.wantsOffers()).toBe(false);
    expect(plan.views()[0]).toMatchObject({ hostname: 'S1.local', launches: 1, launchedAt: 1_000_000 });
  });

  it('keeps to the concurrency cap and wants offers again when a task ends', () => {
    const plan = new BatchPlan([spec('a'), spec('b'), spec('c')], { clock: new ManualClock(), concurrency: 2 });
    expect(plan.offers([offer('o1', 'S1', 'cpus:4;mem:512')]).launches[0]!.tasks).toHaveLength(2);
    expect(plan.wantsOffers()).toBe(false); // c waits, but two run
    plan.update(status('a', 'TASK_FINISHED'));
    expect(plan.wantsOffers()).toBe(true);
    expect(plan.offers([offer('o2', 'S1')]).launches[0]!.tasks.map((t) => t.task_id?.value)).toEqual(['c']);
  });

  it('retries FAILED tasks under a fresh task id while retries last, then gives up', () => {
    const clock = new ManualClock();
    const plan = new BatchPlan([spec('a')], { clock, maxRetries: 1 });
    plan.offers([offer('o1', 'S1')]);
    const failed = plan.update(status('a', 'TASK_FAILED', { message: 'exit 1' }));
    expect(failed).toMatchObject({ state: 'TASK_FAILED', done: false, message: 'exit 1' }); // reported, then back to PENDING
    expect(states(plan)).toEqual(['a:PENDING']);
    expect(plan.offers([offer('o2', 'S1')]).launches[0]!.tasks[0]!.task_id?.value).toBe('a.2');
    expect(plan.update(status('a', 'TASK_RUNNING'))).toBeNull(); // the old attempt is stale
    clock.advance(3);
    expect(plan.update(status('a.2', 'TASK_FAILED'))).toMatchObject({ done: true, endedAt: 1_000_003 });
    expect(plan.isDone()).toBe(true);
    expect(plan.summary()).toEqual({ total: 1, finished: 0, failed: 1, pending: 0, active: 0, ok: false });
  });

  it('relaunches tasks dropped for an invalid offer without counting a failure', () => {
    const plan = new BatchPlan([spec('a')], { clock: new ManualClock() });
    plan.offers([offer('o1', 'S1')]);
    plan.update(status('a', 'TASK_DROPPED', { reason: 'REASON_INVALID_OFFERS', message: 'offer o1 is unknown' }));
    expect(states(plan)).toEqual(['a:PENDING']);
    plan.offers([offer('o2', 'S1')]);
    plan.update(status('a.2', 'TASK_FINISHED'));
    expect(plan.summary().ok).toBe(true);
  });

  it('does not retry KILLED or ERROR', () => {
    const plan = new BatchPlan([spec('a'), spec('b')], { clock: new ManualClock(), maxRetries: 5 });
    plan.offers([offer('o1', 'S1')]);
    plan.update(status('a', 'TASK_KILLED'));
    plan.update(status('b', 'TASK_ERROR', { reason: 'REASON_TASK_INVALID' }));
    expect(plan.isDone()).toBe(true);
    expect(plan.views().map((v) => v.reason)).toEqual([null, 'REASON_TASK_INVALID']);
  });

  it('ignores unknown tasks, repeats and anything after the end', () => {
    const plan = new BatchPlan([spec('a')], { clock: new ManualClock() });
    expect(plan.update(status('a', 'TASK_RUNNING'))).toBeNull(); // not launched yet
    plan.offers([offer('o1', 'S1')]);
    expect(plan.update(status('zzz', 'TASK_RUNNING'))).toBeNull();
    expect(plan.update(status('a', 'TASK_RUNNING'))).not.toBeNull();
    expect(plan.update(status('a', 'TASK_RUNNING'))).toBeNull();
    plan.update(status('a', 'TASK_FINISHED'));
    expect(plan.update(status('a', 'TASK_LOST'))).toBeNull();
    expect(plan.summary().ok).toBe(true);
  });

  it('puts tasks of a failed ACCEPT back to PENDING, and lists active tasks for reconcile and kill', () => {
    const plan = new BatchPlan([spec('a'), spec('b')], { clock: new ManualClock() });
    plan.offers([offer('o1', 'S1')]);
    expect(plan.active()).toEqual([{ taskId: 'a', agentId: 'S1' }, { taskId: 'b', agentId: 'S1' }]);
    plan.launchFailed(['b'], 'UNAVAILABLE');
    expect(states(plan)).toEqual(['a:TASK_STAGING', 'b:PENDING']);
    expect(plan.offers([offer('o2', 'S2')]).launches[0]!.tasks[0]!.task_id?.value).toBe('b.2');
    expect(plan.cancelPending('stop')).toEqual([]);
  });

  it('cancels what never launched', () => {
    const plan = new BatchPlan([spec('a'), spec('huge', 'cpus:64;mem:32')], { clock: new ManualClock() });
    plan.offers([offer('o1', 'S1')]);
    expect(plan.cancelPending('timed out').map((v) => v.id)).toEqual(['huge']);
    expect(plan.summary()).toMatchObject({ failed: 1, active: 1, pending: 0 });
  });

  it('refuses duplicate ids and bad options', () => {
    expect(() => new BatchPlan([spec('a'), spec('a')], { clock: new ManualClock() })).toThrow(/appears twice/);
    expect(() => new BatchPlan([], { clock: new ManualClock(), concurrency: 0 })).toThrow(/concurrency/);
    expect(new BatchPlan([], { clock: new ManualClock() }).isDone()).toBe(true);
  });
});

describe('formatTaskLine', () => {
  it('prints `task <id> <STATE> on <agent>[: message]`', () => {
    const plan = new BatchPlan([spec('a')], { clock: new ManualClock() });
    plan.offers([offer('o1', 'S1')]);
    expect(formatTaskLine(plan.views()[0]!)).toBe('task a STAGING on S1');
    const v = plan.update(status('a', 'TASK_FAILED', { message: 'Command exited with status 1', reason: 'REASON_EXECUTOR_TERMINATED' }))!;
    expect(formatTaskLine(v)).toBe('task a FAILED on S1: Command exited with status 1, REASON_EXECUTOR_TERMINATED');
  });
});
