// Which optional fields of a TaskStatus were really on the wire. The gRPC
// loader fills every unset field with its default (`defaults: true`), so a
// TASK_RUNNING would read `reason: REASON_COMMAND_EXECUTOR_FAILED` (the
// enum's first value), `healthy: false` and `data: ""` although nobody said
// so. The decoders here do one protobuf decode, then the loader's conversion
// (exactly what grpc-js would have produced), then remove from each TaskStatus
// the plain fields that were absent. Shared by the master (statuses in agent
// messages, master/rpc/status-presence.ts) and the SDK (statuses in the
// scheduler event stream, framework/sdk/scheduler.ts).
import type { Message, Reader, Type } from 'protobufjs';
import { LOADER_OPTIONS, protoRoot } from './index.js';
import type { EventOut } from './index.js';

/** Plain optional fields (scalars, enums, bytes; not uuid, which the sender sets when it means to). */
const PLAIN = protoRoot
  .lookupType('mesos.v1.TaskStatus')
  .fieldsArray.filter((f) => !f.repeated && !(f.resolvedType && 'fieldsArray' in f.resolvedType) && f.name !== 'uuid')
  .map((f) => f.name);

/** A protobufjs message as decoded: a field is an own property only when it was on the wire. */
export type RawMessage = Message & Record<string, unknown>;

/** Removes from `decoded` (the loader's object) the plain TaskStatus fields that `raw` (the same status, decoded) did not carry. */
export function stripAbsentStatusFields(decoded: object | null | undefined, raw: RawMessage | null | undefined): void {
  if (!decoded || !raw) return;
  for (const name of PLAIN) if (!Object.prototype.hasOwnProperty.call(raw, name)) delete (decoded as Record<string, unknown>)[name];
}

/** Decodes `bytes` as `type` the way the gRPC loader does; returns both the loader's object and protobufjs's message. */
export function decodeWithRaw<T>(type: Type, bytes: Uint8Array | Reader): { decoded: T; raw: RawMessage } {
  const raw = type.decode(bytes) as RawMessage;
  return { decoded: type.toObject(raw, LOADER_OPTIONS as never) as T, raw };
}

const SCHEDULER_EVENT = protoRoot.lookupType('mesos.v1.scheduler.Event');

/** A scheduler Event, as grpc-js would decode it, except that its TaskStatus keeps only the fields the master sent. */
export function decodeSchedulerEvent(bytes: Buffer): EventOut {
  const { decoded, raw } = decodeWithRaw<EventOut>(SCHEDULER_EVENT, bytes);
  if (decoded.update?.status) stripAbsentStatusFields(decoded.update.status, (raw.update as RawMessage | undefined)?.status as RawMessage | undefined);
  return decoded;
}
