// The load scheduler's decision for one OFFERS event (bench/scale/offer-plan.ts):
// how many tasks go into which offer, and which offers are declined together.
import { describe, expect, it } from 'vitest';
import { planOffers } from '../../bench/scale/offer-plan.js';
import { parseDemand, type OfferOut } from '../../framework/sdk/index.js';
import { Resources } from '../../common/resources.js';

const offer = (id: string, resources: string): OfferOut => ({
  id: { value: id }, framework_id: { value: 'fw' }, agent_id: { value: `agent-${id}` }, hostname: `host-${id}`, resources: Resources.parse(resources).toProto(),
} as unknown as OfferOut);

function plan(offers: OfferOut[], perOffer: number, maxInFlight: number, inFlight: number) {
  let n = 0;
  const p = planOffers(offers, { demand: parseDemand('cpus:0.5;mem:32'), perOffer, maxInFlight, inFlight }, () => `t${n++}`);
  return {
    launches: p.launches.map((l) => `${l.offer.id!.value}:${l.tasks.map((t) => t.task_id!.value).join(',')}`),
    decline: p.decline.map((o) => o.id!.value),
    agents: p.launches.flatMap((l) => l.tasks.map((t) => t.agent_id!.value)),
  };
}

describe('load scheduler offer plan', () => {
  it('packs up to perOffer tasks into each offer, in order, and declines nothing it used', () => {
    // cpus:2 holds four 0.5-cpu tasks; perOffer 3 takes three.
    const p = plan([offer('a', 'cpus:2;mem:1024'), offer('b', 'cpus:1;mem:1024')], 3, 0, 0);
    expect(p.launches).toEqual(['a:t0,t1,t2', 'b:t3,t4']); // b holds two
    expect(p.decline).toEqual([]);
    expect(p.agents).toEqual(['agent-a', 'agent-a', 'agent-a', 'agent-b', 'agent-b']);
  });

  it('stops at the room left under maxInFlight and declines every other offer together', () => {
    // 10 in flight of 13 allowed: room for 3, all in the first offer (perOffer 4).
    const p = plan([offer('a', 'cpus:4;mem:1024'), offer('b', 'cpus:4;mem:1024'), offer('c', 'cpus:4;mem:1024')], 4, 13, 10);
    expect(p.launches).toEqual(['a:t0,t1,t2']);
    expect(p.decline).toEqual(['b', 'c']);
  });

  it('declines an offer too small for the demand, and everything when no room is left', () => {
    expect(plan([offer('a', 'cpus:0.25;mem:1024'), offer('b', 'cpus:1;mem:16')], 4, 0, 0)).toEqual({ launches: [], decline: ['a', 'b'], agents: [] });
    expect(plan([offer('a', 'cpus:4;mem:1024')], 4, 200, 200).decline).toEqual(['a']);
    expect(plan([offer('a', 'cpus:4;mem:1024')], 4, 200, 250).decline).toEqual(['a']); // over the bound (launches in flight as it shrank): still nothing
  });

  it('gives each task the resources of the demand and a command', () => {
    let n = 0;
    const p = planOffers([offer('a', 'cpus:1;mem:64')], { demand: parseDemand('cpus:0.5;mem:32'), perOffer: 1, maxInFlight: 0, inFlight: 0 }, () => `x${n++}`);
    const task = p.launches[0]!.tasks[0]!;
    expect(Resources.fromProto(task.resources ?? []).toString()).toBe(Resources.parse('cpus:0.5;mem:32').toString());
    expect(task.command?.value).toBe('true');
    expect(task.name).toBe('x0');
  });
});
