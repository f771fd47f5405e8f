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
import { MesosError } from '../../common/errors.js';
import { decodeCall } from '../../master/http-api/scheduler-codec.js';
import { fromMesosJson } from '../../master/http-api/proto-json.js';
import { HttpError } from '../../master/http-api/http-status.js';
import { decodeOperatorCall } from '../../master/operator/http.js';
import { decodeAgentMessage } from '../../master/rpc/status-presence.js';
import { readRegistration, validateCall } from '../../master/validation.js';
import { applyMutations, encode, fuzzParameters, garbageBytes, message, mutations } from '../harness/fuzz-arbitraries.js';

const SCHEDULER_CALL = protoRoot.lookupType('mesos.v1.scheduler.Call');
const OPERATOR_CALL = protoRoot.lookupType('mesos.v1.master.Call');
const AGENT_MESSAGE = protoRoot.lookupType('mesos_ts.internal.AgentMessage');

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

  it("Mesos's JSON reading takes any JSON value or refuses it with InvalidArgument", () => {
    fc.assert(
      fc.property(fc.oneof(message(SCHEDULER_CALL, 0, true), fc.jsonValue()), (json) => {
        refusesCleanly(() => SCHEDULER_CALL.fromObject(fromMesosJson(SCHEDULER_CALL, json)));
      }),
      fuzzParameters('Mesos JSON reading', 170_104, 300),
    );
  });
});
