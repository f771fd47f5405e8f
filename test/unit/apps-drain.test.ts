// Draining before a kill (framework/apps/drain.ts): the pure decision (given
// a load balancer's statistics rows, is the instance drained?), the
// --lb_stats flag, the upgrade bounds with a draining instance, and the
// runtime with the fake Scheduler: no KILL goes out before the statistics
// say drained (or the timeout), and a new leader carries a drain on.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { InvalidArgument } from '../../common/errors.js';
import { silentLogger } from '../../common/log/logger.js';
import { validateApp } from '../../framework/apps/app-definition.js';
import { drainTargets, drainVerdict, drainsFirst, type DrainOptions } from '../../framework/apps/drain.js';
import { EventBus, type AppsEvent } from '../../framework/apps/events.js';
import { parseLbStats } from '../../framework/apps/lb-stats-flag.js';
import { AppsOperations } from '../../framework/apps/operations.js';
import { planApp, type Instance } from '../../framework/apps/planner.js';
import { AppsRuntime, AppsState } from '../../framework/apps/runtime.js';
import type { StatRow } from '../../framework/lb/haproxy-stats.js';
import { FakeScheduler, fakeOffer, fakeStatus } from '../harness/fake-scheduler.js';
import { MemoryAppsStore } from '../harness/memory-apps-store.js';
import { waitUntil } from '../harness/wait-until.js';

const row = (proxy: string, name: string, status: string, sessions: number): StatRow =>
  ({ proxy, name, status, sessions, sessionRate: 0, requestRate: 0, sessionsTotal: 0, requestsTotal: 0 });

const inst = (over: Partial<Instance> = {}): Instance => ({
  taskId: 'prod_web.1', appId: '/prod/web', version: 'v1', agentId: 'a1', agent: { hostname: 'h1', attributes: {} } as Instance['agent'],
  ports: [31000, 31001], servicePorts: [10000, 10001], stagedAt: '2026-01-01T00:00:00.000Z', state: 'TASK_RUNNING', ...over,
});

describe('drain decision', () => {
  const targets = drainTargets(inst());

  it('names the servers as the load balancers do: one per service port', () => {
    expect(targets).toEqual([
      { backend: 'prod_web_10000', server: 'prod_web.1_0' },
      { backend: 'prod_web_10001', server: 'prod_web.1_1' },
    ]);
  });

  it.each([
    ['both servers gone', true, []],
    ['a server of the same name in another backend only', true, [row('other_10000', 'prod_web.1_0', 'UP', 3)]],
    ['DRAIN and MAINT with no session', true, [row('prod_web_10000', 'prod_web.1_0', 'DRAIN', 0), row('prod_web_10001', 'prod_web.1_1', 'MAINT', 0)]],
    ['MAINT (via ...) with no session', true, [row('prod_web_10000', 'prod_web.1_0', 'MAINT (via x/y)', 0)]],
    ['DRAIN with a session left', false, [row('prod_web_10000', 'prod_web.1_0', 'DRAIN', 1)]],
    ['UP with no session (the balancer has not drained it yet)', false, [row('prod_web_10000', 'prod_web.1_0', 'UP', 0)]],
    ['one port drained, the other UP', false, [row('prod_web_10000', 'prod_web.1_0', 'DRAIN', 0), row('prod_web_10001', 'prod_web.1_1', 'UP', 2)]],
  ] as const)('%s: drained %s', (_what, drained, rows) => {
    expect(drainVerdict(rows, targets).drained).toBe(drained);
  });

  it('says which servers it waits on', () => {
    expect(drainVerdict([row('prod_web_10001', 'prod_web.1_1', 'DRAIN', 2)], targets)).toEqual({ drained: false, waitingOn: ['prod_web_10001/prod_web.1_1 (DRAIN, 2 session(s))'] });
  });

  it.each([
    ['RUNNING, no health check', true, {}],
    ['RUNNING, reported healthy', true, { healthChecked: true, healthy: true }],
    ['RUNNING, healthy, readiness not answered yet (a balancer may route it)', true, { healthChecked: true, healthy: true, readinessChecked: true }],
    ['RUNNING, no health result yet', false, { healthChecked: true }],
    ['RUNNING, unhealthy', false, { healthChecked: true, healthy: false }],
    ['STAGING', false, { state: 'TASK_STAGING' }],
    ['UNREACHABLE', false, { state: 'TASK_UNREACHABLE' }],
    ['already being killed', false, { killing: true }],
  ] as const)('drains first when %s: %s', (_what, drains, over) => {
    expect(drainsFirst(inst(over as Partial<Instance>))).toBe(drains);
  });

  it('parses --lb_stats, and refuses what is not an http URL, naming it', () => {
    expect(parseLbStats('')).toEqual([]);
    expect(parseLbStats(' http://127.0.0.1:9090/haproxy?stats , https://lb2:9090/haproxy?stats,')).toEqual(['http://127.0.0.1:9090/haproxy?stats', 'https://lb2:9090/haproxy?stats']);
    expect(() => parseLbStats('http://ok:1/x,ftp://lb:21/stats')).toThrow(InvalidArgument);
    expect(() => parseLbStats('lb:9090')).toThrow(/'lb:9090' is not one/);
  });

  it('counts a draining instance as being killed in an upgrade: within maxCapacity, not healthy', () => {
    const checked = validateApp({ id: '/prod/web', cmd: 'x', instances: 2 }, { version: 'v2' });
    if (!checked.ok) throw new Error('bad fixture');
    const app = checked.app;
    const plan = planApp(app, [
      inst({ taskId: 'old-1', killing: true, drainingSince: '2026-01-01T00:00:01.000Z' }),
      inst({ taskId: 'old-2' }),
      inst({ taskId: 'new-1', version: app.versionInfo.lastConfigChangeAt }),
    ], 1_800_000_000);
    // maxCapacity 4, 3 live (the draining one included): room for 1; healthy 2 = minHealthy, so old-2 stays.
    expect(plan).toMatchObject({ launch: 1, kill: [], healthy: 2, complete: false });
  });
});

