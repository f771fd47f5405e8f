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

describe('planAccept with MESOS containers', () => {
  const withContainer = (container: unknown, command: unknown = { value: 'true', shell: true }) => ({ ...task('m1'), container, command }) as unknown as TaskInfoOut;
  it('launches a MESOS container, with a DOCKER image by name or none', () => {
    for (const container of [{ type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'busybox' } } } }, { type: 'MESOS' }]) {
      expect(planAccept(accept(['o1'], [withContainer(container)]), ctx([offer('o1')])).rejected).toEqual([]);
    }
  });
  it.each([
    [{ type: 'MESOS', mesos: { image: { type: 'APPC' } } }, undefined, 'ContainerInfo.mesos.image.type must be DOCKER, got APPC'],
    [{ type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: {} } } }, undefined, 'ContainerInfo.mesos.image.docker.name is required'],
    [{ type: 'MESOS' }, null, 'TaskInfo.command is required for a MESOS container'],
  ])('refuses %j naming the field', (container, command, message) => {
    const plan = planAccept(accept(['o1'], [withContainer(container, command === undefined ? { value: 'true', shell: true } : command)]), ctx([offer('o1')]));
    expect(JSON.stringify(plan.rejected)).toContain(message);
  });
});

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

  it('throws on unsupported or malformed operations before changing anything', () => {
    const create = { offer_ids: [{ value: 'o1' }], operations: [{ type: 'CREATE' }], filters: null } as never;
    expect(() => planAccept(create, ctx([offer('o1')]))).toThrow('Call.accept.operations[0].type CREATE: only LAUNCH, RESERVE and UNRESERVE are supported');
    const bare = { offer_ids: [{ value: 'o1' }], operations: [{ type: 'RESERVE', reserve: null }], filters: null } as never;
    expect(() => planAccept(bare, ctx([offer('o1')]))).toThrow('Call.accept.operations[0].reserve is required for a RESERVE operation');
  });

  it('refuses offers allocated to different roles in one ACCEPT', () => {
    const plan = planAccept(accept(['o1', 'o2'], [task('t1')]), ctx([opsOffer('o1'), { ...opsOffer('o2'), role: 'dev' }]));
    expect(plan.rejected[0]!.message).toContain('more than one role (ops, dev)');
  });
});

// ---- RESERVE / UNRESERVE ---------------------------------------------------

const opsOffer = (id: string, text = 'cpus:4;mem:1024;cpus(ops):1'): OfferView => ({ id, agentId: 'a1', frameworkId: 'f1', role: 'ops', resources: Resources.parse(text) });

/** Mesos's form of reserved resources: the reservation stacked on the resource. */
function reserved(text: string, role = 'ops', type = 'DYNAMIC') {
  return Resources.parse(text).toProto().map((r) => ({ ...r, reservations: [{ type, role }] }));
}

type Op = Record<string, unknown>;
const RESERVE = (resources: unknown[], source: unknown[] = []): Op => ({ type: 'RESERVE', reserve: { resources, source } });
const UNRESERVE = (resources: unknown[]): Op => ({ type: 'UNRESERVE', unreserve: { resources } });
const LAUNCH = (...tasks: TaskInfoOut[]): Op => ({ type: 'LAUNCH', launch: { task_infos: tasks } });

function acceptOps(offerIds: string[], ops: Op[]): NonNullable<Call['accept']> {
  return { offer_ids: offerIds.map((value) => ({ value })), operations: ops, filters: null } as never;
}

const dynamicOn = (text: string) => ({ dynamicReservations: () => Resources.parse(text) });

