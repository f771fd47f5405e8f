import { describe, expect, it } from 'vitest';
import { EMPTY, KeptBytes } from '../../common/kept-bytes.js';

describe('KeptBytes', () => {
  it('copies bytes out of what they were a view of', () => {
    const message = Buffer.from('0123456789abcdef-the-rest-of-a-message');
    const uuid = message.subarray(0, 16);
    const kept = new KeptBytes().copy(uuid);
    expect(kept.equals(uuid)).toBe(true);
    expect(kept.buffer).not.toBe(message.buffer);
    message[0] = 0x7a;
    expect(kept.toString()).toBe('0123456789abcdef');
  });

  it('writes texts and joins parts as Buffer.from and Buffer.concat do, without overlapping earlier copies', () => {
    const keep = new KeptBytes(64);
    const texts = ['{"a":1}', 'é ünïcödé ✓', 'x'.repeat(50), '{"b":[2,3]}'];
    const kept = texts.map((t) => keep.text(t));
    const joined = keep.concat([Buffer.from('{'), Buffer.from('"c":3'), Buffer.from('}')]);
    texts.forEach((t, i) => expect(kept[i]!.equals(Buffer.from(t))).toBe(true));
    expect(joined.toString()).toBe('{"c":3}');
  });

  it('gives large copies an allocation of their own, and every empty one the shared EMPTY', () => {
    const keep = new KeptBytes();
    const large = Buffer.alloc(5000, 7);
    const kept = keep.copy(large);
    expect(kept.equals(large)).toBe(true);
    expect(kept.buffer.byteLength).toBe(5000);
    expect(keep.copy(Buffer.alloc(0))).toBe(EMPTY);
    expect(keep.text('')).toBe(EMPTY);
  });
});