describe('apps runtime drains before it kills', () => {
  const APP = { id: '/web', cmd: 'sleep 100', cpus: 0.5, mem: 64, instances: 2 };
  let clock: ManualClock;
  let scheduler: FakeScheduler;
  let store: MemoryAppsStore;
  let runtime: AppsRuntime;
  let ops: AppsOperations;
  let events: AppsEvent[];
  let rows: StatRow[] | Error;
  let reads: number;

  function start(drain: Partial<DrainOptions>, state = new AppsState()): Promise<void> {
    scheduler = new FakeScheduler();
    const bus = new EventBus();
    bus.subscribe((e) => events.push(e));
    runtime = new AppsRuntime(state, scheduler, store, bus, clock, silentLogger(), {
      declineRefuseSeconds: 120, defaultImage: 'busybox', reconcileTimeoutMs: 20, tickMs: 60_000, taskLaunchTimeoutSeconds: 300,
      drain: {
        lbStats: ['http://lb/haproxy?stats'], timeoutSeconds: 30, waitSeconds: 2, pollMs: 5,
        readStats: async () => { reads++; if (rows instanceof Error) throw rows; return rows; },
        ...drain,
      },
    });
    ops = new AppsOperations(state, runtime, store, bus);
    return runtime.reconcileThenRun();
  }

  async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await runtime.serial(() => undefined);
  }

  /** Two RUNNING instances of APP; answers their task ids. */
  async function twoRunning(): Promise<string[]> {
    await ops.createApp(APP);
    scheduler.emit('offers', { type: 'offers', offers: [fakeOffer('o1', 'h1', 'cpus:2;mem:1024;ports:[31000-31009]')] });
    await settle();
    const ids = scheduler.of('launch').flatMap((l) => l.tasks.map((t) => t.task_id!.value!));
    for (const id of ids) scheduler.emit('update', { type: 'update', status: fakeStatus(id, 'TASK_RUNNING') });
    await settle();
    return ids;
  }

  /** Waits `n` more reads of the stats page: the drain had `n` chances to end. */
  async function polls(n: number): Promise<void> {
    const until = reads + n;
    await waitUntil(() => reads >= until, 5000, `${n} reads of the stats page`);
  }

  beforeEach(() => {
    clock = new ManualClock(1_700_000_000);
    store = new MemoryAppsStore();
    events = [];
    rows = [];
    reads = 0;
  });

  afterEach(() => runtime.stop());

  it('on a scale-down: stored and shown draining, no KILL until the balancer has drained it, then the KILL', async () => {
    await start({});
    const ids = await twoRunning();
    const servers = ids.map((id) => row('web_10000', `${id.replace(/[^A-Za-z0-9_.-]/g, '_')}_0`, 'UP', 1));
    rows = servers;
    await ops.updateApp('/web', { instances: 1 }, { partial: true, force: false });
    await settle();
    const draining = [...store.instances.values()].filter((i) => i.drainingSince);
    expect(draining).toHaveLength(1);
    const victim = draining[0]!.taskId;
    expect(draining[0]!.killing).toBe(true);
    expect(ops.tasks('/web').find((t) => t.id === victim)).toMatchObject({ state: 'TASK_KILLING' });
    expect(events.filter((e) => e.eventType === 'status_update_event' && e.taskId === victim).at(-1)).toMatchObject({ taskStatus: 'TASK_KILLING' });
    expect(events.filter((e) => e.eventType === 'instance_changed_event' && e.instanceId === victim).at(-1)).toMatchObject({ condition: 'Killing' });
    // The balancer drains it; a request still holds a session: no KILL yet.
    rows = servers.map((r) => (r.name.startsWith(victim.replace(/[^A-Za-z0-9_.-]/g, '_')) ? { ...r, status: 'DRAIN' } : r));
    await polls(3);
    expect(scheduler.of('kill')).toEqual([]);
    // The session ends: the KILL goes out, for that instance only.
    rows = servers.filter((r) => !r.name.startsWith(victim.replace(/[^A-Za-z0-9_.-]/g, '_')));
    await waitUntil(() => scheduler.of('kill').length > 0, 5000, 'the KILL');
    expect(scheduler.of('kill')).toEqual([{ call: 'kill', taskId: victim }]);
    expect(state(victim)).toBeDefined();
    scheduler.emit('update', { type: 'update', status: fakeStatus(victim, 'TASK_KILLED') });
    await settle();
    expect(runtime.state.instances.has(victim)).toBe(false);
    expect(runtime.delayLeft('/web')).toBe(0); // asked for: no failure, no backoff
  });

  const state = (id: string) => runtime.state.instances.get(id);

  it('a stats page that does not answer holds the KILL until --drain_timeout, counted from drainingSince', async () => {
    await start({});
    const [first] = await twoRunning();
    rows = new Error('connection refused');
    await ops.killTask('/web', first!, false, false);
    await polls(3);
    expect(scheduler.of('kill')).toEqual([]);
    // The drain holds nothing else up: the replacement is launched meanwhile.
    const launches = scheduler.of('launch').length;
    scheduler.emit('offers', { type: 'offers', offers: [fakeOffer('o2', 'h2', 'cpus:2;mem:1024;ports:[31000-31009]')] });
    await settle();
    expect(scheduler.of('launch')).toHaveLength(launches + 1);
    clock.advance(29);
    await polls(2);
    expect(scheduler.of('kill')).toEqual([]);
    clock.advance(1);
    await waitUntil(() => scheduler.of('kill').length > 0, 5000, 'the KILL after the timeout');
    expect(scheduler.of('kill')).toEqual([{ call: 'kill', taskId: first }]);
  });

  it('with no stats page, waits --drain_wait so event-driven balancers see it first', async () => {
    await start({ lbStats: [] });
    const [first] = await twoRunning();
    await ops.killTask('/web', first!, false, false);
    expect(state(first!)).toMatchObject({ killing: true });
    await new Promise((r) => setTimeout(r, 30));
    expect(scheduler.of('kill')).toEqual([]);
    clock.advance(2);
    await waitUntil(() => scheduler.of('kill').length > 0, 5000, 'the KILL after --drain_wait');
    expect(reads).toBe(0);
  });

  it('drains the instances of a deleted app before killing them', async () => {
    await start({});
    const ids = await twoRunning();
    rows = ids.map((id) => row('web_10000', `${id}_0`, 'DRAIN', 1));
    await ops.deleteApp('/web', false);
    await settle();
    expect(ids.map((id) => state(id)?.drainingSince)).toEqual([expect.any(String), expect.any(String)]);
    await polls(3);
    expect(scheduler.of('kill')).toEqual([]);
    rows = [];
    await waitUntil(() => scheduler.of('kill').length === 2, 5000, 'both KILLs');
  });

  it('kills an instance that cannot be serving (not RUNNING yet) at once', async () => {
    await start({});
    await ops.createApp({ ...APP, instances: 1 });
    scheduler.emit('offers', { type: 'offers', offers: [fakeOffer('o1', 'h1', 'cpus:2;mem:1024;ports:[31000-31009]')] });
    await settle();
    const [staging] = scheduler.of('launch').flatMap((l) => l.tasks.map((t) => t.task_id!.value!));
    await ops.killTask('/web', staging!, false, false);
    expect(scheduler.of('kill')).toEqual([{ call: 'kill', taskId: staging }]);
    expect(state(staging!)?.drainingSince).toBeUndefined();
  });

  it('a new leader finds the draining instance in the store and kills it once drained', async () => {
    await start({});
    const [first] = await twoRunning();
    rows = [row('web_10000', `${first!.replace(/[^A-Za-z0-9_.-]/g, '_')}_0`, 'UP', 1)];
    await ops.killTask('/web', first!, false, false);
    runtime.stop();
    expect(scheduler.of('kill')).toEqual([]);
    // The next leader loads the store (the draining instance included) and reconciles.
    const loaded = await store.load();
    const next = new AppsState();
    for (const a of loaded.apps) next.apps.set(a.id, a);
    for (const i of loaded.instances) next.instances.set(i.taskId, i);
    await start({}, next);
    expect(next.instances.get(first!)).toMatchObject({ killing: true, drainingSince: expect.any(String) });
    await polls(3);
    expect(scheduler.of('kill')).toEqual([]);
    rows = [];
    await waitUntil(() => scheduler.of('kill').some((k) => k.taskId === first), 5000, 'the new leader\'s KILL');
  });
});
