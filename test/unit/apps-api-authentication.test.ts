// HTTP basic authentication on the apps REST API (Marathon's
// --http_credentials and --http_realm): the flag's forms and refusals, then
// two real HTTP servers on 127.0.0.1:0, a leader (runtime driven by a fake
// Scheduler, in-memory store) and a standby redirecting to it. Every path
// demands the credential, on the standby before it redirects; a refused
// request changes nothing; a client keeps its credential across the
// redirect (fetchFollowingLeader), where fetch's own following drops it.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { basicAuthorization } from '../../common/credentials.js';
import { silentLogger } from '../../common/log/logger.js';
import { apiAuthentication, parseHttpCredentials } from '../../framework/apps/api-authentication.js';
import { EventBus } from '../../framework/apps/events.js';
import { createAppsHttpServer } from '../../framework/apps/http-api.js';
import { fetchFollowingLeader } from '../../framework/apps/leader-fetch.js';
import { AppsOperations } from '../../framework/apps/operations.js';
import { AppsRuntime, AppsState } from '../../framework/apps/runtime.js';
import { FakeScheduler } from '../harness/fake-scheduler.js';
import { MemoryAppsStore } from '../harness/memory-apps-store.js';

let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'apps-auth-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--http_credentials', () => {
  it.each([
    ['alice:s3cret', [{ principal: 'alice', secret: 's3cret' }]],
    // As Marathon: the user ends at the first ':', the password may hold more.
    ['alice:s3:cr:et', [{ principal: 'alice', secret: 's3:cr:et' }]],
    ['alice s3cret\nbob hunter2', [{ principal: 'alice', secret: 's3cret' }, { principal: 'bob', secret: 'hunter2' }]],
    ['{"credentials":[{"principal":"ops","secret":"x y"}]}', [{ principal: 'ops', secret: 'x y' }]],
  ])('reads %j', (value, expected) => {
    expect(parseHttpCredentials(value)).toEqual(expected);
  });

  it('reads a file, by path or file://, holding either form', () => {
    writeFileSync(join(dir, 'marathon'), 'carol:pw1\n');
    writeFileSync(join(dir, 'mesos.json'), '{"credentials":[{"principal":"dave","secret":"pw2"}]}');
    expect(parseHttpCredentials(join(dir, 'marathon'))).toEqual([{ principal: 'carol', secret: 'pw1' }]);
    expect(parseHttpCredentials(`file://${join(dir, 'mesos.json')}`)).toEqual([{ principal: 'dave', secret: 'pw2' }]);
  });

  it.each([
    ['alice:', /expected USER:PASSWORD/],
    [':zq9secret', /expected USER:PASSWORD/],
    ['alice:zq9 x7', /expected USER:PASSWORD/],
    ['', /empty/],
    ['no-such-file', /cannot read file 'no-such-file' \(ENOENT\)/],
    ['{"credentials":[{"principal":"a"}]}', /"secret" must be a string/],
  ])('refuses %j with a message that names no secret', (value, message) => {
    let thrown: Error | undefined;
    try {
      parseHttpCredentials(value);
    } catch (err) {
      thrown = err as Error;
    }
    expect(thrown?.message).toMatch(message);
    expect(thrown?.message).not.toMatch(/zq9|x7/);
  });

  it("takes Marathon's MESOSPHERE_HTTP_CREDENTIALS when the flag is not set, and refuses a realm that cannot be quoted", () => {
    expect(apiAuthentication({ http_realm: 'Mesosphere' }, {}, silentLogger())).toBeNull();
    const auth = apiAuthentication({ http_realm: 'Mesosphere' }, { MESOSPHERE_HTTP_CREDENTIALS: 'eve:pw' }, silentLogger());
    expect(auth?.principalOf(basicAuthorization({ principal: 'eve', secret: 'pw' }))).toBe('eve');
    expect(auth?.principalOf(basicAuthorization({ principal: 'eve', secret: 'pX' }))).toBeNull();
    expect(() => apiAuthentication({ http_credentials: 'a:b', http_realm: 'say "hi"' }, {}, silentLogger())).toThrow(/--http_realm must be printable ASCII without '"'/);
  });
});

