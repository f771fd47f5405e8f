// The autoscaler end to end, all real: ZooKeeper, a master, two agents
// (hostnames 127.0.0.2 and 127.0.0.3, loopback addresses HAProxy reaches),
// `mesos-ts apps` reading `mesos-ts lb`'s HAProxy statistics page
// (--lb_stats), and busybox httpd containers. A load generator sends
// requests through HAProxy: requestsPerSecond per instance goes above the
// target and the app scales up; the load stops and, once the short
// stabilization window has passed, it scales back down. The decisions are
// seen on /v2/events and in GET /v2/autoscale.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startAppsCluster, type AppsCluster, type AppsProc } from '../harness/apps-cluster.js';
import { freePort, type Proc } from '../harness/processes.js';
import { waitUntil } from '../harness/wait-until.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';

let cluster: AppsCluster;
let apps: AppsProc;
let lb: Proc;
let lbDir: string;
const events: Record<string, any>[] = [];
const stream = new AbortController();

// HAProxy binds service ports with SO_REUSEPORT, so a service port another test's balancer also binds (10000, the
// first one handed out) would share that test's traffic: this app asks for a free port of its own instead, outside
// the agents' port ranges (36000 and up).
async function servicePortOfItsOwn(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 36000 || port > 36999) return port;
  }
}

const web = (servicePort: number) => ({
  id: '/auto/web',
  cmd: 'mkdir -p /tmp/www && echo "$MESOS_TASK_ID" > /tmp/www/index.html && exec httpd -f -p "$PORT0" -h /tmp/www',
  cpus: 0.1,
  mem: 16,
  instances: 1,
  container: { type: 'DOCKER', docker: { image: TEST_IMAGE } },
  portDefinitions: [{ port: servicePort, name: 'http' }],
  // http mode: HAProxy counts requests (req_rate) on the app's frontend.
  labels: { HAPROXY_0_MODE: 'http' },
  taskKillGracePeriodSeconds: 1,
  autoscale: { minInstances: 1, maxInstances: 3, metric: 'requestsPerSecond', target: 5, intervalSeconds: 1, scaleDownStabilizationSeconds: 3 },
});

/** Follows /v2/events in the background, keeping the autoscaler's events. */
async function follow(url: string): Promise<void> {
  const res = await fetch(`${url}/v2/events?event_type=autoscale_decision_event`, { signal: stream.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    }
  })();
}

const instances = async (): Promise<number> => (await api(apps.url, 'GET', '/v2/apps/auto/web')).body.app.instances as number;
const running = async (): Promise<number> =>
  ((await api(apps.url, 'GET', '/v2/apps/auto/web/tasks')).body.tasks as { state: string }[]).filter((t) => t.state === 'TASK_RUNNING').length;

beforeAll(async () => {
  cluster = await startAppsCluster(['127.0.0.2', '127.0.0.3']);
  const statsPort = await freePort();
  apps = await cluster.startApps('apps-1', [`--lb_stats=http://127.0.0.1:${statsPort}/haproxy?stats`]);
  await apps.waitForLine(/leading and ready/, 30_000);
  lbDir = mkdtempSync(join(tmpdir(), 'mesos-ts-autoscale-e2e-'));
  lb = cluster.group.spawnCommand('lb', ['lb', `--apps=${apps.url}`, '--http_port=0', `--stats_port=${statsPort}`, `--work_dir=${lbDir}`, '--drain_seconds=2', '--resync_seconds=5']);
  await lb.waitForLine(/HAProxy (started|reloaded)/, 20_000);
  await follow(apps.url);
}, 180_000);

afterAll(async () => {
  stream.abort();
  if (process.env.AUTOSCALE_DEBUG) process.stderr.write(`[lb]\n${lb?.lines.slice(-30).join('\n')}\n[apps]\n${apps?.lines.slice(-60).join('\n')}\n`);
  await cluster?.stop();
  if (lbDir) rmSync(lbDir, { recursive: true, force: true });
}, 60_000);

