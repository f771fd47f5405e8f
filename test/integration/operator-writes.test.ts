// The operator's write calls on a real cluster: masters electing in a real
// ZooKeeper, agents running real containers, calls over POST /api/v1 in
// JSON. Each change must survive a change of leader; drain and maintenance
// must do to the containers what they say.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startZooKeeper, type TestZooKeeper } from '../harness/zookeeper.js';
import type { RunningMaster } from '../../master/main.js';
import { MasterGroup } from '../harness/master-group.js';
import { startAgent, type RunningAgent } from '../../agent/main.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { containersUnder, removeContainersUnder } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import type { OfferOut } from '../../proto/index.js';

const ZK_PATH = '/mesos-ts-operator-writes';
const quiet = (line: string) => { if (process.env.DEBUG_TEST) console.error(line); };
let zk: TestZooKeeper;
const base = mkdtempSync(join(tmpdir(), 'mesos-ts-operator-writes-'));
let group: MasterGroup;
const agents: RunningAgent[] = [];
let s: RawScheduler;

const leader = () => group.leader();

/** The leader leaves; a standby takes over. A new standby joins so the next case can fail over again. */
async function failOver(): Promise<RunningMaster> {
  const { next } = await group.failOver();
  await group.add();
  return next;
}

async function agent(hostname: string, dir = hostname): Promise<RunningAgent> {
  const a = await startAgent({
    master: `zk://${zk.connectString}${ZK_PATH}`, port: 0, hostname, work_dir: join(base, dir), resources: 'cpus:1;mem:256;disk:10',
    docker_pull: 'never', kill_grace_period: 10, status_update_retry_interval: 1, log: quiet,
  });
  agents.push(a);
  await waitUntil(() => a.agentId() !== null, 15_000, `agent ${hostname} to register`);
  return a;
}

/** One Call to the leader's POST /api/v1, in JSON. */
async function operator(call: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> | string }> {
  const m = await leader();
  const res = await fetch(`http://${m.httpAddress}/api/v1`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(call),
  });
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : text };
}

async function ok(call: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { status, body } = await operator(call);
  if (status >= 300) throw new Error(`${String(call.type)} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  return typeof body === 'string' ? {} : body;
}

async function sleeperOn(agentId: string, taskId: string): Promise<void> {
  const e = await s.next((ev) => ev.type === 'OFFERS' && ev.offers!.offers.some((o) => o.agent_id?.value === agentId));
  const offer = e.offers!.offers.find((o) => o.agent_id?.value === agentId) as OfferOut;
  await s.launch(offer, [commandTask(taskId, offer, 'sleep 3600', 'cpus:0.1;mem:32')]);
  await s.next(isUpdate(taskId, 'TASK_RUNNING'), 30_000);
}

/** The scheduler subscribes again, with the current leader (a plain gRPC client does not follow a change of leader). */
async function resubscribe(): Promise<void> {
  const m = await leader();
  const id = s.frameworkId;
  s.close();
  s = new RawScheduler(m.grpcAddress);
  s.autoAcknowledge = true;
  const ev = await s.subscribe({ name: 'ops', user: 'root', failover_timeout: 600, id: { value: id } });
  expect(ev.type).toBe('SUBSCRIBED');
}

const agentView = async (id: string) => {
  const body = await ok({ type: 'GET_AGENTS' });
  // No agent at all (a new leader before any re-registered) leaves the empty list out, as proto3 JSON does.
  return ((body.get_agents as { agents?: { agent_info: { id: { value: string } }; deactivated?: boolean; drain_info?: { state: string } }[] }).agents ?? [])
    .find((a) => a.agent_info.id.value === id);
};

beforeAll(async () => {
  zk = await startZooKeeper();
  group = new MasterGroup(`zk://${zk.connectString}${ZK_PATH}`, { zk_session_timeout: 2, allocation_interval: 0.1 }, quiet);
  await group.add();
  await group.add();
  const m = await leader();
  s = new RawScheduler(m.grpcAddress);
  s.autoAcknowledge = true;
  const ev = await s.subscribe({ name: 'ops', user: 'root', failover_timeout: 600 });
  expect(ev.type).toBe('SUBSCRIBED');
}, 60_000);

afterAll(async () => {
  s?.close();
  for (const a of agents) await a.stop({ killTasks: true }).catch(() => {});
  await group?.stopAll();
  await zk?.stop();
  await removeContainersUnder(base);
  rmSync(base, { recursive: true, force: true });
}, 60_000);

