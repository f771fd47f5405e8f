// The hierarchical allocator, driven through its public interface. Tests
// about who is eligible (filters, suppression, roles, minimums) run against
// every policy; tests about fairness use DRF. Expected shares are in comments.
import { describe, expect, it } from 'vitest';
import { Resources } from '../../common/resources.js';
import { drain, runToCompletion } from '../harness/allocation.js';
import { HierarchicalAllocator, seededRandom } from '../../master/allocator/hierarchical.js';
import { ALLOCATOR_NAMES, createAllocator } from '../../master/allocator/index.js';

const R = (text: string) => Resources.parse(text);
const drf = () => createAllocator('drf') as HierarchicalAllocator;
/** Policies that visit agents in a fresh random order each pass. */
const SHUFFLES = new Set(['drf', 'fifo', 'random']);

describe.each(['drf', 'binpack', 'spread'])('the DRF paper (%s)', (name) => {
  it('reproduces the DRF paper: A gets 3 tasks, B gets 2, both at a dominant share of 2/3', () => {
    const alloc = createAllocator(name) as HierarchicalAllocator;
    alloc.addAgent('s1', R('cpus:9;mem:18432'));
    alloc.addFramework('A', { roles: ['*'] });
    alloc.addFramework('B', { roles: ['*'] });
    const tasks = runToCompletion(alloc, { A: 'cpus:1;mem:4096', B: 'cpus:3;mem:1024' });
    expect(tasks).toEqual({ A: 3, B: 2 });
    expect(alloc.share('A')).toBeCloseTo(2 / 3); // 12 GB of 18
    expect(alloc.share('B')).toBeCloseTo(2 / 3); // 6 cpus of 9
  });

  it('splits the same cluster cut into three agents less evenly: fragmentation, not unfairness', () => {
    const alloc = createAllocator(name) as HierarchicalAllocator;
    for (const id of ['s1', 's2', 's3']) alloc.addAgent(id, R('cpus:3;mem:6144'));
    alloc.addFramework('A', { roles: ['a'] });
    alloc.addFramework('B', { roles: ['b'] });
    // A, B and A again each take an agent (lowest share first); then no agent has 4 GB or 3 cpus left.
    expect(runToCompletion(alloc, { A: 'cpus:1;mem:4096', B: 'cpus:3;mem:1024' })).toEqual({ A: 2, B: 1 });
    expect(alloc.share('A')).toBeCloseTo(4 / 9); // 8 GB of 18
    expect(alloc.share('B')).toBeCloseTo(1 / 3); // 3 cpus of 9
  });
});

describe('DRF fairness', () => {
  it('offers an agent to the framework with the lowest share', () => {
    const alloc = drf();
    alloc.addAgent('s1', R('cpus:4;mem:4096'), new Map([['big', R('cpus:2;mem:2048')]]));
    alloc.addAgent('s2', R('cpus:4;mem:4096'));
    alloc.addFramework('big', { roles: ['*'] }, new Map([['s1', R('cpus:2;mem:2048')]])); // 2/8 = 0.25
    alloc.addFramework('small', { roles: ['*'] }); // 0
    const [first, second] = alloc.allocate(0);
    expect(first).toMatchObject({ frameworkId: 'small' }); // lowest share
    // After its first agent small holds 0.25 or 0.5; big (0.25) gets the other one (ties by name).
    expect(second).toMatchObject({ frameworkId: 'big' });
    expect([first, second].map((d) => d!.resources.scalar('cpus')).sort()).toEqual([2, 4]);
  });

  it('keeps framework shares within a role and role shares across roles', () => {
    const alloc = drf();
    for (let i = 0; i < 4; i++) alloc.addAgent(`s${i}`, R('cpus:1;mem:1024'));
    alloc.addFramework('a1', { roles: ['a'] });
    alloc.addFramework('a2', { roles: ['a'] });
    alloc.addFramework('b1', { roles: ['b'] });
    const byFramework = new Map<string, number>();
    for (const d of alloc.allocate(0)) byFramework.set(d.frameworkId, (byFramework.get(d.frameworkId) ?? 0) + 1);
    // Roles a and b alternate (2 agents each, role share 0.5); a1 and a2 split a's.
    expect(Object.fromEntries(byFramework)).toEqual({ a1: 1, a2: 1, b1: 2 });
    expect(alloc.share('b1')).toBeCloseTo(0.5); // 2 of 4 agents
    expect(alloc.share('a1')).toBeCloseTo(0.25); // 1 of 4
  });
});

