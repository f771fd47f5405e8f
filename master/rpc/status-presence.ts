// Which optional fields of a TaskStatus the agent really set. The gRPC
// loader fills every unset field with its default (`defaults: true`), so a
// TASK_RUNNING from an agent would reach frameworks claiming
// `reason: REASON_COMMAND_EXECUTOR_FAILED` (the enum's first value),
// `healthy: false` and `data: ""`. For the statuses in agent messages, the
// fields that were not on the wire are removed again, so what the master
// forwards (over gRPC or HTTP/JSON) says what the agent said and no more.
// This is the AgentLink's request decoder: one protobuf decode, then the
// loader's conversion (exactly what grpc-js would have produced), then the
// absent fields removed.
import type { Message } from 'protobufjs';
import { LOADER_OPTIONS, protoRoot } from '../../proto/index.js';
import type { AgentMessageOut } from '../../proto/index.js';

const AGENT_MESSAGE = protoRoot.lookupType('mesos_ts.internal.AgentMessage');
/** Plain optional fields (scalars, enums, bytes; not uuid, which the agent always sets). */
const PLAIN = protoRoot
  .lookupType('mesos.v1.TaskStatus')
  .fieldsArray.filter((f) => !f.repeated && !(f.resolvedType && 'fieldsArray' in f.resolvedType) && f.name !== 'uuid')
  .map((f) => f.name);

type Raw = Message & Record<string, unknown>;

function strip(decoded: object | null | undefined, raw: Raw | null | undefined): void {
  if (!decoded || !raw) return;
  for (const name of PLAIN) if (!Object.prototype.hasOwnProperty.call(raw, name)) delete (decoded as Record<string, unknown>)[name];
}

export function decodeAgentMessage(bytes: Buffer): AgentMessageOut {
  const raw = AGENT_MESSAGE.decode(bytes) as Raw;
  const decoded = AGENT_MESSAGE.toObject(raw, LOADER_OPTIONS as never) as AgentMessageOut;
  if (decoded.kind === 'status_update' && decoded.status_update?.status) {
    strip(decoded.status_update.status, (raw.status_update as Raw | undefined)?.status as Raw | undefined);
  } else if (decoded.kind === 'register' && decoded.register) {
    const rawTasks = ((raw.register as Raw | undefined)?.tasks ?? []) as Raw[];
    decoded.register.tasks.forEach((t, i) => t.statuses.forEach((s, j) => strip(s, (rawTasks[i]?.statuses as Raw[] | undefined)?.[j])));
  }
  return decoded;
}
