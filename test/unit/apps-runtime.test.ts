// The apps framework's runtime and operations together, with the Scheduler
// and the store played by test doubles and time by a ManualClock: a
// deployment from POST to complete, refusals that change nothing, locks,
// backoff after a failure, SUPPRESS/REVIVE, unknown tasks, rollback.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log/logger.js';
import { ApiError } from '../../framework/apps/api-errors.js';
import { EventBus, type AppsEvent } from '../../framework/apps/events.js';
import { AppsOperations } from '../../framework/apps/operations.js';
import { AppsRuntime, AppsState } from '../../framework/apps/runtime.js';
import type { Instance } from '../../framework/apps/planner.js';
import { FakeScheduler, fakeOffer, fakeStatus } from '../harness/fake-scheduler.js';
import { MemoryAppsStore } from '../harness/memory-apps-store.js';

const OFFER = 'cpus:2;mem:1024;ports:[31000-31009]';
const APP = { id: '/web', cmd: 'sleep 100', cpus: 0.5, mem: 64, instances: 2 };

let clock: ManualClock;
let scheduler: FakeScheduler;
let store: MemoryAppsStore;
let state: AppsState;
let runtime: AppsRuntime;
let ops: AppsOperations;
let events: AppsEvent[];

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await runtime.serial(() => undefined);
}

