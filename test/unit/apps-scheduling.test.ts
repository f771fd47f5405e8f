// The apps framework's pure decisions: constraints, the per-app plan
// (scale, killSelection, rolling upgrade bounds), offer matching with its
// refusal reasons, the task environment and the launch backoff.
import { describe, expect, it } from 'vitest';
import { validateApp, type AppDefinition } from '../../framework/apps/app-definition.js';
import { constraintRefusal, parseConstraint, type AgentFacts, type Constraint } from '../../framework/apps/constraints.js';
import { planApp as planAt, upgradeBounds, type Instance } from '../../framework/apps/planner.js';
import { matchOffers, type OfferView } from '../../framework/apps/offer-matcher.js';
import { appTaskInfo, launchDelaySeconds, taskEnv } from '../../framework/apps/task-info.js';
import { Resources } from '../../common/resources.js';
import { appView, readinessResults } from '../../framework/apps/views.js';
import { serving, type MarathonApp } from '../../framework/lb/model.js';

const V1 = '2026-01-01T00:00:00.000Z';
const V2 = '2026-01-02T00:00:00.000Z';

function app(json: Record<string, unknown>, version = V1): AppDefinition {
  const r = validateApp({ id: '/web', cmd: 'sleep 100', cpus: 0.1, mem: 32, ...json }, { version });
  if (!r.ok) throw new Error(JSON.stringify(r.details));
  return r.app;
}

const agent = (hostname: string, attributes: Record<string, string> = {}): AgentFacts => ({ hostname, attributes });
const c = (...raw: string[]): Constraint => {
  const got = parseConstraint(raw);
  if (typeof got === 'string') throw new Error(got);
  return got;
};

/** Seconds since the epoch the plans are made at: a day after the instances were staged. */
const NOW = Date.UTC(2026, 0, 2) / 1000;
const planApp = (a: AppDefinition, instances: readonly Instance[]) => planAt(a, instances, NOW);

let seq = 0;
function inst(over: Partial<Instance> = {}): Instance {
  seq++;
  return {
    taskId: `web.${seq}`, appId: '/web', version: V1, agentId: 'a1', agent: agent('h1'), ports: [], servicePorts: [],
    stagedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), state: 'TASK_RUNNING', ...over,
  };
}

