// The autoscaler's metric computations: requests per second from HAProxy's
// CSV statistics rows, cpu utilization from two /monitor/statistics samples,
// the --lb_stats flag, and the decision loop against a real EventBus and
// AppsState with a metric source standing in for the load balancer.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { createLogger } from '../../common/log/logger.js';
import { validateApp, type AppDefinition } from '../../framework/apps/app-definition.js';
import { AgentCpuUsage, cpuSamples, cpuUtilization, LoadBalancerRequestRate, requestsPerSecond } from '../../framework/apps/autoscale-metrics.js';
import { AutoscaleLoop } from '../../framework/apps/autoscale-loop.js';
import type { MetricValue } from '../../framework/apps/autoscaler.js';
import { EventBus, type AppsEvent } from '../../framework/apps/events.js';
import type { Instance } from '../../framework/apps/planner.js';
import { AppsState } from '../../framework/apps/runtime.js';
import { parseStatsCsv } from '../../framework/lb/haproxy-stats.js';

const V = '2026-01-01T00:00:00.000Z';
function app(json: Record<string, unknown>): AppDefinition {
  const r = validateApp({ id: '/shop/web', cmd: 'x', ...json }, { version: V });
  if (!r.ok) throw new Error(JSON.stringify(r.details));
  return r.app;
}

const instance = (taskId: string, over: Partial<Instance> = {}): Instance => ({
  taskId, appId: '/shop/web', version: V, agentId: 'a1', agent: { hostname: 'h', attributes: {} }, agentUrl: 'http://127.0.0.1:5051',
  ports: [31000], servicePorts: [10000], stagedAt: V, state: 'TASK_RUNNING', ...over,
});

// Two balancers' pages, cut down to the columns read; shop_web_10000 is the app's first service port, shop_web_10001 its second.
const lbA = parseStatsCsv([
  '# pxname,svname,scur,stot,status,rate,req_rate,req_tot,',
  'shop_web_10000,FRONTEND,3,120,OPEN,4,30,300,',
  'shop_web_10000,BACKEND,3,120,UP,4,,,',
  'shop_web_10001,FRONTEND,1,10,OPEN,6,,,',
  'other_10002,FRONTEND,1,10,OPEN,99,99,,',
].join('\n'));
const lbB = parseStatsCsv(['# pxname,svname,scur,stot,status,rate,req_rate,req_tot,', 'shop_web_10000,FRONTEND,1,5,OPEN,2,10,40,'].join('\n'));

describe('requests per second from HAProxy statistics', () => {
  const ports = [{ port: 10000 }, { port: 10001 }];
  it.each([
    // labels, balancers, running, expected
    [{ HAPROXY_0_MODE: 'http' }, [lbA], 2, 18], // port 0 http: req_rate 30; port 1 tcp: rate 6; (30 + 6) / 2 = 18
    [{}, [lbA], 2, 5], // both tcp: rate 4 + 6 = 10; 10 / 2 = 5
    [{ HAPROXY_0_VHOST: 'web.shop.test' }, [lbA, lbB], 4, 11.5], // port 0 http on A and B: 30 + 10; port 1 tcp on A: 6; 46 / 4 = 11.5
    [{ HAPROXY_0_MODE: 'http', HAPROXY_1_MODE: 'http' }, [lbA], 1, 30], // port 1 http has no req_rate: 30 + 0 = 30
  ])('labels %j over %#: %d running → %d', (labels, balancers, running, want) => {
    expect(requestsPerSecond(app({ labels, portDefinitions: ports, requirePorts: true }), balancers, running)).toEqual({ value: want });
  });

  it('has no value without running instances, without a frontend, or without a service port', () => {
    const a = app({ portDefinitions: ports, requirePorts: true });
    expect(requestsPerSecond(a, [lbA], 0)).toEqual({ noData: 'no running instance' });
    expect(requestsPerSecond(app({ portDefinitions: [{ port: 12000 }], requirePorts: true }), [lbA], 1)).toEqual({ noData: "no frontend shop_web_12000 in the load balancers' statistics" });
    expect(requestsPerSecond(app({ portDefinitions: [] }), [lbA], 1)).toMatchObject({ noData: expect.stringContaining('no service port') });
  });

  it('gives no value when a balancer cannot be read, rather than a low sum', async () => {
    const pages = new Map([['http://a/haproxy?stats', lbA]]);
    const source = new LoadBalancerRequestRate(['http://a/haproxy?stats', 'http://b/haproxy?stats'], async (url) => {
      const rows = pages.get(url);
      if (!rows) throw new Error('connect ECONNREFUSED');
      return rows;
    });
    const a = app({ portDefinitions: ports, requirePorts: true });
    expect(await source.read(a, [instance('t1')])).toEqual({ noData: 'load balancer statistics http://b/haproxy?stats: connect ECONNREFUSED' });
    expect(await new LoadBalancerRequestRate([]).read(a, [instance('t1')])).toMatchObject({ noData: expect.stringContaining('--lb_stats') });
  });
});

