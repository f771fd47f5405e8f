// Authentication on the master's HTTP surfaces, as Mesos does it with HTTP
// basic authentication: the v1 scheduler API (--authenticate_http_frameworks),
// the operator API and the v0 write endpoints (--authenticate_http_readwrite),
// the read-only endpoints (--authenticate_http_readonly). Each is tried
// without credentials, with wrong ones and with the right ones; a refusal is
// 401 asking for Basic realm="mesos" and changes nothing. The planted secret
// appears in no answer and no log line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { basicAuthorization, type Credential } from '../../common/credentials.js';
import { waitUntil } from '../harness/wait-until.js';

const SECRET = 'planted-Secret-51d2e8';
const FRAMEWORK: Credential = { principal: 'alice', secret: `${SECRET}-alice` };
const OPERATOR: Credential = { principal: 'ops', secret: `${SECRET}-ops` };
const OTHER: Credential = { principal: 'bob', secret: `${SECRET}-bob` };
const CREDENTIALS = JSON.stringify({ credentials: [FRAMEWORK, OPERATOR, OTHER] });

const WRONG: readonly { readonly name: string; readonly credential: Credential | undefined }[] = [
  { name: 'without credentials', credential: undefined },
  { name: 'with a wrong secret', credential: { principal: 'ops', secret: 'guess' } },
  { name: 'with an unknown principal', credential: { principal: 'mallory', secret: OPERATOR.secret } },
];

let master: RunningMaster;
const logs: string[] = [];
const aborts: AbortController[] = [];

beforeAll(async () => {
  master = await startMaster({
    port: 0, grpc_port: 0, allocation_interval: 0.1, credentials: CREDENTIALS,
    authenticate_http_frameworks: true, authenticate_http_readwrite: true, authenticate_http_readonly: true,
  }, (line) => logs.push(line));
});

afterAll(async () => {
  for (const a of aborts) a.abort();
  await master?.stop();
});

function request(path: string, init: { method?: string; body?: string; type?: string; headers?: Record<string, string> }, credential: Credential | undefined) {
  const abort = new AbortController();
  aborts.push(abort);
  return fetch(`http://${master.httpAddress}${path}`, {
    method: init.method ?? 'GET', signal: abort.signal,
    headers: {
      ...(init.body !== undefined ? { 'Content-Type': init.type ?? 'application/json' } : {}),
      ...(credential ? { Authorization: basicAuthorization(credential) } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
}

async function expectRefused(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Basic realm="mesos"');
  expect(await res.text()).not.toContain(SECRET);
}

const subscribeBody = (principal?: string) =>
  JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'authn-http', user: 'root', ...(principal ? { principal } : {}) } } });

/** SUBSCRIBE over HTTP with `credential`: the framework id and stream id once SUBSCRIBED has begun (the stream stays open). */
async function subscribe(credential: Credential): Promise<{ frameworkId: string; streamId: string }> {
  const res = await request('/api/v1/scheduler', { method: 'POST', body: subscribeBody(), headers: { Accept: 'application/json' } }, credential);
  expect(res.status).toBe(200);
  const streamId = res.headers.get('mesos-stream-id')!;
  await waitUntil(() => [...master.master.frameworks.values()].some((f) => f.streamId === streamId), 5000, 'subscribed');
  const fw = [...master.master.frameworks.values()].find((f) => f.streamId === streamId)!;
  return { frameworkId: fw.info.id!.value, streamId };
}

