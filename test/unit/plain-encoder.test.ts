// gRPC serializes plain objects with proto/plain-encoder.ts instead of
// protobufjs's fromObject + encode: it must write the very same bytes for
// every object (enum names and numbers, 64-bit values as numbers, strings and
// Longs, bytes as Buffers, arrays and base64, defaults given or not, nested,
// repeated, packed and map fields, oneofs), and refuse what they refuse with
// their error. Checked on objects drawn from the schema for every message
// type of the wire root, and on messages taken from a real master.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Namespace } from 'protobufjs';
import { messageCodec, wireType } from '../../proto/index.js';
import { plainEncoder, unsupported } from '../../proto/plain-encoder.js';
import { captureMasterMessages } from '../harness/captured-messages.js';
import { fuzzParameters } from '../harness/fuzz-arbitraries.js';
import { expectSameBytes, object, runtime, typesUnder } from '../harness/plain-objects.js';

const allTypes = typesUnder(wireType('mesos.v1.scheduler.Event').root as Namespace);

describe('the plain encoder', () => {
  it('mirrors fromObject + encode for every message type of the wire root (none left to them)', () => {
    expect(allTypes.length).toBeGreaterThan(100);
    expect(allTypes.map((t) => [t.fullName, unsupported(runtime, t)]).filter(([, why]) => why !== null)).toEqual([]);
  });

  it('writes the bytes of fromObject + encode for objects drawn from the schema, every type', () => {
    const { seed, numRuns } = fuzzParameters('plain encoder, every type', 15, 25);
    for (const type of allTypes) {
      const plain = plainEncoder(runtime, type);
      const codec = messageCodec<unknown, unknown>(type.fullName.slice(1));
      fc.assert(fc.property(object(type, 0, false), (o) => {
        // Objects of the schema's types: the plain encoder takes every one fromObject + encode take.
        expect(expectSameBytes(type, o, plain, codec)).not.toBe('refused');
      }), { seed, numRuns, endOnFailure: true });
    }
  });

  it.each(['mesos.v1.scheduler.Event', 'mesos.v1.scheduler.Call', 'mesos_ts.internal.MasterMessage', 'mesos_ts.internal.AgentMessage', 'mesos_ts.CallRequest', 'mesos_ts.CallReply'])(
    '%s: the same bytes or the same error for objects with wrong types in them',
    (name) => {
      const type = wireType(name);
      const plain = plainEncoder(runtime, type);
      const codec = messageCodec<unknown, unknown>(name);
      const seen = { plain: 0, refused: 0, error: 0 };
      const { seed, numRuns } = fuzzParameters(`plain encoder ${name}`, 16, 300);
      fc.assert(fc.property(object(type, 0, true), (o) => void seen[expectSameBytes(type, o, plain, codec)]++), { seed, numRuns });
      // Both kinds drawn: objects that encode and objects that are refused.
      expect(seen.plain).toBeGreaterThan(0);
      expect(seen.error).toBeGreaterThan(0);
    },
  );

  it('refuses bad input as fromObject does, and writes what it writes for unknown enum names', () => {
    const type = wireType('mesos.v1.scheduler.Event');
    const codec = messageCodec<unknown, unknown>('mesos.v1.scheduler.Event');
    const plain = plainEncoder(runtime, type);
    expect(() => codec.serialize({ type: 'OFFERS', offers: 'many' })).toThrow(new TypeError('.mesos.v1.scheduler.Event.offers: object expected'));
    expect(() => codec.serialize({ type: 'OFFERS', offers: { offers: {} } })).toThrow(new TypeError('.mesos.v1.scheduler.Event.Offers.offers: array expected'));
    expect(() => codec.serialize('OFFERS')).toThrow(new TypeError('.mesos.v1.scheduler.Event: object expected'));
    expect(() => codec.serialize([])).toThrow(/got array instead/);
    // An unknown name: fromObject leaves a field out, and makes a repeated one's element the enum's default.
    const unknownName = { type: 'NO_SUCH_TYPE', offers: { offers: [{ resources: [{ name: 'cpus', type: 'NO_SUCH' }] }] } };
    expect(expectSameBytes(type, unknownName, plain, codec)).toBe('plain');
    expect(codec.serialize(unknownName).toString('hex')).toBe(codec.serialize({ offers: { offers: [{ resources: [{ name: 'cpus' }] }] } }).toString('hex'));
    const call = wireType('mesos.v1.scheduler.Call');
    const caps = { type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'f', capabilities: [{ type: 'NO_SUCH' }, { type: 12345 }] } } };
    expect(expectSameBytes(call, caps, plainEncoder(runtime, call), messageCodec('mesos.v1.scheduler.Call'))).toBe('plain');
  });

  it('writes the bytes of fromObject + encode for messages a real master sends', async () => {
    const captured = await captureMasterMessages(200);
    const event = wireType('mesos.v1.scheduler.Event');
    const eventCodec = messageCodec<unknown, unknown>('mesos.v1.scheduler.Event');
    const plainEvent = plainEncoder(runtime, event);
    const allOffers = { type: 'OFFERS', offers: { offers: captured.offers } };
    expect(captured.offers.length).toBe(200);
    for (const e of [...captured.offerEvents, allOffers, captured.update]) expect(expectSameBytes(event, e, plainEvent, eventCodec)).toBe('plain');
    const master = wireType('mesos_ts.internal.MasterMessage');
    expect(expectSameBytes(master, captured.runTask, plainEncoder(runtime, master), messageCodec('mesos_ts.internal.MasterMessage'))).toBe('plain');
    // What a scheduler reads back is what was sent (the data bytes too).
    const decoded = eventCodec.deserialize(eventCodec.serialize(captured.update)) as { update: { status: { data: Buffer } } };
    expect(decoded.update.status.data.toString()).toBe(captured.update.update!.status!.data!.toString());
  });
});
