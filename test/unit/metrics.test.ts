// The master's metrics and event delivery against a real Master (no network):
// terminal counters count transitions and survive the task leaving the book,
// gauges are rebuilt only when the master changed, refused tasks are counted
// as Mesos counts them, events arrive in order and a late listener hears only
// what follows, and the Prometheus text carries the snapshot's values.
import { describe, expect, it } from 'vitest';
import { MasterMetrics, MASTER_METRICS } from '../../master/metrics.js';
import { prometheusName } from '../../common/metrics.js';
import type { MasterEvent } from '../../master/cluster-events.js';
import { parsePrometheus } from '../harness/prometheus.js';
import { MasterHarness, type TestAgent } from '../harness/master-harness.js';

/** A master with agents and one framework whose tasks (ids given) were launched on the first agent. */
async function cluster(agents: { name: string; resources: string; connected?: boolean }[], tasks: { id: string; resources: string }[] = []) {
  const h = await MasterHarness.start({ offerTimeout: 0 });
  const added: TestAgent[] = [];
  for (const a of agents) added.push(await h.addAgent(a.name, a.resources));
  const fw = await h.subscribe('fw');
  if (tasks.length > 0) {
    fw.launch(fw.offers().find((o) => o.agent_id?.value === added[0]!.id)!, tasks);
    await h.settle();
  }
  for (const [i, a] of agents.entries()) if (a.connected === false) added[i]!.disconnect();
  await h.settle();
  return { h, master: h.master, agents: added, fw };
}

describe('master metrics', () => {
  it('counts terminal transitions cumulatively and reads gauges from the records', async () => {
    const { h, master, agents: [a1], fw } = await cluster(
      [{ name: 'a1', resources: 'cpus:4;mem:1024;disk:100' }, { name: 'a2', resources: 'cpus:2;mem:512', connected: false }],
      [{ id: 'long', resources: 'cpus:0.5;mem:128' }, { id: 'short', resources: 'cpus:0.25;mem:64' }],
    );
    const metrics = new MasterMetrics(master, { leading: () => true });
    for (const s of ['TASK_STARTING', 'TASK_RUNNING'] as const) {
      a1!.update(fw.id, 'long', s);
      a1!.update(fw.id, 'short', s);
    }
    a1!.update(fw.id, 'short', 'TASK_FINISHED');
    await h.settle();
    fw.acknowledge(fw.updates().find((u) => u.state === 'TASK_FINISHED')!); // Acknowledged: it leaves the book; the count stays.
    await h.settle();
    expect(master.tasks.get(fw.id, 'short')).toBeUndefined();
    const m = metrics.snapshot();
    expect(m['master/tasks_running']).toBe(1);
    expect(m['master/tasks_finished']).toBe(1);
    expect(m['master/tasks_failed']).toBe(0);
    expect(m['master/tasks_staging']).toBe(0);
    expect(m['master/cpus_total']).toBe(6); // 4 + 2: a disconnected agent is still registered
    expect(m['master/cpus_used']).toBe(0.5);
    expect(m['master/cpus_percent']).toBeCloseTo(0.5 / 6);
    expect(m['master/mem_used']).toBe(128);
    expect(m['master/slaves_active']).toBe(1);
    expect(m['master/slaves_connected']).toBe(1);
    expect(m['master/slaves_disconnected']).toBe(1);
    expect(m['master/slaves_inactive']).toBe(1);
    expect(m['master/elected']).toBe(1);
    // Every name of the catalogue is in the snapshot, and nothing else but system readings.
    expect(Object.keys(m).sort()).toEqual(MASTER_METRICS.map((s) => s.name).sort());
  });

  it('rebuilds gauges only when an operation changed the master', async () => {
    const { h, master } = await cluster([{ name: 'a1', resources: 'cpus:1;mem:10' }]);
    const metrics = new MasterMetrics(master, { leading: () => true });
    expect(metrics.snapshot()['master/cpus_total']).toBe(1);
    master.agents.get([...master.agents.keys()][0]!)!.total = master.agents.get([...master.agents.keys()][0]!)!.total.add(master.agents.get([...master.agents.keys()][0]!)!.total);
    expect(metrics.snapshot()['master/cpus_total']).toBe(1); // Changed behind the operations' back: the cached reading stands.
    await h.addAgent('a2', 'cpus:1;mem:10');
    expect(metrics.snapshot()['master/cpus_total']).toBe(3);
  });

  it('counts tasks refused at ACCEPT as Mesos does (error, dropped, lost), not reconciliation answers', async () => {
    const { h, master, agents: [a1], fw } = await cluster([{ name: 'a1', resources: 'cpus:1;mem:100' }]);
    const metrics = new MasterMetrics(master, { leading: () => false });
    const offer = fw.offers()[0]!;
    fw.launch(offer, [{ id: 'x', resources: 'cpus:50' }]); // More than offered: TASK_ERROR.
    fw.launch(offer, [{ id: 'y', resources: 'cpus:0.1' }]); // The offer is gone: TASK_LOST (REASON_INVALID_OFFERS).
    fw.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'z' }, agent_id: { value: a1!.id } }] } }); // TASK_LOST, a reconciliation answer.
    await h.settle();
    expect(fw.statuses()).toEqual(['x:TASK_ERROR', 'y:TASK_LOST', 'z:TASK_LOST']);
    const m = metrics.snapshot();
    expect([m['master/tasks_error'], m['master/tasks_lost']]).toEqual([1, 1]);
    expect(m['master/elected']).toBe(0);
  });

  it('measures allocation passes', async () => {
    const h = await MasterHarness.start();
    const metrics = new MasterMetrics(h.master, { leading: () => true });
    await h.advance(12.5); // Passes every allocation_interval (1 s).
    const m = metrics.snapshot();
    expect(m['allocator/mesos/allocation_runs']).toBe(12);
    expect(m['allocator/mesos/allocation_run_ms']).toBeGreaterThanOrEqual(0);
    expect(m['allocator/mesos/allocation_run_ms/max']).toBeGreaterThanOrEqual(m['allocator/mesos/allocation_run_ms/min']!);
    expect(m['master/uptime_secs']).toBe(12.5);
  });

  it('times allocation passes and subscriptions as timers, with percentiles over the last passes', async () => {
    // A clock of the test's own, 1 ms per reading: every duration the master times is a count of its readings, never the machine's speed.
    let readings = 0;
    const h = await MasterHarness.start({ elapsedMs: () => readings++ });
    const metrics = new MasterMetrics(h.master, { leading: () => true });
    await h.addAgent('a1', 'cpus:1;mem:100');
    await h.subscribe('fw');
    await h.advance(3.5);
    const m = metrics.snapshot();
    expect(m['master/subscribe_to_subscribed_ms/count']).toBe(1);
    expect(m['master/subscribed_to_first_offer_ms/count']).toBe(1);
    // Readings after SUBSCRIBED went: subscribe() timing its own end, the coalesced pass's start and end, then OFFERS.
    expect(m['master/subscribed_to_first_offer_ms']).toBe(4);
    expect(m['master/subscribe_to_subscribed_ms']).toBeGreaterThan(0);
    const runs = m['allocator/mesos/allocation_runs']!;
    expect(m['allocator/mesos/allocation_run_ms/count']).toBe(runs);
    // Each pass reads the clock twice (start, end): 1 ms each.
    for (const s of ['p50', 'p99', 'min', 'max']) expect(m[`allocator/mesos/allocation_run_ms/${s}`]).toBe(1);
  });

  it('writes the same values in the Prometheus exposition, typed as counters or gauges', async () => {
    const { h, master, agents: [a1], fw } = await cluster([{ name: 'a1', resources: 'cpus:3;mem:300' }], [{ id: 't', resources: 'cpus:1;mem:100' }]);
    const metrics = new MasterMetrics(master, { leading: () => true });
    a1!.update(fw.id, 't', 'TASK_RUNNING');
    a1!.update(fw.id, 't', 'TASK_FAILED');
    await h.settle();
    const text = await metrics.prometheus.text();
    const samples = parsePrometheus(text);
    const snapshot = metrics.snapshot();
    for (const spec of MASTER_METRICS) {
      // Readings that move between the two calls (each read of the loop delay starts a new window).
      if (spec.name.startsWith('system/') || spec.name === 'master/uptime_secs' || spec.name.startsWith('master/event_loop_delay_')) continue;
      expect(samples.values.get(prometheusName(spec.name)), spec.name).toBe(snapshot[spec.name]);
      expect(samples.types.get(prometheusName(spec.name)), spec.name).toBe(spec.kind);
    }
    expect(samples.values.get('mesos_master_tasks_failed')).toBe(1);
    expect(samples.values.get('mesos_master_cpus_total')).toBe(3);
  });
});