async function refused(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

/** Offers one agent's resources and answers RUNNING for what was launched; returns the new task ids. */
async function offerAndRun(hostname = 'h1', offerId = `o-${Math.random()}`): Promise<string[]> {
  const before = scheduler.of('launch').length;
  scheduler.emit('offers', { type: 'offers', offers: [fakeOffer(offerId, hostname, OFFER)] });
  await settle();
  const ids = scheduler.of('launch').slice(before).flatMap((l) => l.tasks.map((t) => t.task_id!.value!));
  for (const id of ids) scheduler.emit('update', { type: 'update', status: fakeStatus(id, 'TASK_RUNNING') });
  await settle();
  return ids;
}

beforeEach(async () => {
  clock = new ManualClock(1_700_000_000);
  scheduler = new FakeScheduler();
  store = new MemoryAppsStore();
  state = new AppsState();
  const bus = new EventBus();
  events = [];
  bus.subscribe((e) => events.push(e));
  runtime = new AppsRuntime(state, scheduler, store, bus, clock, silentLogger(), {
    declineRefuseSeconds: 120, defaultImage: 'mesos-ts/busybox:latest', reconcileTimeoutMs: 20, tickMs: 60_000, taskLaunchTimeoutSeconds: 300,
  });
  await runtime.reconcileThenRun();
  ops = new AppsOperations(state, runtime, store, bus);
});

afterEach(() => runtime.stop());

describe('apps runtime', () => {
  it('suppresses with nothing to do, revives for a new app, launches, and completes the deployment', async () => {
    expect(scheduler.of('suppress')).toHaveLength(1);
    const { app, deployment } = await ops.createApp(APP);
    expect(app).toMatchObject({ id: '/web', portDefinitions: [{ port: 10000, protocol: 'tcp' }] });
    await settle();
    expect(scheduler.of('revive')).toHaveLength(1);
    expect(store.deployments.has(deployment.deploymentId)).toBe(true);
    const ids = await offerAndRun();
    expect(ids).toHaveLength(2);
    const task = scheduler.of('launch')[0]!.tasks[0]!;
    expect(task.command?.environment?.variables).toEqual(expect.arrayContaining([{ name: 'MARATHON_APP_ID', type: 'VALUE', value: '/web' }]));
    // Stored before the launch, and RUNNING now.
    expect([...store.instances.values()].map((i) => i.state)).toEqual(['TASK_RUNNING', 'TASK_RUNNING']);
    expect(state.deployments.size).toBe(0);
    expect(store.deployments.size).toBe(0);
    expect(scheduler.of('suppress')).toHaveLength(2);
    expect(events.map((e) => e.eventType)).toEqual(expect.arrayContaining(['api_post_event', 'deployment_info', 'deployment_success']));
  });

  it('declines offers it does not need with the refuse filter', async () => {
    scheduler.emit('offers', { type: 'offers', offers: [fakeOffer('idle', 'h1', OFFER)] });
    await settle();
    expect(scheduler.of('decline')).toEqual([{ call: 'decline', offerIds: ['idle'], refuseSeconds: 120 }]);
  });

  it('refuses an invalid definition and a duplicate, writing nothing', async () => {
    const e1 = await refused(ops.createApp({ ...APP, cpus: 0 }));
    expect(e1.status).toBe(422);
    expect(e1.body).toEqual({ message: 'Object is not valid', details: [{ path: '/cpus', errors: ['got 0, expected 0.001 or more'] }] });
    await ops.createApp(APP);
    const writes = store.writes;
    expect((await refused(ops.createApp(APP))).status).toBe(409);
    expect((await refused(ops.updateApp('/web', { mem: -1 }, { partial: true, force: true }))).status).toBe(422);
    expect(store.writes).toBe(writes);
    expect(state.apps.get('/web')!.mem).toBe(64);
  });

  it('locks an app during its deployment unless forced, and a forced change replaces the deployment', async () => {
    const first = await ops.createApp(APP);
    const locked = await refused(ops.updateApp('/web', { instances: 3 }, { partial: true, force: false }));
    expect(locked.status).toBe(409);
    expect(locked.body.deployments).toEqual([{ id: first.deployment.deploymentId }]);
    clock.advance(1);
    const forced = await ops.updateApp('/web', { instances: 3 }, { partial: true, force: true });
    expect([...state.deployments.keys()]).toEqual([forced.deployment.deploymentId]);
  });

  it('tells a scale (same configuration, no restart) from an upgrade', async () => {
    await ops.createApp(APP);
    const before = await offerAndRun();
    clock.advance(1);
    await ops.updateApp('/web', { instances: 3 }, { partial: true, force: false });
    expect(state.deploymentsOf('/web')[0]!.actions).toEqual(['ScaleApplication']);
    await offerAndRun();
    expect(before.every((id) => state.instances.has(id))).toBe(true);
    clock.advance(1);
    await ops.updateApp('/web', { cmd: 'sleep 200' }, { partial: true, force: false });
    expect(state.deploymentsOf('/web')[0]!.actions).toEqual(['RestartApplication']);
    expect(await ops.versions('/web')).toHaveLength(3);
  });

  it('backs off after a failed task before launching its replacement', async () => {
    await ops.createApp({ ...APP, instances: 1, backoffSeconds: 10 });
    const [id] = await offerAndRun();
    scheduler.emit('update', { type: 'update', status: fakeStatus(id!, 'TASK_FAILED', { message: 'exit 1' }) });
    await settle();
    expect(runtime.delayLeft('/web')).toBe(10);
    expect(ops.getApp('/web').lastTaskFailure).toMatchObject({ taskId: id, state: 'TASK_FAILED', message: 'exit 1', host: 'h1' });
    expect(store.instances.size).toBe(0);
    expect(await offerAndRun()).toEqual([]);
    expect(ops.queue()[0]).toMatchObject({ count: 1, delay: { timeLeftSeconds: 10 } });
    clock.advance(11);
    expect(await offerAndRun()).toHaveLength(1);
  });

  it('says in the queue which constraint refused the offers', async () => {
    await ops.createApp({ ...APP, constraints: [['hostname', 'UNIQUE']] });
    await offerAndRun('h1', 'offer-1');
    await offerAndRun('h1', 'offer-2');
    expect(state.instancesOf('/web')).toHaveLength(1);
    const [entry] = ops.queue() as any[];
    expect(entry.count).toBe(1);
    expect(entry.processedOffersSummary.rejectSummaryLastOffers).toEqual([{ reason: 'UnfulfilledConstraint', declined: 1, processed: 1 }]);
    expect(entry.lastUnusedOffers.at(-1)).toMatchObject({ offer: { id: 'offer-2', hostname: 'h1' }, reason: ['UnfulfilledConstraint'] });
    expect(scheduler.of('decline').at(-1)!.offerIds).toEqual(['offer-2']);
  });

  it('acknowledges an update only after handling and storing it', async () => {
    await ops.createApp({ ...APP, instances: 1 });
    const [id] = await offerAndRun();
    scheduler.emit('update', { type: 'update', status: fakeStatus(id!, 'TASK_FAILED', { uuid: Buffer.from('u1') }) });
    await settle();
    expect(store.instances.has(id!)).toBe(false);
    expect(scheduler.of('acknowledge')).toEqual([{ call: 'acknowledge', taskId: id }]);
  });

  it('replaces an unreachable instance after inactiveAfterSeconds, expunges it after expungeAfterSeconds, and kills it if it comes back', async () => {
    await ops.createApp({ ...APP, instances: 1, unreachableStrategy: { inactiveAfterSeconds: 10, expungeAfterSeconds: 20 } });
    const [lost] = await offerAndRun();
    scheduler.emit('update', { type: 'update', status: fakeStatus(lost!, 'TASK_UNREACHABLE') });
    await settle();
    expect(await offerAndRun('h2')).toEqual([]); // not yet inactive
    clock.advance(11);
    const [replacement] = await offerAndRun('h2');
    expect(replacement).toBeDefined();
    clock.advance(10);
    runtime.kick();
    await settle();
    expect(state.instances.has(lost!)).toBe(false);
    expect(store.instances.has(lost!)).toBe(false);
    expect(ops.getApp('/web').lastTaskFailure).toMatchObject({ taskId: lost, state: 'TASK_UNREACHABLE' });
    scheduler.emit('update', { type: 'update', status: fakeStatus(lost!, 'TASK_RUNNING') });
    await settle();
    expect(scheduler.of('kill').filter((k) => k.taskId === lost).length).toBeGreaterThanOrEqual(1);
    expect([...state.instances.keys()]).toEqual([replacement]);
  });

  it('kills a live task it has no instance for', async () => {
    scheduler.emit('update', { type: 'update', status: fakeStatus('gone_app.1234', 'TASK_RUNNING') });
    await settle();
    expect(scheduler.of('kill')).toEqual([{ call: 'kill', taskId: 'gone_app.1234' }]);
  });

  it('scales down through DELETE task with scale=true, killing that very task', async () => {
    await ops.createApp(APP);
    const [a, b] = await offerAndRun();
    clock.advance(1);
    await ops.killTask('/web', a!, true, false);
    await settle();
    expect(scheduler.of('kill').map((k) => k.taskId)).toEqual([a]);
    expect(state.apps.get('/web')!.instances).toBe(1);
    scheduler.emit('update', { type: 'update', status: fakeStatus(a!, 'TASK_KILLED') });
    await settle();
    expect([...state.instances.keys()]).toEqual([b]);
    expect(state.deployments.size).toBe(0);
    expect(runtime.delayLeft('/web')).toBe(0); // asked for: no failure
  });

  it('rolls a deployment back to the previous definition', async () => {
    await ops.createApp(APP);
    await offerAndRun();
    clock.advance(1);
    const up = await ops.updateApp('/web', { cmd: 'sleep 300' }, { partial: true, force: false });
    const back = await ops.cancelDeployment(up.deployment.deploymentId, false);
    expect(back).not.toBeNull();
    expect(state.apps.get('/web')!.cmd).toBe('sleep 100');
    await settle();
    // The old instances are current again: nothing to launch, nothing killed, done.
    expect(scheduler.of('kill')).toEqual([]);
    expect(state.deployments.size).toBe(0);
  });

  it('reconciles stored instances explicitly after a restart', async () => {
    const inst: Instance = {
      taskId: 'web.1', appId: '/web', version: 'v', agentId: 'agent-h1', agent: { hostname: 'h1', attributes: {} }, ports: [], servicePorts: [],
      stagedAt: new Date().toISOString(), state: 'TASK_RUNNING',
    };
    const fresh = new AppsState();
    fresh.instances.set(inst.taskId, inst);
    const again = new AppsRuntime(fresh, scheduler, store, new EventBus(), clock, silentLogger(), {
      declineRefuseSeconds: 1, defaultImage: 'x', reconcileTimeoutMs: 20, tickMs: 60_000, taskLaunchTimeoutSeconds: 300,
    });
    const from = scheduler.calls.length;
    await again.reconcileThenRun();
    again.stop();
    const reconciles = scheduler.calls.slice(from).filter((c) => c.call === 'reconcile');
    expect(reconciles).toEqual([{ call: 'reconcile', tasks: [{ taskId: 'web.1', agentId: 'agent-h1' }] }, { call: 'reconcile', tasks: [] }]);
  });
});
