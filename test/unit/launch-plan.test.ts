import { describe, expect, it } from 'vitest';
import { planAccept, type OfferView, type PlanContext } from '../../master/launch-plan.js';
import { Resources } from '../../common/resources.js';
import type { TaskInfoOut, Call } from '../../proto/index.js';

const offer = (id: string, agentId = 'a1', frameworkId = 'f1', text = 'cpus:1;mem:256;ports:[31000-31004]'): OfferView => ({
  id, agentId, frameworkId, resources: Resources.parse(text),
});

function task(id: string, resources = 'cpus:0.5;mem:64', agentId = 'a1'): TaskInfoOut {
  return {
    name: id, task_id: { value: id }, agent_id: { value: agentId }, resources: Resources.parse(resources).toProto(),
    command: { value: 'true', shell: true }, container: null, executor: null,
  } as unknown as TaskInfoOut;
}

function accept(offerIds: string[], tasks: TaskInfoOut[]): NonNullable<Call['accept']> {
  return { offer_ids: offerIds.map((value) => ({ value })), operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters: null } as never;
}

function ctx(offers: OfferView[], active: string[] = []): PlanContext {
  return { frameworkId: 'f1', partitionAware: true, offers: new Map(offers.map((o) => [o.id, o])), activeTaskIds: new Set(active) };
}

describe('planAccept', () => {
  it('launches tasks that fit and returns the rest', () => {
    const plan = planAccept(accept(['o1'], [task('t1'), task('t2', 'cpus:0.25;mem:64;ports:[31000-31000]')]), ctx([offer('o1')]));
    expect(plan.launches.map((l) => l.task.task_id?.value)).toEqual(['t1', 't2']);
    expect(plan.rejected).toEqual([]);
    expect(plan.unused.toString()).toBe('cpus:0.25;mem:128;ports:[31001-31004]');
  });

  it('refuses a task asking more than offered, naming both, and still launches the others', () => {
    const plan = planAccept(accept(['o1'], [task('big', 'cpus:2;mem:64'), task('small')]), ctx([offer('o1')]));
    expect(plan.launches.map((l) => l.task.task_id?.value)).toEqual(['small']);
    expect(plan.rejected).toHaveLength(1);
    expect(plan.rejected[0]).toMatchObject({ state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID' });
    expect(plan.rejected[0]!.message).toContain('asks for cpus:2;mem:64 but the offers hold only cpus:1;mem:256');
  });

  it('refuses duplicate task ids, in the call and among active tasks', () => {
    const plan = planAccept(accept(['o1'], [task('t1'), task('t1'), task('old')]), ctx([offer('o1')], ['old']));
    expect(plan.launches).toHaveLength(1);
    expect(plan.rejected.map((r) => r.message)).toEqual([
      "task id 't1' is already in use by a task of this framework",
      "task id 'old' is already in use by a task of this framework",
    ]);
  });

  it('drops every task when an offer is unknown, recovering the valid ones', () => {
    const plan = planAccept(accept(['o1', 'nope'], [task('t1')]), ctx([offer('o1')]));
    expect(plan.launches).toEqual([]);
    expect(plan.rejected[0]).toMatchObject({ state: 'TASK_DROPPED', reason: 'REASON_INVALID_OFFERS' });
    expect(plan.rejected[0]!.message).toContain('offer nope is unknown');
    expect(plan.usedOfferIds).toEqual(['o1']);
    expect(plan.unused.scalar('cpus')).toBe(1);
  });

  it('refuses offers of two agents and offers of another framework', () => {
    const two = planAccept(accept(['o1', 'o2'], [task('t1')]), ctx([offer('o1'), offer('o2', 'a2')]));
    expect(two.rejected[0]!.message).toContain('more than one agent');
    const other = planAccept(accept(['o3'], [task('t1')]), ctx([offer('o3', 'a1', 'f2')]));
    expect(other.rejected[0]!.message).toContain('belongs to another framework');
    expect(other.usedOfferIds).toEqual([]);
  });

  it('reports TASK_LOST instead of TASK_DROPPED to frameworks that are not partition aware', () => {
    const plan = planAccept(accept(['gone'], [task('t1')]), { ...ctx([]), partitionAware: false });
    expect(plan.rejected[0]!.state).toBe('TASK_LOST');
  });

  it('refuses a task for another agent or without cpus', () => {
    const plan = planAccept(accept(['o1'], [task('t1', 'cpus:0.1;mem:32', 'a9'), task('t2', 'mem:32')]), ctx([offer('o1')]));
    expect(plan.rejected.map((r) => r.message)).toEqual([
      "task 't1': TaskInfo.agent_id 'a9' is not the agent of the offers ('a1')",
      "task 't2': TaskInfo.resources must include cpus > 0",
    ]);
  });

  it('throws on unsupported operations before changing anything', () => {
    const call = { offer_ids: [{ value: 'o1' }], operations: [{ type: 'RESERVE' }], filters: null } as never;
    expect(() => planAccept(call, ctx([offer('o1')]))).toThrow('only LAUNCH is supported');
  });
});