/** An agent's /monitor/statistics entry. */
const stat = (id: string, user: number, system: number, timestamp: number) => ({
  executor_id: id, executor_name: 'x', framework_id: 'f', source: id,
  statistics: { timestamp, cpus_user_time_secs: user, cpus_system_time_secs: system, cpus_limit: 0.2, mem_rss_bytes: 1 },
});

describe('cpu utilization from two statistics samples', () => {
  const first = cpuSamples([stat('t1', 10, 2, 1000), stat('t2', 5, 0, 1000), { executor_id: 't3', statistics: { timestamp: 'x' } }, null]);
  const second = cpuSamples([stat('t1', 10.8, 2.2, 1010), stat('t2', 5.5, 0.5, 1010)]);

  it('skips malformed entries', () => expect([...first.keys()]).toEqual(['t1', 't2']));

  it.each([
    // tasks, cpus, expected
    [['t1'], 0.2, 0.5], // (13.0 - 12) / 10 s / 0.2 cpus = 0.5
    [['t2'], 0.2, 0.5], // (6.0 - 5) / 10 / 0.2 = 0.5
    [['t1', 't2'], 0.1, 1], // each 0.1 cpu-s per s / 0.1 = 1.0; mean 1.0
    [['t1', 'gone'], 0.2, 0.5], // 'gone' has no samples: left out of the mean
  ])('%j with cpus %d → %d', (ids, cpus, want) => {
    const v = cpuUtilization(first, second, ids, cpus);
    expect('value' in v && v.value).toBeCloseTo(want, 9);
  });

  it('has no value before a second sample', () => {
    expect(cpuUtilization(new Map(), second, ['t1'], 0.2)).toEqual({ noData: 'no two cpu samples yet of any of 1 running instance(s)' });
    expect(cpuUtilization(first, first, ['t1'], 0.2)).toMatchObject({ noData: expect.any(String) }); // no time between
    expect(cpuUtilization(first, second, [], 0.2)).toEqual({ noData: 'no running instance' });
  });

  it('keeps the previous sample between readings, one agent read per reading', async () => {
    const pages = [[stat('t1', 1, 0, 100)], [stat('t1', 1.5, 0, 105)]];
    const asked: string[] = [];
    const source = new AgentCpuUsage(async (url) => (asked.push(url), pages.shift()));
    const a = app({ cpus: 0.5 });
    expect(await source.read(a, [instance('t1')])).toMatchObject({ noData: expect.any(String) });
    expect(await source.read(a, [instance('t1')])).toEqual({ value: 0.2 }); // 0.5 cpu-s / 5 s / 0.5 cpus = 0.2
    expect(asked).toEqual(['http://127.0.0.1:5051/monitor/statistics', 'http://127.0.0.1:5051/monitor/statistics']);
    expect(await new AgentCpuUsage(async () => []).read(a, [instance('t1', { agentUrl: undefined })])).toMatchObject({ noData: expect.stringContaining('not known') });
  });
});