describe.each(ALLOCATOR_NAMES)('%s allocator', (name) => {
  const make = () => createAllocator(name);

  it('does not offer what is offered until it is recovered', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:2;mem:1024'));
    alloc.addFramework('f', { roles: ['*'] });
    alloc.addFramework('g', { roles: ['*'] });
    const [offer, ...rest] = alloc.allocate(0);
    expect(rest).toEqual([]);
    expect(offer!.resources.toString()).toBe('cpus:2;mem:1024');
    expect(alloc.allocate(1)).toEqual([]);
    alloc.recoverResources(offer!.frameworkId, 's1', offer!.resources, 0, 1);
    expect(alloc.allocate(2)).toHaveLength(1);
  });

  it('respects a refuse filter until it expires, then offers again', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:2;mem:1024'));
    alloc.addFramework('f', { roles: ['*'] });
    const [offer] = alloc.allocate(0);
    alloc.recoverResources('f', 's1', offer!.resources, 5, 3); // refused until 8
    expect(alloc.allocate(7.9)).toEqual([]);
    expect(alloc.allocate(8)).toEqual([expect.objectContaining({ frameworkId: 'f', agentId: 's1' })]);
  });

  it('offers a refused agent to another framework meanwhile', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:2;mem:1024'));
    alloc.addFramework('f', { roles: ['*'] });
    const [offer] = alloc.allocate(0);
    alloc.recoverResources('f', 's1', offer!.resources, 60, 0);
    alloc.addFramework('g', { roles: ['*'] });
    expect(alloc.allocate(1)).toEqual([expect.objectContaining({ frameworkId: 'g' })]);
  });

  it('offers resources freed after a refusal (the filter hides only what was refused, as in Mesos)', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:2;mem:1024'));
    alloc.addFramework('f', { roles: ['*'] });
    const [offer] = alloc.allocate(0);
    const task = R('cpus:1;mem:512');
    alloc.recoverResources('f', 's1', offer!.resources.subtract(task), 5, 0);
    expect(alloc.allocate(1)).toEqual([]); // only the refused half is free
    alloc.recoverResources('f', 's1', task, 0, 2); // the task ended
    expect(alloc.allocate(2)[0]!.resources.scalar('cpus')).toBe(2);
  });

  it('revive clears refuse filters', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:2;mem:1024'));
    alloc.addFramework('f', { roles: ['*'] });
    const [offer] = alloc.allocate(0);
    alloc.recoverResources('f', 's1', offer!.resources, 100, 0);
    expect(alloc.allocate(1)).toEqual([]);
    alloc.revive('f');
    expect(alloc.allocate(1)).toHaveLength(1);
  });

  it('a suppressed framework gets nothing until it revives', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:2;mem:1024'));
    alloc.addFramework('f', { roles: ['*'] });
    alloc.suppress('f');
    expect(alloc.allocate(0)).toEqual([]);
    alloc.revive('f');
    expect(alloc.allocate(1)).toHaveLength(1);
  });

  it('suppresses only the roles named, and honours suppressedRoles at subscription', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:1;mem:256;cpus(web):1;mem(web):256'));
    alloc.addFramework('f', { roles: ['web', 'batch'], suppressedRoles: ['web'] });
    expect(alloc.allocate(0)).toEqual([expect.objectContaining({ frameworkId: 'f', role: 'batch' })]);
    expect(alloc.allocate(0)).toEqual([]); // only web's reservation is left, and web is suppressed
    alloc.revive('f', ['web']);
    const [toWeb] = alloc.allocate(1);
    expect(toWeb).toMatchObject({ frameworkId: 'f', role: 'web' });
    expect(toWeb!.resources.toString()).toBe('cpus(web):1;mem(web):256');
  });

  it('an inactive framework gets nothing until reactivated', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:2;mem:1024'));
    alloc.addFramework('f', { roles: ['*'], active: false });
    expect(alloc.allocate(0)).toEqual([]);
    alloc.setFrameworkActive('f', true);
    expect(alloc.allocate(1)).toHaveLength(1);
    alloc.recoverResources('f', 's1', R('cpus:2;mem:1024'), 0, 1);
    alloc.setFrameworkActive('f', false);
    expect(alloc.allocate(2)).toEqual([]);
  });

  it('offers reserved resources only to their role', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:1;mem:256;cpus(web):1'));
    alloc.addFramework('batch', { roles: ['batch'] });
    const toBatch = alloc.allocate(0);
    expect(toBatch).toHaveLength(1);
    expect(toBatch[0]!.resources.toString()).toBe('cpus:1;mem:256');
    expect(alloc.allocate(1)).toEqual([]); // cpus(web):1 is left, but not for batch
    alloc.addFramework('site', { roles: ['web'] });
    const toWeb = alloc.allocate(2);
    expect(toWeb).toEqual([expect.objectContaining({ frameworkId: 'site', role: 'web' })]);
    expect(toWeb[0]!.resources.toString()).toBe('cpus(web):1');
  });

  it('gives a role its reservation plus unreserved resources in one offer', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:1;mem:256;cpus(web):1'));
    alloc.addFramework('site', { roles: ['web'] });
    expect(alloc.allocate(0)[0]!.resources.toString()).toBe('cpus:1;cpus(web):1;mem:256');
  });

  it('does not offer less than the minimum allocatable', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:0.005;mem:16'));
    alloc.addFramework('f', { roles: ['*'] });
    expect(alloc.allocate(0)).toEqual([]);
    alloc.addAgent('s2', R('cpus:0.01')); // exactly one minimum
    expect(alloc.allocate(0)).toEqual([expect.objectContaining({ agentId: 's2' })]);
  });

  it('takes the minimum allocatable from its options', () => {
    const alloc = createAllocator(name, { minAllocatable: [R('cpus:1;mem:64')] });
    alloc.addAgent('s1', R('cpus:0.5;mem:1024'));
    alloc.addFramework('f', { roles: ['*'] });
    expect(alloc.allocate(0)).toEqual([]);
  });

  it('leaves what other frameworks use on a re-registering agent out of its free pool', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:4;mem:4096'), new Map([['gone', R('cpus:3;mem:1024')], ['huge', R('cpus:9')]]));
    alloc.addFramework('f', { roles: ['*'] });
    // 4 - 3 = 1 cpu left; 'huge' claimed more than was left and is clamped to nothing.
    expect(alloc.allocate(0)[0]!.resources.toString()).toBe('cpus:1;mem:3072');
  });

  it('does not touch free pools when frameworks come and go', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:4;mem:4096'), new Map([['old', R('cpus:3;mem:3072')]]));
    alloc.addFramework('old', { roles: ['*'] }, new Map([['s1', R('cpus:3;mem:3072')]]));
    alloc.removeFramework('old');
    alloc.addFramework('f', { roles: ['*'] });
    expect(alloc.allocate(0)[0]!.resources.toString()).toBe('cpus:1;mem:1024');
    // What an unknown framework gives back simply returns to the pool.
    alloc.recoverResources('old', 's1', R('cpus:3;mem:3072'), 0, 1);
    expect(alloc.allocate(1)[0]!.resources.toString()).toBe('cpus:3;mem:3072');
  });

  it('gives every free agent to someone and removes cleanly', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:1;mem:512'));
    alloc.addAgent('s2', R('cpus:1;mem:512'));
    alloc.addFramework('f', { roles: ['*'] });
    alloc.addFramework('g', { roles: ['*'] });
    expect(alloc.allocate(0)).toHaveLength(2);
    alloc.removeAgent('s1');
    alloc.removeAgent('unknown');
    alloc.removeFramework('f');
    alloc.removeFramework('g');
    alloc.addFramework('h', { roles: ['*'] });
    alloc.recoverResources('f', 's2', R('cpus:1;mem:512'), 0, 1);
    alloc.recoverResources('f', 's1', R('cpus:1;mem:512'), 0, 1); // agent gone: ignored
    expect(alloc.allocate(1)).toEqual([expect.objectContaining({ frameworkId: 'h', agentId: 's2' })]);
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number) => {
      const alloc = createAllocator(name, { random: seededRandom(seed) });
      for (let i = 0; i < 20; i++) alloc.addAgent(`s${i}`, R('cpus:4;mem:4096'));
      for (let i = 0; i < 5; i++) alloc.addFramework(`f${i}`, { roles: ['*'] });
      return alloc.allocate(0).map((d) => `${d.frameworkId}@${d.agentId}`);
    };
    expect(run(7)).toEqual(run(7));
    // Agents are shuffled by drf, fifo and random; binpack and spread order them by use.
    if (SHUFFLES.has(name)) expect(run(7)).not.toEqual(run(8));
    else expect(run(7)).toEqual(run(8));
    // 20 agents reach all 5 frameworks, except under fifo: the first subscriber takes everything.
    expect(new Set(run(7).map((x) => x.split('@')[0])).size).toBe(name === 'fifo' ? 1 : 5);
  });

  it('offers a multi-role framework resources per role, each decision naming its role', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:1;mem:256;cpus(web):1;mem(web):256'));
    alloc.addAgent('s2', R('cpus(batch):1;mem(batch):256'));
    alloc.addFramework('f', { roles: ['web', 'batch'] });
    const got = drain(alloc, 0).map((d) => `${d.agentId}:${d.role}:${d.resources.toString()}`).sort();
    // s1's unreserved part goes to one of the roles with that role's reservation, or in two offers.
    expect(got.filter((g) => g.startsWith('s2'))).toEqual(['s2:batch:cpus(batch):1;mem(batch):256']);
    const onS1 = got.filter((g) => g.startsWith('s1')).join(' ');
    expect(onS1).toContain('cpus(web):1');
    expect(onS1).not.toContain('(batch)');
  });

  it('a refuse filter hides the agent from the refused role only', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:1;mem:256;cpus(web):1;mem(web):256'));
    alloc.addFramework('f', { roles: ['web'] });
    const [offer] = alloc.allocate(0);
    alloc.recoverResources('f', 's1', offer!.resources, 60, 0); // web refuses s1 until 60
    expect(alloc.allocate(1)).toEqual([]);
    alloc.addFramework('f', { roles: ['web', 'batch'] }); // re-subscribes with a second role: filters start afresh
    alloc.suppress('f', ['batch']);
    const [again] = alloc.allocate(2);
    alloc.recoverResources('f', 's1', again!.resources, 60, 2);
    alloc.revive('f', ['batch']); // revives batch only: web's filter stays
    expect(alloc.allocate(3)).toEqual([expect.objectContaining({ role: 'batch' })]);
    expect(alloc.allocate(3)).toEqual([]); // web's reservation is left, and web still refuses s1
  });

  it('offers a dynamic reservation to its role only, and everything to everyone once unreserved', () => {
    const alloc = make();
    alloc.addAgent('s1', R('cpus:4;mem:1024'));
    alloc.addFramework('ops-fw', { roles: ['ops'] });
    const [offer] = alloc.allocate(0);
    alloc.updateAllocation!('ops-fw', 's1', R('cpus:2;mem:512'), R('cpus(ops):2;mem(ops):512'));
    alloc.recoverResources('ops-fw', 's1', offer!.resources.subtract(R('cpus:2;mem:512')).add(R('cpus(ops):2;mem(ops):512')), 0, 0);
    alloc.suppress('ops-fw');
    alloc.addFramework('dev-fw', { roles: ['dev'] });
    const [toDev] = alloc.allocate(1);
    expect(toDev).toMatchObject({ frameworkId: 'dev-fw', role: 'dev' });
    expect(toDev!.resources.toString()).toBe('cpus:2;mem:512'); // not the reservation
    alloc.revive('ops-fw');
    const [toOps] = alloc.allocate(2);
    expect(toOps).toMatchObject({ frameworkId: 'ops-fw', role: 'ops' });
    expect(toOps!.resources.toString()).toBe('cpus(ops):2;mem(ops):512');
    alloc.updateAllocation!('ops-fw', 's1', R('cpus(ops):2;mem(ops):512'), R('cpus:2;mem:512'));
    alloc.recoverResources('ops-fw', 's1', R('cpus:2;mem:512'), 0, 2);
    alloc.suppress('ops-fw');
    expect(alloc.allocate(3)).toEqual([expect.objectContaining({ frameworkId: 'dev-fw' })]); // unreserved again
    expect(() => alloc.updateAllocation!('ops-fw', 's1', R('cpus:9'), R('cpus(ops):9'))).toThrow(/does not hold cpus:9 on agent s1/);
  });

  it('never allocates a role beyond its quota limit, reservations included', () => {
    const quotas = new Map([['a', { limit: R('cpus:3') }]]);
    const alloc = createAllocator(name, { quotas });
    alloc.addAgent('r', R('cpus(a):1;mem(a):256'));
    for (let i = 0; i < 6; i++) alloc.addAgent(`s${i}`, R('cpus:1;mem:256'));
    alloc.addFramework('f', { roles: ['a'] });
    const cpus = drain(alloc, 0).reduce((n, d) => n + d.resources.scalar('cpus'), 0);
    expect(cpus).toBe(3); // 1 reserved + 2 unreserved
  });

  it('offers a role its quota guarantee before others, and holds back what it lacks', () => {
    const quotas = new Map([['a', { guarantee: R('cpus:6') }]]);
    const alloc = createAllocator(name, { quotas });
    for (let i = 0; i < 10; i++) alloc.addAgent(`s${i}`, R('cpus:1;mem:256'));
    alloc.addFramework('fa', { roles: ['a'], suppressedRoles: ['a'] });
    alloc.addFramework('fb', { roles: ['b'] });
    const cpusOf = (ds: { frameworkId: string; resources: Resources }[], f: string) =>
      ds.filter((d) => d.frameworkId === f).reduce((n, d) => n + d.resources.scalar('cpus'), 0);
    expect(cpusOf(drain(alloc, 0), 'fb')).toBe(4); // 10 - the 6 a lacks; b may take their mem
    alloc.revive('fa');
    expect(cpusOf(drain(alloc, 1), 'fa')).toBe(6);
  });
});

