// The secured docker-compose cluster (docker-compose.yml with
// docker-compose.secure.yml, brought up by scripts/compose-secure-up.sh),
// end to end with real images, docker-compose and ZooKeeper: mutual TLS on
// every port, every surface authenticating, Mesos ACLs, ZooKeeper with a
// digest credential. The demo service finishes its tasks through all of it;
// a plain-text client, a client without a certificate, one without
// credentials and a principal the ACLs deny are each refused; the
// registry's znodes refuse a client without the digest credential. The
// apps framework speaks https only and asks for the operator's credential;
// `mesos-ts app deploy` with TLS and that credential runs the example web
// service through the standby, and the balancer (mutual TLS, credential)
// serves its task ids on its service port.
//
// Fixed ports as compose.test.ts (ZooKeeper 2181; masters 5050/5060,
// 5150/5160, 5250/5260; agents 5051, 5052; apps 8080, 8081; the balancer's
// 9080, 9090 and service ports): test files run one at a time.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import zookeeper from 'node-zookeeper-client';
import { tlsConfig } from '../../common/tls.js';
import { tlsFetch } from '../../common/tls-fetch.js';
import { basicAuthorization, parseCredential } from '../../common/credentials.js';
import { containersUnder } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const project = `mesos-ts-compose-secure-${process.pid}`;
const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-compose-secure-'));
const secureDir = join(workDir, 'secure');
const env = { ...process.env, COMPOSE_PROJECT_NAME: project, MESOS_TS_COMPOSE_DIR: workDir, MESOS_TS_SECURE_DIR: secureDir, COMPOSE_FILE: 'docker-compose.yml:docker-compose.secure.yml' };
const MASTER_PORTS = [5050, 5150, 5250];
const docker = new Docker();
let up = false;

async function compose(...args: string[]): Promise<string> {
  const { stdout } = await run('docker-compose', ['-p', project, ...args], { cwd: repo, env, maxBuffer: 16 << 20 });
  return stdout;
}

const client = () => tlsConfig({
  ssl_enabled: true, ssl_ca_file: join(secureDir, 'certs/ca.pem'), ssl_cert_file: join(secureDir, 'certs/client.pem'), ssl_key_file: join(secureDir, 'certs/client.key'),
}, 'client');
const credential = (who: 'ops' | 'demo') => parseCredential(join(secureDir, `${who}-credential.json`));

/** GET or POST over mutual TLS, with a principal's credential or none; the status, or 0 when the connection failed. */
async function call(port: number, path: string, who: 'ops' | 'demo' | null, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (who) headers.Authorization = basicAuthorization(credential(who));
  try {
    const res = await tlsFetch(client())(`https://127.0.0.1:${port}${path}`, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(3000) });
    return { status: res.status, text: await res.text() };
  } catch {
    return { status: 0, text: '' };
  }
}

async function leaderPort(): Promise<number | null> {
  for (const port of MASTER_PORTS) if ((await call(port, '/master/state', 'ops')).status === 200) return port;
  return null;
}

/** The compose logs on failure. */
async function withLogs<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const logs = await compose('logs', '--no-color', '--tail=25').catch((e: unknown) => `(no logs: ${String(e)})`);
    process.stderr.write(`[compose-secure] last log lines:\n${logs}\n`);
    throw err;
  }
}

beforeAll(async () => {
  up = true;
  await run('bash', ['scripts/compose-secure-up.sh'], { cwd: repo, env, maxBuffer: 16 << 20 });
}, 240_000);

afterAll(async () => {
  if (up) await compose('down', '-t', '3', '--remove-orphans').catch((err: unknown) => process.stderr.write(`[compose-secure] down failed: ${String(err)}\n`));
  for (const c of await containersUnder(workDir)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  const left = await containersUnder(workDir);
  rmSync(workDir, { recursive: true, force: true });
  expect(left).toEqual([]);
}, 60_000);

/** GET / on 127.0.0.1:port (HAProxy's service port, plain HTTP as the tasks serve): status and body, or status 0. */
function plainGet(port: number): Promise<{ status: number; body: string }> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done({ status: 0, body: '' }));
    req.end();
  });
}

