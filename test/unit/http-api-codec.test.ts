// The HTTP scheduler API's codec, content negotiation and status mapping,
// without a server: JSON read and written as Mesos does, the same objects
// and bytes as the gRPC path, RecordIO framing.
import { describe, expect, it } from 'vitest';
import { grpcObject, protoRoot, type EventIn } from '../../proto/index.js';
import { FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable } from '../../common/errors.js';
import { fromMesosJson, toMesosJson } from '../../master/http-api/proto-json.js';
import { decodeCall, encodeEvent, recordIo } from '../../master/http-api/scheduler-codec.js';
import { encodingOf, mediaTypeOf, negotiate } from '../../master/http-api/media-types.js';
import { HttpError, httpStatusOf } from '../../master/http-api/http-status.js';
import { RecordIoReader, leaderOf } from '../harness/mesos-http-client.js';

const CALL = protoRoot.lookupType('mesos.v1.scheduler.Call');
const EVENT = protoRoot.lookupType('mesos.v1.scheduler.Event');
// The gRPC service's own (de)serializers: what the gRPC adapter hands the master, and writes.
const SUBSCRIBE = grpcObject.mesos_ts.Scheduler.service.Subscribe;
const grpcCall = { deserialize: (bytes: Buffer) => SUBSCRIBE.requestDeserialize(bytes) as object };
const grpcEvent = { serialize: (event: object) => SUBSCRIBE.responseSerialize(event as never) };
const UUID = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('reading JSON as Mesos does', () => {
  const read = (value: unknown) => fromMesosJson(CALL, value, 'Call');

  it('ignores unknown fields and treats null as unset', () => {
    expect(read({ type: 'REVIVE', no_such_field: [1, { a: 2 }], framework_id: null, revive: { roles: null } })).toEqual({ type: 'REVIVE', revive: {} });
  });

  it('takes enums by name and leaves an unknown name unset (dropped from repeated fields)', () => {
    expect(read({ type: 'NOT_A_TYPE' })).toEqual({});
    const caps = read({ subscribe: { framework_info: { capabilities: [{ type: 'MULTI_ROLE' }, { type: 'NOPE' }] } } });
    expect(caps).toEqual({ subscribe: { framework_info: { capabilities: [{ type: 'MULTI_ROLE' }, {}] } } });
    expect(() => read({ type: 2 })).toThrow('Call.type: expected a Type name, got number 2');
  });

  it('takes numbers as numbers or numeric strings, doubles also as "Infinity"', () => {
    const info = (v: unknown) => (read({ subscribe: { framework_info: { failover_timeout: v } } }).subscribe as any).framework_info.failover_timeout;
    expect(info(60)).toBe(60);
    expect(info('1.5e3')).toBe(1500);
    expect(info('Infinity')).toBe(Infinity);
    expect(() => info('sixty')).toThrow("Call.subscribe.framework_info.failover_timeout: expected a number, got the string 'sixty'");
    expect(() => info(true)).toThrow('expected a number, got boolean true');
  });

  it('takes bytes in base64 and booleans as JSON booleans or "true"/"false"', () => {
    const ack = read({ acknowledge: { uuid: UUID.toString('base64') } }).acknowledge as { uuid: Buffer };
    expect(ack.uuid.equals(UUID)).toBe(true);
    expect(() => read({ acknowledge: { uuid: 'not base64!' } })).toThrow("Call.acknowledge.uuid: 'not base64!' is not valid base64");
    const shell = (v: unknown) => read({ accept: { operations: [{ launch: { task_infos: [{ command: { shell: v } }] } }] } });
    expect(JSON.stringify(shell('false'))).toContain('"shell":false');
    expect(() => shell('yes')).toThrow("Call.accept.operations[0].launch.task_infos[0].command.shell: expected a boolean, got the string 'yes'");
  });

  it('names the field and what it got when the JSON type is wrong', () => {
    expect(() => read('REVIVE')).toThrow("Call: expected a JSON object, got the string 'REVIVE'");
    expect(() => read({ framework_id: 'abc' })).toThrow("Call.framework_id: expected a JSON object, got the string 'abc'");
    expect(() => read({ framework_id: { value: ['a'] } })).toThrow('Call.framework_id.value: expected one value, got a JSON array');
    expect(() => read({ decline: { offer_ids: [{ value: 'o1' }, 5] } })).toThrow('Call.decline.offer_ids[1]: expected a JSON object, got number 5');
  });

  it('reads a map field (QuotaConfig.guarantees) as a JSON object, and writes it back the same', () => {
    const call = protoRoot.lookupType('mesos.v1.master.Call');
    const json = { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'dev', guarantees: { cpus: { value: 1.5 } }, limits: { mem: { value: '256' } } }] } };
    const read = fromMesosJson(call, json);
    expect(read.update_quota).toEqual({ quota_configs: [{ role: 'dev', guarantees: { cpus: { value: 1.5 } }, limits: { mem: { value: 256 } } }] });
    expect(toMesosJson(call, call.fromObject(read)).update_quota).toEqual({ quota_configs: [{ role: 'dev', guarantees: { cpus: { value: 1.5 } }, limits: { mem: { value: 256 } } }] });
    expect(() => fromMesosJson(call, { update_quota: { quota_configs: [{ guarantees: [1] }] } })).toThrow(/quota_configs\[0\]\.guarantees: expected a JSON object \(a map\)/);
  });

  it('takes a single value for a repeated field, as Mesos does', () => {
    expect(read({ decline: { offer_ids: { value: 'o1' } } })).toEqual({ decline: { offer_ids: [{ value: 'o1' }] } });
  });

  it('refuses nesting deeper than any message of ours, naming where', () => {
    let deep: Record<string, unknown> = { value: 'c' };
    for (let i = 0; i < 100; i++) deep = { value: `c${i}`, parent: deep };
    const containerId = protoRoot.lookupType('mesos.v1.ContainerID');
    expect(() => fromMesosJson(containerId, deep)).toThrow(/^ContainerID(\.parent){65}: nested deeper than 64 levels$/);
  });
});

