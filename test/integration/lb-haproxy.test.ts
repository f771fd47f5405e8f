// The balancer's HAProxy adapter against a real HAProxy (Debian's): servers
// added, drained and deleted through the runtime API with no reload, a
// reload under steady traffic that refuses no connection, and a
// configuration HAProxy rejects that leaves the running one in place.
// The backends are plain HTTP servers answering their own name.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Haproxy } from '../../framework/lb/haproxy.js';
import { renderConfig } from '../../framework/lb/haproxy-config.js';
import type { Routing } from '../../framework/lb/model.js';
import { createLogger } from '../../common/log/logger.js';
import { freePort } from '../harness/processes.js';

let dir: string;
let haproxy: Haproxy;
let servicePort: number;
const backends: { server: Server; port: number; name: string }[] = [];
const lines: string[] = [];

async function backend(name: string): Promise<{ server: Server; port: number; name: string }> {
  const server = createServer((_req, res) => res.end(name));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const b = { server, port: (server.address() as AddressInfo).port, name };
  backends.push(b);
  return b;
}

const settings = () => ({ adminSocket: join(dir, 'admin.sock'), httpPort: null, statsPort: null, bindAddress: '127.0.0.1', timeoutSeconds: 10 });
const routingWith = (servers: { name: string; port: number }[], extraFrontendPort?: number): Routing => ({
  frontends: [
    { name: 'web_1', bindAddress: '127.0.0.1', port: servicePort, mode: 'http', backend: 'web_1' },
    ...(extraFrontendPort ? [{ name: 'other_1', bindAddress: '127.0.0.1', port: extraFrontendPort, mode: 'tcp' as const, backend: 'web_1' }] : []),
  ],
  backends: [{ name: 'web_1', appId: '/web', mode: 'http', balance: 'roundrobin', servers: servers.map((s) => ({ name: s.name, host: '127.0.0.1', port: s.port })) }],
  vhosts: [],
});

const get = async (port = servicePort) => (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) })).text();

beforeAll(async () => {
  await Haproxy.version('haproxy');
  dir = mkdtempSync(join(tmpdir(), 'mesos-ts-lb-test-'));
  servicePort = await freePort();
  const logger = createLogger({ component: 'lb', sink: (l) => lines.push(l) });
  haproxy = new Haproxy({ binary: 'haproxy', configFile: join(dir, 'haproxy.cfg'), adminSocket: join(dir, 'admin.sock'), logger });
  const a = await backend('a');
  await haproxy.write(renderConfig(routingWith([{ name: 'a_0', port: a.port }]), settings()));
  await haproxy.start();
}, 30_000);

afterAll(async () => {
  await haproxy?.stop();
  for (const b of backends) b.server.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('HAProxy driven by the balancer', () => {
  it('routes to the servers of its file, and to one added through the runtime API without a reload', async () => {
    expect(await get()).toBe('a');
    const b = await backend('b');
    const worker = await haproxy.workerPid();
    await haproxy.command(`add server web_1/b_0 127.0.0.1:${b.port}`, 'enable server web_1/b_0');
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await get());
    expect([...seen].sort()).toEqual(['a', 'b']);
    expect(await haproxy.workerPid()).toBe(worker); // No reload.
    expect((await haproxy.servers('web_1')).map((s) => `${s.name} ${s.address}:${s.port}`)).toEqual([`a_0 127.0.0.1:${backends[0]!.port}`, `b_0 127.0.0.1:${b.port}`]);
  });

  it('drains a server (no new connections reach it), then deletes it', async () => {
    await haproxy.command('set server web_1/b_0 state drain');
    for (let i = 0; i < 4; i++) expect(await get()).toBe('a');
    expect((await haproxy.servers('web_1')).find((s) => s.name === 'b_0')!.admin & 0x08).toBe(0x08);
    await haproxy.command('set server web_1/b_0 state maint', 'shutdown sessions server web_1/b_0', 'del server web_1/b_0');
    expect((await haproxy.servers('web_1')).map((s) => s.name)).toEqual(['a_0']);
  });

  it('reloads a new shape seamlessly: steady traffic meets no refused or failed request', async () => {
    const extra = await freePort();
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = (async () => {
      while (!stop) {
        try {
          if ((await get()) === 'a') ok++;
          else failures.push('wrong answer');
        } catch (err) {
          failures.push(String((err as Error).cause ?? err));
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const worker = await haproxy.workerPid();
    await haproxy.write(renderConfig(routingWith([{ name: 'a_0', port: backends[0]!.port }], extra), settings()));
    await haproxy.reload();
    await haproxy.reload();
    expect(await haproxy.workerPid()).not.toBe(worker);
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    expect(await get(extra)).toBe('a'); // The new frontend is there.
  });

  it('keeps the running configuration when HAProxy rejects a new one, and says why', async () => {
    const before = readFileSync(join(dir, 'haproxy.cfg'), 'utf8');
    await expect(haproxy.write(`${before}\nbackend broken\n  balance nonsense\n`)).rejects.toThrow(/HAProxy refused the generated configuration/);
    expect(readFileSync(join(dir, 'haproxy.cfg'), 'utf8')).toBe(before);
    expect(await get()).toBe('a');
  });

  it('refuses a runtime command naming a server it does not have, or adding one it has', async () => {
    await expect(haproxy.command('set server web_1/nope state drain')).rejects.toThrow(/HAProxy refused/);
    await expect(haproxy.command(`add server web_1/a_0 127.0.0.1:${backends[0]!.port}`)).rejects.toThrow(/HAProxy refused/);
  });
});
