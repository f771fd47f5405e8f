import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../../common/errors.js';
import * as calls from '../../framework/sdk/calls.js';
import { EventQueue } from '../../framework/sdk/event-queue.js';
import { fromWireEvent, needsAcknowledgement } from '../../framework/sdk/events.js';

describe('scheduler calls', () => {
  it('FrameworkInfo: user default, MULTI_ROLE added for roles, id when resuming', () => {
    const info = calls.frameworkInfo({ name: 'fw', roles: ['web'], capabilities: ['PARTITION_AWARE'], failoverTimeoutSeconds: 60 }, 'fw-7');
    expect(info).toMatchObject({ name: 'fw', roles: ['web'], failover_timeout: 60, id: { value: 'fw-7' } });
    expect(info.user).toEqual(expect.any(String));
    expect(info.capabilities!.map((c) => c.type)).toEqual(['PARTITION_AWARE', 'MULTI_ROLE']);
    expect(calls.frameworkInfo({ name: 'fw' })).not.toHaveProperty('id');
    expect(() => calls.frameworkInfo({ name: '' })).toThrow(/framework.name is required/);
    expect(() => calls.frameworkInfo({ name: 'x', failoverTimeoutSeconds: -1 })).toThrow(InvalidArgument);
  });

  it('LAUNCH fills each task\'s agent from the offer and carries the refuse filter', () => {
    const offer = { id: { value: 'o1' }, agent_id: { value: 'S1' } };
    const call = calls.launchCall([offer], [{ name: 't', task_id: { value: 't' } }, { name: 'u', task_id: { value: 'u' }, agent_id: { value: 'S1' } }], 2);
    expect(call.type).toBe('ACCEPT');
    expect(call.accept!.offer_ids).toEqual([{ value: 'o1' }]);
    expect(call.accept!.filters).toEqual({ refuse_seconds: 2 });
    expect(call.accept!.operations![0]!.launch!.task_infos!.map((t) => t.agent_id?.value)).toEqual(['S1', 'S1']);
    expect(() => calls.launchCall('o1', [{ name: 't', task_id: { value: 't' } }])).toThrow(/no agent_id/);
  });

  it('DECLINE, REVIVE, SUPPRESS, KILL, RECONCILE, TEARDOWN', () => {
    expect(calls.declineCall(['a', { id: { value: 'b' } }], 0)).toEqual({ type: 'DECLINE', decline: { offer_ids: [{ value: 'a' }, { value: 'b' }], filters: { refuse_seconds: 0 } } });
    expect(calls.declineCall('a').decline).not.toHaveProperty('filters');
    expect(() => calls.declineCall([])).toThrow(/at least one offer/);
    expect(() => calls.declineCall('a', -1)).toThrow(/refuseSeconds/);
    expect(calls.reviveCall()).toEqual({ type: 'REVIVE', revive: { roles: [] } });
    expect(calls.suppressCall(['web'])).toEqual({ type: 'SUPPRESS', suppress: { roles: ['web'] } });
    expect(calls.killCall('t', 'S1', 3).kill).toEqual({ task_id: { value: 't' }, agent_id: { value: 'S1' }, kill_policy: { grace_period: { nanoseconds: 3e9 } } });
    expect(calls.reconcileCall()).toEqual({ type: 'RECONCILE', reconcile: { tasks: [] } });
    expect(calls.reconcileCall([{ taskId: 't', agentId: 'S1' }, { taskId: 'u' }]).reconcile!.tasks).toEqual([
      { task_id: { value: 't' }, agent_id: { value: 'S1' } },
      { task_id: { value: 'u' } },
    ]);
    expect(calls.teardownCall()).toEqual({ type: 'TEARDOWN' });
  });

  it('ACKNOWLEDGE needs the uuid, task and agent of the status', () => {
    const status = { task_id: { value: 't' }, agent_id: { value: 'S1' }, uuid: Buffer.from([1, 2]) };
    expect(calls.acknowledgeCall(status).acknowledge).toEqual({ task_id: { value: 't' }, agent_id: { value: 'S1' }, uuid: Buffer.from([1, 2]) });
    expect(() => calls.acknowledgeCall({ ...status, uuid: Buffer.alloc(0) })).toThrow(/no uuid/);
    expect(needsAcknowledgement({ uuid: Buffer.alloc(0) } as never)).toBe(false);
    expect(needsAcknowledgement({ uuid: Buffer.from([1]) } as never)).toBe(true);
  });
});

describe('inverse offers', () => {
  it('answers inverse offers by id or by the InverseOffer itself; none is an error', () => {
    expect(calls.inverseOffersCall(true, [{ id: { value: 'O1' } }, 'O2'])).toEqual({
      type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [{ value: 'O1' }, { value: 'O2' }] },
    });
    expect(calls.inverseOffersCall(false, 'O3')).toEqual({ type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: [{ value: 'O3' }] } });
    expect(() => calls.inverseOffersCall(true, [])).toThrow(/acceptInverseOffers needs at least one inverse offer/);
  });
});

describe('wire events', () => {
  it('become plain objects; unknown ones are dropped', () => {
    expect(fromWireEvent({ type: 'RESCIND', rescind: { offer_id: { value: 'o1' } } } as never)).toEqual({ type: 'rescind', offerId: 'o1' });
    expect(fromWireEvent({ type: 'HEARTBEAT' } as never)).toEqual({ type: 'heartbeat' });
    expect(fromWireEvent({ type: 'FAILURE', failure: { agent_id: { value: 'S1' }, executor_id: null, status: 0 } } as never)).toEqual({
      type: 'failure', agentId: 'S1', executorId: null, status: null,
    });
    const inverse = { id: { value: 'O9' }, agent_id: { value: 'S1' }, unavailability: { start: { nanoseconds: 1e18 } } };
    expect(fromWireEvent({ type: 'INVERSE_OFFERS', inverse_offers: { inverse_offers: [inverse] } } as never)).toEqual({ type: 'inverseOffers', inverseOffers: [inverse] });
    expect(fromWireEvent({ type: 'RESCIND_INVERSE_OFFER', rescind_inverse_offer: { inverse_offer_id: { value: 'O9' } } } as never))
      .toEqual({ type: 'rescindInverseOffer', inverseOfferId: 'O9' });
    expect(fromWireEvent({ type: 'UPDATE_OPERATION_STATUS' } as never)).toBeNull();
  });
});

describe('EventQueue', () => {
  it('hands items out in order, drains what is buffered after end(), and says when it drained', async () => {
    let drained = 0;
    let closed = 0;
    const q = new EventQueue<number>(1, { onDrain: () => drained++, onClose: () => closed++ });
    q.push(1);
    q.push(2);
    q.push(3);
    q.end();
    q.push(4); // ignored after end
    const got: number[] = [];
    for await (const n of q) got.push(n);
    expect(got).toEqual([1, 2, 3]);
    expect(drained).toBe(2); // after taking 2 and 3 the buffer was at or below 1
    expect(closed).toBe(1);
  });

  it('wakes a waiting reader, and abort() drops the buffer', async () => {
    const q = new EventQueue<string>(0, { onDrain: () => {}, onClose: () => {} });
    const next = q.next();
    q.push('a');
    expect(await next).toEqual({ value: 'a', done: false });
    q.push('b');
    q.abort();
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });
});
