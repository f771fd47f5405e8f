// Scheduler/Calls against a real master: a call on the stream is answered
// exactly as its unary method answers it (accepted, refused for another
// framework's id, for a principal that is not the framework's, without
// credentials, malformed); the SDK's acknowledgements over it are each
// applied once; and the SDK falls back to unary calls, once and saying so,
// against a master that serves the Scheduler service without Calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { grpcObject, protoRoot, type CallIn, type CallReply, type CallRequestIn } from '../../proto/index.js';
import { schedulerService } from '../../master/rpc/scheduler-service.js';
import { withCallRequestDecoding } from '../../master/rpc/call-stream.js';
import { withEncodedResponses, withSafeDecoding } from '../../master/rpc/safe-service.js';
import { STREAM_ID_KEY } from '../../common/stream-id.js';
import { withCredential } from '../../common/grpc-credentials.js';
import type { Credential } from '../../common/credentials.js';
import { Scheduler, type Logger } from '../../framework/sdk/index.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { LinkAgent } from '../harness/link-agent.js';
import { waitUntil } from '../harness/wait-until.js';
import { Resources } from '../../common/resources.js';

const ALICE: Credential = { principal: 'alice', secret: 'alice-secret' };
const BOB: Credential = { principal: 'bob', secret: 'bob-secret' };
const CALLS = (grpcObject.mesos_ts.Scheduler.service as unknown as Record<string, grpc.MethodDefinition<CallRequestIn, CallReply>>).Calls!;
const CALL_REQUEST = protoRoot.lookupType('mesos_ts.CallRequest');

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Outcome {
  readonly code: number;
  readonly details: string;
}

/** A Calls stream sending raw bytes (so that malformed requests can be sent); replies arrive decoded. */
class RawCallStream {
  readonly replies: CallReply[] = [];
  status: Outcome | null = null;
  private readonly stream: grpc.ClientDuplexStream<Buffer, CallReply>;

  constructor(address: string, streamId: string, credential?: Credential) {
    const client = new grpc.Client(address, grpc.credentials.createInsecure(), withCredential({}, credential));
    const md = new grpc.Metadata();
    if (streamId) md.set(STREAM_ID_KEY, streamId);
    this.stream = client.makeBidiStreamRequest(CALLS.path, (b: Buffer) => b, CALLS.responseDeserialize, md, {});
    this.stream.on('data', (r: CallReply) => this.replies.push(r));
    this.stream.on('error', (err: grpc.ServiceError) => (this.status = { code: err.code, details: err.details }));
    cleanups.push(() => (this.stream.cancel(), client.close()));
  }

  send(request: CallRequestIn | Buffer): void {
    this.stream.write(Buffer.isBuffer(request) ? request : Buffer.from(CALL_REQUEST.encode(CALL_REQUEST.fromObject(request)).finish()));
  }

  async reply(id: number): Promise<CallReply> {
    await waitUntil(() => this.replies.some((r) => r.id === id) || this.status !== null, 10_000, `the reply to request ${id}`);
    const reply = this.replies.find((r) => r.id === id);
    if (!reply) throw new Error(`the stream ended ${JSON.stringify(this.status)} before replying to ${id}`);
    return reply;
  }

  /** The outcome of the one call of request `id`, as a unary call's status would read. */
  async outcome(id: number, call: CallIn): Promise<Outcome> {
    this.send({ id, calls: [call] });
    const o = (await this.reply(id)).outcomes;
    expect(o).toHaveLength(1);
    return o[0]!.error ? { code: o[0]!.error.code, details: o[0]!.error.message } : { code: grpc.status.OK, details: '' };
  }
}

async function unary(s: RawScheduler, method: string, call: CallIn, streamId = s.streamId): Promise<Outcome> {
  try {
    await s.call(method, call, streamId);
    return { code: grpc.status.OK, details: '' };
  } catch (err) {
    return { code: (err as grpc.ServiceError).code, details: (err as grpc.ServiceError).details };
  }
}

