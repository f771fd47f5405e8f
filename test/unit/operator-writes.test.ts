// The operator's write calls through the deterministic harness: each is
// refused (changing nothing) when malformed, acts only once the registry
// holds it, and a successor reading the same registry agrees with it.
import { describe, expect, it } from 'vitest';
import { MasterHarness, type TestAgent, type TestScheduler } from '../harness/master-harness.js';
import { writeOperation, getMaintenanceStatus, getQuota, getWeights, type WriteCall } from '../../master/operator/write-calls.js';
import { Resources } from '../../common/resources.js';

/** An operator call as the adapters decode it. */
async function write(h: MasterHarness, type: WriteCall, body: Record<string, unknown>): Promise<void> {
  await h.master.operate(writeOperation(type, { type, ...body } as never));
}

/** The same registry, read by a new leader. */
async function successor(h: MasterHarness): Promise<MasterHarness> {
  h.master.stop();
  return MasterHarness.start({ store: h.store, time: h.time, id: 'm2' });
}

async function running(h: MasterHarness, fw: TestScheduler, agent: TestAgent, taskId: string): Promise<void> {
  fw.launch(fw.offers().find((o) => o.agent_id?.value === agent.id)!, [{ id: taskId, resources: 'cpus:1;mem:64' }]);
  await h.settle();
  agent.update(fw.id, taskId, 'TASK_RUNNING');
  await h.settle();
}

describe('weights and quota', () => {
  it('changes weights and quota at run time, only once the registry holds them; a new leader has them', async () => {
    const h = await MasterHarness.start();
    h.store.hold();
    let done = false;
    const weights = write(h, 'UPDATE_WEIGHTS', { update_weights: { weight_infos: [{ role: 'dev', weight: 2.5 }] } }).then(() => (done = true));
    await h.settle();
    expect(done).toBe(false); // Not stored yet: the caller has not heard back.
    h.store.release();
    await weights;
    await write(h, 'UPDATE_QUOTA', { update_quota: { quota_configs: [{ role: 'dev', guarantees: { cpus: { value: 2 } }, limits: { cpus: { value: 4 }, mem: { value: 512 } } }] } });
    expect(getWeights(h.master.state).get_weights?.weight_infos).toEqual([{ role: 'dev', weight: 2.5 }]);
    expect(h.master.allocator.roles?.().find((r) => r.role === 'dev')?.weight).toBe(2.5);

    const next = await successor(h);
    expect(getWeights(next.master.state)).toEqual(getWeights(h.master.state));
    expect(getQuota(next.master.state)).toEqual(getQuota(h.master.state));
    const dev = next.master.allocator.roles?.().find((r) => r.role === 'dev');
    expect(dev?.weight).toBe(2.5);
    expect(dev?.quota?.guarantee?.toString()).toBe('cpus:2');
    expect(dev?.quota?.limit?.toString()).toBe(Resources.scalars({ cpus: 4, mem: 512 }).toString());
  });

  it('refuses malformed calls by field, changing nothing', async () => {
    const h = await MasterHarness.start();
    await expect(write(h, 'UPDATE_WEIGHTS', { update_weights: { weight_infos: [{ role: 'dev', weight: -1 }] } })).rejects.toThrow(/weight_infos\[0\]\.weight must be positive/);
    await expect(write(h, 'UPDATE_WEIGHTS', { update_weights: { weight_infos: [{ role: '../x', weight: 1 }] } })).rejects.toThrow(/weight_infos\[0\]\.role/);
    await expect(write(h, 'UPDATE_QUOTA', {
      update_quota: { quota_configs: [{ role: 'dev', guarantees: { cpus: { value: 3 } }, limits: { cpus: { value: 1 } } }] },
    })).rejects.toThrow(/guarantee of cpus \(3\) is above its limit \(1\)/);
    await expect(write(h, 'DRAIN_AGENT', {})).rejects.toThrow(/Call\.drain_agent is required/);
    await expect(write(h, 'DEACTIVATE_AGENT', { deactivate_agent: { agent_id: { value: 'nope' } } })).rejects.toThrow(/No agent found with ID nope/);
    expect(h.master.state.weights.size).toBe(0);
    expect(h.master.state.quotas.size).toBe(0);
    expect((await h.store.snapshot()).size).toBe(0);
  });
});

