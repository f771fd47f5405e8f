// `mesos-ts lb` in front of the apps framework, all real: ZooKeeper, a
// master, two agents (hostnames 127.0.0.2 and 127.0.0.3, loopback addresses
// HAProxy can reach), `mesos-ts apps`, Debian's HAProxy, and a web service
// of busybox httpd containers each serving its own task id. Requests go
// through HAProxy by service port and by virtual host; the balancer follows
// scale-up, scale-down, a killed task and a rolling upgrade, and a steady
// stream of requests meets no failure while the app is upgraded and scaled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { api, startAppsCluster, type AppsCluster, type AppsProc } from '../harness/apps-cluster.js';
import { lbPorts, startLb, webApp, type TestLb } from '../harness/apps-lb.js';
import { freePort, type Proc } from '../harness/processes.js';
import { waitUntil } from '../harness/wait-until.js';

let cluster: AppsCluster;
let apps: AppsProc;
let testLb: TestLb;
let lb: Proc;
let httpPort: number;
let servicePort: number;

const web = (instances: number, version = 'v1') =>
  webApp({ id: '/shop/web', instances, version, servicePort, labels: { HAPROXY_0_VHOST: 'web.shop.test' } });

/** One request through HAProxy: by service port, or by virtual host on the shared HTTP port (fetch may not set Host). */
function through(how: 'port' | 'vhost'): Promise<string> {
  const port = how === 'port' ? servicePort : httpPort;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 3000, headers: how === 'vhost' ? { Host: 'web.shop.test' } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`${how} answered ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${how}: no answer in 3 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** The task ids answering through HAProxy over `n` requests. */
async function answering(n = 24, how: 'port' | 'vhost' = 'port'): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add((await through(how)).split(' ')[0]!);
  return seen;
}

const runningIds = async (): Promise<string[]> =>
  ((await api(apps.url, 'GET', '/v2/apps/shop/web/tasks')).body.tasks as { id: string; state: string }[]).filter((t) => t.state === 'TASK_RUNNING').map((t) => t.id).sort();

async function settled(n: number): Promise<void> {
  await waitUntil(async () => {
    const { body } = await api(apps.url, 'GET', '/v2/apps/shop/web');
    return body.app?.deployments.length === 0 && body.app.tasksHealthy === n && (await runningIds()).length === n;
  }, 60_000, `/shop/web to settle with ${n} healthy instance(s)`);
}

/** Waits until HAProxy routes to exactly the app's running tasks. */
async function routedToRunning(): Promise<Set<string>> {
  let seen = new Set<string>();
  await waitUntil(async () => {
    const ids = await runningIds();
    seen = await answering(Math.max(12, ids.length * 8)).catch(() => new Set<string>());
    return ids.length > 0 && [...seen].sort().join() === ids.join();
  }, 30_000, 'HAProxy to route to exactly the running tasks');
  return seen;
}

beforeAll(async () => {
  cluster = await startAppsCluster(['127.0.0.2', '127.0.0.3']);
  apps = await cluster.startApps('apps-1');
  await apps.waitForLine(/leading and ready/, 30_000);
  // A service port of our own: HAProxy binds with SO_REUSEPORT, so another test's HAProxy on the framework's first pick (10000) would share it.
  servicePort = await freePort();
  testLb = await startLb(cluster, apps.url, await lbPorts());
  lb = testLb.proc;
  httpPort = testLb.httpPort;
}, 180_000);

afterAll(async () => {
  if (process.env.LB_DEBUG) process.stderr.write(`[lb]\n${lb?.lines.slice(-40).join('\n')}\n[apps]\n${apps?.lines.slice(-40).join('\n')}\n`);
  await cluster?.stop();
  testLb?.cleanup();
}, 60_000);

describe('mesos-ts lb in front of mesos-ts apps', () => {
  it('routes a service port and a virtual host to the healthy instances', async () => {
    const created = await api(apps.url, 'POST', '/v2/apps', web(2));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.portDefinitions[0].port).toBe(servicePort);
    await settled(2);
    const seen = await routedToRunning();
    expect(seen.size).toBe(2);
    expect(await answering(8, 'vhost')).toEqual(seen);
  });

  it('follows a scale-up and a scale-down without a reload', async () => {
    const reloadsBefore = lb.lines.filter((l) => /HAProxy reloaded/.test(l)).length;
    expect((await api(apps.url, 'PUT', '/v2/apps/shop/web', { instances: 3 })).status).toBe(200);
    await settled(3);
    expect((await routedToRunning()).size).toBe(3);
    expect((await api(apps.url, 'PUT', '/v2/apps/shop/web', { instances: 1 })).status).toBe(200);
    await settled(1);
    expect((await routedToRunning()).size).toBe(1);
    expect(lb.lines.filter((l) => /HAProxy reloaded/.test(l)).length).toBe(reloadsBefore); // Servers changed through the runtime API.
  });

  it('routes to the replacement of a killed task', async () => {
    const [before] = await runningIds();
    expect((await api(apps.url, 'DELETE', `/v2/apps/shop/web/tasks/${before}`)).status).toBe(200);
    await waitUntil(async () => {
      const ids = await runningIds();
      return ids.length === 1 && ids[0] !== before;
    }, 30_000, 'the task to be replaced');
    await settled(1);
    const seen = await routedToRunning();
    expect(seen.has(before!)).toBe(false);
  }, 120_000);

  it('keeps every request answered while the app is upgraded and scaled', async () => {
    expect((await api(apps.url, 'PUT', '/v2/apps/shop/web', { instances: 2 })).status).toBe(200);
    await settled(2);
    await routedToRunning();
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const versions = new Set<string>();
    const load = (async () => {
      while (!stop) {
        try {
          versions.add((await through('port')).split(' ')[1]!);
          ok++;
        } catch (err) {
          failures.push(String((err as Error).cause ?? err));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      expect((await api(apps.url, 'PUT', '/v2/apps/shop/web', web(2, 'v2'))).status).toBe(200);
      await settled(2);
      await waitUntil(async () => (await answering(8)).size === 2 && (await through('port')).endsWith('v2'), 30_000, 'v2 to serve');
      expect((await api(apps.url, 'PUT', '/v2/apps/shop/web', { instances: 1 })).status).toBe(200);
      await settled(1);
      await routedToRunning();
    } finally {
      stop = true;
      await load;
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    expect(versions).toEqual(new Set(['v1', 'v2']));
  }, 180_000);
});
