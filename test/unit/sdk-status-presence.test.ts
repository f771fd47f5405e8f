// The SDK's decoder of the scheduler event stream: a TaskStatus keeps only
// the fields that were on the wire, where the gRPC loader would fill in
// reason = the enum's first value, healthy = false and data = "".
import { describe, expect, it } from 'vitest';
import { grpcObject } from '../../proto/index.js';
import type { EventIn, EventOut } from '../../proto/index.js';
import { decodeSchedulerEvent } from '../../proto/status-presence.js';

const subscribe = (grpcObject.mesos_ts.Scheduler.service as unknown as Record<string, {
  responseSerialize(m: EventIn): Buffer;
  responseDeserialize(b: Buffer): EventOut;
}>).Subscribe!;

describe('scheduler event decoding', () => {
  it('leaves out the TaskStatus fields the master did not send, and keeps those it did', () => {
    const bytes = subscribe.responseSerialize({
      type: 'UPDATE',
      update: { status: { task_id: { value: 't' }, agent_id: { value: 'S1' }, state: 'TASK_RUNNING', uuid: Buffer.from('u'), source: 'SOURCE_EXECUTOR', timestamp: 12.5 } },
    });
    // What the loader alone makes of these bytes: the bug this decoder exists for.
    expect(subscribe.responseDeserialize(bytes).update!.status).toMatchObject({ reason: 'REASON_COMMAND_EXECUTOR_FAILED', healthy: false });
    const status = decodeSchedulerEvent(bytes).update!.status!;
    expect(status).toMatchObject({ state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', timestamp: 12.5, uuid: Buffer.from('u') });
    for (const field of ['reason', 'healthy', 'data', 'message']) expect(field in status, field).toBe(false);

    const failed = decodeSchedulerEvent(subscribe.responseSerialize({
      type: 'UPDATE',
      update: { status: { task_id: { value: 't' }, state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', healthy: false, message: 'exited', data: Buffer.from('d') } },
    })).update!.status!;
    expect(failed).toMatchObject({ reason: 'REASON_COMMAND_EXECUTOR_FAILED', healthy: false, message: 'exited', data: Buffer.from('d') });
  });

  it('decodes every other event exactly as the gRPC loader does', () => {
    const events: EventIn[] = [
      { type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'f' }, heartbeat_interval_seconds: 15 } },
      { type: 'OFFERS', offers: { offers: [{ id: { value: 'o' }, framework_id: { value: 'f' }, agent_id: { value: 'S1' }, hostname: 'h', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] }] } },
      { type: 'HEARTBEAT' },
      { type: 'ERROR', error: { message: 'gone' } },
    ];
    for (const event of events) {
      const bytes = subscribe.responseSerialize(event);
      expect(decodeSchedulerEvent(bytes)).toEqual(subscribe.responseDeserialize(bytes));
    }
  });
});