describe('decodeCall', () => {
  const call = {
    type: 'ACKNOWLEDGE', framework_id: { value: 'f-0001' },
    acknowledge: { agent_id: { value: 'a-S1' }, task_id: { value: 't1' }, uuid: UUID.toString('base64') },
  };
  const viaGrpc = grpcCall.deserialize(Buffer.from(CALL.encode(CALL.fromObject(call)).finish()));

  it('hands the master what the gRPC adapter would, from JSON and from protobuf', () => {
    expect(decodeCall(json(call), 'json')).toEqual(viaGrpc);
    expect(decodeCall(Buffer.from(CALL.encode(CALL.fromObject(call)).finish()), 'protobuf')).toEqual(viaGrpc);
    expect(Buffer.isBuffer((viaGrpc as any).acknowledge.uuid)).toBe(true);
    expect((viaGrpc as any).accept).toBeNull();
  });

  it('says why a body cannot be read, as Mesos words it', () => {
    expect(() => decodeCall(Buffer.from('{'), 'json')).toThrow(/^Failed to parse body into JSON: /);
    expect(() => decodeCall(json({ type: 'KILL', kill: 'x' }), 'json')).toThrow("Failed to convert JSON into Call protobuf: Call.kill: expected a JSON object, got the string 'x'");
    expect(() => decodeCall(Buffer.from([0x12, 0x05, 0x01]), 'protobuf')).toThrow(/^Failed to parse body into Call protobuf: /);
    expect(() => decodeCall(Buffer.from('{'), 'json')).toThrow(InvalidArgument);
  });
});

