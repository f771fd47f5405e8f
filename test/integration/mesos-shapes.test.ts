// Every v0 JSON endpoint of the master against the shape a Mesos 1.11 master
// writes (test/fixtures/mesos-shapes/, derived from apache/mesos's writers:
// see the README there). One real cluster for every case: a master, an agent
// with a static reservation for role1, a framework subscribed to role1 with a
// running and a finished task (its update acknowledged), a framework torn
// down, a quota, a drained agent and a machine in maintenance. For each endpoint: every key Mesos always writes is there with its
// JSON type, no key is one Mesos would not write, nothing is null.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';
import { loadShape, shapeErrors } from '../harness/json-shape.js';
import { startMasterHttp } from '../../master/http.js';
import { v0Routes } from '../../master/v0/routes.js';
import { buildInfo } from '../../master/v0/build-info.js';

let cluster: TestCluster;
const schedulers: RawScheduler[] = [];
let frameworkId = '';
let agentId = '';

const get = async (path: string) => {
  const res = await fetch(`http://${cluster.master.httpAddress}${path}`);
  expect(res.status, path).toBe(200);
  return res;
};
const json = async (path: string): Promise<any> => (await get(path)).json();

/** Every object key found anywhere in `value`: the keys this cluster should show must have been written at least once. */
function keysSeen(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => keysSeen(v, into));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) keysSeen(v, into.add(k));
  return into;
}

/** Paths of nulls anywhere, also inside the messages the shapes take as any object. */
function nulls(value: unknown, path = '$'): string[] {
  if (value === null) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nulls(v, `${path}[${i}]`));
  if (typeof value === 'object') return Object.entries(value as object).flatMap(([k, v]) => nulls(v, `${path}.${k}`));
  return [];
}

beforeAll(async () => {
  cluster = await startCluster({ agents: ['cpus:2;mem:1024;disk:100;ports:[31000-31009];cpus(role1):1;mem(role1):256'], master: { weights: 'role1=2' } });
  agentId = cluster.agents[0]!.agentId()!;
  const s = new RawScheduler(cluster.master.grpcAddress);
  schedulers.push(s);
  s.autoAcknowledge = true;
  await s.subscribe({ name: 'shapes', user: 'root', roles: ['role1'], capabilities: [{ type: 'MULTI_ROLE' }], principal: 'ops', failover_timeout: 60 });
  frameworkId = s.frameworkId;
  const offer = (await s.next((e) => e.type === 'OFFERS')).offers!.offers[0]!;
  await s.launch(offer, [
    { ...commandTask('sleeper', offer, 'sleep 600', 'cpus(role1):0.5;mem:32'), labels: { labels: [{ key: 'tier', value: 'web' }] } },
    commandTask('finisher', offer, 'true', 'cpus:0.1;mem:32'),
  ]);
  await s.next(isUpdate('sleeper', 'TASK_RUNNING'), 30_000);
  await s.next(isUpdate('finisher', 'TASK_FINISHED'), 30_000);
  // Acknowledged, the finished task moves to completed_tasks.
  await waitUntil(async () => (await json('/master/state')).frameworks.some((f: any) => f.completed_tasks.length > 0), 10_000, 'the finished task to complete');
  const leaver = new RawScheduler(cluster.master.grpcAddress);
  schedulers.push(leaver);
  await leaver.subscribe({ name: 'leaver', user: 'root' });
  await leaver.call('Teardown', { type: 'TEARDOWN' });
  await waitUntil(async () => (await json('/master/state')).completed_frameworks.length === 1, 10_000, 'the torn-down framework to complete');
  await cluster.addAgent('cpus:1;mem:256', 'rack:r1;weight:2.5');
  // What operators set: a quota, the second agent drained, and its machine (all agents here share 127.0.0.1) in maintenance.
  const operator = (call: Record<string, unknown>) => fetch(`http://${cluster.master.httpAddress}/api/v1`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(call),
  }).then((res) => expect(res.status, String(call.type)).toBe(200));
  await operator({ type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'role1', guarantees: { cpus: { value: 0.5 } }, limits: { cpus: { value: 2 } } }] } });
  await operator({ type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: cluster.agents[1]!.agentId() }, max_grace_period: { seconds: 5 } } });
  const window = { machine_ids: [{ hostname: cluster.master.master.agents.get(agentId)!.info.hostname }], unavailability: { start: { nanoseconds: 4102444800e9 } } };
  await operator({ type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule: { windows: [window] } } });
  const inverse = await s.next((e) => e.type === 'INVERSE_OFFERS', 10_000);
  await s.call('DeclineInverseOffers', { type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: [inverse.inverse_offers!.inverse_offers[0]!.id!] } });
  await waitUntil(async () => JSON.stringify(await json('/master/maintenance/status')).includes('DECLINE'), 5000, 'the answer in the maintenance status');
}, 90_000);