describe('operator write calls on a real cluster', () => {
  it('keeps weights, quota, a maintenance schedule and a deactivated agent across a change of leader', async () => {
    const a = await agent('node-keep');
    await ok({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'analytics', weight: 3 }] } });
    await ok({ type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'analytics', guarantees: { cpus: { value: 0.5 } }, limits: { mem: { value: 128 } } }] } });
    const schedule = { windows: [{ machine_ids: [{ hostname: 'node-later' }], unavailability: { start: { nanoseconds: 4102444800000000000 } } }] };
    await ok({ type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule } });
    await ok({ type: 'DEACTIVATE_AGENT', deactivate_agent: { agent_id: { value: a.agentId() } } });
    const before = await Promise.all(['GET_WEIGHTS', 'GET_QUOTA', 'GET_MAINTENANCE_SCHEDULE'].map((type) => ok({ type })));

    await failOver();
    expect(await Promise.all(['GET_WEIGHTS', 'GET_QUOTA', 'GET_MAINTENANCE_SCHEDULE'].map((type) => ok({ type })))).toEqual(before);
    expect(before[0]).toEqual({ type: 'GET_WEIGHTS', get_weights: { weight_infos: [{ weight: 3, role: 'analytics' }] } });
    expect((before[2] as { get_maintenance_schedule: unknown }).get_maintenance_schedule).toEqual({ schedule });
    await waitUntil(async () => (await agentView(a.agentId()!)) !== undefined, 15_000, 'the agent to re-register with the new leader');
    expect((await agentView(a.agentId()!))?.deactivated).toBe(true);
    await ok({ type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: a.agentId() } } });
    expect((await agentView(a.agentId()!))?.deactivated).toBe(false);
    // A refused call changes nothing and says why.
    const bad = await operator({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'analytics', weight: 0 }] } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/weight must be positive/);
    await a.stop({ killTasks: true });
  });

  it('drains an agent: its task is killed within the grace period as REASON_AGENT_DRAINING, the agent is DRAINED, also for the next leader', async () => {
    await resubscribe();
    const a = await agent('node-drain');
    await sleeperOn(a.agentId()!, 'drained-task');
    await ok({ type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: a.agentId() }, max_grace_period: { seconds: 1 } } });
    const killed = await s.next(isUpdate('drained-task', 'TASK_KILLED'), 20_000);
    expect(killed.update!.status!.reason).toBe('REASON_AGENT_DRAINING');
    await waitUntil(async () => (await containersUnder(join(base, 'node-drain'))).length === 0, 15_000, 'the container to be removed');
    await waitUntil(async () => (await agentView(a.agentId()!))?.drain_info?.state === 'DRAINED', 10_000, 'DRAINED');
    await failOver();
    await waitUntil(async () => (await agentView(a.agentId()!))?.drain_info?.state === 'DRAINED', 15_000, 'DRAINED with the new leader');
    await a.stop({ killTasks: true });
  });

  it('takes a machine through maintenance: unavailability and inverse offers, DOWN (agent shut down, task lost), then UP for a new agent', async () => {
    await resubscribe();
    const a = await agent('node-maint');
    await sleeperOn(a.agentId()!, 'maint-task');
    const machine = { hostname: 'node-maint' };
    const start = Math.floor(Date.now() / 1000) + 3600;
    await ok({
      type: 'UPDATE_MAINTENANCE_SCHEDULE',
      update_maintenance_schedule: { schedule: { windows: [{ machine_ids: [machine], unavailability: { start: { nanoseconds: start * 1e9 } } }] } },
    });
    const inverse = await s.next((e) => e.type === 'INVERSE_OFFERS', 10_000);
    expect(inverse.inverse_offers!.inverse_offers[0]!.agent_id!.value).toBe(a.agentId());
    await s.call('AcceptInverseOffers', { type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [inverse.inverse_offers!.inverse_offers[0]!.id!] } });
    const offered = await s.next((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => o.agent_id?.value === a.agentId() && o.unavailability), 15_000);
    expect(Number(offered.offers!.offers[0]!.unavailability!.start!.nanoseconds) / 1e9).toBe(start);
    await waitUntil(async () => JSON.stringify(await ok({ type: 'GET_MAINTENANCE_STATUS' })).includes('"ACCEPT"'), 5000, 'the answer in the status');

    await ok({ type: 'START_MAINTENANCE', start_maintenance: { machines: [machine] } });
    const lost = await s.next(isUpdate('maint-task', 'TASK_LOST'), 10_000);
    expect(lost.update!.status!.reason).toBe('REASON_AGENT_REMOVED_BY_OPERATOR');
    expect(await a.shutdown).toMatch(/DOWN for maintenance/);
    await waitUntil(async () => (await containersUnder(join(base, 'node-maint'))).length === 0, 15_000, 'the container to be removed');
    const status = await ok({ type: 'GET_MAINTENANCE_STATUS' });
    expect((status.get_maintenance_status as { status: { down_machines: unknown[] } }).status.down_machines).toEqual([machine]);

    await failOver();
    const refused = startAgent({
      master: `zk://${zk.connectString}${ZK_PATH}`, port: 0, hostname: 'node-maint', work_dir: join(base, 'node-maint-2'), resources: 'cpus:1;mem:256;disk:10',
      docker_pull: 'never', log: quiet,
    });
    const again = await refused;
    agents.push(again);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(again.agentId()).toBeNull(); // DOWN: not admitted.
    await ok({ type: 'STOP_MAINTENANCE', stop_maintenance: { machines: [machine] } });
    await waitUntil(() => again.agentId() !== null, 20_000, 'the agent to register once the machine is up');
    expect(again.agentId()).not.toBe(a.agentId());
  });

  it('serves the v0 endpoints as Mesos shapes them, over the same calls', async () => {
    const m = await leader();
    const url = (path: string) => `http://${m.httpAddress}${path}`;
    const send = (path: string, method: string, body: string, type = 'application/json') =>
      fetch(url(path), { method, headers: { 'Content-Type': type }, body });
    expect((await send('/master/weights', 'PUT', JSON.stringify([{ role: 'batch', weight: 4 }]))).status).toBe(200);
    expect(await (await fetch(url('/master/weights'))).json()).toEqual(expect.arrayContaining([{ role: 'batch', weight: 4 }]));
    const quota = { role: 'batch', guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }] };
    expect((await send('/master/quota', 'POST', JSON.stringify(quota))).status).toBe(200);
    const status = (await (await fetch(url('/master/quota'))).json()) as { configs: { role: string; guarantees: unknown }[] };
    expect(status.configs.find((c) => c.role === 'batch')?.guarantees).toEqual({ cpus: { value: 0.5 } });
    expect((await fetch(url('/master/quota/batch'), { method: 'DELETE' })).status).toBe(200);
    expect(((await (await fetch(url('/master/quota'))).json()) as { configs?: { role: string }[] }).configs?.some((c) => c.role === 'batch') ?? false).toBe(false);

    const schedule = { windows: [{ machine_ids: [{ hostname: 'node-v0', ip: '127.0.0.1' }], unavailability: { start: { nanoseconds: 4102444800000000000 } } }] };
    expect((await send('/master/maintenance/schedule', 'POST', JSON.stringify(schedule))).status).toBe(200);
    expect(await (await fetch(url('/master/maintenance/schedule'))).json()).toEqual(schedule);
    expect((await send('/master/machine/down', 'POST', JSON.stringify([{ hostname: 'node-v0', ip: '127.0.0.1' }]))).status).toBe(200);
    const jsonp = await fetch(url('/master/maintenance/status?jsonp=show'));
    expect(jsonp.headers.get('content-type')).toBe('text/javascript');
    expect(await jsonp.text()).toBe('show({"down_machines":[{"hostname":"node-v0","ip":"127.0.0.1"}]});');
    expect((await send('/master/machine/up', 'POST', JSON.stringify([{ hostname: 'node-v0', ip: '127.0.0.1' }]))).status).toBe(200);

    const a = await agent('node-reserve');
    const resources = JSON.stringify([{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, reservations: [{ type: 'DYNAMIC', role: 'batch' }] }]);
    const form = `slaveId=${a.agentId()}&resources=${encodeURIComponent(resources)}`;
    expect((await send('/master/reserve', 'POST', form, 'application/x-www-form-urlencoded')).status).toBe(202);
    await waitUntil(() => m.master.agents.get(a.agentId()!)?.total.toString().includes('cpus(batch):0.5') === true, 5000, 'the reservation');
    expect((await send('/master/unreserve', 'POST', form, 'application/x-www-form-urlencoded')).status).toBe(202);
    const badTeardown = await send('/master/teardown', 'POST', 'frameworkId=nope', 'application/x-www-form-urlencoded');
    expect([badTeardown.status, await badTeardown.text()]).toEqual([400, 'No framework found with ID nope\n']);
    const missing = await send('/master/teardown', 'POST', '', 'application/x-www-form-urlencoded');
    expect(await missing.text()).toMatch(/Missing 'frameworkId'/);
    expect((await fetch(url('/master/machine/down'))).status).toBe(405);
    await a.stop({ killTasks: true });
  });
});