describe('master events', () => {
  it('arrive in order, each state change with its own status, and only after a listener started', async () => {
    const { h, master, agents: [a1], fw } = await cluster([{ name: 'a1', resources: 'cpus:2;mem:100' }]);
    const early: MasterEvent[] = [];
    master.events.listen((e) => early.push(e));
    fw.launch(fw.offers()[0]!, [{ id: 't', resources: 'cpus:1;mem:10' }]);
    await h.settle();
    a1!.update(fw.id, 't', 'TASK_RUNNING', 'now TASK_RUNNING');
    const late: MasterEvent[] = [];
    master.events.listen((e) => late.push(e)); // Added while the event above still waits for delivery.
    a1!.update(fw.id, 't', 'TASK_FINISHED', 'now TASK_FINISHED'); // Told once the registry forgot the task.
    await h.settle();
    const changes = early.filter((e) => e.type === 'TASK_ADDED' || e.type === 'TASK_UPDATED');
    expect(changes.map((e) => `${e.type}:${e.state}`)).toEqual(['TASK_ADDED:TASK_STAGING', 'TASK_UPDATED:TASK_RUNNING', 'TASK_UPDATED:TASK_FINISHED']);
    // Each change carries the status that came with it.
    expect(changes.map((e) => (e.type === 'TASK_UPDATED' ? e.status?.message : null))).toEqual([null, 'now TASK_RUNNING', 'now TASK_FINISHED']);
    expect(late.filter((e) => e.type === 'TASK_UPDATED').map((e) => e.type === 'TASK_UPDATED' && e.state)).toEqual(['TASK_FINISHED']);
  });

  it('reports an agent that becomes unreachable as AGENT_REMOVED, once', async () => {
    const { h, master, agents: [a1] } = await cluster([{ name: 'a1', resources: 'cpus:1' }]);
    const seen: string[] = [];
    master.events.listen((e) => seen.push(e.type));
    a1!.disconnect();
    await h.advance(75); // Unreachable.
    await h.advance(3600); // Gone: announced already.
    expect(seen.filter((t) => t.startsWith('AGENT_'))).toEqual(['AGENT_REMOVED']);
    expect(master.agents.size).toBe(0);
  });
});
