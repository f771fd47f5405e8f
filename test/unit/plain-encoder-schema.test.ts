// The plain encoder (proto/plain-encoder.ts) on what our own .proto files do
// not use yet but a field added tomorrow might: packed and unpacked repeated
// scalars and enums, maps of every key kind, enum defaults, oneofs, proto3
// fields, a JavaScript keyword as a field name, and what it leaves to
// fromObject + encode (required and group fields), in a schema made here.
// Every case: the same bytes as fromObject + encode, or the same error.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Root } from 'protobufjs';
import { codecOf } from '../../proto/index.js';
import { plainEncoder, unsupported } from '../../proto/plain-encoder.js';
import { fuzzParameters } from '../harness/fuzz-arbitraries.js';
import { expectSameBytes, object, runtime, typesUnder } from '../harness/plain-objects.js';

const PROTO2 = `
syntax = "proto2";
package synth2;
enum Color { option allow_alias = true; RED = 0; GREEN = 1; BLUE = 2; GREEN_TOO = 1; }
enum Level { LOW = 5; HIGH = 9; }
message All {
  optional int32 i32 = 1; optional uint32 u32 = 2; optional sint32 s32 = 3; optional fixed32 f32 = 4; optional sfixed32 sf32 = 5;
  optional int64 i64 = 6; optional uint64 u64 = 7; optional sint64 s64 = 8; optional fixed64 f64 = 9; optional sfixed64 sf64 = 10;
  optional double d = 11; optional float f = 12; optional bool b = 13; optional string s = 14; optional bytes by = 15;
  optional Color color = 16 [default = BLUE]; optional Level level = 17;
  repeated Color colors = 18; repeated Level levels = 19 [packed = true]; repeated int32 ints = 20 [packed = true]; repeated sint64 longs = 21;
  repeated double doubles = 22 [packed = true]; repeated bool bools = 23; repeated bytes blobs = 24; repeated string strs = 25;
  optional All child = 26; repeated All children = 27;
  map<int32, Color> by_int = 28; map<string, bytes> by_string = 29; map<int64, string> by_long = 30; map<bool, All> by_bool = 31; map<uint64, double> by_u64 = 32;
  oneof choice { string one_s = 40; All one_m = 41; Color one_e = 42; }
  optional int32 default = 43; optional string length = 44;
  repeated fixed64 fixed = 45 [packed = true]; repeated sfixed32 sfixed = 46 [packed = true];
}
message Required { required string name = 1; optional All all = 2; }
message HasRequired { optional Required r = 1; repeated Required rs = 2; optional int32 n = 3; }
message WithGroup { optional int32 n = 1; repeated group Item = 2 { optional int32 x = 1; } }
message Empty {}
message WithEmpty { optional Empty e = 1; repeated Empty es = 2; map<string, Empty> em = 3; }
`;

const PROTO3 = `
syntax = "proto3";
package synth3;
enum Mode { MODE_UNSPECIFIED = 0; A = 1; B = 2; }
message P3 {
  repeated int32 ints = 1; repeated Mode modes = 2; repeated uint64 big = 3; repeated float floats = 4; repeated fixed64 fx = 5;
  int32 plain = 6; Mode mode = 7; optional string maybe = 8; map<string, Mode> modes_by = 9; P3 next = 10; repeated bool flags = 11;
}
`;

function parse(text: string): Root {
  const root = (runtime as unknown as typeof import('protobufjs')).parse(text, { keepCase: true }).root;
  root.resolveAll();
  return root;
}

const roots = [parse(PROTO2), parse(PROTO3)];
const types = roots.flatMap((r) => typesUnder(r));
const byName = (name: string) => types.find((t) => t.fullName === name)!;

describe('the plain encoder on a schema with every field kind', () => {
  it('leaves required and group fields to fromObject + encode, and only those', () => {
    expect(Object.fromEntries(types.map((t) => [t.fullName, unsupported(runtime, t)]).filter(([, why]) => why !== null))).toEqual({
      '.synth2.Required': 'required field name', '.synth2.WithGroup': 'group field item',
    });
  });

  it.each(types.map((t) => [t.fullName, t] as const))('%s: the bytes of fromObject + encode, or their error', (name, type) => {
    const plain = plainEncoder(runtime, type);
    const codec = codecOf<unknown, unknown>(type);
    const { seed, numRuns } = fuzzParameters(`plain encoder ${name}`, 17, 200);
    const good = { plain: 0, refused: 0, error: 0 };
    const bad = { plain: 0, refused: 0, error: 0 };
    fc.assert(fc.property(object(type, 0, false), (o) => void good[expectSameBytes(type, o, plain, codec)]++), { seed, numRuns });
    // With wrong types in: the plain encoder may refuse what fromObject + encode take (a bytes element that is a number,
    // which they leave out when it is the last), and serialize then gives their bytes.
    fc.assert(fc.property(object(type, 0, true), (o) => void bad[expectSameBytes(type, o, plain, codec)]++), { seed, numRuns });
    // Well-typed objects are written by the plain encoder itself (a required field missing is fromObject + encode's error).
    expect(good.refused).toBe(0);
    expect(good.plain).toBeGreaterThan(0);
  });

  it('writes packed fields packed and unknown enum names as fromObject reads them', () => {
    const all = byName('.synth2.All');
    const codec = codecOf<unknown, unknown>(all);
    const plain = plainEncoder(runtime, all);
    for (const o of [
      { ints: [1, -1, 300], levels: ['HIGH', 'NOPE', 7], colors: ['NOPE', 'GREEN_TOO', 2, 77] },
      { color: 'NOPE', level: 'NOPE', by_int: { 1: 'RED', 2: 'NOPE', '-3': 99 } },
      { default: 3, length: 'x', by_bool: { true: {}, false: { s: 'y' } }, by_u64: { 18446744073709551615: 1.5 } },
    ]) expect(expectSameBytes(all, o, plain, codec)).toBe('plain');
    // Packed: one length-delimited field 20 (tag 0xa2 0x01) holding the three varints.
    expect(Buffer.from(plain({ ints: [1, 2, 3] })).toString('hex')).toBe('a20103010203');
  });

  it('counts nesting depth as fromObject does', () => {
    const p3 = byName('.synth3.P3');
    const codec = codecOf<unknown, unknown>(p3);
    const plain = plainEncoder(runtime, p3);
    const nested = (depth: number) => {
      let o: Record<string, unknown> = { plain: 1 };
      for (let i = 0; i < depth; i++) o = { next: o };
      return o;
    };
    const results = [98, 99, 100, 101, 102, 150].map((d) => expectSameBytes(p3, nested(d), plain, codec));
    expect(results).toEqual(['plain', 'plain', 'plain', 'error', 'error', 'error']);
  });
});