describe('Scheduler/Calls with authentication on', () => {
  let master: RunningMaster;
  let alice: RawScheduler;
  let bob: RawScheduler;
  beforeAll(async () => {
    master = await startMaster({
      port: 0, grpc_port: 0, allocation_interval: 0.1, authenticate_frameworks: true, credentials: JSON.stringify({ credentials: [ALICE, BOB] }),
    }, () => {});
    cleanups.push(() => master.stop());
    alice = new RawScheduler(master.grpcAddress, ALICE);
    bob = new RawScheduler(master.grpcAddress, BOB);
    cleanups.push(() => alice.close(), () => bob.close());
    await alice.subscribe({ name: 'alice', user: 'root' });
    await bob.subscribe({ name: 'bob', user: 'root' });
  });

  it('answers each call as its unary method does', async () => {
    const stream = new RawCallStream(master.grpcAddress, alice.streamId, ALICE);
    const own = { framework_id: { value: alice.frameworkId } };
    const cases: { name: string; method: string; call: CallIn }[] = [
      { name: 'accepted', method: 'Suppress', call: { ...own, type: 'SUPPRESS' } },
      { name: 'an unknown status update', method: 'Acknowledge', call: { ...own, type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: Buffer.from('0123456789abcdef') } } },
      { name: 'another framework id', method: 'Revive', call: { framework_id: { value: bob.frameworkId }, type: 'REVIVE' } },
      { name: 'an unknown framework id', method: 'Revive', call: { framework_id: { value: 'no-such-framework' }, type: 'REVIVE' } },
      { name: 'no framework id', method: 'Revive', call: { framework_id: { value: '' }, type: 'REVIVE' } },
      { name: 'no payload', method: 'Decline', call: { ...own, type: 'DECLINE' } },
    ];
    let id = 0;
    for (const c of cases) {
      const expected = await unary(alice, c.method, c.call);
      expect({ case: c.name, ...(await stream.outcome(++id, c.call)) }).toEqual({ case: c.name, ...expected });
    }
  });

  it('refuses a principal other than the framework\'s, and a stream without credentials, as unary calls are refused', async () => {
    const call: CallIn = { framework_id: { value: alice.frameworkId }, type: 'REVIVE' };
    const asBob = new RawCallStream(master.grpcAddress, alice.streamId, BOB);
    const bobClient = new RawScheduler(master.grpcAddress, BOB);
    const anonymousClient = new RawScheduler(master.grpcAddress);
    cleanups.push(() => bobClient.close(), () => anonymousClient.close());
    const expected = await unary(bobClient, 'Revive', call, alice.streamId);
    expect(expected.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await asBob.outcome(1, call)).toEqual(expected);

    const anonymous = new RawCallStream(master.grpcAddress, alice.streamId);
    const unauthenticated = await unary(anonymousClient, 'Revive', call, alice.streamId);
    expect(unauthenticated.code).toBe(grpc.status.UNAUTHENTICATED);
    anonymous.send({ id: 1, calls: [call] });
    await waitUntil(() => anonymous.status !== null, 10_000, 'the stream without credentials to be refused');
    expect(anonymous.status).toEqual(unauthenticated);
    expect(anonymous.replies).toEqual([]);
  });

  it('refuses a malformed call alone, answers a malformed request with its id, and keeps serving', async () => {
    const stream = new RawCallStream(master.grpcAddress, alice.streamId, ALICE);
    // What reached the master: a call that cannot be decoded never does.
    const reached: string[] = [];
    cleanups.push(master.master.events.listen((e) => void (e.type === 'SCHEDULER_CALL' && reached.push(String(e.call.type)))));
    const CALL = protoRoot.lookupType('mesos.v1.scheduler.Call');
    const encoded = (type: string) => Buffer.from(CALL.encode(CALL.fromObject({ framework_id: { value: alice.frameworkId }, type })).finish());
    const field2 = (b: Buffer) => Buffer.concat([Buffer.from([0x12, b.length]), b]);
    // calls[0]: a truncated Call; calls[1]: a valid SUPPRESS, which still applies.
    const good = encoded('SUPPRESS');
    stream.send(Buffer.concat([Buffer.from([0x08, 2]), field2(good.subarray(0, good.length - 3)), field2(good)]));
    const reply = await stream.reply(2);
    expect(reply.outcomes[0]!.error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, message: expect.stringContaining('cannot decode calls[0]') });
    expect(reply.outcomes[1]!.outcome).toBe('response');
    expect(reached).toEqual(['SUPPRESS']);
    // An envelope cut inside a call: one error, with the id read before the fault; nothing reached the master.
    stream.send(Buffer.concat([Buffer.from([0x08, 3]), field2(encoded('REVIVE')).subarray(0, 4)]));
    const broken = await stream.reply(3);
    expect(broken.outcomes).toHaveLength(1);
    expect(broken.outcomes[0]!.error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, message: expect.stringContaining('cannot decode /mesos_ts.Scheduler/Calls request') });
    expect(reached).toEqual(['SUPPRESS']);
    expect(await stream.outcome(4, { framework_id: { value: alice.frameworkId }, type: 'REVIVE' })).toEqual({ code: grpc.status.OK, details: '' });
    expect(reached).toEqual(['SUPPRESS', 'REVIVE']);
    expect(stream.status).toBeNull();
  });

  it('answers random bytes with one reply each, never accepting or failing inside, and keeps serving', async () => {
    const stream = new RawCallStream(master.grpcAddress, alice.streamId, ALICE);
    const refusals = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.FAILED_PRECONDITION]);
    let sent = 0;
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
      stream.send(Buffer.from(bytes));
      sent++;
      await waitUntil(() => stream.replies.length === sent || stream.status !== null, 10_000, `reply ${sent}`);
      const reply = stream.replies[sent - 1]!;
      for (const o of reply.outcomes) expect(refusals.has(o.error?.code ?? -1), JSON.stringify(o)).toBe(true);
    }), { numRuns: 150 });
    expect(stream.status).toBeNull();
    expect(await stream.outcome(1_000_000, { framework_id: { value: alice.frameworkId }, type: 'REVIVE' })).toEqual({ code: grpc.status.OK, details: '' });
  });
});

