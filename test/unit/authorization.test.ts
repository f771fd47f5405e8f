// The master's authorization decisions, without processes: the ACCEPT plan
// with run_tasks / reserve_resources / unreserve_resources, the operator
// write calls' objects, and the view filters of GET_STATE and /master/state.
import { describe, expect, it } from 'vitest';
import { parseAcls } from '../../common/acls.js';
import { Resources } from '../../common/resources.js';
import { planAccept, type OfferView } from '../../master/launch-plan.js';
import { filterGetState, filterResponse, filterV0Model, viewFilter, writeCallRefusal } from '../../master/authorization.js';
import { ClusterState } from '../../master/state/cluster.js';
import type { Call, OperatorCall, TaskInfoOut } from '../../proto/index.js';
import type { V0Model } from '../../master/v0/model.js';

const acls = parseAcls(JSON.stringify({
  run_tasks: [{ principals: { type: 'NONE' }, users: { values: ['root'] } }],
  reserve_resources: [{ principals: { values: ['fw'] }, roles: { values: ['ops'] } }, { principals: { type: 'NONE' }, roles: { type: 'ANY' } }],
  unreserve_resources: [{ principals: { values: ['fw'] }, reserver_principals: { values: ['fw'] } }, { principals: { type: 'NONE' }, reserver_principals: { type: 'ANY' } }],
  teardown_frameworks: [{ principals: { values: ['ops'] }, framework_principals: { type: 'ANY' } }, { principals: { type: 'ANY' }, framework_principals: { type: 'NONE' } }],
  update_quotas: [{ principals: { values: ['ops'] }, roles: { values: ['dev'] } }, { principals: { type: 'NONE' }, roles: { type: 'ANY' } }],
  drain_agents: [{ principals: { type: 'NONE' }, agents: { type: 'ANY' } }],
  view_frameworks: [{ principals: { values: ['viewer'] }, users: { values: ['nobody'] } }, { principals: { values: ['viewer'] }, users: { type: 'NONE' } }],
  view_tasks: [{ principals: { values: ['viewer'] }, users: { values: ['nobody'] } }, { principals: { values: ['viewer'] }, users: { type: 'NONE' } }],
  view_roles: [{ principals: { values: ['viewer'] }, roles: { values: ['dev'] } }, { principals: { values: ['viewer'] }, roles: { type: 'NONE' } }],
  get_quotas: [{ principals: { values: ['viewer'] }, roles: { values: ['dev'] } }, { principals: { values: ['viewer'] }, roles: { type: 'NONE' } }],
}));

const offer: OfferView = { id: 'o1', agentId: 'a1', frameworkId: 'f1', role: 'ops', resources: Resources.parse('cpus:4;mem:1024;cpus(ops):1') };

function task(id: string, user?: string): TaskInfoOut {
  return {
    name: id, task_id: { value: id }, agent_id: { value: 'a1' }, resources: Resources.parse('cpus:1;mem:64').toProto(),
    command: { value: 'true', shell: true, ...(user ? { user } : {}) }, container: null, executor: null,
  } as unknown as TaskInfoOut;
}

const reserved = (role: string, principal?: string) =>
  Resources.parse('cpus:1').toProto().map((r) => ({ ...r, reservations: [{ type: 'DYNAMIC', role, ...(principal ? { principal } : {}) }] }));

describe('the ACCEPT plan asks run_tasks, reserve_resources and unreserve_resources', () => {
  const plan = (ops: unknown[]) => planAccept({ offer_ids: [{ value: 'o1' }], operations: ops, filters: null } as never as NonNullable<Call['accept']>, {
    frameworkId: 'f1', partitionAware: true, offers: new Map([['o1', offer]]), activeTaskIds: new Set(),
    dynamicReservations: () => Resources.parse('cpus(ops):1'),
    authorize: {
      task: (t) => (t.command?.user || 'root') === 'root' ? "Not authorized to launch as user 'root' (ACL run_tasks[0])" : null,
      reservation: (type, object) => (type === 'RESERVE' ? (object === 'ops' ? null : 'no') : object === 'fw' ? null : `not ${object}`),
    },
  });

  it('refuses a task as root (TASK_ERROR, REASON_TASK_UNAUTHORIZED) and launches the other, which alone uses resources', () => {
    const p = plan([{ type: 'LAUNCH', launch: { task_infos: [task('r'), task('n', 'nobody')] } }]);
    expect(p.rejected).toEqual([expect.objectContaining({ state: 'TASK_ERROR', reason: 'REASON_TASK_UNAUTHORIZED', message: "Not authorized to launch as user 'root' (ACL run_tasks[0])" })]);
    expect(p.launches.map((l) => l.task.task_id?.value)).toEqual(['n']);
    expect(p.unused.toString()).toBe(Resources.parse('cpus:3;mem:960;cpus(ops):1').toString());
  });

  it("drops an UNRESERVE of another principal's reservation, keeps one of its own", () => {
    const p = plan([{ type: 'UNRESERVE', unreserve: { resources: reserved('ops', 'other') } }]);
    expect(p.reservations).toEqual([]);
    expect(p.dropped).toEqual(['Call.accept.operations[0] (UNRESERVE) dropped: not other']);
    expect(plan([{ type: 'UNRESERVE', unreserve: { resources: reserved('ops', 'fw') } }]).reservations).toHaveLength(1);
  });
});

