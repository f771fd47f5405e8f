// The apps framework's web page (/ui/ of `mesos-ts apps`) in headless
// Chromium against a real cluster: ZooKeeper, a master, two agents (host-a,
// host-b) running busybox containers, and two `mesos-ts apps` processes. An
// app deployed through the REST API appears with its counts and instances
// without a reload; a deployment that cannot finish (UNIQUE on two hosts,
// three instances) shows its steps and /v2/queue's reason; user text renders
// as text; standbys redirect the page to the leader; the master's UI links
// to it; a new leader takes the page and the link over. Needs /usr/bin/chromium (scripts/setup.sh installs it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { api, startAppsCluster, type AppsCluster, type AppsProc } from '../harness/apps-cluster.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';

const CHROMIUM = '/usr/bin/chromium';
const DOCS_SCREENSHOT = new URL('../../docs/apps-ui.png', import.meta.url);
const HOSTILE = '<img src=x onerror="window.pwned=1">';

let cluster: AppsCluster;
let leader: AppsProc;
let standby: AppsProc;
let browser: Browser;
let page: Page;

const SLEEPER = {
  id: '/shop/web',
  cmd: 'sleep 3600',
  cpus: 0.1,
  mem: 16,
  instances: 2,
  container: { type: 'DOCKER', docker: { image: TEST_IMAGE } },
  labels: { team: 'shop', note: HOSTILE },
  healthChecks: [{ protocol: 'COMMAND', command: { value: 'true' }, gracePeriodSeconds: 0, intervalSeconds: 1, delaySeconds: 0, timeoutSeconds: 2 }],
  backoffSeconds: 0.2,
  taskKillGracePeriodSeconds: 1,
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium package)`);
  cluster = await startAppsCluster(['host-a', 'host-b']);
  // Both apps instances at once: either may lead.
  const [first, second] = await Promise.all([cluster.startApps('apps-1'), cluster.startApps('apps-2')]);
  leader = await cluster.leader();
  standby = leader === first ? second : first;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

describe('apps web page', () => {
  it('is served by the leader at /ui/; a standby redirects it there', async () => {
    const get = (base: string, path: string) => fetch(`${base}${path}`, { redirect: 'manual' });
    const index = await get(leader.url, '/ui/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await index.text()).toContain('<script type="module" src="/ui/apps.js">');
    expect((await get(leader.url, '/ui/style.css')).headers.get('content-type')).toContain('text/css'); // the master UI's stylesheet
    expect((await get(leader.url, '/ui/autoscale-chart.d.ts')).status).toBe(404);
    expect((await get(leader.url, '/ui/app.js')).status).toBe(404); // the master's page script is not shared
    expect((await get(leader.url, '/')).headers.get('location')).toBe('/ui/');
    const redirected = await get(standby.url, '/ui/');
    expect(redirected.status).toBe(307);
    expect(redirected.headers.get('location')).toBe(`${leader.url}/ui/`);
  });

  it('goes live on /v2/events; the autoscaler section says no app is autoscaled', async () => {
    await page.goto(`${standby.url}/ui/`); // followed to the leader
    expect(page.url()).toBe(`${leader.url}/ui/`);
    await page.waitForSelector('body[data-conn="live"]', { timeout: 10_000 });
    await page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
    expect(await page.locator('#leader-address').textContent()).toBe(leader.url.replace('http://', ''));
    expect(await page.locator('#apps tr.empty').count()).toBe(1);
    expect(await page.locator('#autoscale-panel').isVisible()).toBe(true);
    expect(await page.locator('#autoscale').textContent()).toBe('no app is autoscaled');
  });

  it('shows a deployed app with its counts, instances with host, state and health, and user text as text', async () => {
    expect((await api(leader.url, 'POST', '/v2/apps', SLEEPER)).status).toBe(201);
    const row = page.locator('#apps tr[data-app-id="/shop/web"]');
    await expect.poll(() => row.locator('.counts').textContent(), { timeout: 30_000 }).toBe('2 / 2 / 2');
    expect(await row.locator('.status').textContent()).toBe('running');
    const instances = page.locator('#instances tr[data-app-id="/shop/web"]');
    expect(await instances.count()).toBe(2);
    for (const host of await instances.locator('.host').allTextContents()) expect(['host-a', 'host-b']).toContain(host);
    expect(await instances.locator('.health').allTextContents()).toEqual(['healthy', 'healthy']);
    expect(await instances.locator('.state').allTextContents()).toEqual(['RUNNING', 'RUNNING']);
    expect(await instances.first().locator('.ports').textContent()).toMatch(/^\d+$/);
    expect(await instances.first().locator('.started').textContent()).toMatch(/ago$/);
    // The label is shown as the text it is: no element made of it, no script run.
    expect(await row.locator('.labels').textContent()).toBe(`team: shopnote: ${HOSTILE}`);
    expect(await page.locator('#apps img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
  });

  it("shows a deployment that cannot finish with its steps and /v2/queue's reason", async () => {
    expect((await api(leader.url, 'POST', '/v2/apps', { ...SLEEPER, id: '/shop/unique', instances: 3, healthChecks: [], labels: {}, constraints: [['hostname', 'UNIQUE']] })).status).toBe(201);
    const row = page.locator('#deployments tr[data-app-id="/shop/unique"]');
    await expect.poll(() => row.locator('.reason').textContent(), { timeout: 30_000 }).toContain('UnfulfilledConstraint');
    expect(await row.locator('.reason .detail').textContent()).toMatch(/^host-[ab]: hostname:UNIQUE: an instance already runs where hostname is 'host-[ab]'/);
    expect(await row.locator('.steps li').allTextContents()).toEqual(['StartApplication', 'ScaleApplication']);
    expect(await row.locator('.steps li.current').textContent()).toBe('ScaleApplication');
    await expect.poll(() => row.locator('.progress').textContent(), { timeout: 20_000 }).toContain('2 of 3 running');
    expect(await page.locator('#apps tr[data-app-id="/shop/unique"] .status').textContent()).toBe('deploying');
    expect(await page.locator('#queue tr[data-queue-app="/shop/unique"] .num').textContent()).toBe('1');
    // Its instances were launched without a health check: none is called unhealthy.
    expect(await page.locator('#instances tr[data-app-id="/shop/unique"] .health').allTextContents()).toEqual(['no check', 'no check']);
    // All of it arrived without a reload.
    expect(await page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
  });

  it("shows an autoscaled app's decisions from /v2/autoscale as a chart", async () => {
    // cpu from the agents' statistics: its first reading has no difference yet, so the first decision holds and says why.
    const scaled = { ...SLEEPER, id: '/shop/scaled', instances: 1, healthChecks: [], labels: {},
      autoscale: { minInstances: 1, maxInstances: 2, metric: 'cpu', target: 0.5, intervalSeconds: 1 } };
    expect((await api(leader.url, 'POST', '/v2/apps', scaled)).status).toBe(201);
    const entry = page.locator('#autoscale .autoscale-app[data-app-id="/shop/scaled"]');
    await expect.poll(() => entry.locator('.last-decision').count(), { timeout: 30_000 }).toBe(1);
    expect(await entry.locator('h3').textContent()).toBe('/shop/scaled');
    expect(await entry.locator('svg').count()).toBe(1);
    expect(await entry.locator('p').first().textContent()).toMatch(/^cpu: .* \(target 0\.5\); [12] instances \(1\.\.2\)$/);
    const decisions = (await (await fetch(`${leader.url}/v2/autoscale/shop/scaled`)).json()) as { decisions: unknown[] };
    expect(decisions.decisions.length).toBeGreaterThan(0);
  });

  it("draws the autoscaler's chart as SVG that Chromium parses, with hostile reasons as text", async () => {
    // The module the page draws with, run in the page on data in /v2/autoscale's shape.
    const result = await page.evaluate(`(async () => {
      const { autoscaleChart } = await import('/ui/autoscale-chart.js');
      const now = Date.now();
      const text = autoscaleChart({ appId: '/a"><script>window.pwned=2</script>', metric: 'rps', target: 10, minInstances: 1, maxInstances: 4, instances: 3, lastValue: 12,
        decisions: [{ timestamp: new Date(now - 60000).toISOString(), value: 20, target: 10, from: 2, to: 3, reason: '<img src=x onerror="window.pwned=3">' }] }, now);
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      return { errors: doc.getElementsByTagName('parsererror').length, scripts: doc.getElementsByTagName('script').length,
        images: doc.getElementsByTagName('img').length, title: doc.querySelector('circle title').textContent, polylines: doc.getElementsByTagName('polyline').length };
    })()`);
    expect(result).toEqual({ errors: 0, scripts: 0, images: 0, title: expect.stringContaining('2 → 3 (<img src=x onerror="window.pwned=3">)'), polylines: 3 });
  });

  it("is linked from the master's UI frameworks table (FrameworkInfo webui_url)", async () => {
    const master = await browser.newPage();
    try {
      await master.goto(`http://${cluster.masterHttp}/`);
      await master.waitForSelector('body[data-conn="live"]', { timeout: 10_000 });
      const link = master.locator('#frameworks tr', { hasText: 'mesos-ts-apps' }).locator('a.webui-link');
      await expect.poll(() => link.getAttribute('href'), { timeout: 10_000 }).toBe(`${leader.url}/ui/`);
      await master.goto((await link.getAttribute('href'))!);
      await master.waitForSelector('#apps tr[data-app-id="/shop/web"]', { timeout: 10_000 });
    } finally {
      await master.close();
    }
  });

  it('takes a screenshot', async () => {
    const file = join(cluster.group.dir, 'apps-ui.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    // The docs' picture is refreshed on request only: a test run leaves the checkout as it was.
    if (process.env.UPDATE_DOCS_SCREENSHOT) copyFileSync(file, DOCS_SCREENSHOT);
  });

  it("says so when its leader dies; the new leader serves the page and the master's UI links there", async () => {
    leader.signal('SIGKILL');
    await expect.poll(() => page.locator('#conn').textContent(), { timeout: 15_000 }).toContain('cannot read the API');
    expect(await page.locator('body').getAttribute('data-conn')).toBe('retrying');
    await standby.waitForLine(/leading and ready/, 40_000);
    await page.goto(`${standby.url}/ui/`);
    await page.waitForSelector('body[data-conn="live"]', { timeout: 10_000 });
    await expect.poll(() => page.locator('#apps tr[data-app-id="/shop/web"] .counts').textContent(), { timeout: 20_000 }).toBe('2 / 2 / 2');
    // The new leader subscribed with its own webui_url.
    const master = await browser.newPage();
    try {
      await master.goto(`http://${cluster.masterHttp}/`);
      const link = master.locator('#frameworks tr', { hasText: 'mesos-ts-apps' }).locator('a.webui-link');
      await expect.poll(() => link.getAttribute('href'), { timeout: 10_000 }).toBe(`${standby.url}/ui/`);
    } finally {
      await master.close();
    }
  });
});