describe('encodeEvent', () => {
  const update: EventIn = {
    type: 'UPDATE',
    update: { status: { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: UUID, timestamp: 1700000000.25, source: 'SOURCE_EXECUTOR', message: 'ça marche' } },
  };

  it('writes protobuf as the gRPC serializer does', () => {
    expect(encodeEvent(update, 'protobuf').equals(grpcEvent.serialize(update))).toBe(true);
  });

  it('writes JSON as Mesos does: enum names, base64 bytes, unset fields left out', () => {
    expect(JSON.parse(encodeEvent(update, 'json').toString())).toEqual({
      type: 'UPDATE',
      update: { status: { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: UUID.toString('base64'), timestamp: 1700000000.25, source: 'SOURCE_EXECUTOR', message: 'ça marche' } },
    });
    expect(encodeEvent({ type: 'HEARTBEAT' }, 'json').toString()).toBe('{"type":"HEARTBEAT"}');
  });

  it('writes 64-bit integers as JSON numbers and leaves empty repeated fields out', () => {
    const offers: EventIn = {
      type: 'OFFERS',
      offers: { offers: [{ id: { value: 'o1' }, resources: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31099 }] } }], attributes: [] }] },
    };
    const out = JSON.parse(encodeEvent(offers, 'json').toString());
    expect(out.offers.offers[0].resources[0].ranges.range[0]).toEqual({ begin: 31000, end: 31099 });
    expect(out.offers.offers[0]).not.toHaveProperty('attributes');
    expect(toMesosJson(EVENT, EVENT.decode(encodeEvent(offers, 'protobuf')))).toEqual(out);
  });

  it('frames a record as its byte length in decimal, a line feed, the bytes', () => {
    const record = encodeEvent(update, 'json');
    const framed = recordIo(record);
    expect(framed.toString('utf8')).toBe(`${record.length}\n${record.toString('utf8')}`);
    expect(record.length).toBeGreaterThan(record.toString('utf8').length); // 'ç' is two bytes: the length counts bytes.
    expect(new RecordIoReader().push(framed)).toEqual([record]);
  });
});

describe('content negotiation', () => {
  it.each([
    [undefined, 'json'], ['', 'json'], ['*/*', 'json'], ['application/*', 'json'], ['application/json', 'json'],
    ['application/x-protobuf', 'protobuf'], ['application/x-protobuf, application/json', 'json'],
    ['application/json;q=0.2, application/x-protobuf;q=0.9', 'protobuf'], ['application/json;q=0, */*;q=0.1', 'protobuf'],
    ['text/html', null], ['application/xml, text/*', null], ['*/*;q=0', null],
  ] as const)('Accept %s → %s', (accept, expected) => {
    expect(negotiate(accept)).toBe(expected);
  });

  it('reads a Content-Type without its parameters, in any case', () => {
    expect(mediaTypeOf('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(mediaTypeOf(undefined)).toBeNull();
    expect(mediaTypeOf('  ')).toBeNull();
    expect(encodingOf('application/x-protobuf')).toBe('protobuf');
    expect(encodingOf('application/protobuf')).toBeNull();
  });
});

describe('status codes', () => {
  it('maps each error class to one status', () => {
    expect(httpStatusOf(new InvalidArgument('x'))).toBe(400);
    expect(httpStatusOf(new NotFound('x'))).toBe(404);
    expect(httpStatusOf(new FailedPrecondition('x'))).toBe(409);
    expect(httpStatusOf(new PermissionDenied('x'))).toBe(403);
    expect(httpStatusOf(new Unavailable('x'))).toBe(503);
    expect(httpStatusOf(new HttpError(413, 'x'))).toBe(413);
    expect(httpStatusOf(new TypeError('a bug'))).toBe(500);
  });
});

describe('the test client', () => {
  it('reassembles RecordIO records split anywhere and skips empty lines', () => {
    const stream = Buffer.from('5\nhello\n3\nabc0\n11\n{"a":"bc"}\n');
    for (let cut = 0; cut < stream.length; cut++) {
      const reader = new RecordIoReader();
      const records = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))].map((r) => r.toString());
      expect(records).toEqual(['hello', 'abc', '', '{"a":"bc"}\n']);
      expect(reader.pending).toBe(0);
    }
    expect(() => new RecordIoReader().push(Buffer.from('12x\n'))).toThrow("RecordIO: '12x' is not a record size");
  });

  it('reads the leader from a Location header', () => {
    expect(leaderOf('//10.0.0.2:5050/api/v1/scheduler')).toBe('10.0.0.2:5050');
    expect(leaderOf('http://m2:5050/master/api/v1/scheduler')).toBe('m2:5050');
    expect(leaderOf('masterhost2:5050')).toBe('masterhost2:5050');
  });
});
