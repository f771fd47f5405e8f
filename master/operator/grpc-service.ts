// The Operator gRPC service (proto/mesos_ts/operator_service.proto): a thin
// adapter from gRPC to OperatorApi. Each unary method answers one Call type
// (a request may leave `type` out; one naming another type is refused);
// Subscribe streams events with backpressure and stops when the client goes.
import { once } from 'node:events';
import { Metadata, status as GrpcStatus, type ServerUnaryCall, type ServerWritableStream, type ServiceError, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { OperatorCall, OperatorEvent, OperatorResponse } from '../../proto/index.js';
import { toServiceError } from '../../common/grpc-status.js';
import { InvalidArgument } from '../../common/errors.js';
import { MalformedMessage } from '../rpc/safe-service.js';
import { authenticatedPrincipal } from '../authentication.js';
import { callType, SERVED_CALLS, WRITE_CALLS, type OperatorApi, type ServedCall, type WriteCall } from './operator-api.js';

/** The method for a call type: GET_STATE -> GetState. */
const methodOf = (type: string) => type.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());

/** `api` returns the operator API when this master leads, else throws Unavailable naming the leader. */
export function operatorService(api: () => OperatorApi): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {
    Subscribe: (stream: ServerWritableStream<OperatorCall | MalformedMessage, OperatorEvent>) => void subscribe(api, stream),
  };
  for (const type of SERVED_CALLS) {
    impl[methodOf(type)] = (call: ServerUnaryCall<OperatorCall | MalformedMessage, OperatorResponse>, callback: sendUnaryData<OperatorResponse>) => {
      try {
        checkRequest(call.request, type);
        callback(null, api().answerFor(type, authenticatedPrincipal(call)));
      } catch (err) {
        callback(toServiceError(err));
      }
    };
  }
  for (const type of WRITE_CALLS) {
    impl[methodOf(type)] = (call: ServerUnaryCall<OperatorCall | MalformedMessage, OperatorResponse>, callback: sendUnaryData<OperatorResponse>) => {
      try {
        checkRequest(call.request, type);
        api().write(type, call.request as OperatorCall, authenticatedPrincipal(call)).then(() => callback(null, {}), (err: unknown) => callback(toServiceError(err)));
      } catch (err) {
        callback(toServiceError(err));
      }
    };
  }
  return impl;
}

function checkRequest(request: OperatorCall | MalformedMessage, expected: ServedCall | WriteCall | 'SUBSCRIBE'): void {
  if (request instanceof MalformedMessage) throw new InvalidArgument(request.reason);
  if (request.type === 'UNKNOWN') return; // Left out: the method says which call it is.
  const type = callType(request.type);
  if (type !== expected) throw new InvalidArgument(`Call.type ${type} does not match this method (${expected}); leave it out or use the method for ${type}`);
}

async function subscribe(api: () => OperatorApi, stream: ServerWritableStream<OperatorCall | MalformedMessage, OperatorEvent>): Promise<void> {
  const abort = new AbortController();
  const gone = () => abort.abort();
  stream.on('cancelled', gone);
  stream.on('close', gone);
  stream.on('error', gone);
  try {
    checkRequest(stream.request, 'SUBSCRIBE');
    for await (const event of api().subscribe(abort.signal, authenticatedPrincipal(stream))) {
      if (!stream.write(event)) await Promise.race([once(stream, 'drain'), once(abort.signal, 'abort')]);
      if (abort.signal.aborted) return;
    }
    if (!abort.signal.aborted) stream.end();
  } catch (err) {
    if (!abort.signal.aborted) fail(stream, toServiceError(err));
  } finally {
    abort.abort();
  }
}

/** Ends a server stream with a status (grpc-js sends an emitted error as the call's status). */
function fail(stream: ServerWritableStream<unknown, OperatorEvent>, error: Partial<ServiceError>): void {
  stream.emit('error', { ...error, code: error.code ?? GrpcStatus.INTERNAL, metadata: error.metadata ?? new Metadata() });
}
