// The gRPC services' (de)serializers come from proto/index.ts's own protobufjs
// root, not from @grpc/proto-loader. They must read and write every message
// exactly as proto-loader's did: the same objects from the same bytes
// (defaults, oneofs, enums as names, longs as numbers, bytes as Buffers), the
// same bytes from the same objects. Checked against proto-loader itself on
// messages drawn from the schema, for every method of every service.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as protoLoader from '@grpc/proto-loader';
import type * as grpc from '@grpc/grpc-js';
import { LOADER_OPTIONS, grpcObject, protoRoot } from '../../proto/index.js';
import { encode, fuzzParameters, message, varintField } from '../harness/fuzz-arbitraries.js';

const reference = protoLoader.loadSync(
  ['mesos/v1/mesos.proto', 'mesos/v1/scheduler/scheduler.proto', 'mesos_ts/scheduler_service.proto', 'mesos_ts/agent_service.proto',
    'mesos_ts/operator_service.proto'],
  LOADER_OPTIONS,
);

const SERVICES: Record<string, grpc.ServiceDefinition> = {
  'mesos_ts.Scheduler': grpcObject.mesos_ts.Scheduler.service,
  'mesos_ts.internal.AgentLink': grpcObject.mesos_ts.internal.AgentLink.service,
  'mesos_ts.operator.Operator': grpcObject.mesos_ts.operator.Operator.service,
};

describe.each(Object.entries(SERVICES))('%s', (name, ours) => {
  const theirs = reference[name] as grpc.ServiceDefinition;

  it('has the same methods, paths, stream kinds and names', () => {
    const shape = (def: grpc.ServiceDefinition) => Object.entries(def).map(([k, m]) =>
      [k, m.path, m.requestStream, m.responseStream, (m as { originalName?: string }).originalName]);
    expect(shape(ours)).toEqual(shape(theirs));
    expect(Object.keys(ours).length).toBeGreaterThan(0);
  });

  for (const [method, def] of Object.entries(theirs)) {
    const mine = ours[method]!;
    for (const side of ['request', 'response'] as const) {
      const rpc = protoRoot.lookupService(name).methods[method]!;
      const type = (side === 'request' ? rpc.resolvedRequestType : rpc.resolvedResponseType)!;
      const fullName = type.fullName.slice(1);
      const [readTheirs, readMine] = side === 'request' ? [def.requestDeserialize, mine.requestDeserialize] : [def.responseDeserialize, mine.responseDeserialize];
      const [writeTheirs, writeMine] = side === 'request' ? [def.requestSerialize, mine.requestSerialize] : [def.responseSerialize, mine.responseSerialize];

      it(`${method} ${side} (${fullName}): same objects from the same bytes, same bytes from the same objects`, () => {
        // Unknown enum numbers on the wire too (encode() leaves them out): a varint field 1 after the message.
        const bytes = fc.tuple(message(type, 0, false), fc.option(fc.integer({ min: 50, max: 1000 }))).map(([object, stray]) =>
          (stray === null ? encode(type, object) : Buffer.concat([encode(type, object), varintField(1, stray)])));
        fc.assert(fc.property(bytes, (b) => {
          let expected: unknown;
          try {
            expected = readTheirs(b);
          } catch (err) {
            expect(() => readMine(b)).toThrow();
            return;
          }
          const got = readMine(b);
          expect(got).toEqual(expected);
          expect(Buffer.compare(writeMine(got as never), writeTheirs(expected as never))).toBe(0);
        }), fuzzParameters(`grpc codec ${fullName}`, 18, 60));
      });
    }
  }
});
