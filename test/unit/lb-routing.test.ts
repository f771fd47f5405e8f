// The balancer's pure part: apps as Marathon's API shows them in, routes
// and HAProxy's configuration out.
import { describe, expect, it } from 'vitest';
import { routing, serving, type MarathonApp, type MarathonTask } from '../../framework/lb/model.js';
import { renderConfig, shapeOf } from '../../framework/lb/haproxy-config.js';

const OPTIONS = { bindAddress: '127.0.0.1', groups: ['*'] };
const SETTINGS = { adminSocket: '/run/lb/admin.sock', httpPort: 9080, statsPort: null, bindAddress: '127.0.0.1', timeoutSeconds: 60 };

const task = (id: string, port: number, extra: Partial<MarathonTask> = {}): MarathonTask => ({ id, host: '127.0.0.1', ports: [port], state: 'TASK_RUNNING', ...extra });
const app = (id: string, servicePort: number, tasks: MarathonTask[], extra: Partial<MarathonApp> = {}): MarathonApp => ({
  id, portDefinitions: [{ port: servicePort }], tasks, ...extra,
});

describe('routes from apps', () => {
  it('gives each service port a frontend and a backend of the serving tasks, in a stable order', () => {
    const apps = [
      app('/prod/web', 10000, [task('web.2', 31002), task('web.1', 31001)]),
      app('/db', 10001, [task('db.1', 31010)]),
    ];
    const { routing: r, skipped } = routing(apps, OPTIONS);
    expect(skipped).toEqual([]);
    expect(r.frontends.map((f) => `${f.name} ${f.bindAddress}:${f.port} ${f.mode}`)).toEqual(['db_10001 127.0.0.1:10001 tcp', 'prod_web_10000 127.0.0.1:10000 tcp']);
    expect(r.backends.find((b) => b.name === 'prod_web_10000')!.servers).toEqual([
      { name: 'web.1_0', host: '127.0.0.1', port: 31001 },
      { name: 'web.2_0', host: '127.0.0.1', port: 31002 },
    ]);
    expect(routing([...apps].reverse(), OPTIONS).routing).toEqual(r);
  });

  it.each([
    ['staging', { state: 'TASK_STAGING' }, {}, false],
    ['killing (drained before it goes)', { state: 'TASK_KILLING' }, {}, false],
    ['running, no checks', {}, {}, true],
    ['not checked yet', {}, { healthChecks: [{}] }, false],
    ['one of two checks failing', { healthCheckResults: [{ alive: true }, { alive: false }] }, { healthChecks: [{}, {}] }, false],
    ['healthy', { healthCheckResults: [{ alive: true }] }, { healthChecks: [{}] }, true],
    ['not ready', {}, { readinessChecks: [{}], readinessCheckResults: [{ taskId: 't', ready: false }] }, false],
  ] as const)('a task %s serves: %s', (_name, taskExtra, appExtra, expected) => {
    const t = task('t', 31000, taskExtra as Partial<MarathonTask>);
    expect(serving(app('/a', 10000, [t], appExtra as Partial<MarathonApp>), t)).toBe(expected);
  });

  it('reads marathon-lb labels: VHOST (http mode), MODE, BALANCE, PORT, BIND_ADDR', () => {
    const { routing: r } = routing([app('/web', 10000, [task('w', 31000)], {
      labels: { HAPROXY_0_VHOST: 'Web.Example.com,www.example.com', HAPROXY_0_BALANCE: 'leastconn', HAPROXY_0_PORT: '10080', HAPROXY_0_BIND_ADDR: '127.0.0.2' },
    })], OPTIONS);
    expect(r.frontends).toEqual([{ name: 'web_10080', bindAddress: '127.0.0.2', port: 10080, mode: 'http', backend: 'web_10080' }]);
    expect(r.backends[0]).toMatchObject({ mode: 'http', balance: 'leastconn' });
    expect(r.vhosts).toEqual([{ host: 'web.example.com', backend: 'web_10080' }, { host: 'www.example.com', backend: 'web_10080' }]);
  });

  it('serves only the apps of its groups, unless it serves *', () => {
    const apps = [app('/a', 10000, [], { labels: { HAPROXY_GROUP: 'external' } }), app('/b', 10001, [], { labels: { HAPROXY_GROUP: 'internal' } }), app('/c', 10002, [])];
    expect(routing(apps, { ...OPTIONS, groups: ['external'] }).routing.frontends.map((f) => f.port)).toEqual([10000]);
    expect(routing(apps, OPTIONS).routing.frontends.map((f) => f.port)).toEqual([10000, 10001, 10002]);
  });

  it.each([
    [{ HAPROXY_0_MODE: 'udp' }, 'HAPROXY_0_MODE must be http or tcp'],
    [{ HAPROXY_0_BALANCE: 'roundrobin\n  server x 1.2.3.4:1' }, 'HAPROXY_0_BALANCE must be one of'],
    [{ HAPROXY_0_VHOST: 'a b' }, "HAPROXY_0_VHOST holds 'a b', not a host name"],
    [{ HAPROXY_0_VHOST: 'a.example', HAPROXY_0_MODE: 'tcp' }, 'HAPROXY_0_VHOST needs HAPROXY_0_MODE http'],
    [{ HAPROXY_0_PORT: '70000' }, 'service port 0 is 70000, not a port'],
    [{ HAPROXY_0_BIND_ADDR: '0.0.0.0 ssl' }, 'HAPROXY_0_BIND_ADDR must be an IPv4 address'],
  ])('skips an app whose labels are wrong (%j), naming the label, and routes the others', (labels, message) => {
    const { routing: r, skipped } = routing([app('/bad', 10000, [], { labels }), app('/good', 10001, [task('g', 31000)])], OPTIONS);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toContain('app /bad');
    expect(skipped[0]).toContain(message);
    expect(r.frontends.map((f) => f.port)).toEqual([10001]);
  });

  it('gives a service port or a virtual host to the first app (by id) that asks, and says why the other is left out', () => {
    const { routing: r, skipped } = routing([app('/b', 10000, []), app('/a', 10000, [])], OPTIONS);
    expect(r.frontends.map((f) => f.backend)).toEqual(['a_10000']);
    expect(skipped).toEqual(['app /b: service port 10000 is already served for /a']);
  });

  it('never writes a task whose host or port could not be a server', () => {
    const { routing: r } = routing([app('/a', 10000, [task('ok', 31000), task('evil', 31001, { host: '1.2.3.4:80\n  server x' }), task('noport', 0, { ports: [] })])], OPTIONS);
    expect(r.backends[0]!.servers.map((s) => s.name)).toEqual(['ok_0']);
  });
});

