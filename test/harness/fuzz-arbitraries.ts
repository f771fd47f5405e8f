// fast-check arbitraries shared by the fuzz tests: messages drawn from a
// protobuf schema (right fields, sometimes wrong JSON types, unknown enum
// values and fields; protobuf encoding drops an enum number no value has,
// so varintField() puts one on the wire), mutations of valid encodings (truncated, flipped,
// spliced bytes, fields of the wrong wire type), and the seed and number of
// runs, which FUZZ_SEED and FUZZ_RUNS override for a longer or replayed run.
import fc from 'fast-check';
import protobuf, { type Type } from 'protobufjs';
import { protoRoot } from '../../proto/index.js';

/** The fast-check parameters of one fuzzed property, printed so that a failure can be replayed. */
export function fuzzParameters(name: string, defaultSeed: number, defaultRuns: number): { seed: number; numRuns: number } {
  const seed = process.env.FUZZ_SEED === undefined ? defaultSeed : Number(process.env.FUZZ_SEED);
  const numRuns = process.env.FUZZ_RUNS === undefined ? defaultRuns : Number(process.env.FUZZ_RUNS);
  console.log(`fuzz ${name}: seed ${seed}, ${numRuns} runs (FUZZ_SEED=${seed} FUZZ_RUNS=${numRuns} replays it)`);
  return { seed, numRuns };
}

/** A value of the wrong JSON type (JSON only: protobuf cannot carry one). */
export const junk = fc.oneof(fc.constant(null), fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant([{ value: 1 }]));
export const names = fc.constantFrom('', 'x', 'fz', '*', 'a/b', '..', 'role-1', ' ');
const memo = new Map<string, fc.Arbitrary<Record<string, unknown>>>();

/**
 * Up to four fields of `type`, drawn from the schema (deeper messages get
 * fewer). `json`: Mesos's JSON (enum names, base64 bytes), sometimes a wrong
 * type or an unknown field; otherwise an object protobufjs encodes, whose
 * enums are sometimes numbers no value has. `ids` are strings to use for
 * `value` (the ids the cluster really holds, say) beside random ones.
 */
export function message(type: Type, depth: number, json: boolean, ids: readonly string[] = []): fc.Arbitrary<Record<string, unknown>> {
  const key = `${type.fullName}:${depth}:${json}:${ids.join(',')}`;
  const found = memo.get(key);
  if (found) return found;
  const arb = depth > 5
    ? fc.constant({})
    : fc.tuple(fc.subarray(type.fieldsArray, { maxLength: Math.min(type.fieldsArray.length, depth < 2 ? 4 : 2) }), fc.boolean()).chain(([fields, unknown]) => {
      const entries: Record<string, fc.Arbitrary<unknown>> = {};
      for (const f of fields) {
        const one = value(f, depth, json, ids);
        // A map is an object of keys to values (QuotaConfig.guarantees: {cpus: {value: 1}}).
        entries[f.name] = f.map ? fc.dictionary(fc.constantFrom('cpus', 'mem', 'x', ''), one, { maxKeys: 2 }) : f.repeated ? fc.array(one, { maxLength: 3 }) : one;
      }
      if (unknown && json) entries.no_such_field = junk;
      return fc.record(entries);
    });
  memo.set(key, arb);
  return arb;
}

/** A value for `field` (see message()). */
export function value(field: Type['fieldsArray'][number], depth: number, json: boolean, ids: readonly string[] = []): fc.Arbitrary<unknown> {
  field.resolve();
  const resolved = field.resolvedType;
  let good: fc.Arbitrary<unknown>;
  if (resolved && 'fields' in resolved) good = fc.constant(null).chain(() => message(resolved as Type, depth + 1, json, ids));
  else if (resolved) {
    const known = fc.constantFrom(...Object.keys((resolved as { values: Record<string, number> }).values));
    good = json ? fc.oneof(known, fc.constant('NO_SUCH_VALUE')) : fc.oneof({ weight: 4, arbitrary: known }, { weight: 1, arbitrary: fc.integer({ min: 50, max: 2 ** 31 - 1 }) });
  } else if (field.type === 'string') good = ids.length > 0 && field.name === 'value' ? fc.oneof(fc.constantFrom(...ids), names, fc.string({ maxLength: 12 })) : fc.oneof(names, fc.string({ maxLength: 12 }));
  else if (field.type === 'bytes') good = fc.uint8Array({ minLength: 0, maxLength: 20 }).map((b) => (json ? Buffer.from(b).toString('base64') : Buffer.from(b)));
  else if (field.type === 'bool') good = fc.boolean();
  else if (field.type === 'double' || field.type === 'float') good = fc.oneof(fc.constantFrom(0, 0.01, 0.5, 1, 5, -1, 1e12), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }));
  else good = fc.oneof(fc.constantFrom(0, 1, -1, 31000, 2 ** 31), fc.integer({ min: -1000, max: 100_000 }));
  return json ? fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: junk }) : good;
}

