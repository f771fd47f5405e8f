// Property-based fuzzing (fast-check) of the pure decoders and edge checks
// every wire goes through: whatever bytes or JSON arrive, they either give a
// message or refuse it with one of our typed errors (InvalidArgument, an
// HTTP refusal), never a TypeError or RangeError from a field taken for
// granted. The scheduler's Call (JSON and protobuf, then validateCall), the
// master's operator Call, the agent link's AgentMessage (then
// readRegistration), and Mesos's JSON reading on its own. FUZZ_SEED and
// FUZZ_RUNS replay or lengthen a run.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { protoRoot } from '../../proto/index.js';
import { InvalidArgument, MesosError } from '../../common/errors.js';
import { decodeCall } from '../../master/http-api/scheduler-codec.js';
import { fromMesosJson } from '../../master/http-api/proto-json.js';
import { HttpError } from '../../master/http-api/http-status.js';
import { decodeOperatorCall } from '../../master/operator/http.js';
import { decodeAgentMessage } from '../../master/rpc/status-presence.js';
import { readRegistration, validateCall } from '../../master/validation.js';
import { applyMutations, encode, encodeRegistration, fuzzParameters, garbageBytes, message, mutations, varintField } from '../harness/fuzz-arbitraries.js';

const SCHEDULER_CALL = protoRoot.lookupType('mesos.v1.scheduler.Call');
const OPERATOR_CALL = protoRoot.lookupType('mesos.v1.master.Call');
const AGENT_MESSAGE = protoRoot.lookupType('mesos_ts.internal.AgentMessage');
const TASK = protoRoot.lookupType('mesos.v1.Task');

/** Runs `f`; a throw must be one of our refusals. */
function refusesCleanly(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (err instanceof MesosError || err instanceof HttpError) return;
    throw new Error(`not a refusal of ours: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err });
  }
}

/** Encodings of `type` drawn from its schema, half of them mutated, or random bytes. */
const bytesOf = (type: Parameters<typeof message>[0]) => fc.oneof(
  { weight: 3, arbitrary: fc.tuple(message(type, 0, false), fc.option(mutations, { nil: null })).map(([m, ms]) => (ms ? applyMutations(encode(type, m), ms) : encode(type, m))) },
  { weight: 1, arbitrary: garbageBytes },
);
const jsonOf = (type: Parameters<typeof message>[0]) => fc.oneof(
  { weight: 3, arbitrary: message(type, 0, true).map((m) => JSON.stringify(m)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

describe('wire decoders under fuzzed input', () => {
  it('a scheduler Call, in protobuf or JSON, decodes and validates or is refused with InvalidArgument', () => {
    fc.assert(
      fc.property(fc.oneof(bytesOf(SCHEDULER_CALL).map((b) => ['protobuf', b] as const), jsonOf(SCHEDULER_CALL).map((j) => ['json', Buffer.from(j)] as const)), ([encoding, body]) => {
        refusesCleanly(() => validateCall(decodeCall(body, encoding)));
      }),
      fuzzParameters('scheduler Call decoding', 170_101, 300),
    );
  });

  it("an operator Call, in protobuf or JSON, decodes or is refused", () => {
    fc.assert(
      fc.property(fc.oneof(bytesOf(OPERATOR_CALL).map((b) => ['protobuf', b] as const), jsonOf(OPERATOR_CALL).map((j) => ['json', Buffer.from(j)] as const)), ([encoding, body]) => {
        refusesCleanly(() => decodeOperatorCall(body, encoding));
      }),
      fuzzParameters('operator Call decoding', 170_102, 300),
    );
  });

  it('an AgentMessage that decodes is a registration read or refused with InvalidArgument', () => {
    let registrations = 0;
    fc.assert(
      fc.property(bytesOf(AGENT_MESSAGE), (bytes) => {
        let decoded: ReturnType<typeof decodeAgentMessage>;
        try {
          decoded = decodeAgentMessage(bytes);
        } catch {
          return; // Undecodable: the service answers it with its own refusal (master/rpc/safe-service.ts).
        }
        if (decoded.kind !== 'register' || !decoded.register) return;
        registrations++;
        refusesCleanly(() => readRegistration(decoded.register!));
      }),
      fuzzParameters('AgentMessage decoding', 170_103, 300),
    );
    expect(registrations).toBeGreaterThan(0);
  });

  it('a registration listing a task in a state no TaskState has is refused naming it, never read as TASK_STAGING', () => {
    const TASK_STATE = protoRoot.lookupEnum('mesos.v1.TaskState');
    const unknownState = fc.integer({ min: -1000, max: 1_000_000 }).filter((n) => TASK_STATE.valuesById[n] === undefined);
    const agentInfo = { hostname: 'fuzz-host', port: 5051, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] };
    fc.assert(
      fc.property(fc.nat({ max: 3 }), fc.nat({ max: 3 }), unknownState, fc.constantFrom('state', 'status_update_state'), (before, after, n, field) => {
        const task = (i: number) => ({ framework_id: { value: 'f' }, task_id: { value: `t${i}` }, name: 't', state: 'TASK_RUNNING' });
        const bad = { ...task(before), ...(field === 'status_update_state' ? { status_update_uuid: Buffer.alloc(16, 1) } : {}) };
        const tasks = [...Array.from({ length: before }, (_, i) => task(i)), bad, ...Array.from({ length: after }, (_, i) => task(before + 1 + i))];
        // The bad number goes on the wire after the task's other fields (the last occurrence of a field wins).
        const taskBytes = tasks.map((t, i) => {
          const bytes = encode(TASK, t);
          return i === before ? Buffer.concat([bytes, varintField(TASK.fields[field]!.id, n)]) : bytes;
        });
        const decoded = decodeAgentMessage(encodeRegistration(agentInfo, taskBytes));
        expect(decoded.register!.tasks).toHaveLength(tasks.length);
        expect(() => readRegistration(decoded.register!)).toThrow(new InvalidArgument(`RegisterAgent.tasks[${before}].${field} ${n} is not a TaskState`));
      }),
      fuzzParameters('unknown task state in RegisterAgent', 170_105, 200),
    );
  });

  it('a registration listing a task without a state is refused (Task.state is required), and a known state is read as sent', () => {
    const one = (task: Record<string, unknown>) => decodeAgentMessage(encode(AGENT_MESSAGE, {
      register: { agent_info: { hostname: 'h', port: 5051, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] }, tasks: [{ framework_id: { value: 'f' }, task_id: { value: 't' }, name: 't', ...task }] },
    })).register!;
    expect(() => readRegistration(one({}))).toThrow(new InvalidArgument('RegisterAgent.tasks[0].state is required'));
    expect(readRegistration(one({ state: 'TASK_STAGING' })).tasks[0]).toMatchObject({ state: 'TASK_STAGING', inFlight: null });
    expect(readRegistration(one({ state: 'TASK_RUNNING', status_update_state: 'TASK_FINISHED', status_update_uuid: Buffer.alloc(16, 2) })).tasks[0])
      .toMatchObject({ state: 'TASK_RUNNING', inFlight: { state: 'TASK_FINISHED' } });
  });

  it("Mesos's JSON reading takes any JSON value or refuses it with InvalidArgument", () => {
    fc.assert(
      fc.property(fc.oneof(message(SCHEDULER_CALL, 0, true), fc.jsonValue()), (json) => {
        refusesCleanly(() => SCHEDULER_CALL.fromObject(fromMesosJson(SCHEDULER_CALL, json)));
      }),
      fuzzParameters('Mesos JSON reading', 170_104, 300),
    );
  });
});
