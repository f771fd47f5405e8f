// An agent re-registering while the master is busy or after it was
// unreachable: cases the randomized fault run on hosts found (seed 1616).
//
// Offers: one offer of an agent with cpus:1 held cpus 1.9. The allocator's
// view of an agent and the offers outstanding on it came apart two ways:
//   - an agent re-registering on a new link before the master saw the old one
//     close: its offers stayed out while the allocator took its whole total
//     as free again;
//   - an allocation pass while allocator facts still waited in the outbox for
//     a registry write (a disconnect and a re-registration among them): it
//     offered what the agent's earlier incarnation had free, and the offer
//     outlived that incarnation, so its resources were out twice.
// Each test holds the outstanding offers against the agent's total.
//
// Tasks: a launch whose agent went unreachable before it got the task stayed
// TASK_UNREACHABLE for good once the agent came back without it: the master
// answered TASK_DROPPED, which the lifecycle did not allow after UNREACHABLE.
// And a task that ended while its agent was unreachable was announced back
// as TASK_FINISHED by the master, ahead of the agent's own unacknowledged
// TASK_RUNNING, which then came after the terminal state.
import { describe, expect, it } from 'vitest';
import { MasterHarness, type TestScheduler } from '../harness/master-harness.js';
import { Resources } from '../../common/resources.js';

/** cpus of the offers `fw` holds (received, neither rescinded nor answered) on `agentId`. */
function outstandingCpus(fw: TestScheduler, agentId: string): number {
  return fw.offers().filter((o) => o.agent_id!.value === agentId).reduce((n, o) => n + (Resources.fromProto(o.resources).scalar('cpus') ?? 0), 0);
}

describe('offers of an agent that re-registers', () => {
  it('re-registering on a new link rescinds the offers of the old one', async () => {
    const h = await MasterHarness.start();
    const fw = await h.subscribe('fw');
    const agent = await h.addAgent('a1', 'cpus:1;mem:256');
    expect(outstandingCpus(fw, agent.id)).toBe(1);
    await agent.register({ id: agent.id }); // The old link is still open: the master has not seen it go.
    await h.advance(1);
    expect(outstandingCpus(fw, agent.id)).toBe(1);
  });

  it('no offer is made from an agent whose removal and re-admission still wait for the registry behind a write', async () => {
    const h = await MasterHarness.start();
    const fw = await h.subscribe('fw');
    const agent = await h.addAgent('a1', 'cpus:1;mem:256');
    fw.call({ type: 'DECLINE', decline: { offer_ids: [{ value: fw.offers()[0]!.id!.value }], filters: { refuse_seconds: 2 } } });
    await h.settle();
    expect(outstandingCpus(fw, agent.id)).toBe(0);
    h.store.hold();
    const other = h.addAgent('a2', 'cpus:1;mem:256'); // Its admission's write waits: every effect after it waits too.
    agent.disconnect();
    const back = agent.register({ id: agent.id });
    await h.advance(3); // The refusal has expired; passes come due.
    h.store.release();
    await Promise.all([other, back]);
    await h.advance(3);
    expect(outstandingCpus(fw, agent.id)).toBeLessThanOrEqual(1);
  });
});

describe('tasks of an agent that comes back from unreachable', () => {
  it('a launch the agent never got is TASK_DROPPED for a partition-aware framework, not UNREACHABLE for good', async () => {
    const h = await MasterHarness.start();
    const fw = await h.subscribe('fw', { partitionAware: true });
    const agent = await h.addAgent('a1', 'cpus:1;mem:256');
    fw.launch(fw.offers()[0]!, [{ id: 't1', resources: 'cpus:0.1;mem:16' }]);
    await h.settle();
    agent.disconnect(); // The launch was lost with the link.
    await h.advance(76);
    expect(fw.statuses()).toEqual(['t1:TASK_UNREACHABLE']);
    await agent.register({ id: agent.id, tasks: [] });
    expect(fw.statuses()).toEqual(['t1:TASK_UNREACHABLE', 't1:TASK_DROPPED']);
    expect(fw.updates().at(-1)!.reason).toBe('REASON_AGENT_REREGISTERED');
  });

  it('a task that ended meanwhile is announced back with the update the agent still delivers, not ahead of it', async () => {
    const h = await MasterHarness.start();
    const fw = await h.subscribe('fw', { partitionAware: true });
    const agent = await h.addAgent('a1', 'cpus:1;mem:256');
    fw.launch(fw.offers()[0]!, [{ id: 't1', resources: 'cpus:0.1;mem:16' }]);
    await h.settle();
    const running = agent.update(fw.id, 't1', 'TASK_RUNNING');
    await h.settle();
    agent.disconnect(); // Unacknowledged: the agent delivers TASK_RUNNING again, then TASK_FINISHED.
    await h.advance(76);
    expect(fw.statuses()).toEqual(['t1:TASK_RUNNING', 't1:TASK_UNREACHABLE']);
    await agent.register({
      id: agent.id, tasks: [{ frameworkId: fw.id, taskId: 't1', state: 'TASK_FINISHED', resources: 'cpus:0.1;mem:16', inFlight: { state: 'TASK_RUNNING', uuid: running } }],
    });
    expect(fw.statuses()).toEqual(['t1:TASK_RUNNING', 't1:TASK_UNREACHABLE', 't1:TASK_RUNNING']);
    expect(fw.updates().at(-1)!.reason).toBe('REASON_AGENT_REREGISTERED');
  });
});
