// The AgentLink's request decoder: statuses in agent messages keep only the
// fields the agent set (see proto/status-presence.ts for why), so what the
// master forwards (over gRPC or HTTP/JSON) says what the agent said and no
// more. A task's state in a registration that no TaskState has is kept as
// its number (protobufjs would read it as the default, TASK_STAGING), so
// that the registration is refused naming it (master/validation.ts).
// Each status is then written again as an object of the fields left (see
// compactStatus): the master keeps two per running task.
import { Reader } from 'protobufjs';
import { KeptBytes } from '../../common/kept-bytes.js';
import { sharedAgentId } from '../state/shared-parts.js';
import { decodeWithRaw, stripAbsentStatusFields, type RawMessage } from '../../proto/status-presence.js';
import { protoRoot } from '../../proto/index.js';
import type { AgentMessageOut } from '../../proto/index.js';

const AGENT_MESSAGE = protoRoot.lookupType('mesos_ts.internal.AgentMessage');

export function decodeAgentMessage(bytes: Buffer): AgentMessageOut {
  // Unknown fields kept: a task state no TaskState has is found among them.
  const reader = Reader.create(bytes);
  reader.discardUnknown = false;
  const { decoded, raw } = decodeWithRaw<AgentMessageOut>(AGENT_MESSAGE, reader);
  if (decoded.kind === 'status_update' && decoded.status_update?.status) {
    stripAbsentStatusFields(decoded.status_update.status, (raw.status_update as RawMessage | undefined)?.status as RawMessage | undefined);
    decoded.status_update.status = compactStatus(decoded.status_update.status);
  } else if (decoded.kind === 'register' && decoded.register) {
    const rawTasks = ((raw.register as RawMessage | undefined)?.tasks ?? []) as RawMessage[];
    decoded.register.tasks.forEach((t, i) => {
      t.statuses.forEach((s, j) => stripAbsentStatusFields(s, (rawTasks[i]?.statuses as RawMessage[] | undefined)?.[j]));
      t.statuses = t.statuses.map(compactStatus);
      for (const field of TASK_ENUM_FIELDS) keepWireEnum(t as unknown as Record<string, unknown>, rawTasks[i], field);
    });
  }
  return decoded;
}

/** Where the statuses' bytes fields are copied to. */
const statusBytes = new KeptBytes();

/**
 * The same fields, in the same order, in a new object whose bytes fields
 * are copies. The deletes above leave the loader's object in dictionary
 * mode, about 830 bytes against some 150 for the object made here; its uuid
 * (and data) are views of the message received, which keep the buffer it
 * was read into alive (common/kept-bytes.ts); its AgentID is the one shared
 * for that agent (state/shared-parts.ts).
 */
function compactStatus<S extends object>(status: S): S {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(status)) {
    out[key] = Buffer.isBuffer(value) ? statusBytes.copy(value) : key === 'agent_id' && value ? sharedAgentId(value as { value?: string }) : value;
  }
  return out as S;
}

const TASK = protoRoot.lookupType('mesos.v1.Task');
const TASK_ENUM_FIELDS = ['state', 'status_update_state'] as const;

/**
 * A closed enum field as it was on the wire: a number no value has is kept
 * as that number (even beside a known one: the sender meant it), an absent
 * field is deleted (not the loader's default).
 */
function keepWireEnum(decoded: Record<string, unknown>, raw: RawMessage | undefined, name: string): void {
  if (!raw) return;
  const id = TASK.fields[name]!.id;
  let unknown: number | undefined;
  for (const bytes of (raw as { $unknowns?: Uint8Array[] }).$unknowns ?? []) {
    const reader = Reader.create(bytes);
    const tag = reader.uint32();
    if (tag >>> 3 === id && (tag & 7) === 0) unknown = reader.int32();
  }
  if (unknown !== undefined) decoded[name] = unknown;
  else if (!Object.prototype.hasOwnProperty.call(raw, name)) delete decoded[name];
}
