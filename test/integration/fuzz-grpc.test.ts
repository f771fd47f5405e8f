// Fuzzing the master's gRPC Scheduler and Operator services (fast-check)
// with a real master and agent as processes (test/harness/fuzz-cluster.ts):
// calls drawn from the schema with random types (unknown enum values too),
// wrong, foreign and random ids, stream ids that are missing, random or
// another's; the same encodings mutated (truncated, flipped, spliced, fields
// of the wrong wire type); random bytes; huge repeated fields; messages over
// the master's --max_grpc_message_size. Each answer must be OK or a
// deliberate refusal (never INTERNAL, UNKNOWN or a timeout); after each call
// the master and the agent serve, a refused call left the master's state as
// it was, and an accepted one changed nothing but the fuzzing framework's own
// record. FUZZ_SEED and FUZZ_RUNS replay or lengthen a run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import { grpcObject, protoRoot } from '../../proto/index.js';
import { STREAM_ID_KEY } from '../../common/stream-id.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';
import { FUZZ_MAX_GRPC_MESSAGE_SIZE, FuzzCluster, RawGrpc, agentLinkExchange, stableState, type GrpcAnswer, type LinkAnswer } from '../harness/fuzz-cluster.js';
import { applyMutations, encode, encodeRegistration, fuzzParameters, garbageBytes, message, mutations, value, varintField } from '../harness/fuzz-arbitraries.js';
import type { Type } from 'protobufjs';

const SCHEDULER_CALL = protoRoot.lookupType('mesos.v1.scheduler.Call');
const OPERATOR_CALL = protoRoot.lookupType('mesos.v1.master.Call');
const EVENT = protoRoot.lookupType('mesos.v1.scheduler.Event');
const AGENT_MESSAGE = protoRoot.lookupType('mesos_ts.internal.AgentMessage');
const MASTER_MESSAGE = protoRoot.lookupType('mesos_ts.internal.MasterMessage');
const methods = (service: grpc.ServiceDefinition) => Object.values(service).map((m) => m.path.split('/').pop()!);
// Calls carries CallRequests, not a Call: test/integration/scheduler-call-stream.test.ts sends it malformed ones.
const SCHEDULER_METHODS = methods(grpcObject.mesos_ts.Scheduler.service).filter((m) => m !== 'Calls');
const OPERATOR_METHODS = methods(grpcObject.mesos_ts.operator.Operator.service);
/** What a refusal may be; INTERNAL, UNKNOWN, DEADLINE_EXCEEDED (a hang) or UNAVAILABLE (a crash) are failures. */
const REFUSALS = new Set([
  grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.ALREADY_EXISTS, grpc.status.FAILED_PRECONDITION, grpc.status.PERMISSION_DENIED,
  grpc.status.UNAUTHENTICATED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.OUT_OF_RANGE, grpc.status.UNIMPLEMENTED,
]);

const cluster = new FuzzCluster();
let raw: RawGrpc;
let fuzzer: RawScheduler;
/** Frameworks the fuzzing made: their records may change. */
const fuzzFrameworks = new Set<string>();
const seen = new Map<string, number>();

