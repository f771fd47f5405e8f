// The web UI in headless Chromium against a real master, agent and
// containers: tasks launched by a framework appear on the page and change
// state without a reload, agents and frameworks are listed, a task's log
// link shows its output, names are shown as text (never markup), and a
// standby's page sends the reader to the leader. Needs /usr/bin/chromium
// (Debian's `chromium`, installed by scripts/setup.sh).
import { v0Routes } from '../../master/v0/routes.js';
import { buildInfo } from '../../master/v0/build-info.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { startMasterHttp } from '../../master/http.js';
import { webUi } from '../../master/webui/web-ui.js';
import type { OfferOut } from '../../proto/index.js';

const CHROMIUM = '/usr/bin/chromium';
const DOCS_SCREENSHOT = new URL('../../docs/webui.png', import.meta.url);

let cluster: TestCluster;
let browser: Browser;
let page: Page;
let s: RawScheduler;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium package)`);
  cluster = await startCluster({ agents: [] });
  await cluster.addAgent('cpus:2;mem:1024;disk:1024;ports:[31000-31099]', 'rack:r1;zone:a');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 60_000);

afterAll(async () => {
  s?.close();
  await browser?.close();
  await cluster?.stop();
});

/** The text of the task's state badge on the page, without the TASK_ prefix. */
const stateOnPage = (taskId: string) => page.locator(`tr[data-task-id="${taskId}"] .state`);

describe('web UI', () => {
  it('loads at / and goes live on the operator event stream', async () => {
    await page.goto(`http://${cluster.master.httpAddress}/`);
    await page.waitForSelector('body[data-conn="live"]', { timeout: 10_000 });
    // Marks this document: if the page reloaded, the mark would be gone.
    await page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
    await expect.poll(() => page.locator('#leader-address').textContent(), { timeout: 5_000 }).toBe(cluster.master.httpAddress);
    expect(await page.locator('#uptime').textContent()).toMatch(/up \d+s/);
  });

  it('lists the agent with its resources and attributes, and the cluster totals', async () => {
    const agentId = cluster.agents[0]!.agentId()!;
    const row = page.locator(`tr[data-agent-id="${agentId}"]`);
    await expect.poll(() => row.count(), { timeout: 5_000 }).toBe(1);
    const text = await row.textContent();
    expect(text).toContain('rack: r1');
    expect(text).toContain('zone: a');
    expect(text).toContain('cpus 0 / 2');
    expect(text).toContain('mem 0 / 1024');
    expect(await row.locator('.badge').textContent()).toBe('active');
    expect(await page.locator('.resource[data-kind="cpus"] .resource-text').textContent()).toContain('of 2');
  });

  it('shows tasks appear and change state live: RUNNING, then the short one FINISHED', async () => {
    s = new RawScheduler(cluster.master.grpcAddress);
    s.autoAcknowledge = true;
    // A webui_url that is not http(s) is not linked (the master UI links a framework's own page only over http or https).
    await s.subscribe({ name: 'webui <b>test</b>', user: 'root', webui_url: 'javascript:alert(1)' });
    const fwRow = page.locator(`tr[data-framework-id="${s.frameworkId}"]`).first();
    await expect.poll(() => page.locator(`#frameworks tr[data-framework-id="${s.frameworkId}"] .name`).textContent(), { timeout: 5_000 })
      .toBe('webui <b>test</b>');
    expect(await fwRow.locator('b').count()).toBe(0); // Shown as text, not markup.
    expect(await fwRow.locator('a').count()).toBe(0);

    const e = await s.next((ev) => ev.type === 'OFFERS');
    const offer = e.offers!.offers[0] as OfferOut;
    await s.launch(offer, [
      commandTask('long', offer, 'echo long-started; sleep 3600', 'cpus:0.5;mem:128'),
      { ...commandTask('short', offer, 'echo hello-from-short; echo oops >&2; sleep 3', 'cpus:0.25;mem:64'), name: 'short <img src=x>' },
    ]);
    await expect.poll(() => stateOnPage('long').textContent(), { timeout: 20_000 }).toBe('RUNNING');
    await expect.poll(() => stateOnPage('short').textContent(), { timeout: 20_000 }).toBe('RUNNING');
    expect(await page.locator('tr[data-task-id="short"] .name').textContent()).toBe('short <img src=x>');
    expect(await page.locator('tr[data-task-id="short"] img').count()).toBe(0);
    expect(await stateOnPage('long').getAttribute('class')).toContain('state-running');

    // The framework's row: 2 tasks, 0.75 of 2 cpus and 192 of 1024 MB: dominant share cpus, 37.5%.
    const row = page.locator(`#frameworks tr[data-framework-id="${s.frameworkId}"]`);
    await expect.poll(() => row.locator('.share').textContent(), { timeout: 5_000 }).toContain('37.5% cpus');
    expect(await row.locator('.tasks').textContent()).toBe('2');

    await s.next(isUpdate('short', 'TASK_FINISHED'), 20_000);
    await expect.poll(() => stateOnPage('short').textContent(), { timeout: 10_000 }).toBe('FINISHED');
    expect(await stateOnPage('short').getAttribute('class')).toContain('state-finished');
    expect(await stateOnPage('long').textContent()).toBe('RUNNING');
    expect(await page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
  });

  it("opens a task's sandbox stdout and stderr from its links", async () => {
    const href = await page.locator('tr[data-task-id="short"] a.log-stdout').getAttribute('href');
    expect(href).toMatch(/^\/ui\/log\.html\?/);
    const viewer = await browser.newPage();
    try {
      await viewer.goto(new URL(href!, `http://${cluster.master.httpAddress}`).href);
      await expect.poll(() => viewer.locator('#log').textContent(), { timeout: 10_000 }).toContain('hello-from-short');
      await viewer.locator('nav a', { hasText: 'stderr' }).click();
      await expect.poll(() => viewer.locator('#log').textContent(), { timeout: 10_000 }).toContain('oops');
    } finally {
      await viewer.close();
    }
    // The raw link goes to the agent's own /files/read.
    const raw = await page.locator('tr[data-task-id="long"] a.log-raw').getAttribute('href');
    // The link carries no offset, and the agent reads /files/read as Mesos does: no offset asks for
    // the size only. (app.js should add offset=0 to the link; master/webui is outside the agent's branch.)
    const answer = (await (await fetch(raw!)).json()) as { data: string; offset: number };
    expect(answer.data).toBe('');
    expect(answer.offset).toBeGreaterThan(0);
    const read = (await (await fetch(`${raw!}&offset=0`)).json()) as { data: string };
    expect(read.data).toContain('long-started');
  });

  it('serves only its assets, and proxies only to agents the master knows', async () => {
    const get = (path: string) => fetch(`http://${cluster.master.httpAddress}${path}`, { redirect: 'manual' });
    const index = await get('/');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await index.text()).toContain('<script type="module" src="/ui/app.js">');
    expect((await get('/ui/app.js')).headers.get('content-type')).toContain('text/javascript');
    for (const path of ['/ui/web-ui.ts', '/ui/..%2fweb-ui.ts', '/ui/nothing.js']) expect((await get(path)).status, path).toBe(404);
    expect(await (await get('/ui/leader.json')).json()).toEqual({ leading: true, self: cluster.master.httpAddress, leader: cluster.master.httpAddress });
    expect((await get('/ui/agent/no-such-agent/state')).status).toBe(404);
    expect((await get('/ui/agent/%E0%A4%A/state')).status).toBe(400);
    const outside = await get(`/ui/agent/${cluster.agents[0]!.agentId()}/files/read?path=${encodeURIComponent('/etc/passwd')}`);
    expect(outside.status).toBe(404); // The agent's own answer (no such file in its sandboxes), passed through.
  });

  it('shows what operators set: weights, quota, and a machine in maintenance with its agent marked so', async () => {
    const call = (body: Record<string, unknown>) => fetch(`http://${cluster.master.httpAddress}/api/v1`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    }).then((res) => expect(res.status).toBe(200));
    const agentId = cluster.agents[0]!.agentId()!;
    const hostname = cluster.master.master.agents.get(agentId)!.info.hostname;
    await call({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'analytics', weight: 2 }] } });
    await call({ type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'analytics', guarantees: { cpus: { value: 1 } }, limits: { mem: { value: 512 } } }] } });
    await call({
      type: 'UPDATE_MAINTENANCE_SCHEDULE',
      update_maintenance_schedule: { schedule: { windows: [{ machine_ids: [{ hostname }], unavailability: { start: { nanoseconds: 4102444800e9 }, duration: { nanoseconds: 7200e9 } } }] } },
    });
    await expect.poll(() => page.locator('tr[data-role="analytics"]').textContent(), { timeout: 10_000 }).toBe('analytics2cpus:1mem:512');
    await expect.poll(() => page.locator(`tr[data-machine="${hostname}"]`).textContent(), { timeout: 10_000 }).toContain('DRAINING2100-01-01T00:00:00Z for 2h');
    expect(await page.locator(`tr[data-agent-id="${agentId}"] .badge`).textContent()).toBe('maintenance');
    // Back as it was, for the cases below.
    await call({ type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule: { windows: [] } } });
    await expect.poll(() => page.locator(`tr[data-agent-id="${agentId}"] .badge`).textContent(), { timeout: 10_000 }).toBe('active');
  });

  it("the agent proxy follows no redirect, caps replies, serves its own content type, and an agent can't register a URL as its hostname", async () => {
    // A stand-in for a hostile "agent": the proxy is given its address directly.
    const { createServer } = await import('node:http');
    const fake = createServer((req, res) => {
      if (req.url?.startsWith('/state')) return void res.writeHead(302, { Location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (req.url?.startsWith('/files/read?path=big')) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(Buffer.alloc(9 * 1024 * 1024, 0x20));
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<script>alert(1)</script>');
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', () => resolve()));
    const port = (fake.address() as { port: number }).port;
    const proxy = await startMasterHttp({
      ip: '127.0.0.1', port: 0, handlers: [webUi({ leading: () => true, leaderHttp: () => null, selfHttp: () => 'self', agentHttp: () => `127.0.0.1:${port}` })],
    });
    const get = (path: string) => fetch(`http://127.0.0.1:${proxy.port}${path}`, { redirect: 'manual' });
    try {
      expect((await get('/ui/agent/a/state')).status).toBe(502);
      const html = await get('/ui/agent/a/files/read?path=x');
      expect(html.headers.get('content-type')).toBe('application/json');
      expect(html.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await get('/ui/agent/a/files/read?path=big')).status).toBe(504);
    } finally {
      proxy.server.closeAllConnections();
      await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
    // The hostname that made the master fetch cloud metadata is refused at registration.
    const { readRegistration } = await import('../../master/validation.js');
    const registration = (hostname: string) => ({ agent_info: { hostname, port: 5051, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] }, tasks: [], ip: '' });
    expect(() => readRegistration(registration('169.254.169.254/latest/meta-data/#') as never)).toThrow(/is not a host name or IP address/);
    expect(readRegistration(registration('node-1.example.org') as never).info.hostname).toBe('node-1.example.org');
  });

  it('draws the allocation chart and takes a screenshot', async () => {
    await expect.poll(() => page.locator('#chart polyline').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#chart .legend').textContent()).toContain('share of webui <b>test</b>');
    const file = join(cluster.base, 'webui.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    // The docs' picture is refreshed on request only: a test run leaves the checkout as it was.
    if (process.env.UPDATE_DOCS_SCREENSHOT) copyFileSync(file, DOCS_SCREENSHOT);
  });

  it("a standby's page says so and then opens the leader's UI", async () => {
    // A master that does not lead, as main.ts wires one: its page names the leader and goes there.
    const standby = await startMasterHttp({
      ip: '127.0.0.1', port: 0,
      handlers: [v0Routes({ snapshot: () => null, leaderHttp: () => cluster.master.httpAddress, flags: {}, build: buildInfo() }), webUi({ leading: () => false, leaderHttp: () => cluster.master.httpAddress, selfHttp: () => 'standby', agentHttp: () => null })],
    });
    const other = await browser.newPage();
    try {
      await other.goto(`http://127.0.0.1:${standby.port}/`);
      await other.waitForSelector('body[data-conn="standby"]', { timeout: 5_000 });
      expect(await other.locator('#standby').textContent()).toContain(`is a standby. The leading master is ${cluster.master.httpAddress}`);
      expect(await other.locator('#leader-link').getAttribute('href')).toBe(`http://${cluster.master.httpAddress}/`);
      await other.waitForURL(`http://${cluster.master.httpAddress}/`, { timeout: 10_000 });
      await other.waitForSelector('body[data-conn="live"]', { timeout: 10_000 });
      // The standby proxies nothing: it redirects to the leader.
      const proxied = await fetch(`http://127.0.0.1:${standby.port}/ui/agent/x/state`, { redirect: 'manual' });
      expect(proxied.status).toBe(307);
    } finally {
      await other.close();
      standby.server.closeAllConnections();
      await new Promise<void>((resolve) => standby.server.close(() => resolve()));
    }
  });
});