afterAll(async () => {
  for (const s of schedulers) s.close();
  await cluster?.stop();
});

// endpoint, fixture, and keys this cluster must show somewhere in the answer (so a case cannot pass on empty lists).
const CASES: readonly { path: string; fixture: string; shows: readonly string[] }[] = [
  { path: '/master/state', fixture: 'master-state', shows: ['slaves', 'reserved_resources', 'statuses', 'container_status', 'completed_tasks', 'offers', 'labels', 'principal', 'roles', 'leader_info'] },
  { path: '/state', fixture: 'master-state', shows: ['slaves'] },
  { path: '/master/state.json', fixture: 'master-state', shows: ['slaves'] },
  { path: '/master/state-summary', fixture: 'master-state-summary', shows: ['TASK_RUNNING', 'framework_ids', 'slave_ids'] },
  { path: '/master/slaves', fixture: 'master-slaves', shows: ['reserved_resources_full', 'used_resources_full', 'reservations', 'drain_info'] },
  { path: '/master/frameworks', fixture: 'master-frameworks', shows: ['tasks', 'completed_tasks', 'offers'] },
  { path: '/master/tasks', fixture: 'master-tasks', shows: ['statuses', 'role'] },
  { path: '/master/roles', fixture: 'master-roles', shows: ['quota', 'frameworks', 'reserved'] },
  { path: '/master/flags', fixture: 'master-flags', shows: ['allocation_interval'] },
  { path: '/version', fixture: 'version', shows: ['build_time'] },
  { path: '/master/maintenance/schedule', fixture: 'master-maintenance-schedule', shows: ['windows', 'machine_ids', 'unavailability'] },
  { path: '/master/maintenance/status', fixture: 'master-maintenance-status', shows: ['draining_machines', 'statuses', 'framework_id'] },
  { path: '/master/weights', fixture: 'master-weights', shows: ['role', 'weight'] },
  { path: '/master/quota', fixture: 'master-quota', shows: ['configs', 'guarantees', 'limits', 'infos'] },
];

