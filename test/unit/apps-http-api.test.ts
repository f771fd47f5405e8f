// The apps REST API over a real HTTP server on 127.0.0.1:0, with the
// runtime behind it driven by a fake Scheduler and an in-memory store: bad
// requests get a clear status and body and change nothing; a standby
// redirects; the leader's answers keep Marathon's shapes.
import type { AddressInfo } from 'node:net';
import { postThenRead } from '../harness/raw-http.js';
import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log/logger.js';
import { EventBus } from '../../framework/apps/events.js';
import { createAppsHttpServer } from '../../framework/apps/http-api.js';
import { AppsOperations } from '../../framework/apps/operations.js';
import { AppsRuntime, AppsState } from '../../framework/apps/runtime.js';
import { AutoscaleLoop } from '../../framework/apps/autoscale-loop.js';
import { AgentCpuUsage } from '../../framework/apps/autoscale-metrics.js';
import { FakeScheduler } from '../harness/fake-scheduler.js';
import { MemoryAppsStore } from '../harness/memory-apps-store.js';

let server: Server;
let base: string;
let runtime: AppsRuntime;
let store: MemoryAppsStore;
let leader: { address: string; self: boolean } | null;

beforeEach(async () => {
  const state = new AppsState();
  const bus = new EventBus();
  store = new MemoryAppsStore();
  runtime = new AppsRuntime(state, new FakeScheduler(), store, bus, new ManualClock(1_700_000_000), silentLogger(), {
    declineRefuseSeconds: 5, defaultImage: 'x', reconcileTimeoutMs: 10, tickMs: 60_000, taskLaunchTimeoutSeconds: 300,
  });
  await runtime.reconcileThenRun();
  const ops = new AppsOperations(state, runtime, store, bus);
  leader = { address: 'me:8080', self: true };
  const autoscale = new AutoscaleLoop({
    state, events: bus, clock: new ManualClock(1_700_000_000), log: silentLogger(), scale: async () => {},
    sources: { cpu: new AgentCpuUsage(async () => []), requestsPerSecond: { read: async () => ({ noData: 'none in this test' }) } },
  });
  server = createAppsHttpServer({ leader: () => leader, operations: () => ops, events: bus, info: () => ({ name: 'test' }), metrics: () => 'm 1\n', autoscale: () => autoscale });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  runtime.stop();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function call(method: string, path: string, body?: string): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { method, redirect: 'manual', ...(body !== undefined && { body }) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

describe('apps REST API', () => {
  it.each([
    ['POST', '/v2/apps', '{not json', 400, /Invalid JSON/],
    ['POST', '/v2/apps', '', 400, /needs a JSON body/],
    ['POST', '/v2/apps', '[1]', 422, /Object is not valid/],
    ['GET', '/v2/apps/nope', undefined, 404, /App '\/nope' does not exist/],
    ['GET', '/v2/apps/Bad_Id', undefined, 422, /Object is not valid/],
    ['DELETE', '/v2/apps', undefined, 405, /DELETE is not allowed/],
    ['GET', '/v2/nothing', undefined, 404, /no route GET \/v2\/nothing/],
    ['GET', '/v2/deployments/none', undefined, 404, /DeploymentPlan none does not exist/],
    ['DELETE', '/v2/queue/nope/delay', undefined, 404, /does not exist/],
    // Malformed %-escapes in a path segment are the client's error, not the server's (found by test/integration/fuzz-apps.test.ts).
    ['GET', '/v2/apps/web/versions/%zz', undefined, 400, /path segment '%zz' is not valid URI encoding/],
    ['DELETE', '/v2/apps/web/tasks/%E0%A4%A', undefined, 400, /is not valid URI encoding/],
    ['GET', '/v2/deployments/%', undefined, 400, /is not valid URI encoding/],
    ['GET', '/v2/autoscale/%zz', undefined, 400, /is not valid URI encoding/],
  ])('%s %s %j answers %i', async (method, path, body, status, message) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(status);
    expect(res.json.message).toMatch(message);
    expect(store.writes).toBe(0);
  });

  it('answers GET /v2/autoscale with the autoscaled apps, 404 for others, and refuses instances outside the bounds', async () => {
    const autoscale = { minInstances: 1, maxInstances: 3, metric: 'requestsPerSecond', target: 20 };
    expect((await call('POST', '/v2/apps', JSON.stringify({ id: '/as/web', cmd: 'x', instances: 2, autoscale }))).status).toBe(201);
    expect((await call('POST', '/v2/apps', JSON.stringify({ id: '/as/plain', cmd: 'x' }))).status).toBe(201);
    const all = await call('GET', '/v2/autoscale');
    expect(all.json).toEqual({ apps: [{ appId: '/as/web', metric: 'requestsPerSecond', target: 20, minInstances: 1, maxInstances: 3, instances: 2, lastValue: null, decisions: [] }] });
    expect((await call('GET', '/v2/autoscale/as/web/')).json).toEqual(all.json.apps[0]);
    expect(await call('GET', '/v2/autoscale/as/plain')).toMatchObject({ status: 404, json: { message: "App '/as/plain' does not exist or is not autoscaled" } });
    expect((await call('POST', '/v2/autoscale', '{}')).status).toBe(405);
    const writes = store.writes;
    const refused = await call('PUT', '/v2/apps/as/web?force=true', JSON.stringify({ instances: 5 }));
    expect(refused.status).toBe(422);
    expect(refused.json.details).toEqual([{ path: '/instances', errors: ['got 5; with autoscale it must lie in [minInstances, maxInstances] = [1, 3]'] }]);
    expect(store.writes).toBe(writes);
    expect((await call('PATCH', '/v2/apps/as/web?force=true', JSON.stringify({ autoscale: null, instances: 5 }))).status).toBe(200);
    expect((await call('GET', '/v2/autoscale')).json).toEqual({ apps: [] });
  });

  it('refuses a body over 1 MB with 413', async () => {
    const res = await call('POST', '/v2/apps', JSON.stringify({ id: '/big', cmd: 'x'.repeat(1024 * 1024 + 1) }));
    expect(res.status).toBe(413);
    expect(store.writes).toBe(0);
  });

  it('answers 413 to a client that reads only once it has sent the whole oversized body', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 0x20);
    const answer = await postThenRead(Number(new URL(base).port), '/v2/apps', body, { 'Content-Type': 'application/json' });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(store.writes).toBe(0);
  });

  it("creates an app with Marathon's answer, then lists it", async () => {
    const res = await call('POST', '/v2/apps', JSON.stringify({ id: 'prod/web', cmd: 'sleep 1' }));
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/v2/apps/prod/web');
    expect(res.json).toMatchObject({ id: '/prod/web', tasksRunning: 0, deployments: [{ id: res.headers.get('marathon-deployment-id') }] });
    expect((await call('GET', '/v2/apps?embed=apps.tasks')).json.apps).toEqual([expect.objectContaining({ id: '/prod/web', tasks: [] })]);
    expect((await call('GET', '/v2/apps/prod/web/versions')).json.versions).toHaveLength(1);
  });

  it('redirects a standby to the leader (307), keeping the query, and answers /ping and /v2/leader itself', async () => {
    leader = { address: 'leader.example:8080', self: false };
    const res = await call('GET', '/v2/apps?embed=apps.tasks');
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('http://leader.example:8080/v2/apps?embed=apps.tasks');
    expect((await call('GET', '/v2/leader')).json).toEqual({ leader: 'leader.example:8080' });
    expect(await (await fetch(`${base}/ping`)).text()).toBe('pong\n');
    leader = null;
    expect((await call('GET', '/v2/apps')).status).toBe(503);
    expect((await call('GET', '/v2/leader')).status).toBe(404);
  });

  it('serves the web page at /ui/ with its files only, and a standby redirects it with the API', async () => {
    const page = await fetch(`${base}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('/ui/apps.js');
    for (const [path, type] of [['/ui', 'text/html'], ['/ui/apps.js', 'text/javascript'], ['/ui/dom.js', 'text/javascript'], ['/ui/style.css', 'text/css']]) {
      const res = await fetch(`${base}${path}`);
      expect(res.headers.get('content-type'), path).toContain(type);
    }
    for (const path of ['/ui/app.js', '/ui/web-ui.ts', '/ui/..%2fweb-ui.ts', '/ui/apps-view.d.ts', '/ui/nothing.js']) expect((await call('GET', path)).status, path).toBe(404);
    expect((await call('GET', '/')).headers.get('location')).toBe('/ui/');
    leader = { address: 'leader.example:8080', self: false };
    expect((await call('GET', '/ui/')).headers.get('location')).toBe('http://leader.example:8080/ui/');
  });
});
