// Statuses from agents keep only the fields the agent set: the loader's
// defaults (reason = the enum's first value, healthy = false, ...) must not
// reach frameworks as if the agent had said them.
import { describe, expect, it } from 'vitest';
import { grpcObject } from '../../proto/index.js';
import type { AgentMessageIn, AgentMessageOut } from '../../proto/index.js';
import { decodeAgentMessage } from '../../master/rpc/status-presence.js';

const connect = (grpcObject.mesos_ts.internal.AgentLink.service as unknown as Record<string, {
  requestSerialize(m: AgentMessageIn): Buffer;
  requestDeserialize(b: Buffer): AgentMessageOut;
}>).Connect!;
const roundTrip = (m: AgentMessageIn) => decodeAgentMessage(connect.requestSerialize(m));

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

  it('decodes everything else exactly as the gRPC loader does', () => {
    const message: AgentMessageIn = {
      register: {
        agent_info: { hostname: 'h', port: 5051, attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }] },
        tasks: [{ task_id: { value: 't' }, framework_id: { value: 'f' }, state: 'TASK_RUNNING', statuses: [{ task_id: { value: 't' }, state: 'TASK_RUNNING', reason: 'REASON_AGENT_REREGISTERED' }] }],
        version: '1',
      },
    };
    const bytes = connect.requestSerialize(message);
    const ours = decodeAgentMessage(bytes);
    const loader = connect.requestDeserialize(bytes);
    expect(ours.register!.agent_info).toEqual(loader.register!.agent_info);
    expect(ours.register!.version).toBe(loader.register!.version);
    const { statuses: ourStatuses, ...ourTask } = ours.register!.tasks[0]!;
    const { statuses: loaderStatuses, status_update_state: loaderDefault, ...loaderTask } = loader.register!.tasks[0]!;
    // One deliberate difference: a task's enum fields the agent left out stay out (the loader says TASK_STAGING).
    expect(loaderDefault).toBe('TASK_STAGING');
    expect('status_update_state' in ourTask).toBe(false);
    expect(ourTask).toEqual(loaderTask);
    for (const [key, value] of Object.entries(ourStatuses[0]!)) expect(value, key).toEqual((loaderStatuses[0] as unknown as Record<string, unknown>)[key]);
  });

  it('does the same for the statuses an agent reports when it registers', () => {
    const reg = roundTrip({
      register: { agent_info: { hostname: 'h' }, tasks: [{ task_id: { value: 't' }, framework_id: { value: 'f' }, state: 'TASK_RUNNING', statuses: [{ task_id: { value: 't' }, state: 'TASK_RUNNING' }] }] },
    });
    expect('reason' in reg.register!.tasks[0]!.statuses[0]!).toBe(false);
  });
});
