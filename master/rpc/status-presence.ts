// The AgentLink's request decoder: statuses in agent messages keep only the
// fields the agent set (see proto/status-presence.ts for why), so what the
// master forwards (over gRPC or HTTP/JSON) says what the agent said and no
// more.
import { decodeWithRaw, stripAbsentStatusFields, type RawMessage } from '../../proto/status-presence.js';
import { protoRoot } from '../../proto/index.js';
import type { AgentMessageOut } from '../../proto/index.js';

const AGENT_MESSAGE = protoRoot.lookupType('mesos_ts.internal.AgentMessage');

export function decodeAgentMessage(bytes: Buffer): AgentMessageOut {
  const { decoded, raw } = decodeWithRaw<AgentMessageOut>(AGENT_MESSAGE, bytes);
  if (decoded.kind === 'status_update' && decoded.status_update?.status) {
    stripAbsentStatusFields(decoded.status_update.status, (raw.status_update as RawMessage | undefined)?.status as RawMessage | undefined);
  } else if (decoded.kind === 'register' && decoded.register) {
    const rawTasks = ((raw.register as RawMessage | undefined)?.tasks ?? []) as RawMessage[];
    decoded.register.tasks.forEach((t, i) => t.statuses.forEach((s, j) => stripAbsentStatusFields(s, (rawTasks[i]?.statuses as RawMessage[] | undefined)?.[j])));
  }
  return decoded;
}