describe('autoscaling on requests per second through HAProxy', () => {
  it('scales up under load and back down after it, publishing every decision', async () => {
    const servicePort = await servicePortOfItsOwn();
    const created = await api(apps.url, 'POST', '/v2/apps', web(servicePort));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await waitUntil(async () => (await running()) === 1, 60_000, 'one running instance');
    // Idle: the app's frontend shows 0 requests per second, ceil(1 × 0 / 5) = 0 → minInstances 1: hold.
    await waitUntil(() => events.some((e) => e.appId === '/auto/web' && e.value === 0), 30_000, 'a decision on an idle app');
    expect(await instances(), JSON.stringify(events)).toBe(1);

    let stop = false;
    let answered = 0;
    const load = (async () => {
      while (!stop) {
        const res = await fetch(`http://127.0.0.1:${servicePort}/`).catch(() => null);
        if (res?.ok) answered++;
        await res?.body?.cancel();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      // About 40 requests per second on 1 instance against a target of 5: ceil(1 × 8) = 8, clamped to 3.
      await waitUntil(async () => (await instances()) === 3, 60_000, 'the autoscaler to scale /auto/web up to 3');
      await waitUntil(async () => (await running()) === 3, 60_000, 'three running instances');
    } finally {
      stop = true;
      await load;
    }
    expect(answered).toBeGreaterThan(0);
    // Usually one step (1 → 3); a first reading of a still-rising rate may take two (1 → 2 → 3).
    const ups = events.filter((e) => e.appId === '/auto/web' && e.desiredInstances > e.currentInstances);
    expect(ups.length, JSON.stringify(events.slice(-5))).toBeGreaterThan(0);
    for (const e of ups) {
      expect(e).toMatchObject({ eventType: 'autoscale_decision_event', metric: 'requestsPerSecond', target: 5, reason: expect.stringMatching(/^scale up: /) });
      expect(e.value).toBeGreaterThan(5 * 1.1);
    }

    // No load: recommendation 1, applied as the 3 s window lets go of the higher ones (3 → 1, or 3 → 2 → 1 as the rate falls).
    await waitUntil(async () => (await instances()) === 1, 60_000, 'the autoscaler to scale /auto/web down to 1');
    await waitUntil(async () => (await running()) === 1, 60_000, 'one running instance again');
    const downs = events.filter((e) => e.appId === '/auto/web' && e.desiredInstances < e.currentInstances);
    expect(downs.length, JSON.stringify(events.slice(-5))).toBeGreaterThan(0);
    for (const e of downs) {
      expect(e.reason).toMatch(/^scale down: /);
      expect(e.value).toBeLessThan(5 * 0.9);
    }
    // The window held at least one scale-down back.
    expect(events.some((e) => e.currentInstances === e.desiredInstances && /scale-down stabilization/.test(e.reason))).toBe(true);

    const all = await api(apps.url, 'GET', '/v2/autoscale');
    expect(all.status).toBe(200);
    expect(all.body.apps).toHaveLength(1);
    const entry = all.body.apps[0];
    expect(entry).toMatchObject({ appId: '/auto/web', metric: 'requestsPerSecond', target: 5, minInstances: 1, maxInstances: 3, instances: 1, lastValue: expect.any(Number) });
    const moves = (entry.decisions as { from: number; to: number }[]).filter((d) => d.from !== d.to);
    expect(moves.length).toBe(ups.length + downs.length);
    expect(moves[0]!.from).toBe(1);
    expect(moves.map((d) => d.to)).toContain(3);
    expect(moves.at(-1)!.to).toBe(1);
    for (const d of entry.decisions) expect(Object.keys(d).sort()).toEqual(['from', 'reason', 'target', 'timestamp', 'to', 'value']);
    expect((await api(apps.url, 'GET', '/v2/autoscale/auto/web')).body).toMatchObject({ appId: '/auto/web', instances: 1 });
    const missing = await api(apps.url, 'GET', '/v2/autoscale/auto/none');
    expect(missing).toMatchObject({ status: 404, body: { message: "App '/auto/none' does not exist or is not autoscaled" } });
    const show = cluster.group.spawnCommand('cli-app-show', ['app', 'show', '/auto/web', `--apps=${apps.url}`]);
    expect((await show.exited).code, show.lines.join('\n')).toBe(0);
    expect(show.lines.join('\n')).toMatch(/autoscale: requestsPerSecond target 5, 1\.\.3 instances, last value [\d.]+; last decision \S+ \d → \d: /);
    const metrics = String((await api(apps.url, 'GET', '/metrics')).body);
    expect(metrics).toContain(`mesos_ts_apps_autoscale_scalings_total{app="/auto/web",direction="up"} ${ups.length}`);
    expect(metrics).toContain(`mesos_ts_apps_autoscale_scalings_total{app="/auto/web",direction="down"} ${downs.length}`);
  }, 240_000);

  it('scales up on cpu: a busy loop uses all of its 0.1 cpus against a target of half', async () => {
    const busy = {
      id: '/auto/busy', cmd: 'while :; do :; done', cpus: 0.1, mem: 16, instances: 1, portDefinitions: [],
      container: { type: 'DOCKER', docker: { image: TEST_IMAGE } }, taskKillGracePeriodSeconds: 1,
      autoscale: { minInstances: 1, maxInstances: 2, metric: 'cpu', target: 0.5, intervalSeconds: 1 },
    };
    expect((await api(apps.url, 'POST', '/v2/apps', busy)).status).toBe(201);
    // Utilization near 1 (the CFS quota holds it at its 0.1 cpus): ceil(1 × 1 / 0.5) = 2.
    await waitUntil(async () => (await api(apps.url, 'GET', '/v2/apps/auto/busy')).body.app.instances === 2, 60_000, 'the autoscaler to scale /auto/busy up to 2');
    const up = events.find((e) => e.appId === '/auto/busy' && e.currentInstances === 1 && e.desiredInstances === 2);
    expect(up).toMatchObject({ metric: 'cpu', target: 0.5, reason: expect.stringMatching(/^scale up: cpu utilization/) });
    expect(up!.value).toBeGreaterThan(0.55);
    expect((await api(apps.url, 'DELETE', '/v2/apps/auto/busy?force=true')).status).toBe(200);
    expect((await api(apps.url, 'GET', '/v2/autoscale/auto/busy')).status).toBe(404);
  }, 120_000);
});
