// A scheduler that stops reading its event stream, with real sockets: the
// master keeps at most --max_framework_event_queue events for it, then drops
// the stream, disconnects the framework (it may subscribe again), logs it and
// counts it. Over gRPC (a raw grpc-js client that pauses its stream, so
// HTTP/2 flow control pushes back) and over the HTTP API (a response the
// client never reads, so TCP pushes back). The events are UPDATEs the master
// answers explicit reconciliation with: many per call, cheap to ask for.
// The same over gRPC with a byte bound (--max_framework_event_queue_bytes)
// well below the count bound: the bytes waiting never pass it.
import { afterAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { request } from 'node:http';
import { grpcObject, type EventOut, type SchedulerClient } from '../../proto/index.js';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { STREAM_ID_KEY } from '../../common/stream-id.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const LIMIT = 200;

const BYTES = 256 * 1024;

async function master(logs: string[], limits: Record<string, number> = { max_framework_event_queue: LIMIT }): Promise<RunningMaster> {
  const m = await startMaster({ port: 0, grpc_port: 0, ...limits }, (line) => logs.push(line));
  cleanups.push(() => m.stop());
  return m;
}

/** `count` task ids the master does not know, long enough that each UPDATE is about 1 KB. */
function unknownTasks(call: number, count = 500): { task_id: { value: string } }[] {
  return Array.from({ length: count }, (_, i) => ({ task_id: { value: `call-${call}-task-${i}-${'x'.repeat(900)}` } }));
}

async function metric(m: RunningMaster, name: string): Promise<number> {
  const res = await fetch(`http://${m.httpAddress}/metrics/snapshot`);
  return ((await res.json()) as Record<string, number>)[name] ?? NaN;
}

/**
 * Asks for reconciliation until the framework is disconnected (at most 100 calls),
 * sampling the events the master holds for it after each call; returns the largest
 * sample (and the largest sample of their bytes).
 */
async function flood(m: RunningMaster, frameworkId: string, reconcile: (call: number) => Promise<void>): Promise<number> {
  return (await floodBytes(m, frameworkId, reconcile)).events;
}

async function floodBytes(m: RunningMaster, frameworkId: string, reconcile: (call: number) => Promise<void>): Promise<{ events: number; bytes: number }> {
  const most = { events: 0, bytes: 0 };
  for (let call = 0; call < 100 && m.master.frameworks.get(frameworkId)?.connected; call++) {
    await reconcile(call);
    most.events = Math.max(most.events, m.master.queuedFrameworkEvents());
    most.bytes = Math.max(most.bytes, m.master.queuedFrameworkEventBytes());
  }
  return most;
}

/** A raw grpc-js scheduler that reads its SUBSCRIBED and then nothing. */
async function deafGrpc(m: RunningMaster, name: string, perCall = 500) {
  const client = new grpcObject.mesos_ts.Scheduler(m.grpcAddress, grpc.credentials.createInsecure()) as unknown as SchedulerClient;
  cleanups.push(() => client.close());
  const stream = client.Subscribe({ type: 'SUBSCRIBE', subscribe: { framework_info: { name, user: 'root', failover_timeout: 600 } } });
  let streamId = '';
  stream.on('metadata', (md) => (streamId = String(md.get(STREAM_ID_KEY)[0] ?? '')));
  const end: { status: grpc.StatusObject | null } = { status: null };
  stream.on('status', (s: grpc.StatusObject) => (end.status = s));
  stream.on('error', () => {});
  const frameworkId = await new Promise<string>((resolve) => {
    stream.once('data', (event: EventOut) => {
      stream.pause(); // From here on the scheduler reads nothing.
      resolve(event.subscribed!.framework_id!.value);
    });
  });
  const read: EventOut[] = [];
  stream.on('data', (event: EventOut) => read.push(event));
  cleanups.push(() => stream.cancel());
  const reconcile = (call: number) => new Promise<void>((resolve, reject) => {
    const md = new grpc.Metadata();
    md.set(STREAM_ID_KEY, streamId);
    client.Reconcile({ type: 'RECONCILE', framework_id: { value: frameworkId }, reconcile: { tasks: unknownTasks(call, perCall) } }, md, (err) => (err ? reject(err) : resolve()));
  });
  return { stream, frameworkId, end, reconcile, read };
}

describe('a scheduler that stops reading its events', () => {
  it('over gRPC: its stream is dropped after a bounded queue, and it can subscribe again', async () => {
    const logs: string[] = [];
    const m = await master(logs);
    const { stream, frameworkId, end, reconcile } = await deafGrpc(m, 'deaf');
    const most = await flood(m, frameworkId, reconcile);

    expect(m.master.frameworks.get(frameworkId)?.connected).toBe(false);
    expect(most).toBeLessThanOrEqual(LIMIT);
    expect(m.master.queuedFrameworkEvents()).toBe(0);
    expect(await metric(m, 'master/frameworks_slow_disconnected')).toBe(1);
    expect(logs.some((l) => l.includes(`framework ${frameworkId} left ${LIMIT + 1} events (`))).toBe(true);

    // Reading again, it finds the end of its stream, with the reason.
    stream.resume();
    await waitUntil(() => end.status !== null, 15_000, 'the end of the dropped stream');
    expect(end.status!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);

    const again = new RawScheduler(m.grpcAddress);
    cleanups.push(() => again.close());
    const subscribed = await again.subscribe({ name: 'deaf', user: 'root', failover_timeout: 600, id: { value: frameworkId } });
    expect(subscribed.type).toBe('SUBSCRIBED');
    expect(m.master.frameworks.get(frameworkId)?.connected).toBe(true);
  });

  it('over gRPC with a byte bound: the bytes waiting stay under it, and the stream is dropped for them', async () => {
    const logs: string[] = [];
    const m = await master(logs, { max_framework_event_queue: 100_000, max_framework_event_queue_bytes: BYTES });
    const { stream, frameworkId, end, reconcile } = await deafGrpc(m, 'deaf-bytes', 50); // About 50 KB a call, so the queue is sampled on its way up.
    const most = await floodBytes(m, frameworkId, reconcile);

    expect(m.master.frameworks.get(frameworkId)?.connected).toBe(false);
    expect(most.bytes).toBeGreaterThan(0);
    expect(most.bytes).toBeLessThanOrEqual(BYTES);
    expect(m.master.queuedFrameworkEventBytes()).toBe(0);
    expect(await metric(m, 'master/frameworks_slow_disconnected')).toBe(1);
    expect(await metric(m, 'master/frameworks_slow_disconnected_bytes')).toBe(1);
    expect(await metric(m, 'master/framework_event_queue_bytes')).toBe(0);
    expect(logs.some((l) => l.includes(`framework ${frameworkId} left`) && l.includes(`more than --max_framework_event_queue_bytes=${BYTES} bytes`))).toBe(true);
    stream.resume();
    await waitUntil(() => end.status !== null, 15_000, 'the end of the dropped stream');
    expect(end.status!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(end.status!.details).toContain(`${BYTES} bytes`);
  });

  it('over gRPC, a scheduler that reads again gets every event that waited, intact and in order', async () => {
    const m = await master([], { max_framework_event_queue: 100_000 });
    const { stream, frameworkId, reconcile, read } = await deafGrpc(m, 'late-reader', 50);
    let most = 0;
    for (let call = 0; call < 20; call++) {
      await reconcile(call);
      most = Math.max(most, m.master.queuedFrameworkEvents());
    }
    expect(most).toBeGreaterThan(0); // Events did wait (kept encoded) ...
    stream.resume();
    await waitUntil(() => read.filter((e) => e.type === 'UPDATE').length >= 1000, 30_000, 'the scheduler to read every UPDATE');
    // ... and arrive as the master made them: the 1,000 task ids asked about, in order.
    const expected = Array.from({ length: 20 }, (_, call) => unknownTasks(call, 50).map((t) => t.task_id.value)).flat();
    expect(read.filter((e) => e.type === 'UPDATE').map((e) => e.update!.status!.task_id!.value)).toEqual(expected);
    expect(m.master.frameworks.get(frameworkId)?.connected).toBe(true);
    expect(m.master.queuedFrameworkEvents()).toBe(0);
  });

  it('over the HTTP API: its connection is closed after a bounded queue', async () => {
    const logs: string[] = [];
    const m = await master(logs);
    const body = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'deaf-http', user: 'root', failover_timeout: 600 } } });
    const { frameworkId, streamId, closed } = await new Promise<{ frameworkId: string; streamId: string; closed: Promise<void> }>((resolve, reject) => {
      const req = request(`http://${m.httpAddress}/api/v1/scheduler`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' } }, (res) => {
        const closed = new Promise<void>((done) => res.socket.once('close', () => done()));
        let text = '';
        const onData = (chunk: Buffer) => {
          text += chunk.toString();
          const match = /"framework_id":\{"value":"([^"]+)"/.exec(text);
          if (!match) return;
          res.off('data', onData);
          res.pause(); // From here on the scheduler reads nothing.
          resolve({ frameworkId: match[1]!, streamId: String(res.headers['mesos-stream-id']), closed });
        };
        res.on('data', onData);
        res.on('error', () => {});
      });
      req.on('error', reject);
      req.end(body);
    });

    const most = await flood(m, frameworkId, async (call) => {
      const res = await fetch(`http://${m.httpAddress}/api/v1/scheduler`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'Mesos-Stream-Id': streamId },
        body: JSON.stringify({ type: 'RECONCILE', framework_id: { value: frameworkId }, reconcile: { tasks: unknownTasks(call) } }),
      });
      if (res.status !== 202) throw new Error(`RECONCILE answered ${res.status}: ${await res.text()}`);
    });

    expect(m.master.frameworks.get(frameworkId)?.connected).toBe(false);
    expect(most).toBeLessThanOrEqual(LIMIT);
    expect(await metric(m, 'master/frameworks_slow_disconnected')).toBe(1);
    await closed; // The master closed the connection.
    expect(logs.some((l) => l.includes(`framework ${frameworkId} left ${LIMIT + 1} events (`))).toBe(true);
  });
});
