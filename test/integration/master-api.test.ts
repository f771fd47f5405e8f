// The master's scheduler API over real gRPC on loopback, without agents:
// subscription, stream ids, bad input, reconciliation of unknown tasks,
// heartbeats, teardown and failover timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';

let running: RunningMaster;
const clients: RawScheduler[] = [];

beforeAll(async () => {
  running = await startMaster({ port: 0, grpc_port: 0, heartbeat_interval: 0.2, quiet: true });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await running.stop();
});

async function subscribed(name: string, extra: Record<string, unknown> = {}): Promise<RawScheduler> {
  const s = new RawScheduler(running.grpcAddress);
  clients.push(s);
  const event = await s.subscribe({ name, user: 'test', capabilities: [{ type: 'PARTITION_AWARE' }], ...extra });
  expect(event.type).toBe('SUBSCRIBED');
  return s;
}

async function state(): Promise<any> {
  const res = await fetch(`http://${running.httpAddress}/state`);
  expect(res.status).toBe(200);
  return res.json();
}

const code = (p: Promise<unknown>) => p.then(() => 'OK', (err: grpc.ServiceError) => grpc.status[err.code]);

describe('scheduler API over gRPC', () => {
  it('subscribes, hands out a stream id and shows the framework in /state', async () => {
    const s = await subscribed('alpha');
    expect(s.frameworkId).toMatch(new RegExp(`^${running.master.options.id}-\\d{4}$`));
    expect(s.streamId).toMatch(/^[0-9a-f-]{36}$/);
    const subscribedEvent = s.events[0]!;
    expect(subscribedEvent.subscribed!.heartbeat_interval_seconds).toBe(0.2);
    expect(subscribedEvent.subscribed!.master_info!.address!.port).toBe(Number(running.httpAddress.split(':')[1]));
    const st = await state();
    expect(st.frameworks.map((f: { name: string }) => f.name)).toContain('alpha');
    expect(st.leader).toBe(`master@${running.httpAddress}`);
  });

  it('refuses a SUBSCRIBE without a framework name with INVALID_ARGUMENT naming the field', async () => {
    const s = new RawScheduler(running.grpcAddress);
    clients.push(s);
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      const call = s.client.Subscribe({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'x' } } });
      call.on('data', () => {});
      call.on('error', resolve);
    });
    expect(grpc.status[error.code]).toBe('INVALID_ARGUMENT');
    expect(error.details).toBe('Call.subscribe.framework_info.name is required');
  });

  it('sends heartbeats at the advertised interval', async () => {
    const s = await subscribed('beats');
    const t0 = Date.now();
    await s.next((e) => e.type === 'HEARTBEAT', 3000);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('refuses calls without the stream id, from unknown frameworks, or malformed', async () => {
    const s = await subscribed('strict');
    expect(await code(s.call('Revive', { type: 'REVIVE' }, 'not-the-stream'))).toBe('INVALID_ARGUMENT');
    expect(await code(s.call('Revive', { type: 'REVIVE', framework_id: { value: 'nobody' } }))).toBe('NOT_FOUND');
    expect(await code(s.call('Revive', { type: 'SUPPRESS' }))).toBe('INVALID_ARGUMENT');
    expect(await code(s.call('Accept', { type: 'ACCEPT' }))).toBe('INVALID_ARGUMENT');
    expect(await code(s.call('Revive', { type: 'REVIVE' }))).toBe('OK');
  });

  it('answers undecodable bytes with INVALID_ARGUMENT and keeps serving', async () => {
    const client = new grpc.Client(running.grpcAddress, grpc.credentials.createInsecure());
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    const result = await new Promise<string>((resolve) =>
      client.makeUnaryRequest('/mesos_ts.Scheduler/Revive', (b: Buffer) => b, (b: Buffer) => b, garbage, (err) =>
        resolve(err ? `${grpc.status[err.code]}: ${err.details}` : 'OK'),
      ),
    );
    const streamed = await new Promise<string>((resolve) => {
      const call = client.makeServerStreamRequest('/mesos_ts.Scheduler/Subscribe', (b: Buffer) => b, (b: Buffer) => b, garbage);
      call.on('data', () => {});
      call.on('error', (err: grpc.ServiceError) => resolve(grpc.status[err.code]));
      call.on('end', () => resolve('ended without error'));
    });
    client.close();
    expect(result).toMatch(/^INVALID_ARGUMENT: cannot decode/);
    expect(streamed).toBe('INVALID_ARGUMENT');
    expect((await fetch(`http://${running.httpAddress}/health`)).status).toBe(200);
  });

  it('drops tasks launched on unknown offers, naming the offer', async () => {
    const s = await subscribed('bad-accept');
    const task = {
      name: 't', task_id: { value: 't1' }, agent_id: { value: 'a' }, command: { value: 'true' },
      resources: [{ name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.1 } }],
    };
    await s.call('Accept', { type: 'ACCEPT', accept: { offer_ids: [{ value: 'no-such-offer' }], operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }] } });
    const update = await s.next((e) => e.type === 'UPDATE');
    expect(update.update!.status!.state).toBe('TASK_DROPPED');
    expect(update.update!.status!.reason).toBe('REASON_INVALID_OFFERS');
    expect(update.update!.status!.message).toContain('offer no-such-offer is unknown');
  });

  it('reconciles and kills unknown tasks as unknown', async () => {
    const s = await subscribed('reconciler');
    await s.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'ghost' } }] } });
    const update = await s.next((e) => e.type === 'UPDATE' && e.update!.status!.task_id!.value === 'ghost');
    expect(update.update!.status).toMatchObject({ state: 'TASK_UNKNOWN', reason: 'REASON_RECONCILIATION' });
    expect(update.update!.status!.uuid.length).toBe(0);
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: 'phantom' } } });
    const killed = await s.next((e) => e.type === 'UPDATE' && e.update!.status!.task_id!.value === 'phantom');
    expect(killed.update!.status!.state).toBe('TASK_UNKNOWN');
  });

  it('tears a framework down and ends its stream', async () => {
    const s = await subscribed('short-lived');
    await s.call('Teardown', { type: 'TEARDOWN' });
    const st = await state();
    expect(st.frameworks.map((f: { id: string }) => f.id)).not.toContain(s.frameworkId);
    expect(st.completed_frameworks.map((f: { id: string }) => f.id)).toContain(s.frameworkId);
    expect(await code(s.call('Revive', { type: 'REVIVE' }))).toBe('NOT_FOUND');
  });

  it('keeps a disconnected framework for its failover_timeout, then removes it', async () => {
    const s = await subscribed('flaky', { failover_timeout: 0.5 });
    const id = s.frameworkId;
    s.close();
    await new Promise((r) => setTimeout(r, 150));
    let st = await state();
    expect(st.frameworks.find((f: { id: string }) => f.id === id)?.connected).toBe(false);
    await new Promise((r) => setTimeout(r, 800));
    st = await state();
    expect(st.frameworks.map((f: { id: string }) => f.id)).not.toContain(id);
  });

  it('lets a framework fail over with its id, ending the old stream with an ERROR', async () => {
    const first = await subscribed('phoenix', { failover_timeout: 60 });
    const second = new RawScheduler(running.grpcAddress);
    clients.push(second);
    const event = await second.subscribe({ name: 'phoenix', user: 'test', id: { value: first.frameworkId }, failover_timeout: 60 });
    expect(event.subscribed!.framework_id!.value).toBe(first.frameworkId);
    const error = await first.next((e) => e.type === 'ERROR');
    expect(error.error!.message).toBe('Framework failed over');
    expect(await code(first.call('Revive', { type: 'REVIVE' }))).toBe('INVALID_ARGUMENT');
    expect(await code(second.call('Revive', { type: 'REVIVE' }))).toBe('OK');
  });
});
