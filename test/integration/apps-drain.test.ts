// Drain before kill, all real: ZooKeeper, a master, two agents (127.0.0.2 and
// 127.0.0.3, loopback addresses HAProxy reaches), `mesos-ts apps` reading
// `mesos-ts lb`'s statistics page (--lb_stats), HAProxy, and busybox httpd
// containers with a CGI script that takes a second. Steady traffic, a third
// of it slow POSTs, goes through HAProxy while the app is scaled down and
// restarted: no request fails, and every killed task's server was drained
// and emptied in HAProxy before the framework sent its KILL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startAppsCluster, type AppsCluster, type AppsProc } from '../harness/apps-cluster.js';
import { LoadGenerator, httpCall, lbPorts, startLb, webApp, type TestLb } from '../harness/apps-lb.js';
import { waitUntil } from '../harness/wait-until.js';
import { freePort } from '../harness/processes.js';
import { proxyName, serverName } from '../../framework/lb/model.js';

let cluster: AppsCluster;
let apps: AppsProc;
let lb: TestLb;
let servicePort: number;

const ID = '/shop/api';

const taskIds = async (): Promise<string[]> =>
  ((await api(apps.url, 'GET', '/v2/apps/shop/api/tasks')).body.tasks as { id: string }[]).map((t) => t.id).sort();

async function settled(n: number, version?: string): Promise<void> {
  await waitUntil(async () => {
    const { body } = await api(apps.url, 'GET', '/v2/apps/shop/api');
    const tasks = body.app?.tasks as { state: string; version: string }[] | undefined;
    return body.app?.deployments.length === 0 && body.app.tasksHealthy === n && tasks?.length === n && (!version || body.app.env.WEB_VERSION === version);
  }, 90_000, `${ID} to settle with ${n} healthy instance(s)`);
}

/** Waits until HAProxy answers from every one of the app's tasks. */
async function routedToAll(): Promise<void> {
  await waitUntil(async () => {
    const ids = await taskIds();
    const seen = new Set<string>();
    for (let i = 0; i < ids.length * 6; i++) seen.add((await httpCall(servicePort, '/').catch(() => ({ body: '' }))).body.split(' ')[0]!);
    return ids.every((id) => seen.has(id));
  }, 30_000, 'HAProxy to route to every task');
}

beforeAll(async () => {
  cluster = await startAppsCluster(['127.0.0.2', '127.0.0.3']);
  const ports = await lbPorts();
  apps = await cluster.startApps('apps-1', [`--lb_stats=${ports.statsUrl}`, '--drain_timeout=20s']);
  await apps.waitForLine(/leading and ready/, 30_000);
  lb = await startLb(cluster, apps.url, ports);
}, 180_000);

afterAll(async () => {
  if (process.env.LB_DEBUG) process.stderr.write(`[lb]\n${lb?.proc.lines.slice(-60).join('\n')}\n[apps]\n${apps?.lines.slice(-60).join('\n')}\n`);
  await cluster?.stop();
  lb?.cleanup();
}, 60_000);

describe('drain before kill, through HAProxy', () => {
  it('answers every request, slow POSTs included, through a scale-down and a rolling restart; killed servers drained first', async () => {
    const created = await api(apps.url, 'POST', '/v2/apps', webApp({ id: ID, instances: 4, servicePort: await freePort() }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    servicePort = created.body.portDefinitions[0].port as number;
    await settled(4);
    await routedToAll();
    const before = await taskIds();

    const load = new LoadGenerator(servicePort, { perSecond: 20, slowEvery: 3 });
    load.start();
    let scaled;
    let restarted;
    try {
      expect((await api(apps.url, 'PUT', '/v2/apps/shop/api', { instances: 2 })).status).toBe(200);
      await settled(2);
      // A quick drain can end the step within a second: the window goes on until it has carried some traffic.
      await waitUntil(() => load.peek().sent >= 30, 20_000, 'traffic through the scale-down');
      scaled = load.take();
      expect((await api(apps.url, 'POST', '/v2/apps/shop/api/restart', {})).status).toBe(200);
      await waitUntil(async () => (await taskIds()).every((id) => !before.includes(id)), 90_000, 'the restart to replace every instance');
      await settled(2);
      await waitUntil(() => load.peek().sent >= 30, 20_000, 'traffic through the restart');
    } finally {
      await load.stop();
      restarted = load.take();
    }
    expect(scaled.failures, 'requests failed during the scale-down').toEqual([]);
    expect(restarted.failures, 'requests failed during the restart').toEqual([]);
    expect(scaled.ok).toBeGreaterThan(20);
    expect(restarted.ok).toBeGreaterThan(20);

    // Every task that went: drained (the framework's log), emptied and removed by the lb with no connection cut,
    // and killed by the framework only after that, never on the --drain_timeout.
    const after = await taskIds();
    const killed = before.filter((id) => !after.includes(id));
    expect(killed).toHaveLength(4);
    const appsLog = apps.lines.join('\n');
    expect(appsLog).not.toMatch(/not drained after --drain_timeout/);
    for (const id of killed) {
      const draining = apps.lines.findIndex((l) => l.includes(`draining ${id} of ${ID}`));
      const killing = apps.lines.findIndex((l) => l.includes(`killing ${id} of ${ID}`));
      expect(draining, `${id} drained`).toBeGreaterThanOrEqual(0);
      expect(killing, `${id} killed after its drain`).toBeGreaterThan(draining);
      const key = `${proxyName(ID, servicePort)}/${serverName(id, 0)}`;
      await waitUntil(() => lb.proc.lines.some((l) => l.includes(`removed ${key}`)), 10_000, `the lb to remove ${key}`);
      expect(lb.proc.lines.find((l) => l.includes(`removed ${key}`))).not.toMatch(/connections cut/);
    }
  }, 300_000);
});