/**
 * The real master's Scheduler service on a second port, counting the
 * invocations of each method; `calls` false leaves Calls out, as a master
 * from before it (grpc-js then answers it UNIMPLEMENTED).
 */
async function serveScheduler(master: RunningMaster, calls: boolean): Promise<{ address: string; invoked: Map<string, number>; server: grpc.Server }> {
  const invoked = new Map<string, number>();
  const impl = schedulerService(() => master.master);
  const counted: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(impl)) {
    if (name === 'Calls' && !calls) continue;
    counted[name] = ((...args: unknown[]) => {
      invoked.set(name, (invoked.get(name) ?? 0) + 1);
      return (handler as (...a: unknown[]) => unknown)(...args);
    }) as grpc.UntypedHandleCall;
  }
  const server = new grpc.Server();
  server.addService(withEncodedResponses(withSafeDecoding(withCallRequestDecoding(grpcObject.mesos_ts.Scheduler.service))), counted);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  cleanups.push(() => server.forceShutdown());
  return { address: `127.0.0.1:${port}`, invoked, server };
}

/** Launches `n` tasks that report RUNNING then FINISHED through the SDK; resolves once every update was acknowledged. */
async function runTasks(master: RunningMaster, address: string, n: number, log: Logger): Promise<{ scheduler: Scheduler; acks: Map<string, number>; agent: LinkAgent }> {
  const agent = new LinkAgent({ master: master.grpcAddress, resources: `cpus:${n};mem:${n * 32}`, script: ['TASK_RUNNING', 'TASK_FINISHED'], retrySeconds: 60 });
  cleanups.push(() => agent.stop());
  const agentId = await agent.start();
  const acks = new Map<string, number>();
  cleanups.push(master.master.events.listen((e) => {
    if (e.type !== 'SCHEDULER_CALL' || e.call.type !== 'ACKNOWLEDGE') return;
    const key = `${e.call.acknowledge?.task_id?.value}/${Buffer.from(e.call.acknowledge?.uuid ?? []).toString('hex')}`;
    acks.set(key, (acks.get(key) ?? 0) + 1);
  }));
  const scheduler = new Scheduler({ master: address, framework: { name: 'acks' }, logger: log });
  cleanups.push(() => scheduler.close());
  // An offer on this agent: an earlier test's agent, idle now, may be offered too (or first).
  const offers = new Promise<{ id: { value: string }; agent_id: { value: string } }>((resolve) => scheduler.on('offers', (e) => {
    const mine = e.offers.find((o) => o.agent_id?.value === agentId);
    if (mine) resolve(mine as never);
  }));
  await scheduler.start();
  const offer = await offers;
  const tasks = Array.from({ length: n }, (_, i) => ({ name: `t${i}`, task_id: { value: `t${i}` }, resources: Resources.parse('cpus:0.5;mem:8').toProto(), command: { value: 'true' } }));
  await scheduler.launch(offer, tasks);
  await waitUntil(() => agent.acknowledged === 2 * n, 20_000, `${2 * n} acknowledgements`);
  return { scheduler, acks, agent };
}