describe('v0 JSON as a Mesos 1.11 master writes it', () => {
  it.each(CASES)('$path matches $fixture.json', async ({ path, fixture, shows }) => {
    const body = await json(path);
    expect(shapeErrors(body, loadShape(fixture))).toEqual([]);
    expect(nulls(body)).toEqual([]);
    const seen = keysSeen(body);
    expect(shows.filter((k) => !seen.has(k)), 'keys this cluster should show').toEqual([]);
  });

  it('writes values as Mesos does: ranges, reservations, roles, pids, task order', async () => {
    const st = await json('/master/state');
    const agent = st.slaves[0];
    expect(agent.id).toBe(agentId);
    expect(agent.pid).toBe(`slave(1)@${cluster.agents[0]!.httpAddress}`);
    expect(agent.resources).toMatchObject({ cpus: 3, mem: 1280, disk: 100, gpus: 0, ports: '[31000-31009]' });
    expect(agent.reserved_resources).toEqual({ role1: { cpus: 1, mem: 256, gpus: 0, disk: 0 } });
    expect(st.slaves[1].attributes).toEqual({ rack: 'r1', weight: 2.5 }); // json(Attributes): text as a string, scalar as a number
    const fw = st.frameworks.find((f: any) => f.id === frameworkId);
    expect(fw).toMatchObject({ roles: ['role1'], principal: 'ops', capabilities: ['MULTI_ROLE'], active: true });
    expect('pid' in fw).toBe(false); // A gRPC framework has no libprocess pid: absent, as Mesos leaves it for HTTP frameworks.
    expect('role' in fw).toBe(false); // A MULTI_ROLE framework has `roles` only.
    const sleeper = fw.tasks.find((t: any) => t.id === 'sleeper');
    expect(sleeper).toMatchObject({ state: 'TASK_RUNNING', role: 'role1', slave_id: agentId, executor_id: '', labels: [{ key: 'tier', value: 'web' }] });
    // One status per state, as Mesos keeps them, the latest last.
    expect(sleeper.statuses.map((s: any) => s.state).at(-1)).toBe('TASK_RUNNING');
    expect(new Set(sleeper.statuses.map((s: any) => s.state)).size).toBe(sleeper.statuses.length);
    expect(sleeper.statuses.at(-1).container_status.container_id.value).toBeTypeOf('string');
    expect(fw.completed_tasks.map((t: any) => t.id)).toEqual(['finisher']);
    expect(st.leader).toBe(st.pid);

    const tasks = (order: string) => json(`/master/tasks?order=${order}`).then((b) => b.tasks.map((t: any) => t.id));
    expect(await tasks('asc')).toEqual([...(await tasks('des'))].reverse());
    expect((await json('/master/tasks?limit=1&offset=1&order=asc')).tasks.map((t: any) => t.id)).toEqual([(await tasks('asc'))[1]]);
    expect((await json('/master/tasks?task_id=sleeper')).tasks.map((t: any) => t.id)).toEqual(['sleeper']);
    expect((await json(`/master/frameworks?framework_id=${frameworkId}`)).frameworks.map((f: any) => f.id)).toEqual([frameworkId]);
    expect((await json('/master/slaves?slave_id=nope')).slaves).toEqual([]);
    const ops = (await json('/master/roles')).roles.find((r: any) => r.name === 'role1');
    expect(ops).toMatchObject({ weight: 2, frameworks: [frameworkId], reserved: { cpus: 1, mem: 256 } });
  });

  it('wraps the JSON in ?jsonp=NAME as text/javascript (refusing a callback that is not a name), and answers /master/health 200 with no body', async () => {
    const res = await get('/master/roles?jsonp=show');
    expect(res.headers.get('content-type')).toBe('text/javascript');
    const text = await res.text();
    expect(text.startsWith('show({"roles":')).toBe(true);
    expect(text.endsWith(');')).toBe(true); // libprocess's OK(json, jsonp)
    expect((await fetch(`http://${cluster.master.httpAddress}/master/roles?jsonp=alert(1)//`)).status).toBe(400);
    const health = await get('/master/health');
    expect(await health.text()).toBe('');
  });

  it('on a master that does not lead: 307 to the leader for the snapshot endpoints; flags, health and version answered there', async () => {
    const standby = await startMasterHttp({
      ip: '127.0.0.1', port: 0,
      handlers: [v0Routes({ snapshot: () => null, leaderHttp: () => cluster.master.httpAddress, flags: { port: '0' }, build: buildInfo() })],
    });
    const at = (path: string) => fetch(`http://127.0.0.1:${standby.port}${path}`, { redirect: 'manual' });
    try {
      for (const path of ['/master/state', '/state', '/master/state-summary', '/master/slaves', '/master/frameworks', '/master/tasks?limit=1', '/master/roles']) {
        const res = await at(path);
        expect(res.status, path).toBe(307);
        expect(res.headers.get('location')).toBe(`//${cluster.master.httpAddress}${path}`);
      }
      expect(await (await at('/master/flags')).json()).toEqual({ flags: { port: '0' } });
      expect((await at('/master/health')).status).toBe(200);
      expect(shapeErrors(await (await at('/version')).json(), loadShape('version'))).toEqual([]);
    } finally {
      standby.server.closeAllConnections();
      await new Promise<void>((resolve) => standby.server.close(() => resolve()));
    }
  });
});