describe('agents', () => {
  it('deactivates an agent (offers rescinded, none made) and reactivates it; a new leader keeps it deactivated', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent('a1', 'cpus:2;mem:256');
    const fw = await h.subscribe('fw');
    const [offer] = fw.offers();
    await write(h, 'DEACTIVATE_AGENT', { deactivate_agent: { agent_id: { value: agent.id } } });
    await h.advance(2);
    expect(fw.events.some((e) => e.rescind?.offer_id?.value === offer!.id!.value)).toBe(true);
    expect(fw.offers()).toEqual([]);

    const next = await successor(h);
    await next.addAgent('a1', 'cpus:2;mem:256', { id: agent.id, secret: agent.secret });
    const fw2 = await next.subscribe('fw', { id: fw.id });
    await next.advance(2);
    expect(fw2.offers()).toEqual([]);
    await write(next, 'REACTIVATE_AGENT', { reactivate_agent: { agent_id: { value: agent.id } } });
    await next.advance(2);
    expect(fw2.offers().map((o) => o.agent_id?.value)).toEqual([agent.id]);
    const third = await successor(next);
    expect(third.master.agents.get(agent.id)?.deactivated).toBe(false);
  });

  it('drains an agent: its tasks are killed with the grace capped, it is DRAINED once they end, then gone when asked', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent('a1', 'cpus:2;mem:256');
    const fw = await h.subscribe('fw');
    await running(h, fw, agent, 't1');
    await write(h, 'DRAIN_AGENT', { drain_agent: { agent_id: { value: agent.id }, max_grace_period: { seconds: 3, nanos: 0 }, mark_gone: true } });
    expect(agent.received.find((m) => m.drain)?.drain?.max_grace_period?.nanoseconds).toBe(3e9);
    expect(h.master.agents.get(agent.id)?.drain?.state).toBe('DRAINING');
    expect(JSON.stringify((await h.store.snapshot()).get(`agents/${agent.id}`))).toContain('"state":"DRAINING"');

    agent.update(fw.id, 't1', 'TASK_KILLED');
    await h.settle();
    // Drained, then marked gone: the agent is shut down and may not come back under its id.
    expect(h.master.agents.has(agent.id)).toBe(false);
    expect(agent.received.some((m) => m.shutdown)).toBe(true);
    expect(agent.conn.open).toBe(false);
    const next = await successor(h);
    await expect(next.addAgent('a1', 'cpus:2;mem:256', { id: agent.id })).rejects.toThrow(/is gone/);
    expect(next.master.agents.has(agent.id)).toBe(false);
  });

  it('marks an agent gone: its tasks are TASK_GONE_BY_OPERATOR and it is told to shut down', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent('a1', 'cpus:2;mem:256');
    const fw = await h.subscribe('fw');
    await running(h, fw, agent, 't1');
    await write(h, 'MARK_AGENT_GONE', { mark_agent_gone: { agent_id: { value: agent.id } } });
    expect(fw.updates().at(-1)).toMatchObject({ state: 'TASK_GONE_BY_OPERATOR', reason: 'REASON_AGENT_REMOVED_BY_OPERATOR' });
    expect(agent.received.at(-1)?.shutdown?.message).toMatch(/marked gone by the operator/);
    await expect(write(h, 'MARK_AGENT_GONE', { mark_agent_gone: { agent_id: { value: agent.id } } })).rejects.toThrow(/not found/);
    const next = await successor(h);
    await expect(next.addAgent('a1', 'cpus:2;mem:256', { id: agent.id })).rejects.toThrow(/is gone/);
  });

  it('reserves and unreserves for a role; the reservation survives a change of leader', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent('a1', 'cpus:4;mem:1024');
    const reserved = Resources.parse('cpus(web):1;mem(web):128');
    await write(h, 'RESERVE_RESOURCES', { reserve_resources: { agent_id: { value: agent.id }, resources: reserved.toProto(), source: [] } });
    await expect(write(h, 'RESERVE_RESOURCES', {
      reserve_resources: { agent_id: { value: agent.id }, resources: Resources.parse('cpus(web):9').toProto(), source: [] },
    })).rejects.toThrow(/does not have cpus:9 unused/);
    const next = await successor(h);
    await next.addAgent('a1', 'cpus:4;mem:1024', { id: agent.id, secret: agent.secret });
    const web = await next.subscribe('web', { roles: ['web'] });
    expect(Resources.fromProto(web.offers()[0]!.resources).toString()).toContain('cpus(web):1');
    web.call({ type: 'DECLINE', decline: { offer_ids: web.offers().map((o) => o.id), filters: { refuse_seconds: 0 } } });
    await next.settle();
    await write(next, 'UNRESERVE_RESOURCES', { unreserve_resources: { agent_id: { value: agent.id }, resources: reserved.toProto() } });
    expect(next.master.agents.get(agent.id)?.total.toString()).toBe('cpus:4;mem:1024');
    const third = await successor(next);
    expect(third.registry.agents.get(agent.id)?.reservations).toEqual([]);
  });

  it('tears a framework down: its tasks are killed and it is gone', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent('a1', 'cpus:2;mem:256');
    const fw = await h.subscribe('fw');
    await running(h, fw, agent, 't1');
    await write(h, 'TEARDOWN', { teardown: { framework_id: { value: fw.id } } });
    expect(h.master.frameworks.has(fw.id)).toBe(false);
    expect(agent.received.some((m) => m.shutdown_framework?.framework_id?.value === fw.id)).toBe(true);
    await expect(write(h, 'TEARDOWN', { teardown: { framework_id: { value: fw.id } } })).rejects.toThrow(/No framework found/);
    // The next leader remembers it as removed: it may not subscribe again under its id.
    const next = await successor(h);
    expect(next.master.state.wasRemoved(fw.id)).toBe(true);
    const again = await next.subscribe('fw', { id: fw.id });
    expect(again.events.map((e) => e.type)).toEqual([]); // No SUBSCRIBED: the stream ends with Mesos's ERROR.
    expect(again.closedWith).toBe('Framework has been removed');
    expect(next.master.frameworks.has(fw.id)).toBe(false);
  });
});