/** `object` (from message(type, ..., false)) as protobuf bytes. */
export function encode(type: Type, object: Record<string, unknown>): Buffer {
  const bytes = type.encode(type.fromObject(object)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A varint field (wire type 0) as protobuf encodes it: how an enum number no value has gets on the wire (encode() leaves it out). */
export function varintField(id: number, n: number): Buffer {
  return Buffer.from(protobuf.Writer.create().uint32(id << 3).int32(n).finish());
}

/** An embedded message field (wire type 2) holding `bytes`; repeated, or merged into one message, when it occurs again. */
export function messageField(id: number, bytes: Uint8Array): Buffer {
  return Buffer.from(protobuf.Writer.create().uint32((id << 3) | 2).bytes(bytes).finish());
}

/** An AgentMessage registering with `agentInfo` and listing tasks given as their own encodings (each maybe with fields appended). */
export function encodeRegistration(agentInfo: Record<string, unknown>, tasks: readonly Buffer[]): Buffer {
  const agentMessage = protoRoot.lookupType('mesos_ts.internal.AgentMessage');
  const register = protoRoot.lookupType('mesos_ts.internal.RegisterAgent');
  const body = Buffer.concat([encode(register, { agent_info: agentInfo }), ...tasks.map((t) => messageField(register.fields.tasks!.id, t))]);
  return messageField(agentMessage.fields.register!.id, body);
}

/** A field appended to an encoding: an unknown number, or a known one with the wrong wire type (later fields win). */
const rawField = fc.record({ id: fc.integer({ min: 1, max: 40 }), wire: fc.constantFrom(0, 1, 2, 5), payload: fc.uint8Array({ maxLength: 12 }), number: fc.nat() });

function appendField(bytes: Buffer, f: { id: number; wire: number; payload: Uint8Array; number: number }): Buffer {
  const w = protobuf.Writer.create().uint32((f.id << 3) | f.wire);
  if (f.wire === 0) w.uint32(f.number);
  else if (f.wire === 1) w.fixed64(f.number);
  else if (f.wire === 5) w.fixed32(f.number);
  else w.bytes(f.payload);
  return Buffer.concat([bytes, Buffer.from(w.finish())]);
}

export type Mutation =
  | { kind: 'truncate' | 'flip' | 'insert' | 'delete'; at: number; byte: number; bytes: Uint8Array }
  | { kind: 'field'; field: { id: number; wire: number; payload: Uint8Array; number: number } }
  | { kind: 'duplicate' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('truncate' as const, 'flip' as const, 'insert' as const, 'delete' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.integer({ min: 1, max: 255 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('field' as const), field: rawField }),
  fc.record({ kind: fc.constant('duplicate' as const) }),
);

function mutate(bytes: Buffer, m: Mutation): Buffer {
  if (m.kind === 'field') return appendField(bytes, m.field);
  if (m.kind === 'duplicate') return Buffer.concat([bytes, bytes]);
  const at = Math.min(bytes.length, Math.floor(m.at * (bytes.length + 1)));
  switch (m.kind) {
    case 'truncate':
      return bytes.subarray(0, at);
    case 'flip': {
      if (bytes.length === 0) return bytes;
      const out = Buffer.from(bytes);
      const i = Math.min(at, bytes.length - 1);
      out[i] = out[i]! ^ m.byte;
      return out;
    }
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
  }
}

/** One to three mutations, for applyMutations() (when the bytes are known only inside the property). */
export const mutations: fc.Arbitrary<Mutation[]> = fc.array(mutation, { minLength: 1, maxLength: 3 });

export function applyMutations(bytes: Buffer, ms: readonly Mutation[]): Buffer {
  return ms.reduce(mutate, bytes);
}

/** `valid` encodings, one to three mutations each. */
export function mutated(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.tuple(valid, mutations).map(([bytes, ms]) => applyMutations(bytes, ms));
}

/** Random protobuf-ish bytes: plain random, or random fields of every wire type. */
export const garbageBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.array(rawField, { minLength: 1, maxLength: 6 }).map((fs) => fs.reduce(appendField, Buffer.alloc(0))),
);
