// The master's metrics and event delivery against a real Master (no network):
// terminal counters count transitions and survive the task leaving the book,
// gauges are rebuilt only when the master changed, refused tasks are counted
// as Mesos counts them, events arrive in order and a late listener hears only
// what follows, and the Prometheus text carries the snapshot's values.
import { describe, expect, it } from 'vitest';
import { Master } from '../../master/master.js';
import { InMemoryStore, Registry } from '../../master/registry/registry.js';
import { createAllocator } from '../../master/allocator/index.js';
import { ManualClock } from '../../common/clock.js';
import { Resources } from '../../common/resources.js';
import { MasterMetrics, MASTER_METRICS } from '../../master/metrics.js';
import { prometheusName } from '../../common/metrics.js';
import type { MasterEvent } from '../../master/cluster-events.js';
import type { TaskRecord } from '../../master/task-book.js';
import type { AgentRecord } from '../../master/records.js';
import type { TaskState } from '../../proto/index.js';
import { parsePrometheus } from '../harness/prometheus.js';

function newMaster(clock = new ManualClock()): Master {
  return new Master({
    id: 'm1', info: { id: 'm1', hostname: 'localhost', port: 5050 }, allocator: createAllocator('drf'),
    registry: new Registry(new InMemoryStore(), () => {}, () => {}), clock, allocationInterval: 1, offerTimeout: 0,
    heartbeatInterval: 15, agentReregisterTimeout: 600, agentPingInterval: 15, agentDisconnectTimeout: 75, registryMaxAgentAge: 3600,
    log: () => {},
  });
}

function agent(id: string, resources: string, connected = true): AgentRecord {
  return {
    id, info: { hostname: id, port: 5051, resources: [], attributes: [], id: { value: id } }, total: Resources.parse(resources),
    conn: connected ? { open: true, send: () => {}, close: () => {} } : null, registeredTime: 0, reregisteredTime: null, reregisterTimer: null,
    recovered: false, unreachableSince: null, goneTimer: null, pendingKills: new Map(),
  };
}

function task(id: string, agentId: string, resources: string, state: TaskState = 'TASK_STAGING'): TaskRecord {
  return {
    frameworkId: 'fw', agentId, taskId: id, info: { name: id, task_id: { value: id } }, resources: Resources.parse(resources), state,
    status: null, statusUuid: null, recovered: false, createdAt: 0,
  };
}

/** Events are delivered one microtask after they happen. */
const delivered = () => new Promise<void>((resolve) => queueMicrotask(resolve));

/** Moves a task as an agent's update does: state, stored status, forwarded status, resources back when it ends. */
function update(master: Master, t: TaskRecord, state: TaskState): void {
  master.tasks.apply(t, state);
  t.status = { task_id: { value: t.taskId }, state, message: `now ${state}` };
  master.forwardStatus(t.frameworkId, t.status);
  if (state === 'TASK_FINISHED' || state === 'TASK_FAILED' || state === 'TASK_KILLED') t.recovered = true;
  master.changed();
}

