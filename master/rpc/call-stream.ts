// Scheduler/Calls: a subscribed framework's calls on one bidirectional stream
// (proto/mesos_ts/scheduler_service.proto), so that an ACKNOWLEDGE costs a
// message on a stream that is already open rather than an HTTP/2 stream of
// its own (headers, trailers, a request object on both sides).
//
//   CallRequest{id, calls[]} ──> each call in order: decode ─> applyFrameworkCall
//   CallReply{id, outcomes[]} <── Response{} or the status the unary method would give
//
// The stream is opened with the subscription's mesos-stream-id metadata and,
// when the master asks for them, credentials (checked once, by the guard, as
// for any method; a refused stream ends UNAUTHENTICATED). Each call then goes
// through the same checks as a unary one: leading, principal, validation,
// stream id. A call that cannot be decoded is refused on its own; the others
// of its request still apply.
import { Reader } from 'protobufjs';
import type { ServerDuplexStream, ServiceDefinition } from '@grpc/grpc-js';
import { messageCodec, type Call, type CallIn, type CallOutcomeIn, type CallReplyIn } from '../../proto/index.js';
import { InvalidArgument } from '../../common/errors.js';
import { toServiceError } from '../../common/grpc-status.js';
import { STREAM_ID_KEY } from '../../common/stream-id.js';
import type { Master } from '../master.js';
import { authenticatedPrincipal } from '../authentication.js';
import { applyFrameworkCall } from './framework-call.js';
import { MalformedMessage } from './safe-service.js';
import { writeWaitingTogether } from '../../common/grpc-batched-writes.js';

const PATH = '/mesos_ts.Scheduler/Calls';
const CALL = messageCodec<CallIn, Call>('mesos.v1.scheduler.Call');
const ACCEPTED: CallOutcomeIn = Object.freeze({ response: {} });

/** A CallRequest as the handler gets it: each call decoded on its own. */
export interface DecodedCallRequest {
  readonly id: number;
  readonly calls: readonly (Call | MalformedMessage)[];
}

/** A CallRequest whose envelope could not be read; `id` is what was read of it before the fault (0 if nothing). */
export class MalformedCallRequest extends MalformedMessage {
  constructor(readonly id: number, reason: string) {
    super(reason);
  }
}

/**
 * Reads a CallRequest field by field, so that one undecodable call is refused
 * alone (a whole-message decode would refuse the batch) and a broken envelope
 * still yields the id to answer. Never throws.
 */
export function decodeCallRequest(bytes: Uint8Array): DecodedCallRequest | MalformedCallRequest {
  const reader = Reader.create(bytes);
  let id = 0;
  const calls: (Call | MalformedMessage)[] = [];
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if ((field === 1 && wireType !== 0) || (field === 2 && wireType !== 2)) throw new Error(`field ${field} has wire type ${wireType}`);
      if (field === 1) id = reader.uint32();
      else if (field === 2) calls.push(decodeCall(reader.bytes(), calls.length));
      else reader.skipType(wireType);
    }
  } catch (err) {
    return new MalformedCallRequest(id, `cannot decode ${PATH} request: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { id, calls };
}

function decodeCall(bytes: Uint8Array, index: number): Call | MalformedMessage {
  try {
    return CALL.deserialize(bytes as Buffer);
  } catch (err) {
    return new MalformedMessage(`cannot decode calls[${index}] of a ${PATH} request: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The Scheduler service definition with Calls requests read by {@link decodeCallRequest}. */
export function withCallRequestDecoding<T extends ServiceDefinition>(service: T): T {
  const calls = (service as ServiceDefinition).Calls;
  if (!calls) return service;
  return { ...service, Calls: { ...calls, requestDeserialize: (bytes: Buffer) => decodeCallRequest(bytes) } };
}

type CallStream = ServerDuplexStream<DecodedCallRequest | MalformedCallRequest, CallReplyIn>;

/** The Calls handler: answers every request, in order, and ends when the scheduler ends its side. */
export function callStream(leader: () => Master): (stream: CallStream) => void {
  return (stream) => {
    const streamId = stream.metadata.get(STREAM_ID_KEY)[0]?.toString();
    const principal = authenticatedPrincipal(stream);
    writeWaitingTogether(stream);
    stream.on('data', (request: DecodedCallRequest | MalformedCallRequest) => {
      // A scheduler that stops reading replies stops being read (its calls wait in its own buffers, not the master's).
      if (!stream.write(reply(leader, request, streamId, principal))) {
        stream.pause();
        stream.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => stream.end());
    stream.on('error', () => {}); // the scheduler went away: nothing waits on this side
  };
}

function reply(leader: () => Master, request: DecodedCallRequest | MalformedCallRequest, streamId: string | undefined, principal: string | null): CallReplyIn {
  if (request instanceof MalformedCallRequest) return { id: request.id, outcomes: [refusal(new InvalidArgument(request.reason))] };
  return { id: request.id, outcomes: request.calls.map((call) => outcome(leader, call, streamId, principal)) };
}

function outcome(leader: () => Master, call: Call | MalformedMessage, streamId: string | undefined, principal: string | null): CallOutcomeIn {
  try {
    if (call instanceof MalformedMessage) throw new InvalidArgument(call.reason);
    applyFrameworkCall(leader, call, streamId, principal);
    return ACCEPTED;
  } catch (err) {
    return refusal(err);
  }
}

function refusal(err: unknown): CallOutcomeIn {
  const status = toServiceError(err);
  return { error: { code: status.code ?? 0, message: status.details ?? '' } };
}
