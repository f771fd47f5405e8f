// gRPC service definitions whose request decoding never throws. grpc-js
// answers a message it cannot decode with INTERNAL; we want INVALID_ARGUMENT
// and a message naming the problem, so decoding failures become a marker
// the handlers turn into that status.
import type { ServiceDefinition } from '@grpc/grpc-js';

export class MalformedMessage {
  constructor(readonly reason: string) {}
}

/** `decode`, when given, replaces the service's own request decoder (it may throw on bad input like the original). */
export function withSafeDecoding<T extends ServiceDefinition>(service: T, decode?: (bytes: Buffer) => unknown): T {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode ? decode(bytes) : method.requestDeserialize(bytes);
        } catch (err) {
          return new MalformedMessage(`cannot decode ${method.path} request: ${err instanceof Error ? err.message : String(err)}`);
        }
      },
    };
  }
  return out as T;
}

/**
 * The same service whose responses may also be handed over already encoded:
 * a Buffer is sent as it is (a scheduler's events that waited were encoded to
 * be measured; see master/event-backlog.ts), anything else is encoded as usual.
 */
export function withEncodedResponses<T extends ServiceDefinition>(service: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    out[name] = { ...method, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : method.responseSerialize(value)) };
  }
  return out as T;
}
