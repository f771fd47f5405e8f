// Statuses from agents keep only the fields the agent set: the loader's
// defaults (reason = the enum's first value, healthy = false, ...) must not
// reach frameworks as if the agent had said them.
import { describe, expect, it } from 'vitest';
import { grpcObject } from '../../proto/index.js';
import type { AgentMessageIn, AgentMessageOut } from '../../proto/index.js';
import { withStatusPresence } from '../../master/rpc/status-presence.js';

const connect = (grpcObject.mesos_ts.internal.AgentLink.service as unknown as Record<string, {
  requestSerialize(m: AgentMessageIn): Buffer;
  requestDeserialize(b: Buffer): AgentMessageOut;
}>).Connect!;
const roundTrip = (m: AgentMessageIn) => {
  const bytes = connect.requestSerialize(m);
  return withStatusPresence(bytes, connect.requestDeserialize(bytes));
};

describe('status presence', () => {
  it('drops the defaults of fields the agent did not set, and keeps those it did', () => {
    const running = roundTrip({ status_update: { framework_id: { value: 'f' }, status: { task_id: { value: 't' }, state: 'TASK_RUNNING', uuid: Buffer.from('u') } } });
    const status = running.status_update!.status!;
    expect(status.state).toBe('TASK_RUNNING');
    expect(status.uuid).toEqual(Buffer.from('u'));
    expect('reason' in status).toBe(false);
    expect('healthy' in status).toBe(false);
    expect('data' in status).toBe(false);

    const failed = roundTrip({
      status_update: { framework_id: { value: 'f' }, status: { task_id: { value: 't' }, state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', healthy: false } },
    });
    expect(failed.status_update!.status!).toMatchObject({ reason: 'REASON_COMMAND_EXECUTOR_FAILED', healthy: false });
  });

  it('does the same for the statuses an agent reports when it registers', () => {
    const reg = roundTrip({
      register: { agent_info: { hostname: 'h' }, tasks: [{ task_id: { value: 't' }, framework_id: { value: 'f' }, state: 'TASK_RUNNING', statuses: [{ task_id: { value: 't' }, state: 'TASK_RUNNING' }] }] },
    });
    expect('reason' in reg.register!.tasks[0]!.statuses[0]!).toBe(false);
  });
});