describe('shares bookkeeping (DRF)', () => {
  it('credits `used` to a framework once, whichever of agent and framework comes back first', () => {
    const agentFirst = drf();
    agentFirst.addAgent('s1', R('cpus:4;mem:4096'), new Map([['f', R('cpus:2')]]));
    agentFirst.addAgent('s2', R('cpus:4;mem:4096'));
    agentFirst.addFramework('f', { roles: ['*'] }, new Map([['s1', R('cpus:2')]]));
    expect(agentFirst.share('f')).toBeCloseTo(0.25); // 2 of 8 cpus

    const frameworkFirst = drf();
    frameworkFirst.addAgent('s2', R('cpus:4;mem:4096'));
    frameworkFirst.addFramework('f', { roles: ['*'] });
    frameworkFirst.addAgent('s1', R('cpus:4;mem:4096'), new Map([['f', R('cpus:2')]]));
    expect(frameworkFirst.share('f')).toBeCloseTo(0.25); // 2 of 8 cpus
  });

  it('drops an agent from shares and the total when it is removed', () => {
    const alloc = drf();
    alloc.addAgent('s1', R('cpus:4;mem:4096'));
    alloc.addAgent('s2', R('cpus:4;mem:4096'));
    alloc.addFramework('f', { roles: ['*'] });
    alloc.addFramework('g', { roles: ['*'] });
    const decisions = alloc.allocate(0);
    const fAgent = decisions.find((d) => d.frameworkId === 'f')!.agentId;
    expect(alloc.share('f')).toBeCloseTo(0.5); // one agent of two
    alloc.removeAgent(fAgent);
    expect(alloc.share('f')).toBe(0); // holds nothing
    expect(alloc.share('g')).toBeCloseTo(1); // the whole cluster left
  });

  it('returns recovered resources to the framework sorter of the role they were offered for', () => {
    const alloc = drf();
    alloc.addAgent('s1', R('cpus:4;mem:4096'));
    alloc.addFramework('f', { roles: ['*'] });
    const [offer] = alloc.allocate(0);
    expect(alloc.share('f')).toBe(1);
    alloc.recoverResources('f', 's1', R('cpus:1;mem:1024'), 0, 0);
    expect(alloc.share('f')).toBeCloseTo(0.75); // 3 of 4 cpus, 3 of 4 GB
    alloc.recoverResources('f', 's1', offer!.resources.subtract(R('cpus:1;mem:1024')), 0, 0);
    expect(alloc.share('f')).toBe(0);
  });
});

describe('createAllocator', () => {
  it('builds every named policy', () => {
    for (const name of ALLOCATOR_NAMES) expect(createAllocator(name).name).toBe(name);
  });

  it('rejects an unknown policy name, listing the known ones', () => {
    expect(() => createAllocator('fastest')).toThrow("unknown allocator 'fastest'; known: drf, binpack, spread, fifo, random");
    expect(() => createAllocator('constructor')).toThrow(/unknown allocator 'constructor'/);
  });
});
