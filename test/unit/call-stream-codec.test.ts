// The pure halves of Scheduler/Calls: the master reading a CallRequest call by
// call (one undecodable call refused alone, a broken envelope answered with
// the id read before the fault), and the SDK reading a CallReply's outcomes
// as the errors the unary calls would have rejected with.
import { describe, expect, it } from 'vitest';
import { protoRoot } from '../../proto/index.js';
import { decodeCallRequest, MalformedCallRequest } from '../../master/rpc/call-stream.js';
import { MalformedMessage } from '../../master/rpc/safe-service.js';
import { outcomesOf } from '../../framework/sdk/call-stream.js';
import { InvalidArgument, MesosError, NotFound, Unavailable } from '../../common/errors.js';

const CALL = protoRoot.lookupType('mesos.v1.scheduler.Call');
const REQUEST = protoRoot.lookupType('mesos_ts.CallRequest');
const call = (type: string) => ({ type, framework_id: { value: 'fw-1' } });
const encodedCall = (type: string) => Buffer.from(CALL.encode(CALL.fromObject(call(type))).finish());
const request = (id: number, ...types: string[]) => Buffer.from(REQUEST.encode(REQUEST.fromObject({ id, calls: types.map(call) })).finish());
/** Field 2 (a call) written by hand, so that its bytes may be anything. */
const callField = (bytes: Buffer) => Buffer.concat([Buffer.from([0x12, bytes.length]), bytes]);

describe('decodeCallRequest', () => {
  it('reads the id and every call, in order, as the unary methods decode a Call', () => {
    const decoded = decodeCallRequest(request(7, 'ACKNOWLEDGE', 'REVIVE', 'SUPPRESS'));
    expect(decoded).not.toBeInstanceOf(MalformedMessage);
    const { id, calls } = decoded as unknown as { id: number; calls: { type: string; framework_id: { value: string } }[] };
    expect(id).toBe(7);
    expect(calls.map((c) => [c.type, c.framework_id.value])).toEqual([['ACKNOWLEDGE', 'fw-1'], ['REVIVE', 'fw-1'], ['SUPPRESS', 'fw-1']]);
  });

  it('reads an empty request as id 0 and no calls', () => {
    expect(decodeCallRequest(Buffer.alloc(0))).toEqual({ id: 0, calls: [] });
  });

  it('refuses an undecodable call alone, naming its index', () => {
    const good = encodedCall('REVIVE');
    const decoded = decodeCallRequest(Buffer.concat([Buffer.from([0x08, 3]), callField(good), callField(good.subarray(0, good.length - 3)), callField(good)]));
    const { id, calls } = decoded as { id: number; calls: unknown[] };
    expect(id).toBe(3);
    expect(calls[0]).toMatchObject({ type: 'REVIVE' });
    expect(calls[1]).toBeInstanceOf(MalformedMessage);
    expect((calls[1] as MalformedMessage).reason).toMatch(/^cannot decode calls\[1\] of a \/mesos_ts.Scheduler\/Calls request: /);
    expect(calls[2]).toMatchObject({ type: 'REVIVE' });
  });

  it.each([
    ['a call cut short', Buffer.concat([Buffer.from([0x08, 9]), callField(encodedCall('REVIVE')).subarray(0, 5)]), 9],
    ['the id with the wrong wire type', Buffer.from([0x0a, 1, 0]), 0],
    ['calls with the wrong wire type', Buffer.from([0x08, 4, 0x10, 1]), 4],
    ['an id cut short', Buffer.from([0x08, 0x80]), 0],
  ])('answers %s with one error and the id read before it', (_name, bytes, id) => {
    const decoded = decodeCallRequest(bytes);
    expect(decoded).toBeInstanceOf(MalformedCallRequest);
    expect((decoded as MalformedCallRequest).id).toBe(id);
    expect((decoded as MalformedCallRequest).reason).toMatch(/^cannot decode \/mesos_ts.Scheduler\/Calls request: /);
  });

  it('skips fields it does not know, as protobuf readers do', () => {
    expect(decodeCallRequest(Buffer.concat([Buffer.from([0x18, 5, 0x08, 2]), callField(encodedCall('SUPPRESS'))]))).toMatchObject({ id: 2, calls: [{ type: 'SUPPRESS' }] });
  });
});

describe('outcomesOf', () => {
  const ok = { response: { type: 'UNKNOWN' as const }, outcome: 'response' as const };
  const error = (code: number, message: string) => ({ error: { code, message }, outcome: 'error' as const });

  it('gives null for an accepted call and the unary error class for a refused one', () => {
    const out = outcomesOf({ id: 1, outcomes: [ok, error(3, 'bad call'), error(5, 'no such framework'), error(14, 'not leading')] }, 4);
    expect(out[0]).toBeNull();
    expect(out[1]).toBeInstanceOf(InvalidArgument);
    expect(out[1]!.message).toBe('bad call');
    expect(out[2]).toBeInstanceOf(NotFound);
    expect(out[3]).toBeInstanceOf(Unavailable);
  });

  it('fails every call of a request the master could not read (one error for several calls)', () => {
    const out = outcomesOf({ id: 2, outcomes: [error(3, 'cannot decode')] }, 3);
    expect(out.map((e) => e?.message)).toEqual(['cannot decode', 'cannot decode', 'cannot decode']);
  });

  it('fails, as INTERNAL, a call the reply has no outcome for', () => {
    const out = outcomesOf({ id: 3, outcomes: [ok] }, 2);
    expect(out[0]).toBeNull();
    expect(out[1]).toBeInstanceOf(MesosError);
    expect(out[1]!.code).toBe('INTERNAL');
    expect(out[1]!.message).toBe('the master answered 1 of the 2 calls of request 3');
  });
});