describe('planAccept: RESERVE and UNRESERVE', () => {
  it('reserves offered resources for the offer role; a LAUNCH after it may use them', () => {
    const t = task('t1', 'cpus(ops):1;mem(ops):128');
    const plan = planAccept(acceptOps(['o1'], [RESERVE(reserved('cpus:2;mem:512')), LAUNCH(t)]), ctx([opsOffer('o1')]));
    expect(plan.dropped).toEqual([]);
    expect(plan.reservations.map((c) => [c.type, c.from.toString(), c.to.toString()])).toEqual([['RESERVE', 'cpus:2;mem:512', 'cpus(ops):2;mem(ops):512']]);
    expect(plan.launches).toHaveLength(1);
    expect(plan.unused.toString()).toBe('cpus:2;cpus(ops):2;mem:512;mem(ops):384');
  });

  it('accepts a source equal to the unreserved form, and refuses another one', () => {
    const ok = planAccept(acceptOps(['o1'], [RESERVE(reserved('cpus:1'), Resources.parse('cpus:1').toProto())]), ctx([opsOffer('o1')]));
    expect(ok.reservations).toHaveLength(1);
    const bad = planAccept(acceptOps(['o1'], [RESERVE(reserved('cpus:1'), Resources.parse('cpus:2').toProto())]), ctx([opsOffer('o1')]));
    expect(bad.dropped[0]).toContain('source (cpus:2) is not the unreserved form of Call.accept.operations[0].reserve.resources (cpus:1)');
  });

  it.each([
    ['more than offered', RESERVE(reserved('cpus:8')), 'reserving cpus(ops):8 needs cpus:8 but the offers hold only cpus:4;mem:1024 unreserved'],
    ['for another role', RESERVE(reserved('cpus:1', 'dev')), "reservations[0].role 'dev' is not the offers' role 'ops'"],
    ['a static reservation', RESERVE(reserved('cpus:1', 'ops', 'STATIC')), 'reservations[0].type must be DYNAMIC, got STATIC'],
    ['without reservations', RESERVE(Resources.parse('cpus:1').toProto()), "resources[0] ('cpus') has no reservations"],
    ['nothing', RESERVE([]), 'Call.accept.operations[0].reserve.resources is empty'],
  ])('drops a RESERVE of %s, naming why, and changes nothing', (_what, op, message) => {
    const plan = planAccept(acceptOps(['o1'], [op]), ctx([opsOffer('o1')]));
    expect(plan.reservations).toEqual([]);
    expect(plan.dropped).toHaveLength(1);
    expect(plan.dropped[0]).toMatch(/^Call\.accept\.operations\[0\] \(RESERVE\) dropped: /);
    expect(plan.dropped[0]).toContain(message);
    expect(plan.unused.toString()).toBe('cpus:4;cpus(ops):1;mem:1024'); // everything goes back as it was
  });

  it('refuses reservations on offers allocated to role *', () => {
    const plan = planAccept(acceptOps(['o1'], [RESERVE(reserved('cpus:1'))]), ctx([offer('o1')]));
    expect(plan.dropped[0]).toContain("allocated to role '*'");
  });

  it('drops reservations when the allocator cannot apply them', () => {
    const plan = planAccept(acceptOps(['o1'], [RESERVE(reserved('cpus:1'))]), { ...ctx([opsOffer('o1')]), reservationsSupported: false });
    expect(plan.dropped[0]).toContain('does not support dynamic reservations');
  });

  it('unreserves what is dynamically reserved for the offer role', () => {
    const plan = planAccept(acceptOps(['o1'], [UNRESERVE(reserved('cpus:1'))]), { ...ctx([opsOffer('o1')]), ...dynamicOn('cpus(ops):1') });
    expect(plan.reservations.map((c) => [c.type, c.from.toString(), c.to.toString()])).toEqual([['UNRESERVE', 'cpus(ops):1', 'cpus:1']]);
    expect(plan.unused.toString()).toBe('cpus:5;mem:1024');
  });

  it.each([
    ['a static reservation', UNRESERVE(reserved('cpus:1')), {}, 'cpus(ops):1 is not dynamically reserved on agent a1'],
    ['unreserved resources', UNRESERVE(Resources.parse('cpus:1').toProto()), dynamicOn('cpus(ops):1'), "'cpus' is not reserved"],
    ['more than offered', UNRESERVE(reserved('cpus:2')), dynamicOn('cpus(ops):2'), 'unreserving cpus(ops):2 but the offers hold only'],
  ])('drops an UNRESERVE of %s', (_what, op, extra, message) => {
    const plan = planAccept(acceptOps(['o1'], [op]), { ...ctx([opsOffer('o1')]), ...extra });
    expect(plan.reservations).toEqual([]);
    expect(plan.dropped[0]).toContain(message);
  });

  it('applies operations in order: reserve, then unreserve what was just reserved', () => {
    const plan = planAccept(acceptOps(['o1'], [RESERVE(reserved('cpus:2')), UNRESERVE(reserved('cpus:1'))]), ctx([opsOffer('o1')]));
    expect(plan.dropped).toEqual([]);
    expect(plan.reservations.map((c) => c.type)).toEqual(['RESERVE', 'UNRESERVE']);
    expect(plan.unused.toString()).toBe('cpus:3;cpus(ops):2;mem:1024');
  });

  it('drops reservation operations with the offers when the offers are bad', () => {
    const plan = planAccept(acceptOps(['gone'], [RESERVE(reserved('cpus:1'))]), ctx([]));
    expect(plan.dropped).toEqual(['Call.accept.operations[0] (RESERVE) dropped: offer gone is unknown, already used, declined or rescinded']);
  });
});