describe('master metrics', () => {
  it('counts terminal transitions cumulatively and reads gauges from the records', async () => {
    const master = newMaster();
    const metrics = new MasterMetrics(master, { leading: () => true });
    master.agents.set('a1', agent('a1', 'cpus:4;mem:1024;disk:100'));
    master.agents.set('a2', agent('a2', 'cpus:2;mem:512', false));
    const long = task('long', 'a1', 'cpus:0.5;mem:128');
    const short = task('short', 'a1', 'cpus:0.25;mem:64');
    master.tasks.add(long);
    master.tasks.add(short);
    for (const s of ['TASK_STARTING', 'TASK_RUNNING'] as const) {
      update(master, long, s);
      update(master, short, s);
    }
    update(master, short, 'TASK_FINISHED');
    master.tasks.complete(short); // Acknowledged: it leaves the book; the count stays.
    master.changed();
    await delivered();
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

  it('rebuilds gauges only when the master changed', () => {
    const master = newMaster();
    const metrics = new MasterMetrics(master, { leading: () => true });
    master.agents.set('a1', agent('a1', 'cpus:1;mem:10'));
    master.changed();
    expect(metrics.snapshot()['master/cpus_total']).toBe(1);
    master.agents.set('a2', agent('a2', 'cpus:1;mem:10')); // No change() yet: the cached reading stands.
    expect(metrics.snapshot()['master/cpus_total']).toBe(1);
    master.changed();
    expect(metrics.snapshot()['master/cpus_total']).toBe(2);
  });

  it('counts tasks refused at ACCEPT as Mesos does (error, dropped, lost), not reconciliation answers', async () => {
    const master = newMaster();
    const metrics = new MasterMetrics(master, { leading: () => false });
    master.forwardStatus('fw', { task_id: { value: 'x' }, state: 'TASK_ERROR', source: 'SOURCE_MASTER', reason: 'REASON_TASK_INVALID' });
    master.forwardStatus('fw', { task_id: { value: 'y' }, state: 'TASK_DROPPED', source: 'SOURCE_MASTER', reason: 'REASON_INVALID_OFFERS' });
    master.forwardStatus('fw', { task_id: { value: 'z' }, state: 'TASK_LOST', source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION' });
    await delivered();
    const m = metrics.snapshot();
    expect([m['master/tasks_error'], m['master/tasks_dropped'], m['master/tasks_lost']]).toEqual([1, 1, 0]);
    expect(m['master/elected']).toBe(0);
  });

  it('measures allocation passes', async () => {
    const clock = new ManualClock();
    const master = newMaster(clock);
    const metrics = new MasterMetrics(master, { leading: () => true });
    master.runAllocation();
    master.runAllocation();
    clock.advance(12.5);
    await delivered();
    const m = metrics.snapshot();
    expect(m['allocator/mesos/allocation_runs']).toBe(2);
    expect(m['allocator/mesos/allocation_run_ms']).toBeGreaterThanOrEqual(0);
    expect(m['allocator/mesos/allocation_run_ms/max']).toBeGreaterThanOrEqual(m['allocator/mesos/allocation_run_ms/min']!);
    expect(m['master/uptime_secs']).toBe(12.5);
  });

  it('writes the same values in the Prometheus exposition, typed as counters or gauges', async () => {
    const master = newMaster();
    const metrics = new MasterMetrics(master, { leading: () => true });
    master.agents.set('a1', agent('a1', 'cpus:3;mem:300'));
    const t = task('t', 'a1', 'cpus:1;mem:100');
    master.tasks.add(t);
    update(master, t, 'TASK_RUNNING');
    update(master, t, 'TASK_FAILED');
    await delivered();
    const text = await metrics.prometheus.text();
    const samples = parsePrometheus(text);
    const snapshot = metrics.snapshot();
    for (const spec of MASTER_METRICS) {
      if (spec.name.startsWith('system/') || spec.name === 'master/uptime_secs') continue; // Readings that move between the two calls.
      expect(samples.values.get(prometheusName(spec.name)), spec.name).toBe(snapshot[spec.name]);
      expect(samples.types.get(prometheusName(spec.name)), spec.name).toBe(spec.kind);
    }
    expect(samples.values.get('mesos_master_tasks_failed')).toBe(1);
    expect(samples.values.get('mesos_master_cpus_total')).toBe(3);
  });
});

describe('master events', () => {
  it('arrive in order, each state change with its own status, and only after a listener started', async () => {
    const master = newMaster();
    const early: MasterEvent[] = [];
    master.events.listen((e) => early.push(e));
    const t = task('t', 'a1', 'cpus:1');
    master.tasks.add(t);
    update(master, t, 'TASK_RUNNING');
    const late: MasterEvent[] = [];
    master.events.listen((e) => late.push(e)); // Added while the two events above still wait for delivery.
    update(master, t, 'TASK_FINISHED');
    await delivered();
    const changes = early.filter((e) => e.type === 'TASK_ADDED' || e.type === 'TASK_UPDATED');
    expect(changes.map((e) => `${e.type}:${e.state}`)).toEqual(['TASK_ADDED:TASK_STAGING', 'TASK_UPDATED:TASK_RUNNING', 'TASK_UPDATED:TASK_FINISHED']);
    // Both changes happened before either was delivered; each still carries its own status.
    expect(changes.map((e) => (e.type === 'TASK_UPDATED' ? e.status?.message : null))).toEqual([null, 'now TASK_RUNNING', 'now TASK_FINISHED']);
    expect(late.filter((e) => e.type === 'TASK_UPDATED').map((e) => e.type === 'TASK_UPDATED' && e.state)).toEqual(['TASK_FINISHED']);
  });

  it('reports an agent the master forgets as AGENT_REMOVED', async () => {
    const master = newMaster();
    const seen: string[] = [];
    master.events.listen((e) => seen.push(e.type));
    master.agents.set('a1', agent('a1', 'cpus:1'));
    master.agents.delete('a1');
    master.agents.delete('never-there');
    await delivered();
    expect(seen).toEqual(['AGENT_REMOVED']);
  });
});
