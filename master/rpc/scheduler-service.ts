// The Scheduler gRPC service: a thin adapter from gRPC to Master.subscribe
// and Master.call. Subscribe streams events with backpressure; the stream
// id travels as `mesos-stream-id` metadata, as the HTTP API's
// Mesos-Stream-Id header does. A scheduler that leaves more than
// --max_framework_event_queue events (or --max_framework_event_queue_bytes
// of them) unread loses its stream
// (RESOURCE_EXHAUSTED) and its framework is disconnected.
import { Metadata, status as GrpcStatus, type ServiceError, type ServerWritableStream, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Call, EventIn, SchedulerResponse } from '../../proto/index.js';
import { toServiceError } from '../../common/grpc-status.js';
import { Unavailable } from '../../common/errors.js';
import { STREAM_ID_KEY } from '../../common/stream-id.js';
import { traceLaunch, tracingLaunches } from '../../common/launch-trace.js';
import { applyFrameworkCall } from './framework-call.js';
import { callStream } from './call-stream.js';
import type { Master } from '../master.js';
import { MalformedMessage } from './safe-service.js';
import { writeWaitingTogether } from '../../common/grpc-batched-writes.js';
import { SubscriberStream } from '../subscriber-stream.js';
import type { Overflow } from '../event-backlog.js';
import { eventBytes } from '../http-api/scheduler-codec.js';
import { authenticatedPrincipal, withAuthenticatedPrincipal } from '../authentication.js';

const UNARY: Record<string, Call['type']> = {
  Teardown: 'TEARDOWN', Accept: 'ACCEPT', Decline: 'DECLINE', AcceptInverseOffers: 'ACCEPT_INVERSE_OFFERS',
  DeclineInverseOffers: 'DECLINE_INVERSE_OFFERS', Revive: 'REVIVE', Kill: 'KILL', Shutdown: 'SHUTDOWN',
  Acknowledge: 'ACKNOWLEDGE', Reconcile: 'RECONCILE', Message: 'MESSAGE', Request: 'REQUEST', Suppress: 'SUPPRESS',
  UpdateFramework: 'UPDATE_FRAMEWORK',
};

/**
 * `leader` returns the master when this process leads, else throws Unavailable
 * naming the leader. `ready` settles once a master that was just elected has
 * taken over its registry, so a subscription arriving meanwhile waits rather
 * than fails.
 */
export function schedulerService(leader: () => Master, ready: () => Promise<void> = async () => {}): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {
    Subscribe: (stream: ServerWritableStream<Call | MalformedMessage, EventIn>) => {
      if (stream.request instanceof MalformedMessage) {
        return fail(stream, { code: GrpcStatus.INVALID_ARGUMENT, details: stream.request.reason });
      }
      let call: Call;
      try {
        call = withAuthenticatedPrincipal(stream.request, authenticatedPrincipal(stream));
      } catch (err) {
        return fail(stream, toServiceError(err));
      }
      let gone = false;
      stream.once('cancelled', () => (gone = true));
      void ready().then(() => (gone ? undefined : subscribe(leader, call, stream as ServerWritableStream<Call, EventIn>)));
    },
    Calls: callStream(leader),
  };
  for (const [method, type] of Object.entries(UNARY)) {
    impl[method] = (call: ServerUnaryCall<Call | MalformedMessage, SchedulerResponse>, callback: sendUnaryData<SchedulerResponse>) => {
      try {
        if (call.request instanceof MalformedMessage) return callback({ code: GrpcStatus.INVALID_ARGUMENT, details: call.request.reason });
        applyFrameworkCall(leader, call.request, call.metadata.get(STREAM_ID_KEY)[0]?.toString(), authenticatedPrincipal(call), type);
        callback(null, {});
      } catch (err) {
        callback(toServiceError(err));
      }
    };
  }
  return impl;
}

function subscribe(leader: () => Master, call: Call, stream: ServerWritableStream<Call, EventIn>): void {
  let master: Master;
  try {
    master = leader();
  } catch (err) {
    return fail(stream, toServiceError(err instanceof Error ? err : new Unavailable(String(err))));
  }
  writeWaitingTogether(stream);
  // An event that has to wait is kept encoded (it was encoded to be measured); the service's serializer passes bytes through.
  const subscriber = new SubscriberStream<EventIn | Buffer>(master, {
    write: (event) => (stream as ServerWritableStream<Call, EventIn | Buffer>).write(event),
    end: () => stream.end(),
    // The status follows the few events grpc-js already holds, if the scheduler ever reads them.
    cutOff: (waiting) => fail(stream, { code: GrpcStatus.RESOURCE_EXHAUSTED, details: tooSlowDetails(master, waiting) }),
    measure: (event) => {
      const bytes = Buffer.isBuffer(event) ? event : eventBytes(event);
      return { event: bytes, bytes: bytes.length };
    },
  }, (event): EventIn | Buffer => {
    if (event.type === 'UPDATE' && tracingLaunches()) traceLaunch(event.update?.status?.task_id?.value, `master: ${event.update?.status?.state} UPDATE queued`);
    return event;
  });
  const closed = () => subscriber.closed();
  stream.on('cancelled', closed);
  stream.on('close', closed);
  stream.on('error', closed);
  stream.on('drain', () => subscriber.drained());
  // SUBSCRIBE waits for the registry; the scheduler may hang up meanwhile.
  master.subscribe(call, (streamId) => {
    const metadata = new Metadata();
    metadata.set(STREAM_ID_KEY, streamId);
    stream.sendMetadata(metadata);
    return subscriber.sink;
  }).then(
    (ids) => subscriber.subscribedAs(ids),
    (err: unknown) => {
      if (!subscriber.isGone) fail(stream, toServiceError(err));
    },
  );
}

function tooSlowDetails(master: Master, waiting: Overflow): string {
  const bound = waiting.bound === 'events' ? `${master.maxFrameworkEventQueue} events` : `${master.maxFrameworkEventQueueBytes} bytes of events`;
  return `the scheduler left more than ${bound} unread; subscribe again`;
}

/** Ends a server stream with a status (grpc-js sends an emitted error as the call's status). */
function fail(stream: ServerWritableStream<unknown, EventIn>, error: Partial<ServiceError>): void {
  stream.emit('error', { ...error, metadata: error.metadata ?? new Metadata() });
}
