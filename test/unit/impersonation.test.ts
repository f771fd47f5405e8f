// No acting as someone else, even with authentication off: through the
// deterministic harness (the real master), a framework cannot be taken over
// by another principal, and an agent cannot report another agent's tasks.
// Each refused attempt leaves the state as it was.
import { describe, expect, it } from 'vitest';
import { MasterHarness } from '../harness/master-harness.js';

describe('impersonation', () => {
  it('refuses a SUBSCRIBE under an existing FrameworkID from another principal; the scheduler stays subscribed', async () => {
    const h = await MasterHarness.start();
    await h.addAgent('a1', 'cpus:2;mem:256');
    const fw = await h.subscribe('payments', { principal: 'alice' });
    await expect(h.subscribe('payments', { id: fw.id, principal: 'mallory' })).rejects.toThrow(/registered with principal 'alice'/);
    await expect(h.subscribe('payments', { id: fw.id })).rejects.toThrow(/same principal/);
    expect(fw.closedWith).toBeUndefined(); // Not failed over: its stream is still the one attached.
    expect(h.master.frameworks.get(fw.id)?.streamId).toBe(fw.streamId);
    expect(h.master.frameworks.get(fw.id)?.info.principal).toBe('alice');
    // Its own principal may fail it over.
    const again = await h.subscribe('payments', { id: fw.id, principal: 'alice' });
    expect(again.id).toBe(fw.id);
    expect(fw.closedWith).toBe('Framework failed over');
    // UPDATE_FRAMEWORK may not change it either.
    expect(() => again.call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...h.master.frameworks.get(fw.id)!.info, principal: 'mallory' } } }))
      .toThrow(/principal cannot change/);
  });

  it('ignores a status update for a task from an agent that does not run it', async () => {
    const h = await MasterHarness.start();
    const a1 = await h.addAgent('a1', 'cpus:2;mem:256');
    const fw = await h.subscribe('fw');
    fw.launch(fw.offers().find((o) => o.agent_id?.value === a1.id)!, [{ id: 't1', resources: 'cpus:1;mem:64' }]);
    await h.settle();
    a1.update(fw.id, 't1', 'TASK_RUNNING');
    await h.settle();
    const a2 = await h.addAgent('a2', 'cpus:2;mem:256');
    const before = fw.statuses();
    a2.update(fw.id, 't1', 'TASK_FAILED', 'forged');
    await h.settle();
    expect(fw.statuses()).toEqual(before);
    expect(h.master.tasks.get(fw.id, 't1')?.state).toBe('TASK_RUNNING');
    expect(h.master.state.usedOnAgent(a1.id).get(fw.id)?.toString()).toBe('cpus:1;mem:64');
    expect(h.log.some((l) => l.includes(`agent ${a2.id} sent TASK_FAILED for task t1`) && l.includes('ignored'))).toBe(true);
  });
});