describe('the secured docker-compose cluster', () => {
  it('runs the demo to the end over mutual TLS, with credentials and ACLs', async () => {
    await withLogs(async () => {
      await waitUntil(async () => (await leaderPort()) !== null, 60_000, 'a master to lead');
      const demo = (await compose('ps', '-q', 'demo')).trim();
      await waitUntil(async () => !(await docker.getContainer(demo).inspect()).State.Running, 90_000, 'the demo service to end');
      expect(await compose('logs', '--no-color', 'demo')).toContain('all 10 tasks FINISHED');
      expect((await docker.getContainer(demo).inspect()).State.ExitCode).toBe(0);
      const state = JSON.parse((await call((await leaderPort())!, '/master/state', 'ops')).text) as { slaves: { active: boolean }[] };
      expect(state.slaves.filter((a) => a.active)).toHaveLength(2);
    });
  }, 200_000);

  it('refuses plain text, a client without a certificate, a caller without credentials and a principal the ACLs deny', async () => {
    const port = (await leaderPort())!;
    const plain = await fetch(`http://127.0.0.1:${port}/master/state`, { signal: AbortSignal.timeout(3000) });
    expect(plain.status).toBe(400);
    expect(await plain.text()).toContain('this port speaks TLS');
    const noCertificate = tlsConfig({ ssl_enabled: true, ssl_ca_file: join(secureDir, 'certs/ca.pem') }, 'client');
    await expect(tlsFetch(noCertificate)(`https://127.0.0.1:${port}/master/health`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
    expect((await call(port, '/master/state', null)).status).toBe(401);
    const update = { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([{ role: 'ops', weight: 3 }]) };
    expect((await call(port, '/master/weights', 'demo', update)).status).toBe(403);
    expect((await call(port, '/master/weights', 'ops')).text).not.toContain('"weight":3');
    // The operator's principal may: the ACLs let the right caller through.
    expect((await call(port, '/master/weights', 'ops', update)).status).toBe(200);
    expect((await call(port, '/master/weights', 'ops')).text).toContain('"weight":3');
  });

  it("keeps the registry's znodes from a ZooKeeper client without the digest credential", async () => {
    const zk = zookeeper.createClient('127.0.0.1:2181', { sessionTimeout: 4000 });
    await new Promise<void>((done) => {
      zk.once('connected', () => done());
      zk.connect();
    });
    try {
      // The registry's folders may be listed; its entries neither read nor written.
      const agents = await new Promise<string[]>((done, fail) => zk.getChildren('/mesos/registry/agents', (err, children) => (err ? fail(err) : done(children))));
      expect(agents.length).toBeGreaterThanOrEqual(2);
      const code = (run: (done: (err: Error | zookeeper.Exception | null) => void) => void) =>
        new Promise<number | null>((done) => run((err) => done(err ? (err as zookeeper.Exception).getCode() : null)));
      expect(await code((done) => zk.getData(`/mesos/registry/agents/${agents[0]}`, done))).toBe(zookeeper.Exception.NO_AUTH);
      expect(await code((done) => zk.setData(`/mesos/registry/agents/${agents[0]}`, Buffer.from('{}'), -1, done))).toBe(zookeeper.Exception.NO_AUTH);
      const url = readFileSync(join(secureDir, 'zk-url'), 'utf8');
      expect(url).toMatch(/^zk:\/\/mesos:[0-9a-f]{48}@127\.0\.0\.1:2181\/mesos$/);
    } finally {
      zk.close();
    }
  });

  it('runs the apps framework over https with credentials; mesos-ts app deploys through the standby and the balancer serves the app', async () => {
    await withLogs(async () => {
      const APPS = [8080, 8081];
      let leading = 0;
      await waitUntil(async () => {
        for (const port of APPS) if ((await call(port, '/v2/apps', 'ops')).status === 200) leading = port;
        return leading !== 0;
      }, 90_000, 'an apps instance to lead');
      const standby = APPS.find((p) => p !== leading)!;
      expect((await call(standby, '/v2/apps', 'ops')).status).toBe(307);
      for (const port of APPS) expect((await call(port, '/v2/apps', null)).status).toBe(401);
      expect((await call(leading, '/ping', 'demo')).status).toBe(401); // Only the operator's principal may call it.
      const plain = await fetch(`http://127.0.0.1:${leading}/ping`, { signal: AbortSignal.timeout(3000) });
      expect(plain.status).toBe(400);

      const tlsEnv = {
        ...env, LIBPROCESS_SSL_ENABLED: 'true', LIBPROCESS_SSL_CA_FILE: join(secureDir, 'certs/ca.pem'),
        LIBPROCESS_SSL_CERT_FILE: join(secureDir, 'certs/client.pem'), LIBPROCESS_SSL_KEY_FILE: join(secureDir, 'certs/client.key'),
      };
      const { stdout } = await run(process.execPath, [
        'bin/mesos-ts.js', 'app', 'deploy', 'examples/apps/web.json', `--apps=https://127.0.0.1:${standby}`, `--credential=${join(secureDir, 'ops-credential.json')}`, '--timeout=90',
      ], { cwd: repo, env: tlsEnv });
      expect(stdout).toMatch(/\/examples\/web: 2\/2 healthy/);
      const app = (JSON.parse((await call(leading, '/v2/apps/examples/web', 'ops')).text) as { app: { portDefinitions: { port: number }[]; tasks: { id: string }[] } }).app;
      const answered = new Set<string>();
      await waitUntil(async () => {
        const res = await plainGet(app.portDefinitions[0]!.port);
        if (res.status === 200) answered.add(res.body);
        return answered.size === 2;
      }, 30_000, 'the balancer to answer from both tasks');
      expect(answered).toEqual(new Set(app.tasks.map((t) => t.id)));
    });
  }, 180_000);
});