beforeAll(async () => {
  await cluster.start();
  raw = new RawGrpc(cluster.master.grpcAddress);
  await subscribeFuzzer();
}, 120_000);
afterAll(async () => {
  console.log(`fuzz-grpc answers: ${[...seen].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  fuzzer?.close();
  raw?.close();
  await cluster.stop();
}, 60_000);

/** The framework whose own calls the fuzzer makes (and may accept); suppressed, so that offers do not come and go. */
async function subscribeFuzzer(): Promise<void> {
  fuzzer?.close();
  fuzzer = new RawScheduler(cluster.master.grpcAddress);
  const event = await fuzzer.subscribe({ name: 'fuzz', user: 'root', failover_timeout: 0 });
  expect(event.type).toBe('SUBSCRIBED');
  fuzzFrameworks.add(fuzzer.frameworkId);
  await fuzzer.call('Suppress', { type: 'SUPPRESS' });
  await waitUntil(fuzzerAlive, 10_000, 'the fuzzing framework in GET_STATE');
}

/** The state without the fuzzing frameworks' records (theirs may change when a call of theirs is accepted). */
function othersOf(state: unknown): unknown {
  const s = structuredClone(stableState(state)) as { get_state?: { get_frameworks?: Record<string, { framework_info: { id: { value: string } } }[]> } };
  const fws = s.get_state?.get_frameworks;
  for (const key of Object.keys(fws ?? {})) {
    const others = fws![key]!.filter((f) => !fuzzFrameworks.has(f.framework_info.id.value));
    // An empty list is left out, as GET_STATE leaves it out.
    if (others.length > 0) fws![key] = others;
    else delete fws![key];
  }
  return s;
}

function record(answer: GrpcAnswer, what: string): void {
  const key = grpc.status[answer.code] ?? String(answer.code);
  seen.set(key, (seen.get(key) ?? 0) + 1);
  if (answer.code !== grpc.status.OK) expect(REFUSALS.has(answer.code), `${what}: ${key} ${answer.details}`).toBe(true);
}

/** After `send`: serving; refused, the state as it was; accepted, only the fuzzing frameworks' records changed. */
async function checked(what: string, send: () => Promise<{ answer: GrpcAnswer; accepted: boolean }>, acceptedPart: (state: unknown) => unknown = othersOf): Promise<GrpcAnswer> {
  const before = await cluster.settledState();
  const { answer, accepted } = await send();
  record(answer, what);
  await cluster.assertServing();
  if (accepted) await cluster.expectState(acceptedPart, acceptedPart(before), `${what} was accepted and changed another's state`);
  else await cluster.expectState(stableState, before, `${what} was refused (${answer.details}) yet changed the state`);
  if (fuzzer.events.some((e) => e.type === 'ERROR') || !(await fuzzerAlive())) await subscribeFuzzer();
  return answer;
}

async function fuzzerAlive(): Promise<boolean> {
  const state = (await cluster.state()) as { get_state?: { get_frameworks?: { frameworks?: { framework_info: { id: { value: string } }; connected?: boolean }[] } } };
  return state.get_state?.get_frameworks?.frameworks?.some((f) => f.framework_info.id.value === fuzzer.frameworkId && f.connected === true) ?? false;
}

type Who = 'fuzzer' | 'bystander' | 'random' | 'none';
type StreamId = 'fuzzer' | 'random' | 'none';

function metadata(stream: StreamId): grpc.Metadata {
  const md = new grpc.Metadata();
  if (stream === 'fuzzer') md.set(STREAM_ID_KEY, fuzzer.streamId);
  if (stream === 'random') md.set(STREAM_ID_KEY, '5b5c0a2e-8f3e-4c56-9a0c-1f4a3e7d9b21');
  return md;
}

function frameworkId(who: Who): Record<string, unknown> {
  if (who === 'none') return {};
  return { framework_id: { value: who === 'fuzzer' ? fuzzer.frameworkId : who === 'bystander' ? cluster.bystander.frameworkId : 'no-such-framework-0000' } };
}

/** A huge repeated field, under the master's limit. */
const huge = fc.record({ n: fc.integer({ min: 2000, max: 20_000 }), call: fc.constantFrom('reconcile', 'decline', 'accept', 'suppress') });
function hugeCall(kind: string, n: number): Record<string, unknown> {
  const ids = Array.from({ length: n }, (_, i) => ({ value: `id-${i}` }));
  switch (kind) {
    case 'reconcile':
      return { type: 'RECONCILE', reconcile: { tasks: ids.map((task_id) => ({ task_id })) } };
    case 'decline':
      return { type: 'DECLINE', decline: { offer_ids: ids } };
    case 'accept':
      return { type: 'ACCEPT', accept: { offer_ids: ids.slice(0, 10), operations: [{ type: 'LAUNCH', launch: { task_infos: ids.slice(0, n / 10).map((task_id) => ({ name: 't', task_id, agent_id: { value: cluster.agentId } })) } }] } };
    default:
      return { type: 'SUPPRESS', suppress: { roles: ids.map((id) => id.value) } };
  }
}

/** The Call.Type a method takes: AcceptInverseOffers -> ACCEPT_INVERSE_OFFERS. */
const typeOfMethod = (method: string) => method.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();

/**
 * Calls for `method` of `type`: mostly of the method's own Call.Type with its
 * payload drawn from the schema (so that calls get past the type check), else
 * any type, sometimes one no enum value has; other fields drawn at random.
 */
function callsFor(type: Type, method: string, ids: readonly string[]): fc.Arbitrary<{ body: Record<string, unknown>; type: string | number }> {
  const own = typeOfMethod(method);
  const payload = type.fields[own.toLowerCase()];
  const types = Object.keys(type.lookupEnum('Type').values);
  return fc.record({
    body: message(type, 0, false, ids),
    type: fc.oneof({ weight: 6, arbitrary: fc.constant(own) }, { weight: 2, arbitrary: fc.constantFrom(...types) }, { weight: 1, arbitrary: fc.integer({ min: 100, max: 100_000 }) }),
    payload: payload ? fc.option(value(payload, 0, false, ids), { freq: 4, nil: undefined }) : fc.constant(undefined),
  }).map(({ body, type: t, payload: p }) => ({ type: t, body: payload && p !== undefined ? { ...body, [payload.name]: p } : body }));
}

describe('gRPC Scheduler service under fuzzed calls', () => {
  it('answers every call with OK or a refusal, keeps serving, and a refused call changes nothing', async () => {
    const ids = [cluster.agentId, cluster.taskId, 'no-such-offer', cluster.bystander.frameworkId];
    const structured = (method: string) => fc.record({ who: fc.constantFrom<Who>('fuzzer', 'fuzzer', 'bystander', 'random', 'none'), call: callsFor(SCHEDULER_CALL, method, ids) })
      .map(({ who, call }) => ({ who, ...call }));
    const step = fc.constantFrom(...SCHEDULER_METHODS).chain((method) => fc.record({
      method: fc.constant(method),
      stream: fc.constantFrom<StreamId>('fuzzer', 'fuzzer', 'random', 'none'),
      body: fc.oneof(
        { weight: 6, arbitrary: structured(method).map((s) => ({ kind: 'call' as const, ...s, mutate: null })) },
        { weight: 3, arbitrary: fc.tuple(structured(method), mutations).map(([s, m]) => ({ kind: 'call' as const, ...s, mutate: m })) },
        { weight: 2, arbitrary: garbageBytes.map((bytes) => ({ kind: 'bytes' as const, bytes })) },
        { weight: 1, arbitrary: huge.map((h) => ({ kind: 'huge' as const, ...h })) },
        { weight: 1, arbitrary: fc.constant({ kind: 'oversized' as const }) },
      ),
    }));
    await fc.assert(
      fc.asyncProperty(step, async ({ method, stream, body }) => {
        let bytes: Buffer;
        if (body.kind === 'bytes') bytes = body.bytes;
        else if (body.kind === 'huge') bytes = encode(SCHEDULER_CALL, { ...frameworkId('fuzzer'), ...hugeCall(body.call, body.n) });
        else if (body.kind === 'oversized') bytes = encode(SCHEDULER_CALL, { ...frameworkId('fuzzer'), type: 'MESSAGE', message: { agent_id: { value: cluster.agentId }, executor_id: { value: 'e' }, data: Buffer.alloc(FUZZ_MAX_GRPC_MESSAGE_SIZE + 1) } });
        else {
          // A SUBSCRIBE may not name the bystander: that would be its failover, which Mesos allows any unauthenticated scheduler.
          const who = method === 'Subscribe' && body.who === 'bystander' ? 'random' : body.who;
          bytes = encode(SCHEDULER_CALL, { ...body.body, type: body.type, ...frameworkId(who) });
          if (body.mutate) bytes = applyMutations(bytes, body.mutate);
        }
        const what = `${method} (${body.kind}, ${bytes.length} bytes, stream id ${stream})`;
        const answer = await checked(what, async () => {
          if (method !== 'Subscribe') {
            const answer = await raw.unary(`/mesos_ts.Scheduler/${method}`, bytes, metadata(stream));
            return { answer, accepted: answer.code === grpc.status.OK };
          }
          const answer = await raw.firstOfStream('/mesos_ts.Scheduler/Subscribe', bytes, metadata(stream));
          const event = answer.message ? EVENT.toObject(EVENT.decode(answer.message), { enums: String }) as { type?: string; subscribed?: { framework_id: { value: string } } } : null;
          if (event?.subscribed) fuzzFrameworks.add(event.subscribed.framework_id.value);
          return { answer, accepted: event?.type === 'SUBSCRIBED' };
        });
        // The limit is --max_grpc_message_size, and the refusal says so.
        if (body.kind === 'oversized') expect(answer, what).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${bytes.length} vs ${FUZZ_MAX_GRPC_MESSAGE_SIZE})` });
      }),
      { ...fuzzParameters('gRPC Scheduler', 160_101, 30), endOnFailure: true },
    );
  }, 300_000);
});

describe('gRPC Operator service under fuzzed calls', () => {
  it('answers every call with OK or a refusal, keeps serving, and a refused call changes nothing', async () => {
    // Near misses of the real ids: a valid TEARDOWN of the bystander or MARK_AGENT_GONE of the agent would be obeyed.
    const ids = [`${cluster.agentId}x`, cluster.bystander.frameworkId.slice(0, -1), 'no-such-id'];
    // Reservations may name the real agent: whatever resources they carry, they may change its reservations only.
    const reservations = new Set(['ReserveResources', 'UnreserveResources']);
    const idsFor = (method: string) => (reservations.has(method) ? [...ids, cluster.agentId] : ids);
    const tasksAndBystander = (state: unknown) => {
      const { tasks, bystander } = cluster.corePart(state) as { tasks: unknown; bystander: unknown };
      return { tasks, bystander };
    };
    const step = fc.constantFrom(...OPERATOR_METHODS).chain((method) => fc.record({
      method: fc.constant(method),
      body: fc.oneof(
        { weight: 6, arbitrary: callsFor(OPERATOR_CALL, method, idsFor(method)).map((s) => ({ kind: 'call' as const, ...s, mutate: null })) },
        { weight: 3, arbitrary: fc.tuple(callsFor(OPERATOR_CALL, method, idsFor(method)), mutations).map(([s, m]) => ({ kind: 'call' as const, ...s, mutate: m })) },
        { weight: 2, arbitrary: garbageBytes.map((bytes) => ({ kind: 'bytes' as const, bytes })) },
        { weight: 1, arbitrary: fc.integer({ min: 2000, max: 20_000 }).map((n) => ({ kind: 'huge' as const, n })) },
        { weight: 1, arbitrary: fc.constant({ kind: 'oversized' as const }) },
      ),
    }));
    await fc.assert(
      fc.asyncProperty(step, async ({ method, body }) => {
        let bytes: Buffer;
        if (body.kind === 'bytes') bytes = body.bytes;
        else if (body.kind === 'huge') {
          const machines = Array.from({ length: body.n }, (_, i) => ({ hostname: `fuzz-${i}.invalid`, ip: '' }));
          bytes = encode(OPERATOR_CALL, { type: 'START_MAINTENANCE', start_maintenance: { machines } });
        } else if (body.kind === 'oversized') {
          bytes = encode(OPERATOR_CALL, { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'x'.repeat(FUZZ_MAX_GRPC_MESSAGE_SIZE + 1), weight: 1 }] } });
        } else {
          bytes = encode(OPERATOR_CALL, { ...body.body, type: body.type });
          if (body.mutate) bytes = applyMutations(bytes, body.mutate);
        }
        await checked(`Operator ${method} (${body.kind}, ${bytes.length} bytes)`, async () => {
          const path = `/mesos_ts.operator.Operator/${method}`;
          const answer = method === 'Subscribe' ? await raw.firstOfStream(path, bytes) : await raw.unary(path, bytes);
          return { answer, accepted: answer.code === grpc.status.OK };
        }, reservations.has(method) ? tasksAndBystander : othersOf);
      }),
      { ...fuzzParameters('gRPC Operator', 160_102, 30), endOnFailure: true },
    );
  }, 300_000);
});

describe('gRPC AgentLink under fuzzed agent messages', () => {
  it('refuses a bad link with a message, keeps serving, and neither a refused nor another agent changes the real agent or its tasks', async () => {
    const states = Object.keys(protoRoot.lookupEnum('mesos.v1.TaskState').values);
    const ids = [cluster.agentId, cluster.taskId, cluster.bystander.frameworkId, 'no-such-id'];
    const id = fc.oneof(fc.constantFrom(...ids), fc.string({ maxLength: 8 }));
    const resources = fc.oneof(
      { weight: 3, arbitrary: fc.constant([{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 64 } }]) },
      { weight: 1, arbitrary: fc.array(message(protoRoot.lookupType('mesos.v1.Resource'), 1, false), { maxLength: 3 }) },
    );
    const state = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...states) }, { weight: 1, arbitrary: fc.integer({ min: 20, max: 100_000 }) });
    // Random ids, or another agent's task (the bystander's, running on the real agent) under a random state.
    const taskIds = fc.oneof(
      fc.record({ framework_id: id.map((value) => ({ value })), task_id: id.map((value) => ({ value })) }),
      fc.constant({ framework_id: { value: cluster.bystander.frameworkId }, task_id: { value: cluster.taskId } }),
    );
    const task = fc.record({
      ids: taskIds, name: fc.string({ maxLength: 4 }), state,
      resources, statuses: fc.array(message(protoRoot.lookupType('mesos.v1.TaskStatus'), 1, false, ids), { maxLength: 2 }),
    }).map(({ ids: taskId, ...rest }) => ({ ...taskId, ...rest }));
    const register = fc.record({
      agent_info: fc.record({
        hostname: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('127.0.0.1', 'fuzz-host') }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }),
        port: fc.oneof({ weight: 4, arbitrary: fc.constant(5051) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom(0, 70_000), fc.integer()) }),
        resources,
        id: fc.option(id.map((value) => ({ value })), { nil: undefined, freq: 2 }),
        attributes: fc.array(message(protoRoot.lookupType('mesos.v1.Attribute'), 1, false), { maxLength: 2 }),
      }, { requiredKeys: ['hostname', 'port', 'resources'] }),
      tasks: fc.array(task, { maxLength: 3 }),
      version: fc.constantFrom('', '1.0.0', 'x'),
      ip: fc.constantFrom('', '127.0.0.1', 'not-an-ip'),
      secret: fc.string({ maxLength: 8 }),
    }, { requiredKeys: ['agent_info'] });
    const followUp = fc.oneof(
      fc.record({ status_update: fc.record({ framework_id: id.map((value) => ({ value })), status: fc.record({ task_id: id.map((value) => ({ value })), state, uuid: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)), agent_id: id.map((value) => ({ value })) }) }) }),
      fc.record({ pong: fc.record({ seq: fc.nat() }) }),
      fc.record({ draining: fc.record({ reason: fc.string({ maxLength: 5 }) }) }),
      register.map((r) => ({ register: r })),
      message(AGENT_MESSAGE, 0, false, ids),
    );
    const encoded = (a: fc.Arbitrary<Record<string, unknown>>) => fc.tuple(a, fc.option(mutations, { freq: 6, nil: null })).map(([m, ms]) => {
      const bytes = encode(AGENT_MESSAGE, m);
      return ms ? applyMutations(bytes, ms) : bytes;
    });
    const link = fc.oneof(
      { weight: 8, arbitrary: fc.tuple(encoded(register.map((r) => ({ register: r }))), fc.array(encoded(followUp), { maxLength: 3 })).map(([first, rest]) => [first, ...rest]) },
      { weight: 2, arbitrary: fc.array(fc.oneof(encoded(followUp), garbageBytes), { minLength: 1, maxLength: 3 }) },
      // Refused (no resources) once read: thousands of tasks in the state would make GET_STATE slow, and its answers a little behind.
      { weight: 1, arbitrary: fc.integer({ min: 2000, max: 8000 }).map((n) => [encode(AGENT_MESSAGE, { register: { agent_info: { hostname: 'fuzz-huge', port: 5051, resources: [] }, tasks: Array.from({ length: n }, (_, i) => ({ framework_id: { value: 'no-such-framework' }, task_id: { value: `t-${i}` }, name: 't', state: 'TASK_RUNNING' })) } })]) },
      { weight: 1, arbitrary: fc.constant([encode(AGENT_MESSAGE, { register: { agent_info: { hostname: 'fuzz-oversized', port: 5051, attributes: [{ name: 'a', type: 'TEXT', text: { value: 'x'.repeat(FUZZ_MAX_GRPC_MESSAGE_SIZE + 1) } }] } } })]) },
    );
    const decode = (b: Buffer) => MASTER_MESSAGE.toObject(MASTER_MESSAGE.decode(b), { oneofs: true }) as LinkAnswer['messages'][number];
    const counts = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(link, async (messages) => {
        const before = await cluster.settledState();
        const answer = await agentLinkExchange(raw, messages, decode);
        const first = answer.messages[0];
        const outcome = first?.kind === 'refused' ? `refused (${first.refused?.message?.replace(/[0-9a-f-]{36}-S\d+|'[^']*'|\d+/g, '…').slice(0, 60)})` : first?.kind ?? grpc.status[answer.code] ?? String(answer.code);
        counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
        const what = `a link of ${messages.length} message(s) (${messages.map((m) => m.length).join(', ')} bytes) answered ${outcome} ${first?.refused?.message ?? answer.details}`;
        // The link ends with a status of ours, never INTERNAL or a timeout; a refusal says why.
        expect([grpc.status.OK, grpc.status.CANCELLED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.INVALID_ARGUMENT], what).toContain(answer.code);
        if (first?.kind === 'refused') expect(first.refused?.message, what).toBeTruthy();
        await cluster.assertServing();
        if (first?.kind === 'registered') await cluster.expectState(cluster.corePart, cluster.corePart(before), `${what}: changed the real agent or its tasks`);
        else await cluster.expectState(stableState, before, `${what}: refused, yet the state changed`);
      }),
      { ...fuzzParameters('gRPC AgentLink', 160_103, 30), endOnFailure: true },
    );
    console.log(`fuzz AgentLink outcomes: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }, 300_000);

  it('refuses a registration listing a task in a state no TaskState has, naming it, and changes nothing', async () => {
    const TASK_STATE = protoRoot.lookupEnum('mesos.v1.TaskState');
    const TASK = protoRoot.lookupType('mesos.v1.Task');
    const unknownState = fc.integer({ min: -5, max: 100_000 }).filter((n) => TASK_STATE.valuesById[n] === undefined);
    const decode = (b: Buffer) => MASTER_MESSAGE.toObject(MASTER_MESSAGE.decode(b), { oneofs: true }) as LinkAnswer['messages'][number];
    await fc.assert(
      fc.asyncProperty(unknownState, fc.nat({ max: 2 }), async (n, at) => {
        const task = (i: number) => encode(TASK, {
          framework_id: { value: cluster.bystander.frameworkId }, task_id: { value: `fuzz-task-${i}` }, name: 't', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
        });
        // The one at `at` has state n (protobuf encoding would leave a number no TaskState has out), the others TASK_RUNNING.
        const tasks = [0, 1, 2].map((i) => Buffer.concat([task(i), varintField(TASK.fields.state!.id, i === at ? n : TASK_STATE.values.TASK_RUNNING!)]));
        const before = await cluster.settledState();
        const agentInfo = { hostname: 'fuzz-host', port: 5051, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] };
        const answer = await agentLinkExchange(raw, [encodeRegistration(agentInfo, tasks)], decode);
        expect(answer.messages[0]).toMatchObject({ kind: 'refused', refused: { message: `RegisterAgent.tasks[${at}].state ${n} is not a TaskState` } });
        await cluster.assertServing();
        await cluster.expectState(stableState, before, `a registration with a task in state ${n} was refused, yet the state changed`);
      }),
      { ...fuzzParameters('gRPC AgentLink unknown task state', 160_104, 5), endOnFailure: true },
    );
  }, 120_000);
});