describe('the autoscale loop', () => {
  function setup(values: MetricValue[], refuse?: string) {
    const state = new AppsState();
    const clock = new ManualClock(1000);
    const events = new EventBus();
    const seen: AppsEvent[] = [];
    events.subscribe((e) => seen.push(e));
    const scaled: number[] = [];
    const web = app({ instances: 1, autoscale: { minInstances: 1, maxInstances: 4, metric: 'requestsPerSecond', target: 10, intervalSeconds: 5, scaleDownStabilizationSeconds: 20 } });
    state.apps.set(web.id, web);
    state.instances.set('t1', instance('t1'));
    const source = { read: async () => values.shift() ?? { noData: 'no more values' } };
    const loop = new AutoscaleLoop({
      state, events, clock, log: createLogger({ component: 'test', quiet: true }),
      scale: async (id, n) => {
        if (refuse) throw new Error(refuse);
        scaled.push(n);
        state.apps.set(id, { ...state.apps.get(id)!, instances: n });
      },
      sources: { requestsPerSecond: source, cpu: new AgentCpuUsage(async () => []) },
    });
    return { state, clock, seen, scaled, loop };
  }

  it('decides every intervalSeconds, scales, publishes and keeps each decision', async () => {
    const { clock, seen, scaled, loop, state } = setup([{ value: 30 }, { value: 2 }, { noData: 'lb down' }]);
    await loop.tick(); // ceil(1 × 30/10) = 3: up at once
    await loop.tick(); // not due yet: nothing
    clock.advance(5);
    await loop.tick(); // ceil(3 × 2/10) = 1, but 3 was recommended 5 s ago (window 20 s): hold
    clock.advance(5);
    await loop.tick(); // no value: hold
    expect(scaled).toEqual([3]);
    expect(seen.filter((e) => e.eventType === 'autoscale_decision_event').map((e) => [e.currentInstances, e.desiredInstances, e.value])).toEqual([[1, 3, 30], [3, 3, 2], [3, 3, null]]);
    const entry = loop.entry('/shop/web')!;
    expect(entry).toMatchObject({ appId: '/shop/web', metric: 'requestsPerSecond', target: 10, minInstances: 1, maxInstances: 4, instances: 3, lastValue: 2 });
    expect(entry.decisions.map((d) => [d.from, d.to])).toEqual([[1, 3], [3, 3], [3, 3]]);
    expect(entry.decisions[2]!.reason).toBe('no metric value: lb down');
    expect(loop.entries()).toHaveLength(1);
    expect(loop.metricsText()).toContain('mesos_ts_apps_autoscale_scalings_total{app="/shop/web",direction="up"} 1');
    state.apps.delete('/shop/web');
    expect(loop.entry('/shop/web')).toBeNull();
  });

  it('holds while a deployment of the app runs, saying so', async () => {
    const { state, seen, scaled, loop } = setup([{ value: 30 }]);
    state.deployments.set('d1', { id: 'd1', appId: '/shop/web', version: V, actions: ['ScaleApplication'], startedAt: V, previous: null });
    await loop.tick();
    expect(scaled).toEqual([]);
    expect(seen[0]).toMatchObject({ eventType: 'autoscale_decision_event', desiredInstances: 1, reason: expect.stringMatching(/^hold: deployment d1 of this app is running \(scale up: .*= 3\)$/) });
  });

  it('records a refused scale as not applied', async () => {
    const { loop } = setup([{ value: 30 }], 'App is locked');
    await loop.tick();
    expect(loop.entry('/shop/web')!.decisions[0]).toMatchObject({ from: 1, to: 1, reason: expect.stringContaining('not applied: App is locked') });
  });
});
