// An allocation pass's offers go out at once, not behind effects waiting for
// a registry write they do not depend on; a framework whose SUBSCRIBED is
// still waiting hears its offers only after it (Master.offer, Outbox.runNow).
// The registry's writes are held in the test store: nothing here is timed.
import { describe, expect, it } from 'vitest';
import { MasterHarness, TestStore } from '../harness/master-harness.js';

/** One agent; fw1 subscribed, its first offer declined with a 5 s filter, so the agent is free but not for fw1 until then. */
async function withDeclinedAgent() {
  const store = new TestStore();
  const h = await MasterHarness.start({ store, offerTimeout: 0 });
  await h.addAgent('a1', 'cpus:4;mem:1024');
  const fw1 = await h.subscribe('fw1');
  const [offer] = fw1.offers();
  fw1.call({ type: 'DECLINE', decline: { offer_ids: [offer!.id], filters: { refuse_seconds: 5 } } });
  await h.settle();
  expect(fw1.offers()).toEqual([]);
  return { h, store, fw1 };
}

describe('offers and the registry writes they do not wait for', () => {
  it("offers a subscribed framework at once while another framework's SUBSCRIBE waits for its write", async () => {
    const { h, store, fw1 } = await withDeclinedAgent();
    store.hold();
    const fw2 = h.subscribe('fw2'); // Its write is held: its SUBSCRIBED (and all after it in the queue) waits.
    await h.settle();
    await h.advance(6); // fw1's filter expired; the periodic pass offers the agent to fw1, the only framework the allocator knows.
    expect(fw1.offers()).toHaveLength(1); // Not behind fw2's held write.
    store.release();
    await fw2;
    await h.settle();
    expect(fw1.offers()).toHaveLength(1);
  });

  it('keeps the offers of a framework failing over to a new stream behind its SUBSCRIBED on that stream', async () => {
    const { h, store, fw1 } = await withDeclinedAgent();
    store.hold();
    const oldEvents = fw1.events;
    const resubscribed = fw1.subscribe(); // Same framework id, a new stream; the write is held.
    await h.settle();
    await h.advance(6); // The pass decides for fw1, whose new stream is not attached yet.
    expect(oldEvents.filter((e) => e.type === 'OFFERS')).toHaveLength(1); // No offer before its new SUBSCRIBED: only the first one.
    store.release();
    await resubscribed;
    await h.settle();
    const types = fw1.events.filter((e) => e.type === 'SUBSCRIBED' || e.type === 'OFFERS').map((e) => e.type);
    expect(types.slice(-2)).toEqual(['SUBSCRIBED', 'OFFERS']); // On the new stream: SUBSCRIBED first, then the offer.
  });
});