describe('constraints', () => {
  const h = (n: string, rack = 'r1'): AgentFacts => agent(n, { rack });
  it.each<[string, Constraint, AgentFacts, AgentFacts[], RegExp | null]>([
    ['UNIQUE hostname, free host', c('hostname', 'UNIQUE'), h('a'), [h('b')], null],
    ['UNIQUE hostname, taken host', c('hostname', 'UNIQUE'), h('a'), [h('a')], /already runs where hostname is 'a'/],
    ['CLUSTER rack r1 on r2', c('rack', 'CLUSTER', 'r1'), h('a', 'r2'), [], /must run where it is 'r1'/],
    ['CLUSTER without value follows the first', c('rack', 'CLUSTER'), h('a', 'r2'), [h('b', 'r1')], /'r1'/],
    ['LIKE matches fully', c('hostname', 'LIKE', 'web-[0-9]+'), agent('web-12'), [], null],
    ['LIKE partial is no match', c('hostname', 'LIKE', 'web'), agent('web-12'), [], /does not match/],
    ['UNLIKE', c('hostname', 'UNLIKE', 'db-.*'), agent('db-1'), [], /matches/],
    ['UNLIKE on a missing attribute is fine', c('gpu', 'UNLIKE', 'yes'), agent('x'), [], null],
    ['MAX_PER 2 with 2 there', c('rack', 'MAX_PER', '2'), h('a'), [h('b'), h('c')], /2 instance\(s\) already run/],
    ['MAX_PER 2 with 1 there', c('rack', 'MAX_PER', '2'), h('a'), [h('b'), h('c', 'r2')], null],
    ['IS', c('rack', 'IS', 'r2'), h('a'), [], /is 'r1', not 'r2'/],
    ['missing attribute', c('zone', 'UNIQUE'), h('a'), [], /has no attribute 'zone'/],
    ['GROUP_BY 2 waits for the second value', c('rack', 'GROUP_BY', '2'), h('a'), [h('b')], /waiting for an agent with another/],
    ['GROUP_BY evens out', c('rack', 'GROUP_BY'), h('a'), [h('b'), h('c'), h('d', 'r2')], /has 2 instance\(s\), another value has 1/],
  ])('%s', (_what, constraint, candidate, placed, want) => {
    const got = constraintRefusal(constraint, candidate, placed);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});

describe('planApp', () => {
  it('launches what is missing', () => {
    expect(planApp(app({ instances: 3 }), [inst()])).toMatchObject({ launch: 2, kill: [], complete: false });
  });

  it('is complete with every instance running', () => {
    expect(planApp(app({ instances: 2 }), [inst(), inst()])).toMatchObject({ launch: 0, kill: [], complete: true, healthy: 2 });
  });

  it('kills the youngest first by default, the oldest with OLDEST_FIRST', () => {
    const [a, b, c3] = [inst(), inst(), inst()];
    expect(planApp(app({ instances: 1 }), [a, b, c3]).kill.map((i) => i.taskId)).toEqual([c3.taskId, b.taskId]);
    expect(planApp(app({ instances: 1, killSelection: 'OLDEST_FIRST' }), [a, b, c3]).kill.map((i) => i.taskId)).toEqual([a.taskId, b.taskId]);
  });

  it('kills unhealthy instances before healthy ones', () => {
    const checked = app({ instances: 1, healthChecks: [{ protocol: 'MESOS_TCP' }] });
    const good = inst({ healthy: true, healthChecked: true });
    const bad = inst({ healthy: false, healthChecked: true, stagedAt: V1 });
    expect(planApp(checked, [good, bad]).kill).toEqual([bad]);
  });

  it('counts only healthy instances as healthy when there is a check', () => {
    const checked = app({ instances: 2, healthChecks: [{ protocol: 'MESOS_TCP' }] });
    expect(planApp(checked, [inst({ healthy: true, healthChecked: true }), inst({ healthChecked: true })])).toMatchObject({ complete: false, healthy: 1 });
  });

  it('does not kill again what is being killed, and waits for it to go', () => {
    const dying = inst({ killing: true });
    expect(planApp(app({ instances: 1 }), [inst(), dying])).toMatchObject({ kill: [], complete: false, launch: 0 });
  });

  it.each([
    // instances, minimumHealthCapacity, maximumOverCapacity → minHealthy, maxCapacity
    [4, 1, 1, 4, 8],
    [4, 0.5, 0, 2, 4],
    [3, 0.5, 0.5, 2, 4], // ⌈1.5⌉ = 2, ⌊4.5⌋ = 4
    [1, 1, 0.5, 1, 2], // ⌊1.5⌋ = 1 leaves no room: one more than minHealthy
  ])('upgrade bounds for %i instances, %f, %f: min %i healthy, at most %i', (instances, min, over, minHealthy, maxCapacity) => {
    expect(upgradeBounds(app({ instances, upgradeStrategy: { minimumHealthCapacity: min, maximumOverCapacity: over } }))).toEqual({ minHealthy, maxCapacity });
  });

  it('rolls: new instances first while healthy ones stay above the minimum', () => {
    const next = app({ instances: 2, cmd: 'sleep 200' }, V2);
    const old = [inst(), inst()];
    // min 2 healthy, capacity 4: both new launch, no old one may go yet.
    expect(planApp(next, old)).toMatchObject({ launch: 2, kill: [] });
    const fresh = [inst({ version: V2, state: 'TASK_STAGING' }), inst({ version: V2 })];
    // One new is healthy: 3 healthy, one old may go.
    const plan = planApp(next, [...old, ...fresh]);
    expect(plan.launch).toBe(0);
    expect(plan.kill).toHaveLength(1);
    expect(plan.kill[0]!.version).toBe(V1);
  });

  it("judges old instances by their own version's check when the upgrade adds one", () => {
    const next = app({ instances: 2, cmd: 'sleep 200', healthChecks: [{ protocol: 'MESOS_TCP' }] }, V2);
    expect(planApp(next, [inst(), inst()])).toMatchObject({ launch: 2, kill: [], healthy: 2 });
    const unchecked = [inst({ version: V2, healthChecked: true }), inst({ version: V2, healthChecked: true })];
    expect(planApp(next, [inst(), inst(), ...unchecked]).kill).toEqual([]);
  });

  it('replaces an instance unreachable past inactiveAfterSeconds, not before, and never with "disabled"', () => {
    const since = (secondsAgo: number): string => new Date((NOW - secondsAgo) * 1000).toISOString();
    const strategy = { inactiveAfterSeconds: 60, expungeAfterSeconds: 120 };
    const a = app({ instances: 2, unreachableStrategy: strategy });
    const ok = inst();
    expect(planApp(a, [ok, inst({ state: 'TASK_UNREACHABLE', unreachableSince: since(30) })])).toMatchObject({ launch: 0 });
    expect(planApp(a, [ok, inst({ state: 'TASK_UNREACHABLE', unreachableSince: since(90) })])).toMatchObject({ launch: 1, kill: [] });
    expect(planApp(app({ instances: 2, unreachableStrategy: 'disabled' }), [ok, inst({ state: 'TASK_UNREACHABLE', unreachableSince: since(9999) })])).toMatchObject({ launch: 0 });
  });

  it('rolls down first when minimumHealthCapacity allows it and there is no over-capacity', () => {
    const next = app({ instances: 2, cmd: 'sleep 200', upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 } }, V2);
    const plan = planApp(next, [inst(), inst()]);
    expect(plan).toMatchObject({ launch: 0 });
    expect(plan.kill).toHaveLength(1);
  });
});

describe('matchOffers', () => {
  const offer = (id: string, hostname: string, resources = 'cpus:1;mem:256;ports:[31000-31009]'): OfferView => ({
    id, agentId: `agent-${hostname}`, agent: agent(hostname), resources: Resources.parse(resources),
  });

  it('packs instances and takes one port per port definition', () => {
    const a = app({ instances: 2, portDefinitions: [{ port: 0 }, { port: 0 }] });
    const r = matchOffers([offer('o1', 'h1')], [{ app: a, count: 2, placed: [] }]);
    expect(r.launches.map((l) => l.ports)).toEqual([[31000, 31001], [31002, 31003]]);
    expect(r.unused).toEqual([]);
  });

  it('says why with UNIQUE hostname and one agent', () => {
    const a = app({ instances: 2, constraints: [['hostname', 'UNIQUE']] });
    const r = matchOffers([offer('o1', 'h1')], [{ app: a, count: 2, placed: [] }]);
    expect(r.launches).toHaveLength(1);
    expect(r.refusals.get('/web')).toEqual([expect.objectContaining({ offerId: 'o1', reason: 'UnfulfilledConstraint', message: expect.stringMatching(/hostname:UNIQUE/) })]);
  });

  it('names the missing resource', () => {
    const a = app({ cpus: 4 });
    const r = matchOffers([offer('o1', 'h1')], [{ app: a, count: 1, placed: [] }]);
    expect(r.unused.map((o) => o.id)).toEqual(['o1']);
    expect(r.refusals.get('/web')![0]).toMatchObject({ reason: 'InsufficientCpus', message: expect.stringMatching(/needs cpus:4/) });
  });

  it('takes the exact ports with requirePorts', () => {
    const a = app({ requirePorts: true, portDefinitions: [{ port: 31005 }] });
    const r = matchOffers([offer('o1', 'h1')], [{ app: a, count: 1, placed: [] }]);
    expect(r.launches[0]!.ports).toEqual([31005]);
    const busy = matchOffers([offer('o2', 'h1', 'cpus:1;mem:256;ports:[31000-31004]')], [{ app: a, count: 1, placed: [] }]);
    expect(busy.refusals.get('/web')![0]!.reason).toBe('InsufficientPorts');
  });
});

describe('tasks', () => {
  it("sets Marathon's environment", () => {
    const a = app({ env: { A: 'b' }, portDefinitions: [{ port: 10001, name: 'http' }] });
    expect(taskEnv(a, 'web.1', 'h1', [31000])).toMatchObject({
      A: 'b', PORT0: '31000', PORT: '31000', PORTS: '31000', PORT_HTTP: '31000', PORT_10001: '31000', HOST: 'h1', MARATHON_APP_ID: '/web', MESOS_TASK_ID: 'web.1',
    });
  });

  it('maps the health check to a Mesos one on the task port', () => {
    const a = app({ healthChecks: [{ protocol: 'MESOS_HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 5, intervalSeconds: 2, maxConsecutiveFailures: 0 }] });
    const o: OfferView = { id: 'o', agentId: 'ag', agent: agent('h1'), resources: Resources.parse('cpus:1;mem:256;ports:[31000-31000]') };
    const t = appTaskInfo({ offer: o, app: a, resources: Resources.parse('cpus:0.1;mem:32;ports:[31000-31000]'), ports: [31000] }, 'web.1', 'img');
    expect(t.health_check).toMatchObject({ type: 'HTTP', http: { port: 31000, path: '/health' }, grace_period_seconds: 5, interval_seconds: 2, consecutive_failures: 2 ** 31 - 1 });
    expect(t.container?.docker?.image).toBe('img');
  });

  it.each([
    [0, 0], [1, 1], [2, 1.15], [3, 1.3225], [100, 3600],
  ])('backs off %i failure(s) by %f s', (failures, seconds) => {
    expect(launchDelaySeconds(app({}), failures)).toBeCloseTo(seconds, 3);
  });
});

describe('readiness results (embed=apps.readiness)', () => {
  const ready = app({ portDefinitions: [{ port: 0, name: 'http' }], readinessChecks: [{ name: 'warm', portName: 'http' }] });
  const waiting = inst({ readinessChecked: true });
  const done = inst({ readinessChecked: true, ready: true });
  const leaving = inst({ readinessChecked: true, killing: true });
  const older = inst(); // launched before the check existed

  it("lists the live instances launched with a check, as Marathon's readinessCheckResults", () => {
    expect(readinessResults(ready, [waiting, done, leaving, older])).toEqual([
      { name: 'warm', taskId: waiting.taskId, ready: false },
      { name: 'warm', taskId: done.taskId, ready: true },
    ]);
  });

  it('is what keeps a balancer off an instance that is not ready yet', () => {
    const view = { ...appView(ready, [waiting, done], [], true), readinessCheckResults: readinessResults(ready, [waiting, done]) } as unknown as MarathonApp;
    expect(view.tasks!.map((t) => serving(view, t))).toEqual([false, true]);
  });
});
