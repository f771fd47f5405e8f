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

  it('refuses an agent re-registering under an existing AgentID without the secret issued with it; its tasks stay', async () => {
    const h = await MasterHarness.start();
    const a1 = await h.addAgent('a1', 'cpus:2;mem:256');
    expect(a1.secret).toMatch(/^[A-Za-z0-9_-]{32}$/); // Issued with the id.
    const fw = await h.subscribe('fw');
    fw.launch(fw.offers()[0]!, [{ id: 't1', resources: 'cpus:1;mem:64' }]);
    await h.settle();
    a1.update(fw.id, 't1', 'TASK_RUNNING');
    await h.settle();
    const stored = await h.store.snapshot();
    expect(JSON.stringify(stored.get(`agents/${a1.id}`))).not.toContain(a1.secret); // Only its hash is kept.
    // An impostor reporting no tasks would have them marked lost.
    await expect(h.addAgent('a1', 'cpus:2;mem:256', { id: a1.id })).rejects.toThrow(/did not prove it is that agent/);
    await expect(h.addAgent('a1', 'cpus:2;mem:256', { id: a1.id, secret: 'guessed' })).rejects.toThrow(/did not prove/);
    expect(h.master.agents.get(a1.id)?.connected).toBe(true);
    expect(a1.conn.open).toBe(true); // Its link was not replaced by the impostor's.
    expect(h.master.tasks.get(fw.id, 't1')?.state).toBe('TASK_RUNNING');
    expect(fw.statuses()).toEqual(['t1:TASK_RUNNING']);
    // The agent itself, after a restart (a new link, its checkpointed secret), and after a change of leader.
    await a1.register({ id: a1.id, tasks: [{ frameworkId: fw.id, taskId: 't1', state: 'TASK_RUNNING', resources: 'cpus:1;mem:64' }] });
    h.master.stop();
    const next = await MasterHarness.start({ store: h.store, time: h.time, id: 'm2' });
    const back = await next.addAgent('a1', 'cpus:2;mem:256', { id: a1.id, secret: a1.secret, tasks: [{ frameworkId: fw.id, taskId: 't1', state: 'TASK_RUNNING', resources: 'cpus:1;mem:64' }] });
    expect(back.id).toBe(a1.id);
    expect(back.received.find((m) => m.registered)?.registered?.secret ?? '').toBe(''); // Not issued again.
  });
});
