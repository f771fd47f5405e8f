// A framework's first offers on an idle cluster: they come from the pass its
// SUBSCRIBE triggers (no time passes here, so the periodic pass never runs),
// and a pass's offers to one framework go out in OFFERS events of at most
// OFFERS_PER_EVENT, so that the scheduler can act on the first ones while it
// decodes the rest (operations/offers.ts).
import { describe, expect, it } from 'vitest';
import { MasterHarness } from '../harness/master-harness.js';
import { OFFERS_PER_EVENT } from '../../master/operations/offers.js';

describe('the first offers after SUBSCRIBE', () => {
  it('come from the pass the subscription triggers, in events of at most OFFERS_PER_EVENT offers', async () => {
    const h = await MasterHarness.start({ offerTimeout: 0 });
    const agents = 2 * OFFERS_PER_EVENT + 22;
    for (let i = 0; i < agents; i++) await h.addAgent(`a${i}`, 'cpus:4;mem:1024');
    const fw = await h.subscribe('fw');
    await h.settle();
    const sizes = fw.events.filter((e) => e.type === 'OFFERS').map((e) => e.offers!.offers!.length);
    expect(sizes).toEqual([OFFERS_PER_EVENT, OFFERS_PER_EVENT, 22]); // one pass (no budget): every agent, 64 + 64 + 22
    const offered = fw.offers().map((o) => o.hostname);
    expect(new Set(offered).size).toBe(agents);
    expect(fw.events[0]!.type).toBe('SUBSCRIBED');
  });

  it('a pass that offers a framework no more than OFFERS_PER_EVENT sends it one event', async () => {
    const h = await MasterHarness.start({ offerTimeout: 0 });
    for (let i = 0; i < 3; i++) await h.addAgent(`a${i}`, 'cpus:4;mem:1024');
    const fw = await h.subscribe('fw');
    await h.settle();
    expect(fw.events.filter((e) => e.type === 'OFFERS').map((e) => e.offers!.offers!.length)).toEqual([3]);
  });
});
