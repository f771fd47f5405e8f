// Calls in and events out of the HTTP scheduler API, in JSON or protobuf.
// Both directions go through the gRPC service's own (de)serializers, so a
// Call reaches Master.subscribe / Master.call as the very object the gRPC
// adapter would hand it, and an Event leaves as the same bytes.
//
// Events are framed in RecordIO as Mesos's docs/recordio.md defines it:
// the record's length in decimal, a line feed, the record's bytes.
import { messageCodec, protoRoot, type Call, type CallIn, type EventIn, type EventOut } from '../../proto/index.js';
import { InvalidArgument, errorMessage } from '../../common/errors.js';
import { jsonBodyToProtobuf, toMesosJson } from './proto-json.js';
import type { Encoding } from './media-types.js';

const CALL = protoRoot.lookupType('mesos.v1.scheduler.Call');
const EVENT = protoRoot.lookupType('mesos.v1.scheduler.Event');
const grpcCall = messageCodec<CallIn, Call>('mesos.v1.scheduler.Call');
const grpcEvent = messageCodec<EventIn, EventOut>('mesos.v1.scheduler.Event');

/** A request body as a Call; InvalidArgument (400) with Mesos's wording when it cannot be read. */
export function decodeCall(body: Buffer, encoding: Encoding): Call {
  if (encoding === 'protobuf') return deserialize(body, 'Failed to parse body into Call protobuf');
  return deserialize(jsonBodyToProtobuf(CALL, body), 'Failed to convert JSON into Call protobuf');
}

function deserialize(bytes: Buffer, what: string): Call {
  try {
    return grpcCall.deserialize(bytes);
  } catch (err) {
    throw new InvalidArgument(`${what}: ${errorMessage(err)}`, { cause: err });
  }
}

/** An event as the bytes of one record: the gRPC serializer's protobuf, or Mesos's JSON of the same message. */
export function encodeEvent(event: EventIn, encoding: Encoding): Buffer {
  const bytes = grpcEvent.serialize(event);
  if (encoding === 'protobuf') return bytes;
  return Buffer.from(JSON.stringify(toMesosJson(EVENT, EVENT.decode(bytes))), 'utf8');
}

/** An event as protobuf, the bytes a gRPC stream carries. */
export function eventBytes(event: EventIn): Buffer {
  return grpcEvent.serialize(event);
}

/** One RecordIO record: "<length>\n<bytes>", written in one piece so each event is one chunk on the wire. */
export function recordIo(record: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${record.length}\n`, 'ascii'), record]);
}
