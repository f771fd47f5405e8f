// JsonTexts (master/v0/json-text.ts) writes what JSON.stringify writes, byte
// for byte, with kept objects' texts written once and copied after.
import { describe, expect, it } from 'vitest';
import { JsonTexts } from '../../master/v0/json-text.js';

describe('JsonTexts', () => {
  it('writes JSON.stringify\'s bytes for every kind of value, kept or not', () => {
    const texts = new JsonTexts();
    const kept = texts.keep({ id: 'task-1', name: 'ünïcode "quoted" \u2028', statuses: [{ state: 'TASK_RUNNING', timestamp: 1.5 }] });
    const value = {
      n: [0, -0, 1e21, 1.25, NaN, Infinity, -Infinity], s: 'a\nb\u0000', t: true, f: false, z: null,
      skipped: undefined, fn: () => 1, sym: Symbol('x'),
      list: [undefined, () => 1, kept, [kept, { kept }], []], empty: {},
      date: new Date(0), bytes: Buffer.from([1, 2]), withToJson: { toJSON: () => 'mine' },
      '0': 'integer-like key first', 'quoted "key"': 1,
    };
    expect(texts.encode(value).toString()).toBe(JSON.stringify(value));
    expect(texts.encode(value).toString()).toBe(JSON.stringify(value)); // The kept text, copied this time.
    expect(texts.encode([kept]).toString()).toBe(JSON.stringify([kept]));
    expect(texts.encode(kept).toString()).toBe(JSON.stringify(kept));
  });

  it('copies a kept object\'s first text: kept objects must not change', () => {
    const texts = new JsonTexts();
    const kept = texts.keep({ state: 'TASK_RUNNING' });
    const first = texts.encode({ tasks: [kept] }).toString();
    kept.state = 'TASK_FINISHED'; // Never done to kept JSON (writers.ts makes a new object): shows the text is not written again.
    expect(texts.encode({ tasks: [kept] }).toString()).toBe(first);
    const fresh = { state: 'TASK_RUNNING' };
    const unkept = texts.encode({ tasks: [fresh] }).toString();
    fresh.state = 'TASK_FINISHED';
    expect(texts.encode({ tasks: [fresh] }).toString()).not.toBe(unkept);
  });
});