describe('maintenance', () => {
  const window = (hostname: string, start = 2_000_000_000) => ({
    update_maintenance_schedule: { schedule: { windows: [{ machine_ids: [{ hostname, ip: '' }], unavailability: { start: { nanoseconds: start * 1e9 }, duration: { nanoseconds: 3600e9 } } }] } },
  });

  it('schedules a machine: its offers carry the window, frameworks on it get inverse offers and may accept', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent('node-1', 'cpus:2;mem:256');
    const fw = await h.subscribe('fw');
    await running(h, fw, agent, 't1');
    await write(h, 'UPDATE_MAINTENANCE_SCHEDULE', window('NODE-1'));
    await h.advance(6); // Past the refuse filter of the launch.
    expect(fw.offers().at(-1)?.unavailability).toEqual({ start: { nanoseconds: 2_000_000_000e9 }, duration: { nanoseconds: 3600e9 } });
    const inverse = fw.events.find((e) => e.type === 'INVERSE_OFFERS')?.inverse_offers?.inverse_offers?.[0];
    expect(inverse?.agent_id?.value).toBe(agent.id);
    fw.call({ type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [inverse!.id] } });
    await h.settle();
    const status = getMaintenanceStatus(h.master.state).get_maintenance_status!.status!;
    expect(status.draining_machines?.[0]?.statuses?.map((s) => [s.status, s.framework_id?.value])).toEqual([['ACCEPT', fw.id]]);
  });

  it('brings a machine down (its agent removed, tasks lost, registration refused) and up again, across a change of leader', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent('node-1', 'cpus:2;mem:256');
    const fw = await h.subscribe('fw');
    await running(h, fw, agent, 't1');
    const machines = { machines: [{ hostname: 'node-1', ip: '' }] };
    await expect(write(h, 'START_MAINTENANCE', { start_maintenance: machines })).rejects.toThrow(/not part of a maintenance schedule/);
    await write(h, 'UPDATE_MAINTENANCE_SCHEDULE', window('node-1'));
    await write(h, 'START_MAINTENANCE', { start_maintenance: machines });
    expect(fw.updates().at(-1)).toMatchObject({ state: 'TASK_LOST', reason: 'REASON_AGENT_REMOVED_BY_OPERATOR' });
    expect(agent.received.at(-1)?.shutdown?.message).toMatch(/DOWN for maintenance/);
    await expect(write(h, 'UPDATE_MAINTENANCE_SCHEDULE', { update_maintenance_schedule: { schedule: { windows: [] } } })).rejects.toThrow(/is DOWN and must stay/);

    const next = await successor(h);
    expect(getMaintenanceStatus(next.master.state).get_maintenance_status?.status?.down_machines).toEqual([{ hostname: 'node-1' }]);
    await expect(next.addAgent('node-1', 'cpus:2;mem:256')).rejects.toThrow(/DOWN for maintenance/);
    await write(next, 'STOP_MAINTENANCE', { stop_maintenance: machines });
    expect(next.master.state.maintenance.windows).toEqual([]);
    const back = await next.addAgent('node-1', 'cpus:2;mem:256');
    expect(back.id).not.toBe(agent.id); // The removed agent joins as a new one.
    const third = await successor(next);
    expect(getMaintenanceStatus(third.master.state).get_maintenance_status?.status).toEqual({ draining_machines: [], down_machines: [] });
  });
});