describe('the SDK on Scheduler/Calls', () => {
  let master: RunningMaster;
  beforeAll(async () => {
    master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.05 }, () => {});
    cleanups.push(() => master.stop());
  });
  const lines: string[] = [];
  const log: Logger = { debug: () => {}, info: () => {}, warn: (m) => lines.push(m) };

  it('acknowledges every update over the stream, each exactly once', async () => {
    const { address, invoked } = await serveScheduler(master, true);
    const { scheduler, acks } = await runTasks(master, address, 40, log);
    expect(acks.size).toBe(80);
    expect([...acks.values()].every((n) => n === 1)).toBe(true);
    await scheduler.suppress();
    expect(invoked.get('Calls')).toBe(1);
    expect(invoked.get('Acknowledge') ?? 0).toBe(0);
    expect(invoked.get('Accept') ?? 0).toBe(0);
    expect(lines.filter((l) => l.includes('Calls'))).toEqual([]);
  });

  it('falls back to unary calls, once and saying so, against a master without Calls', async () => {
    lines.length = 0;
    const { address, invoked } = await serveScheduler(master, false);
    const { scheduler, acks } = await runTasks(master, address, 40, log);
    expect(acks.size).toBe(80);
    expect([...acks.values()].every((n) => n === 1)).toBe(true);
    await scheduler.suppress();
    expect(invoked.get('Acknowledge')).toBe(80);
    expect(invoked.get('Accept')).toBe(1);
    expect(invoked.get('Suppress')).toBe(1);
    expect(lines.filter((l) => l.includes('Scheduler/Calls'))).toEqual([`the master at ${address} has no Scheduler/Calls method (an older master): each call goes as a unary request`]);
  });

  it('applies calls in the order they were made, and never sends one aborted before its request went', async () => {
    const { address } = await serveScheduler(master, true);
    const scheduler = new Scheduler({ master: address, framework: { name: 'order' }, logger: log });
    cleanups.push(() => scheduler.close());
    const { frameworkId } = await scheduler.start();
    const seen: string[] = [];
    cleanups.push(master.master.events.listen((e) => void (e.type === 'SCHEDULER_CALL' && e.call.framework_id?.value === frameworkId && seen.push(String(e.call.type)))));
    const aborting = new AbortController();
    // RECONCILE goes in a request of its own, after the batch before it.
    const calls = [scheduler.suppress(), scheduler.revive([], { signal: aborting.signal })];
    aborting.abort(new Error('changed my mind'));
    calls.push(scheduler.revive(), scheduler.reconcile(), scheduler.suppress());
    const results = await Promise.allSettled(calls);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('changed my mind'));
    expect(seen).toEqual(['SUPPRESS', 'REVIVE', 'RECONCILE', 'SUPPRESS']);
  });

  it('fails the calls still pending when the stream ends', async () => {
    const { address, server } = await serveScheduler(master, true);
    const scheduler = new Scheduler({ master: address, framework: { name: 'cut' }, logger: log, reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
    cleanups.push(() => scheduler.close());
    await scheduler.start();
    await scheduler.revive(); // the stream is open
    const pending = [scheduler.suppress(), scheduler.revive()];
    server.forceShutdown(); // before the batch is answered
    const results = await Promise.allSettled(pending);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'UNAVAILABLE' });
  });
});