describe('operator write calls: the object each asks about', () => {
  const state = new ClusterState();
  state.frameworks.set('f1', { id: 'f1', info: { principal: 'alice' } } as never);
  const table: [string, Record<string, unknown>, string | null, RegExp | null][] = [
    ['TEARDOWN', { teardown: { framework_id: { value: 'f1' } } }, 'ops', null],
    ['TEARDOWN', { teardown: { framework_id: { value: 'f1' } } }, 'dev', /tear down framework f1 \(principal 'alice'\) as principal 'dev' \(ACL teardown_frameworks\[1\]\)/],
    ['TEARDOWN', { teardown: { framework_id: { value: 'unknown' } } }, 'dev', null],
    ['UPDATE_QUOTA', { update_quota: { quota_configs: [{ role: 'dev' }] } }, 'ops', null],
    ['UPDATE_QUOTA', { update_quota: { quota_configs: [{ role: 'dev' }, { role: 'prod' }] } }, 'ops', /quota of role 'prod'.*update_quotas\[1\]/],
    ['REMOVE_QUOTA', { remove_quota: { role: 'dev' } }, null, /as a caller without principal \(ACL update_quotas\[1\]\)/],
    ['RESERVE_RESOURCES', { reserve_resources: { resources: reserved('ops') } }, 'fw', null],
    ['RESERVE_RESOURCES', { reserve_resources: { resources: reserved('dev') } }, 'fw', /reserve resources for role 'dev'/],
    ['UNRESERVE_RESOURCES', { unreserve_resources: { resources: reserved('ops', 'other') } }, 'fw', /reserved by principal 'other'/],
    ['DRAIN_AGENT', { drain_agent: { agent_id: { value: 'a1' } } }, 'ops', /drain an agent.*drain_agents\[0\]/],
    // A NONE rule matches a caller without principal too (as ANY does), and denies it.
    ['DRAIN_AGENT', { drain_agent: { agent_id: { value: 'a1' } } }, null, /as a caller without principal \(ACL drain_agents\[0\]\)/],
  ];
  it.each(table)('%s %j by %s', (type, body, principal, refused) => {
    const out = writeCallRefusal(acls, type, { type, ...body } as never as OperatorCall, principal, state);
    if (refused === null) expect(out).toBeNull();
    else expect(out).toMatch(refused);
  });
});

describe('view filters', () => {
  const filter = viewFilter(acls, 'viewer')!;

  it('are null when the ACLs let everyone see everything', () => {
    expect(viewFilter(parseAcls('{"run_tasks": []}'), null)).toBeNull();
    expect(filter).not.toBeNull();
  });

  it('GET_STATE keeps the frameworks and tasks of the users the principal may see (a task by its own user, else its framework\'s)', () => {
    const fw = (id: string, user: string) => ({ framework_info: { id: { value: id }, user, name: id } });
    const t = (id: string, frameworkId: string, user?: string) => ({ task_id: { value: id }, framework_id: { value: frameworkId }, ...(user ? { user } : {}) });
    const out = filterGetState({
      get_frameworks: { frameworks: [fw('f1', 'root'), fw('f2', 'nobody')], completed_frameworks: [fw('f3', 'root')] },
      get_tasks: { tasks: [t('a', 'f1'), t('b', 'f2'), t('c', 'f1', 'nobody')], unreachable_tasks: [], completed_tasks: [t('d', 'f3')] },
    } as never, filter, new Map([['f1', 'root'], ['f2', 'nobody'], ['f3', 'root']]));
    expect(out.get_frameworks?.frameworks?.map((f) => f.framework_info?.id?.value)).toEqual(['f2']);
    expect(out.get_frameworks?.completed_frameworks).toEqual([]);
    expect(out.get_tasks?.tasks?.map((x) => x.task_id?.value)).toEqual(['b', 'c']);
    expect(out.get_tasks?.completed_tasks).toEqual([]);
  });

  it('weights, roles and quotas keep the roles the principal may see (view_roles, get_quotas)', () => {
    const users = new Map<string, string>();
    const weights = filterResponse({ type: 'GET_WEIGHTS', get_weights: { weight_infos: [{ role: 'dev', weight: 2 }, { role: 'prod', weight: 3 }] } }, filter, users);
    expect(weights.get_weights?.weight_infos).toEqual([{ role: 'dev', weight: 2 }]);
    const roles = filterResponse({ type: 'GET_ROLES', get_roles: { roles: [{ name: 'dev' }, { name: 'prod' }] } }, filter, users);
    expect(roles.get_roles?.roles?.map((r) => r.name)).toEqual(['dev']);
    const quota = filterResponse({ type: 'GET_QUOTA', get_quota: { status: { infos: [{ role: 'prod' }], configs: [{ role: 'dev' }, { role: 'prod' }] } } }, filter, users);
    expect(quota.get_quota?.status?.infos).toEqual([]);
    expect(quota.get_quota?.status?.configs?.map((c) => c.role)).toEqual(['dev']);
  });

  it('/master/state keeps the same', () => {
    const model = {
      state: {
        slaves: [], completed_frameworks: [],
        frameworks: [
          { id: 'f1', user: 'root', tasks: [{ id: 'a' }, { id: 'c', user: 'nobody' }], unreachable_tasks: [], completed_tasks: [] },
          { id: 'f2', user: 'nobody', tasks: [{ id: 'b' }, { id: 'e', user: 'root' }], unreachable_tasks: [], completed_tasks: [] },
        ],
      },
      roles: [{ name: 'dev' }, { name: 'prod' }],
    } as never as V0Model;
    const out = filterV0Model(model, filter);
    expect(out.state.frameworks.map((f) => f.id)).toEqual(['f2']);
    expect((out.state.frameworks[0]!.tasks as { id: string }[]).map((t) => t.id)).toEqual(['b']);
    expect(out.roles.map((r) => r.name)).toEqual(['dev']);
  });
});