describe('scheduler HTTP API with --authenticate_http_frameworks', () => {
  it.each(WRONG)('SUBSCRIBE $name is 401 and adds no framework', async ({ credential }) => {
    const before = master.master.frameworks.size;
    await expectRefused(await request('/api/v1/scheduler', { method: 'POST', body: subscribeBody() }, credential));
    expect(master.master.frameworks.size).toBe(before);
  });

  it('SUBSCRIBE with the right credentials subscribes as that principal; another FrameworkInfo.principal is 400', async () => {
    const { frameworkId } = await subscribe(FRAMEWORK);
    expect(master.master.frameworks.get(frameworkId)?.info.principal).toBe('alice');
    const before = master.master.frameworks.size;
    const res = await request('/api/v1/scheduler', { method: 'POST', body: subscribeBody('bob') }, FRAMEWORK);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Authenticated principal 'alice' does not match principal 'bob'/);
    expect(master.master.frameworks.size).toBe(before);
  });

  it('TEARDOWN without or with wrong credentials is 401 and the framework stays; with the right ones it is removed', async () => {
    const { frameworkId, streamId } = await subscribe(FRAMEWORK);
    const teardown = (credential: Credential | undefined) =>
      request('/api/v1/scheduler', { method: 'POST', body: JSON.stringify({ type: 'TEARDOWN', framework_id: { value: frameworkId } }), headers: { 'Mesos-Stream-Id': streamId } }, credential);
    for (const { credential } of WRONG) {
      await expectRefused(await teardown(credential));
      expect(master.master.frameworks.get(frameworkId)?.connected).toBe(true);
    }
    // Another principal's right credentials do not let it act for alice's framework.
    const other = await teardown(OTHER);
    expect(other.status).toBe(400);
    expect(await other.text()).toMatch(/Authenticated principal 'bob' does not match principal 'alice'/);
    expect(master.master.frameworks.get(frameworkId)?.connected).toBe(true);
    expect((await teardown(FRAMEWORK)).status).toBe(202);
    await waitUntil(() => master.master.frameworks.get(frameworkId) === undefined, 5000, 'framework removed');
  });
});

const weight = () => master.master.state.weights.get('authn');

describe('operator API (POST /api/v1) with --authenticate_http_readwrite', () => {
  const call = (w: number) => JSON.stringify({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'authn', weight: w }] } });
  it.each(WRONG)('a write or a read $name is 401; the weights stay as they were', async ({ credential }) => {
    await expectRefused(await request('/api/v1', { method: 'POST', body: call(3) }, credential));
    await expectRefused(await request('/api/v1', { method: 'POST', body: JSON.stringify({ type: 'GET_HEALTH' }) }, credential));
    expect(weight()).toBeUndefined();
  });

  it('with the right credentials a write goes through', async () => {
    expect((await request('/api/v1', { method: 'POST', body: call(3) }, OPERATOR)).status).toBeLessThan(300);
    expect(weight()).toBe(3);
  });
});

describe('v0 write endpoints with --authenticate_http_readwrite', () => {
  const put = (w: number, credential: Credential | undefined) =>
    request('/master/weights', { method: 'PUT', body: JSON.stringify([{ role: 'authn', weight: w }]) }, credential);
  it.each(WRONG)('PUT /master/weights $name is 401; the weights stay as they were', async ({ credential }) => {
    const before = weight();
    await expectRefused(await put(7, credential));
    expect(weight()).toBe(before);
  });

  it('with the right credentials it goes through', async () => {
    expect((await put(7, OPERATOR)).status).toBe(200);
    expect(weight()).toBe(7);
  });
});

describe('read-only endpoints with --authenticate_http_readonly', () => {
  const READS = ['/master/state', '/state', '/master/flags', '/master/frameworks', '/master/state-summary', '/metrics/snapshot', '/master/weights'];
  it.each(WRONG)('each read $name is 401', async ({ credential }) => {
    for (const path of READS) await expectRefused(await request(path, {}, credential));
  });

  it('each read with the right credentials is 200; /master/health and /version stay open', async () => {
    for (const path of READS) expect([path, (await request(path, {}, OPERATOR)).status]).toEqual([path, 200]);
    expect((await request('/master/health', {}, undefined)).status).toBe(200);
    expect((await request('/version', {}, undefined)).status).toBe(200);
  });

  it('/master/state and /master/flags never show a secret: --credentials is masked', async () => {
    const state = await (await request('/master/state', {}, OPERATOR)).text();
    const flags = (await (await request('/master/flags', {}, OPERATOR)).json()) as { flags: Record<string, string> };
    expect(state).not.toContain(SECRET);
    expect(JSON.stringify(flags)).not.toContain(SECRET);
    expect(flags.flags.credentials).toBe('[REDACTED]');
    expect(flags.flags.authenticate_http_readonly).toBe('true');
  });
});

describe('secrets', () => {
  it('never reach a log line, though refusals are logged with the principal given', () => {
    expect(logs.some((l) => l.includes("principal 'mallory'"))).toBe(true);
    for (const line of logs) expect(line).not.toContain(SECRET);
  });
});
