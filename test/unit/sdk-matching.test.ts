import { describe, expect, it } from 'vitest';
import { Resources } from '../../common/resources.js';
import { InvalidArgument } from '../../common/errors.js';
import { OfferPacker, fitDemand, matchDemand, packOffers, parseDemand, type Demand } from '../../framework/sdk/matching.js';

const offer = (id: string, text: string) => ({ id: { value: id }, resources: Resources.parse(text).toProto() });
const text = (r: Resources | null | undefined) => r?.toString() ?? null;

describe('parseDemand', () => {
  it('reads Mesos resource text and a port count', () => {
    const d = parseDemand('cpus:0.1;mem:32', 2);
    expect(d.resources.toString()).toBe('cpus:0.1;mem:32');
    expect(d.ports).toBe(2);
  });

  it.each([
    ['cpus:x', 0, /'x' is not a number/],
    ['', 0, /asks for nothing/],
    ['cpus:1', -1, /ports must be a whole number/],
    ['cpus:1', 1.5, /ports must be a whole number/],
  ])('rejects %j with %d ports', (t, ports, message) => {
    expect(() => parseDemand(t, ports)).toThrow(InvalidArgument);
    expect(() => parseDemand(t, ports)).toThrow(message);
  });
});

describe('fitDemand', () => {
  const cases: { name: string; offered: string; demand: Demand; expected: string | null; reason?: RegExp }[] = [
    { name: 'exact scalars', offered: 'cpus:1;mem:128;disk:100', demand: parseDemand('cpus:0.1;mem:32'), expected: 'cpus:0.1;mem:32' },
    { name: 'fixed point: 0.1 + 0.2 from 0.3', offered: 'cpus:0.3;mem:64', demand: parseDemand('cpus:0.3;mem:64'), expected: 'cpus:0.3;mem:64' },
    { name: 'not enough mem', offered: 'cpus:1;mem:16', demand: parseDemand('cpus:0.1;mem:32'), expected: null, reason: /needs mem:32, the offer has mem:16/ },
    { name: 'missing resource', offered: 'cpus:1', demand: parseDemand('cpus:0.1;mem:32'), expected: null, reason: /no mem/ },
    // reserved for our role first, then '*'
    { name: 'reserved before unreserved', offered: 'cpus(web):0.5;cpus:1;mem:64', demand: parseDemand('cpus:0.2;mem:32'), expected: 'cpus(web):0.2;mem:32' },
    { name: 'split across roles', offered: 'cpus(web):0.1;cpus:1;mem:64', demand: parseDemand('cpus:0.3;mem:32'), expected: 'cpus:0.2;cpus(web):0.1;mem:32' },
    { name: 'explicit role only from that role', offered: 'cpus:4;mem:64', demand: parseDemand('cpus(web):1;mem:32'), expected: null, reason: /needs cpus\(web\):1/ },
    { name: 'lowest ports', offered: 'cpus:1;mem:64;ports:[31000-31001,31005-31010]', demand: parseDemand('cpus:0.1;mem:32', 3), expected: 'cpus:0.1;mem:32;ports:[31000-31001,31005-31005]' },
    { name: 'too few ports', offered: 'cpus:1;mem:64;ports:[31000-31001]', demand: parseDemand('cpus:0.1;mem:32', 3), expected: null, reason: /needs 3 ports, the offer has 2/ },
    { name: 'explicit port range', offered: 'cpus:1;mem:64;ports:[8000-9000]', demand: parseDemand('cpus:0.1;mem:32;ports:[8080-8080]'), expected: 'cpus:0.1;mem:32;ports:[8080-8080]' },
  ];
  it.each(cases)('$name', ({ offered, demand, expected, reason }) => {
    const fit = fitDemand(Resources.parse(offered), demand);
    expect(text(fit.resources)).toBe(expected);
    if (reason) expect(fit.reason).toMatch(reason);
    expect(text(matchDemand(Resources.parse(offered), demand))).toBe(expected);
  });

  it('never takes more than the offer holds', () => {
    const offered = Resources.parse('cpus(web):0.1;cpus:1;mem:64;ports:[1-10]');
    const got = matchDemand(offered, parseDemand('cpus:1.1;mem:64', 10));
    expect(got && offered.contains(got)).toBe(true);
    expect(offered.subtract(got!).isEmpty()).toBe(true);
  });
});

describe('OfferPacker', () => {
  it('packs tasks into one offer, subtracting as it goes (ports are not reused)', () => {
    const packer = new OfferPacker(Resources.parse('cpus:0.5;mem:100;ports:[31000-31003]'));
    const demand = parseDemand('cpus:0.2;mem:32', 2);
    expect(text(packer.take(demand))).toBe('cpus:0.2;mem:32;ports:[31000-31001]');
    expect(text(packer.take(demand))).toBe('cpus:0.2;mem:32;ports:[31002-31003]');
    expect(packer.take(demand)).toBeNull(); // cpus 0.1 and no ports left
    expect(packer.remaining.toString()).toBe('cpus:0.1;mem:36');
  });
});

describe('packOffers', () => {
  const small = parseDemand('cpus:0.5;mem:32');
  const big = parseDemand('cpus:4;mem:32');

  it('first fit in item order; offers that got nothing are unused; what fits nowhere is unplaced', () => {
    const offers = [offer('o1', 'cpus:1;mem:64'), offer('o2', 'cpus:1;mem:64'), offer('o3', 'cpus:1;mem:64')];
    const items = ['a', 'b', 'big', 'c'];
    const r = packOffers(offers, items, (i) => (i === 'big' ? big : small));
    expect(r.used.map((u) => [u.offer.id.value, u.placements.map((p) => p.item)])).toEqual([['o1', ['a', 'b']], ['o2', ['c']]]);
    expect(r.unused.map((o) => o.id.value)).toEqual(['o3']);
    expect(r.unplaced).toEqual(['big']);
  });

  it('spread goes round the offers', () => {
    const offers = [offer('o1', 'cpus:1;mem:64'), offer('o2', 'cpus:1;mem:64')];
    const r = packOffers(offers, ['a', 'b', 'c'], () => small, { strategy: 'spread' });
    expect(r.used.map((u) => [u.offer.id.value, u.placements.map((p) => p.item)])).toEqual([['o1', ['a', 'c']], ['o2', ['b']]]);
  });

  it('places at most `limit` items', () => {
    const r = packOffers([offer('o1', 'cpus:4;mem:256')], ['a', 'b', 'c'], () => small, { limit: 2 });
    expect(r.used[0]!.placements.map((p) => p.item)).toEqual(['a', 'b']);
    expect(r.unplaced).toEqual(['c']);
  });
});