describe("HAProxy's configuration", () => {
  const r = routing([app('/web', 10000, [task('w1', 31000)], { labels: { HAPROXY_0_VHOST: 'web.example.com' } })], OPTIONS).routing;

  it('binds each frontend, routes virtual hosts on the HTTP frontend and lists the servers', () => {
    const text = renderConfig(r, SETTINGS);
    expect(text).toContain('stats socket /run/lb/admin.sock mode 600 level admin expose-fd listeners');
    expect(text).toContain('frontend web_10000\n  bind 127.0.0.1:10000\n  mode http\n  option idle-close-on-response\n  default_backend web_10000');
    expect(text).toContain('frontend mesos_ts_http_in\n  bind 127.0.0.1:9080');
    expect(text).toContain('use_backend web_10000 if { hdr(host),field(1,:),lower -m str web.example.com }');
    expect(text).toContain('backend web_10000\n  mode http\n  balance roundrobin\n  option forwardfor\n  retry-on conn-failure empty-response response-timeout\n  option redispatch 1\n  server w1_0 127.0.0.1:31000');
  });

  it('has the same shape when only servers differ, another when a frontend does', () => {
    const more = { ...r, backends: r.backends.map((b) => ({ ...b, servers: [...b.servers, { name: 'w2_0', host: '127.0.0.1', port: 31001 }] })) };
    expect(shapeOf(more, SETTINGS)).toBe(shapeOf(r, SETTINGS));
    const moved = { ...r, frontends: r.frontends.map((f) => ({ ...f, port: 10001 })) };
    expect(shapeOf(moved, SETTINGS)).not.toBe(shapeOf(r, SETTINGS));
  });
});
