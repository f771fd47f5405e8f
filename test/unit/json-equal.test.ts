// common/json-equal.ts: the same answer as comparing JSON.stringify's output,
// for values whose keys come in the same order, and key order aside.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jsonEqual } from '../../common/json-equal.js';

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, undefined, true, false, 0, -0, 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '', 'a', 'b'),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c', 'id'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** JSON.stringify with every object's keys sorted: the same text for the same document. */
const canonical = (v: unknown) =>
  JSON.stringify(v, (_, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1))) : x));

describe('jsonEqual', () => {
  it('agrees with comparing JSON.stringify (keys sorted) on pairs of values', () => {
    fc.assert(fc.property(json, json, (a, b) => {
      expect(jsonEqual(a, b)).toBe(canonical(a) === canonical(b));
    }), { numRuns: 3000 });
    // Pairs that differ only in key order, which two random values rarely do.
    fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 2 }), json, { maxKeys: 5 }), (o) => {
      const reversed = Object.fromEntries(Object.entries(o).reverse());
      expect(jsonEqual(o, reversed)).toBe(true);
    }), { numRuns: 1000 });
  });

  it('a value equals its copy read back from JSON', () => {
    fc.assert(fc.property(json, (a) => {
      const copy = JSON.parse(JSON.stringify({ a })) as { a: unknown };
      expect(jsonEqual(a, copy.a)).toBe(true);
    }), { numRuns: 2000 });
  });

  it('ignores key order, undefined properties and functions; uses toJSON', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, u: undefined, f: () => 1 }, { a: 1 })).toBe(true);
    expect(jsonEqual([undefined], [null])).toBe(true);
    expect(jsonEqual({ b: Buffer.from('ab') }, { b: { type: 'Buffer', data: [97, 98] } })).toBe(true);
    expect(jsonEqual({ b: Buffer.from('ab') }, { b: Buffer.from('ac') })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(jsonEqual([1, 2], { 0: 1, 1: 2 })).toBe(false);
  });
});
