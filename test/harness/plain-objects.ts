// Plain objects drawn from a protobufjs (7) schema for the plain encoder's
// tests (test/unit/plain-encoder*.test.ts): every field kind, absent, null,
// given its default or a value, enums as names, numbers and unknown names,
// 64-bit values as numbers, strings, Longs and {low, high}, bytes as Buffers,
// Uint8Arrays, arrays and base64, nested objects and message instances,
// proto-loader's oneof names; `bad` sometimes puts a wrong type in instead.
// expectSameBytes() compares serialize with protobufjs's fromObject + encode.
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import fc from 'fast-check';
import type { Enum, Field, Namespace, Type } from 'protobufjs';
import { serializeViaFromObject } from '../../proto/index.js';
import type { ProtobufRuntime } from '../../proto/plain-encoder.js';

// The protobufjs gRPC encodes with (proto-loader's, 7), as proto/index.ts loads it.
const require = createRequire(import.meta.url);
export const runtime = createRequire(require.resolve('@grpc/proto-loader'))('protobufjs') as ProtobufRuntime & { Type: typeof Type };

/** Every message type under `ns`. */
export function typesUnder(ns: Namespace): Type[] {
  const found: Type[] = [];
  for (const nested of ns.nestedArray) {
    if (nested instanceof runtime.Type) found.push(nested);
    if ('nestedArray' in nested) found.push(...typesUnder(nested as Namespace));
  }
  return found;
}

/** A wrong JSON type where a value was expected: what fromObject must refuse, or read its own way. */
const junk = fc.oneof(fc.constant('x'), fc.constant(''), fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant([{ value: 1 }]), fc.constant(() => 1));

const signed64 = fc.oneof(
  fc.integer(), fc.maxSafeInteger(), fc.constantFrom(0, -0, -1, 2 ** 53 + 2, -(2 ** 60), 2 ** 64, 1.5, -2.5, Number.NaN, Number.POSITIVE_INFINITY),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).map(String),
  fc.constantFrom('9223372036854775807', '-9223372036854775808', '18446744073709551615', '0', '-1'),
  fc.tuple(fc.integer(), fc.integer(), fc.boolean()).map(([low, high, unsigned]) => ({ low, high, unsigned })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => runtime.util.Long!.fromValue(n.toString())),
);
const int32 = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31, 2 ** 32 + 5, -(2 ** 40), 1.5, Number.NaN, '12', '-7'));
const double = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1e300, Number.NaN, Number.POSITIVE_INFINITY, '2.5', 'NaN'));
const bytes = fc.uint8Array({ maxLength: 24 }).chain((b) => fc.constantFrom<unknown>(Buffer.from(b), b, Buffer.from(b).toString('base64'), Buffer.from(b).toString('base64').replace(/=+$/, ''), Array.from(b)));

/** A value of `field`'s type (an element, when repeated); `bad` sometimes gives a wrong type instead. */
function value(field: Field, depth: number, bad: boolean): fc.Arbitrary<unknown> {
  field.resolve();
  const resolved = field.resolvedType;
  let good: fc.Arbitrary<unknown>;
  if (resolved instanceof runtime.Type) {
    const nested = fc.constant(null).chain(() => object(resolved, depth + 1, bad));
    // Now and then a protobufjs message instance, which fromObject takes as it is.
    good = fc.oneof({ weight: 5, arbitrary: nested }, { weight: 1, arbitrary: nested.map((o) => { try { return resolved.fromObject(o); } catch { return o; } }) });
  } else if (resolved) {
    const values = (resolved as Enum).values;
    good = fc.oneof(fc.constantFrom(...Object.keys(values)), fc.constantFrom(...Object.values(values)), fc.integer({ min: -5, max: 2 ** 31 - 1 }), fc.constant('NO_SUCH_VALUE'));
  } else {
    switch (field.type) {
      case 'string': good = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('', 'é→🙂', '*')); break;
      case 'bool': good = fc.oneof(fc.boolean(), fc.constantFrom(0, 1, '', 'false')); break;
      case 'double': case 'float': good = double; break;
      case 'bytes': good = bytes; break;
      case 'int64': case 'uint64': case 'sint64': case 'fixed64': case 'sfixed64': good = signed64; break;
      default: good = int32;
    }
  }
  return bad ? fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: junk }) : good;
}

/** A field's value in the object: absent, null, a value, an array or a map; its default sometimes given outright. */
function fieldValue(field: Field, depth: number, bad: boolean): fc.Arbitrary<unknown> {
  const one = value(field, depth, bad);
  const given = field.map ? fc.dictionary(fc.constantFrom('cpus', 'mem', '', '0', '__proto__', 'x'), one, { maxKeys: 3 })
    : field.repeated ? fc.array(one, { maxLength: depth < 2 ? 4 : 2 }) : one;
  const defaults = field.repeated || field.map ? fc.constant([]) : fc.constant(field.typeDefault);
  return fc.oneof({ weight: 6, arbitrary: given }, { weight: 1, arbitrary: fc.constantFrom(null, undefined) }, { weight: 1, arbitrary: defaults });
}

const memo = new Map<string, fc.Arbitrary<Record<string, unknown>>>();

/** A plain object of `type`: some of its fields (fewer deeper down), sometimes its oneofs named as proto-loader names them. */
export function object(type: Type, depth: number, bad: boolean): fc.Arbitrary<Record<string, unknown>> {
  const key = `${type.fullName}:${depth}:${bad}`;
  let arb = memo.get(key);
  if (arb) return arb;
  arb = depth > 4 ? fc.constant({}) : fc.subarray(type.fieldsArray, { maxLength: Math.min(type.fieldsArray.length, depth < 2 ? 8 : 3) }).chain((fields) => {
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of fields) record[f.name] = fieldValue(f, depth, bad);
    for (const oneof of type.oneofsArray) record[oneof.name] = fc.constantFrom(...oneof.oneof, undefined);
    return fc.record(record, { requiredKeys: fields.map((f) => f.name) });
  });
  memo.set(key, arb);
  return arb;
}

function outcome(run: () => Uint8Array): { bytes: Buffer } | { error: unknown } {
  try {
    return { bytes: Buffer.from(run()) };
  } catch (error) {
    return { error };
  }
}

/** serialize (the plain encoder, or fromObject + encode after it refuses) against fromObject + encode; the plain encoder alone when it takes the object. */
export function expectSameBytes(type: Type, object: unknown, plain: (o: unknown) => Uint8Array, codec: { serialize(o: unknown): Buffer }): 'plain' | 'refused' | 'error' {
  const before = outcome(() => serializeViaFromObject(type, object));
  const served = outcome(() => codec.serialize(object));
  const fast = outcome(() => plain(object));
  if ('error' in before) {
    expect('error' in served && served.error).toEqual(before.error);
    expect((served as { error: Error }).error.constructor).toBe((before.error as Error).constructor);
    expect('error' in fast).toBe(true);
    return 'error';
  }
  expect('bytes' in served && served.bytes.toString('hex')).toBe(before.bytes.toString('hex'));
  if ('error' in fast) return 'refused';
  expect(fast.bytes.toString('hex')).toBe(before.bytes.toString('hex'));
  return 'plain';
}

