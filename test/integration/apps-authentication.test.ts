// The apps REST API with --http_credentials, all real: ZooKeeper, a master,
// an agent (hostname 127.0.0.2, a loopback address HAProxy reaches), two
// `mesos-ts apps` instances electing a leader, Debian's HAProxy. Every call
// below goes to the standby, which checks the credential before it
// redirects: `mesos-ts app` without a credential or with a wrong one exits 1
// and changes nothing; with the right one it deploys; `mesos-ts lb` with the
// credential routes the app's service port to its task.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuthorization } from '../../common/credentials.js';
import { api, startAppsCluster, type AppsCluster, type AppsProc } from '../harness/apps-cluster.js';
import { commandEnv, freePort, type Proc } from '../harness/processes.js';
import { waitUntil } from '../harness/wait-until.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';

const run = promisify(execFile);
const CREDENTIALS = ['--http_credentials=alice:s3cret', '--http_realm=apps-test'];
const good = basicAuthorization({ principal: 'alice', secret: 's3cret' });

let cluster: AppsCluster;
let leader: AppsProc;
let standby: AppsProc;
let dir: string;
let definition: string;

/** `mesos-ts ARGS` to its end: exit code and output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/mesos-ts.js', ...args], { env: commandEnv(), timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 3 s')));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  cluster = await startAppsCluster(['127.0.0.2']);
  await cluster.startApps('apps-1', CREDENTIALS);
  await cluster.startApps('apps-2', CREDENTIALS);
  leader = await cluster.leader(good);
  standby = cluster.apps.find((a) => a !== leader)!;
  dir = mkdtempSync(join(tmpdir(), 'mesos-ts-apps-auth-'));
  definition = join(dir, 'web.json');
  writeFileSync(definition, JSON.stringify({
    id: '/auth/web',
    cmd: 'mkdir -p /tmp/www && echo "$MESOS_TASK_ID" > /tmp/www/index.html && exec httpd -f -p "$PORT0" -h /tmp/www',
    cpus: 0.1, mem: 16, instances: 1,
    container: { type: 'DOCKER', docker: { image: TEST_IMAGE } },
    // A service port of its own: the framework's first free one (10000) is the compose test's balancer's.
    portDefinitions: [{ port: await freePort(), name: 'http' }],
    healthChecks: [{ protocol: 'MESOS_HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 10, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 3 }],
    taskKillGracePeriodSeconds: 1,
  }));
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('mesos-ts apps --http_credentials', () => {
  it('answers 401 with its realm on every path, the standby before it redirects', async () => {
    for (const base of [leader.url, standby.url]) {
      for (const path of ['/ping', '/v2/apps', '/v2/leader']) {
        const res = await api(base, 'GET', path);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="apps-test"');
      }
    }
    expect((await api(standby.url, 'GET', '/v2/apps', undefined, good)).status).toBe(307);
    expect((await api(leader.url, 'GET', '/ping', undefined, good)).body).toBe('pong\n');
    expect(leader.lines.some((l) => /authentication failed on apps REST API/.test(l))).toBe(true);
  });

  it('mesos-ts app: no credential or a wrong one exits 1 and deploys nothing; the right one deploys through the standby', async () => {
    const none = await cli(['app', 'deploy', definition, `--apps=${standby.url}`, '--timeout=60']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/answered 401: it needs a credential/);
    const wrong = await cli(['app', 'deploy', definition, `--apps=${standby.url}`, '--principal=alice', '--secret=s3creT']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/answered 401: it refused the credential given/);
    expect(wrong.stderr).not.toMatch(/s3creT/);
    expect((await api(leader.url, 'GET', '/v2/apps', undefined, good)).body).toEqual({ apps: [] });

    const deployed = await cli(['app', 'deploy', definition, `--apps=${standby.url}`, '--principal=alice', '--secret=s3cret', '--timeout=90']);
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toMatch(/\/auth\/web: 1\/1 healthy/);
    const list = await cli(['app', 'list', `--apps=${standby.url}`, '--principal=alice', '--secret=s3cret']);
    expect(list.stdout).toMatch(/\/auth\/web\s+1\/1\s+1/);
  }, 150_000);

  it('mesos-ts lb with the credential routes the service port to the task', async () => {
    const app = (await api(leader.url, 'GET', '/v2/apps/auth/web', undefined, good)).body.app;
    const servicePort = app.portDefinitions[0].port as number;
    const task = (app.tasks as { id: string }[])[0]!.id;
    const lbDir = join(dir, 'lb');
    const lb: Proc = cluster.group.spawnCommand('lb', ['lb', `--apps=${standby.url}`, '--principal=alice', '--secret=s3cret', '--http_port=0', '--stats_port=0', `--work_dir=${lbDir}`]);
    await lb.waitForLine(/HAProxy (started|reloaded)/, 30_000);
    let answer = { status: 0, body: '' };
    await waitUntil(async () => (answer = await get(servicePort).catch(() => answer)).status === 200, 30_000, 'HAProxy to serve the app');
    expect(answer.body).toBe(task);
    await lb.stop();
  }, 90_000);
});
