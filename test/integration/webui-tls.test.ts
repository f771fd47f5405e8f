// The web UI in headless Chromium over mutual TLS: a master and an agent
// requiring client certificates (scripts/make-certs.sh), the browser
// presenting the client certificate. The page goes live over https, shows a
// task change state, and its log viewer reads the task's stdout through the
// master's proxy, which reaches the agent over https with the master's own
// certificate. A browser without a client certificate gets no page.
//
// Chromium is given the client certificate through Playwright's
// `clientCertificates`, which makes the TLS connection to the master in
// Playwright's own proxy; that proxy knows no CA of ours (it answers 503
// when it cannot verify the server), so the context ignores certificate
// errors for the server's side. Chromium alone can pin the server's key
// (--ignore-certificate-errors-spki-list), but presents a client certificate
// only from its NSS store under a managed AutoSelectCertificateForUrls
// policy, which a test cannot set without writing to /etc. Server
// verification is tested with the CLI and the SDK (tls.test.ts).
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { makeCerts, type Certs } from '../harness/certs.js';
import { clientTls, type TlsFlags } from '../../common/tls.js';
import type { OfferOut } from '../../proto/index.js';

const CHROMIUM = '/usr/bin/chromium';

let certs: Certs;
let cluster: TestCluster;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let s: RawScheduler;
let origin: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium package)`);
  certs = makeCerts();
  const tls: TlsFlags = {
    ssl_enabled: true, ssl_cert_file: certs.serverCert, ssl_key_file: certs.serverKey, ssl_ca_file: certs.ca, ssl_require_client_cert: true,
  };
  cluster = await startCluster({ agents: ['cpus:1;mem:512;disk:512'], master: tls, agent: tls });
  origin = `https://${cluster.master.httpAddress}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  context = await browser.newContext({
    ignoreHTTPSErrors: true,
    clientCertificates: [{ origin, certPath: certs.clientCert, keyPath: certs.clientKey }],
  });
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  s?.close();
  await browser?.close();
  await cluster?.stop();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

describe('web UI over mutual TLS', () => {
  it('loads over https with the client certificate and goes live', async () => {
    await page.goto(`${origin}/`);
    await page.waitForSelector('body[data-conn="live"]', { timeout: 10_000 });
    const agentId = cluster.agents[0]!.agentId()!;
    await expect.poll(() => page.locator(`tr[data-agent-id="${agentId}"]`).count(), { timeout: 5_000 }).toBe(1);
  });

  it("shows a task FINISHED and reads its stdout through the master's https proxy to the agent", async () => {
    s = new RawScheduler(cluster.master.grpcAddress, undefined, clientTls({}, {
      LIBPROCESS_SSL_ENABLED: 'true', LIBPROCESS_SSL_CA_FILE: certs.ca, LIBPROCESS_SSL_CERT_FILE: certs.clientCert, LIBPROCESS_SSL_KEY_FILE: certs.clientKey,
    }));
    s.autoAcknowledge = true;
    await s.subscribe({ name: 'webui-tls', user: 'root' });
    const offer = (await s.next((ev) => ev.type === 'OFFERS')).offers!.offers[0] as OfferOut;
    expect(offer.url?.scheme).toBe('https');
    await s.launch(offer, [commandTask('tls-task', offer, 'echo hello-over-mtls; sleep 1', 'cpus:0.1;mem:32')]);
    await s.next(isUpdate('tls-task', 'TASK_FINISHED'), 30_000);
    await expect.poll(() => page.locator('tr[data-task-id="tls-task"] .state').textContent(), { timeout: 10_000 }).toBe('FINISHED');
    const href = await page.locator('tr[data-task-id="tls-task"] a.log-stdout').getAttribute('href');
    const viewer = await context.newPage();
    try {
      await viewer.goto(new URL(href!, origin).href);
      await expect.poll(() => viewer.locator('#log').textContent(), { timeout: 10_000 }).toContain('hello-over-mtls');
    } finally {
      await viewer.close();
    }
  }, 60_000);

  it('a browser without a client certificate gets no page', async () => {
    const bare = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const other = await bare.newPage();
      await expect(other.goto(`${origin}/`, { timeout: 10_000 })).rejects.toThrow(/ERR_|net::|closed|reset/i);
    } finally {
      await bare.close();
    }
  });
});