describe('the REST API with credentials', () => {
  const good = basicAuthorization({ principal: 'alice', secret: 's3cret' });
  const wrong = basicAuthorization({ principal: 'alice', secret: 's3creT' });
  let store: MemoryAppsStore;
  let runtime: AppsRuntime;
  const servers: Server[] = [];
  let leaderUrl: string;
  let standbyUrl: string;

  const listen = async (server: Server): Promise<string> => {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    const state = new AppsState();
    const bus = new EventBus();
    store = new MemoryAppsStore();
    runtime = new AppsRuntime(state, new FakeScheduler(), store, bus, new ManualClock(1_700_000_000), silentLogger(), {
      declineRefuseSeconds: 5, defaultImage: 'x', reconcileTimeoutMs: 10, tickMs: 60_000, taskLaunchTimeoutSeconds: 300,
    });
    await runtime.reconcileThenRun();
    const ops = new AppsOperations(state, runtime, store, bus);
    const authentication = apiAuthentication({ http_credentials: 'alice:s3cret', http_realm: 'Mesosphere' }, {}, silentLogger());
    const common = { events: bus, info: () => ({ name: 'test' }), metrics: () => 'm 1\n', authentication };
    let leaderAddress = '';
    leaderAddress = await listen(createAppsHttpServer({ ...common, leader: () => ({ address: leaderAddress, self: true }), operations: () => ops }));
    const standby = await listen(createAppsHttpServer({ ...common, leader: () => ({ address: leaderAddress, self: false }), operations: () => null }));
    leaderUrl = `http://${leaderAddress}`;
    standbyUrl = `http://${standby}`;
  });

  afterAll(async () => {
    runtime.stop();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  const call = (url: string, method: string, authorization?: string, body?: unknown) =>
    fetch(url, {
      method, redirect: 'manual',
      headers: { ...(authorization && { authorization }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });

  it.each(['/ping', '/metrics', '/v2/leader', '/v2/info', '/v2/apps', '/v2/events'])('asks for basic authentication on GET %s, leader and standby alike', async (path) => {
    for (const base of [leaderUrl, standbyUrl]) {
      for (const authorization of [undefined, wrong, 'Bearer abc']) {
        const res = await call(`${base}${path}`, 'GET', authorization);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="Mesosphere"');
        expect(((await res.json()) as { message: string }).message).toMatch(/needs HTTP basic authentication/);
      }
    }
  });

  it('changes nothing for a refused write', async () => {
    const res = await call(`${leaderUrl}/v2/apps`, 'POST', wrong, { id: '/refused', cmd: 'sleep 1' });
    expect(res.status).toBe(401);
    await res.body?.cancel();
    expect(store.writes).toBe(0);
    const list = await call(`${leaderUrl}/v2/apps`, 'GET', good);
    expect(await list.json()).toEqual({ apps: [] });
  });

  it('serves the right credential; a standby checks it, then redirects', async () => {
    expect(await (await call(`${leaderUrl}/ping`, 'GET', good)).text()).toBe('pong\n');
    const redirect = await call(`${standbyUrl}/v2/apps`, 'GET', good);
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get('location')).toBe(`${leaderUrl}/v2/apps`);
  });

  it("keeps the credential across the standby's redirect, which fetch alone drops", async () => {
    const init = { method: 'POST', headers: { authorization: good, 'content-type': 'application/json' }, body: JSON.stringify({ id: '/via-standby', cmd: 'sleep 1' }) };
    const dropped = await fetch(`${standbyUrl}/v2/apps`, init);
    expect(dropped.status).toBe(401); // fetch followed the 307 to another origin without the Authorization header.
    await dropped.body?.cancel();
    const created = await fetchFollowingLeader(fetch, `${standbyUrl}/v2/apps`, init);
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: '/via-standby' });
  });
});
