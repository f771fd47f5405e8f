// The apps framework end to end: real ZooKeeper, a master, two agents
// (host-a, host-b) running busybox containers, and two `mesos-ts apps`
// processes electing a leader. One cluster, steps in order: bad definitions,
// deploy, scale up and down, a crashed task replaced, a rolling upgrade
// sampled for capacity, a UNIQUE constraint that cannot be met (and
// /v2/queue saying why), then the leader SIGKILLed and the standby keeping
// the same tasks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { api, startAppsCluster, type AppsCluster, type AppsProc } from '../harness/apps-cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';

let cluster: AppsCluster;
let leader: AppsProc;
let standby: AppsProc;

interface Task {
  id: string;
  host: string;
  state: string;
  stagedAt: string;
  version: string;
  ports: number[];
  healthCheckResults?: { alive: boolean }[];
}

const SLEEPER = {
  id: '/test/sleeper',
  cmd: 'sleep 3600',
  cpus: 0.1,
  mem: 16,
  instances: 2,
  container: { type: 'DOCKER', docker: { image: TEST_IMAGE } },
  backoffSeconds: 0.2,
  taskKillGracePeriodSeconds: 1,
};

const tasksOf = async (id: string): Promise<Task[]> => (await api(leader.url, 'GET', `/v2/apps${id}/tasks`)).body.tasks as Task[];
const running = async (id: string): Promise<Task[]> => (await tasksOf(id)).filter((t) => t.state === 'TASK_RUNNING');

/** The app's deployments are over and `n` tasks run. */
async function settled(id: string, n: number): Promise<Task[]> {
  await waitUntil(async () => {
    const { body } = await api(leader.url, 'GET', `/v2/apps${id}`);
    return body.app?.deployments.length === 0 && body.app.tasksRunning === n && (await tasksOf(id)).length === n;
  }, 45_000, `${id} to settle with ${n} running task(s)`);
  return running(id);
}

/** Task ids the master lists as RUNNING for the apps framework. */
async function masterRunningTasks(): Promise<string[]> {
  const res = await fetch(`http://${cluster.masterHttp}/state`);
  const state = (await res.json()) as { frameworks: { name: string; tasks: { id: string; state: string }[] }[] };
  return state.frameworks.filter((f) => f.name === 'mesos-ts-apps').flatMap((f) => f.tasks).filter((t) => t.state === 'TASK_RUNNING').map((t) => t.id).sort();
}

beforeAll(async () => {
  cluster = await startAppsCluster();
  const first = await cluster.startApps('apps-1');
  await first.waitForLine(/leading and ready/, 30_000);
  const second = await cluster.startApps('apps-2');
  await second.waitForLine(/standing by/, 20_000);
  leader = first;
  standby = second;
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('apps framework', () => {
  it('answers /ping, /v2/leader on both instances, and redirects from the standby', async () => {
    expect((await api(standby.url, 'GET', '/ping')).body).toBe('pong\n');
    for (const p of [leader, standby]) expect((await api(p.url, 'GET', '/v2/leader')).body).toEqual({ leader: leader.url.replace('http://', '') });
    const redirected = await api(standby.url, 'GET', '/v2/apps?embed=apps.tasks');
    expect(redirected.status).toBe(307);
    expect(redirected.headers.get('location')).toBe(`${leader.url}/v2/apps?embed=apps.tasks`);
    expect((await api(leader.url, 'GET', '/v2/info')).body).toMatchObject({ elected: true, frameworkId: expect.any(String) });
    expect((await api(leader.url, 'GET', '/metrics')).body).toMatch(/^mesos_ts_apps_leader 1$/m);
    expect((await api(standby.url, 'GET', '/metrics')).body).toMatch(/^mesos_ts_apps_leader 0$/m);
  });

  it('refuses invalid definitions with 422 and stores nothing', async () => {
    const bad = [
      [{ ...SLEEPER, cpus: 0 }, '/cpus'],
      [{ ...SLEEPER, instances: -1 }, '/instances'],
      [{ ...SLEEPER, bogus: true }, '/bogus'],
      [{ ...SLEEPER, constraints: [['hostname', 'SOMETIMES']] }, '/constraints(0)'],
      [{ ...SLEEPER, id: '/Test/Upper' }, '/id'],
      [{ ...SLEEPER, container: { type: 'DOCKER', docker: { image: TEST_IMAGE, network: 'BRIDGE' } } }, '/container/docker/network'],
    ] as const;
    for (const [body, path] of bad) {
      const res = await api(leader.url, 'POST', '/v2/apps', body);
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body).toMatchObject({ message: 'Object is not valid', details: expect.arrayContaining([expect.objectContaining({ path, errors: [expect.any(String)] })]) });
    }
    expect((await api(leader.url, 'POST', '/v2/apps', 'not json')).status).toBe(422);
    expect((await api(leader.url, 'GET', '/v2/apps')).body).toEqual({ apps: [] });
    expect((await api(leader.url, 'GET', '/v2/deployments')).body).toEqual([]);
  });

  it('deploys two instances with their ports and environment', async () => {
    const res = await api(leader.url, 'POST', '/v2/apps', SLEEPER);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers.get('marathon-deployment-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body).toMatchObject({ id: '/test/sleeper', instances: 2, mem: 16, portDefinitions: [{ port: 10000, protocol: 'tcp' }], backoffFactor: 1.15 });
    const again = await api(leader.url, 'POST', '/v2/apps', SLEEPER);
    expect(again.status).toBe(409);
    const tasks = await settled('/test/sleeper', 2);
    for (const t of tasks) expect(t.ports).toHaveLength(1);
    expect((await api(leader.url, 'GET', '/v2/tasks')).body.tasks.map((t: Task) => t.id).sort()).toEqual(tasks.map((t) => t.id).sort());
    const listed = await api(leader.url, 'GET', '/v2/apps?embed=apps.tasks');
    expect(listed.body.apps[0]).toMatchObject({ id: '/test/sleeper', tasksRunning: 2, tasks: expect.arrayContaining([expect.objectContaining({ servicePorts: [10000] })]) });
    // The environment Marathon gives: look at one container's.
    const docker = new Docker();
    const containers = await docker.listContainers({ filters: { label: [`mesos-ts.task_id=${tasks[0]!.id}`] } });
    const env = (await docker.getContainer(containers[0]!.Id).inspect()).Config.Env;
    expect(env).toEqual(expect.arrayContaining([`MARATHON_APP_ID=/test/sleeper`, `MESOS_TASK_ID=${tasks[0]!.id}`, `PORT0=${tasks[0]!.ports[0]}`, `HOST=${tasks[0]!.host}`]));
  });

  it('scales up to 3 and down to 1, killing the youngest first', async () => {
    const up = await api(leader.url, 'PUT', '/v2/apps/test/sleeper', { instances: 3 });
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect(up.body).toEqual({ version: expect.any(String), deploymentId: expect.any(String) });
    const three = await settled('/test/sleeper', 3);
    const oldest = [...three].sort((a, b) => a.stagedAt.localeCompare(b.stagedAt))[0]!;
    expect((await api(leader.url, 'PUT', '/v2/apps/test/sleeper', { instances: 1 })).status).toBe(200);
    const one = await settled('/test/sleeper', 1);
    expect(one.map((t) => t.id)).toEqual([oldest.id]);
    // A scale is no new configuration: the survivor is not restarted.
    expect((await api(leader.url, 'GET', '/v2/apps/test/sleeper/versions')).body.versions).toHaveLength(3);
  });

  it('replaces a task whose container dies', async () => {
    const [victim] = await running('/test/sleeper');
    const docker = new Docker();
    const [container] = await docker.listContainers({ filters: { label: [`mesos-ts.task_id=${victim!.id}`] } });
    await docker.getContainer(container!.Id).kill();
    await waitUntil(async () => {
      const now = await running('/test/sleeper');
      return now.length === 1 && now[0]!.id !== victim!.id;
    }, 30_000, 'a replacement task');
    // And one asked for through the API goes too, and is replaced.
    const [second] = await running('/test/sleeper');
    expect((await api(leader.url, 'DELETE', `/v2/apps/test/sleeper/tasks/${second!.id}`)).status).toBe(200);
    await waitUntil(async () => {
      const now = await running('/test/sleeper');
      return now.length === 1 && now[0]!.id !== second!.id;
    }, 30_000, 'a replacement for the killed task');
  });

  it('rolls an upgrade out without dropping below minimumHealthCapacity', async () => {
    expect((await api(leader.url, 'PUT', '/v2/apps/test/sleeper', { instances: 2 })).status).toBe(200);
    const before = await settled('/test/sleeper', 2);
    const samples: { healthy: number; total: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const tasks = await tasksOf('/test/sleeper');
        // Old tasks have no check: RUNNING is healthy. New ones are healthy once their check passed.
        const old = (t: Task): boolean => before.some((b) => b.id === t.id);
        const healthy = tasks.filter((t) => t.state === 'TASK_RUNNING' && (old(t) || t.healthCheckResults?.[0]?.alive === true)).length;
        samples.push({ healthy, total: tasks.length });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const put = await api(leader.url, 'PUT', '/v2/apps/test/sleeper', {
      cmd: 'sleep 3601',
      healthChecks: [{ protocol: 'COMMAND', command: { value: 'true' }, gracePeriodSeconds: 10, intervalSeconds: 1, delaySeconds: 0, timeoutSeconds: 5 }],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await api(leader.url, 'GET', `/v2/deployments/${put.body.deploymentId}`)).body).toMatchObject({
      affectedApps: ['/test/sleeper'], steps: [{ actions: [{ action: 'RestartApplication', app: '/test/sleeper' }] }], totalSteps: 1,
    });
    // A second change while it runs is refused without ?force=true.
    const conflict = await api(leader.url, 'PUT', '/v2/apps/test/sleeper', { cmd: 'sleep 3602' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.deployments).toEqual([{ id: put.body.deploymentId }]);
    const after = await settled('/test/sleeper', 2);
    sampling = false;
    await sampler;
    expect(after.some((t) => before.some((b) => b.id === t.id))).toBe(false);
    expect(after.every((t) => t.healthCheckResults?.[0]?.alive === true)).toBe(true);
    expect(samples.length).toBeGreaterThan(5);
    expect(Math.min(...samples.map((s) => s.healthy))).toBeGreaterThanOrEqual(2);
    expect(Math.max(...samples.map((s) => s.total))).toBeLessThanOrEqual(4);
  });

  it('waits on an unmet UNIQUE constraint and says why in /v2/queue', async () => {
    const res = await api(leader.url, 'POST', '/v2/apps', { ...SLEEPER, id: '/test/unique', instances: 3, constraints: [['hostname', 'UNIQUE']] });
    expect(res.status).toBe(201);
    await waitUntil(async () => (await running('/test/unique')).length === 2, 30_000, 'two unique tasks');
    expect(new Set((await running('/test/unique')).map((t) => t.host))).toEqual(new Set(['host-a', 'host-b']));
    let entry: any;
    await waitUntil(async () => {
      const q = (await api(leader.url, 'GET', '/v2/queue')).body.queue as any[];
      entry = q.find((e) => e.app.id === '/test/unique');
      return entry?.lastUnusedOffers.length > 0;
    }, 20_000, 'the queue to show a declined offer');
    expect(entry).toMatchObject({ count: 1, processedOffersSummary: { rejectSummaryLastOffers: expect.arrayContaining([expect.objectContaining({ reason: 'UnfulfilledConstraint' })]) } });
    expect(entry.lastUnusedOffers[0]).toMatchObject({ reason: ['UnfulfilledConstraint'], message: expect.stringMatching(/hostname:UNIQUE: an instance already runs where hostname is 'host-[ab]'/) });
    const { body } = await api(leader.url, 'GET', '/v2/deployments');
    expect(body.map((d: any) => d.affectedApps[0])).toEqual(['/test/unique']);
    // Deleting it is locked by its deployment; deleting the deployment rolls back: a new app goes away.
    const del = await api(leader.url, 'DELETE', '/v2/apps/test/unique');
    expect(del.status).toBe(409);
    expect(del.body.message).toMatch(/App is locked by one or more deployments/);
    const rollback = await api(leader.url, 'DELETE', `/v2/deployments/${body[0].id}`);
    expect(rollback.status).toBe(200);
    expect(rollback.body).toEqual({ version: expect.any(String), deploymentId: expect.any(String) });
    expect((await api(leader.url, 'GET', '/v2/apps/test/unique')).status).toBe(404);
    await waitUntil(async () => (await api(leader.url, 'GET', '/v2/deployments')).body.length === 0, 30_000, 'the stop deployment to finish');
  });

  it('replaces a task that fails its health check, backing off between launches', async () => {
    const res = await api(leader.url, 'POST', '/v2/apps', {
      ...SLEEPER, id: '/test/unhealthy', instances: 1, backoffSeconds: 1, backoffFactor: 2,
      healthChecks: [{ protocol: 'COMMAND', command: { value: 'false' }, gracePeriodSeconds: 0, intervalSeconds: 1, delaySeconds: 0, maxConsecutiveFailures: 1 }],
    });
    expect(res.status).toBe(201);
    const seen = new Set<string>();
    let delayed = false;
    await waitUntil(async () => {
      for (const t of await tasksOf('/test/unhealthy')) seen.add(t.id);
      const q = (await api(leader.url, 'GET', '/v2/queue')).body.queue as any[];
      delayed ||= q.some((e) => e.app.id === '/test/unhealthy' && e.delay.timeLeftSeconds > 0);
      return seen.size >= 3 && delayed;
    }, 40_000, 'the unhealthy task to be replaced twice, with a launch delay');
    expect((await api(leader.url, 'DELETE', '/v2/queue/test/unhealthy/delay')).status).toBe(204);
    expect((await api(leader.url, 'DELETE', '/v2/apps/test/unhealthy?force=true')).status).toBe(200);
    await waitUntil(async () => (await api(leader.url, 'GET', '/v2/deployments')).body.length === 0, 30_000, 'the unhealthy app to be gone');
  });

  it('runs the examples: a web service behind MESOS_HTTP checks answering with its task id, and a worker', async () => {
    const example = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join('examples/apps', name), 'utf8'));
    expect((await api(leader.url, 'POST', '/v2/apps', example('web.json'))).status).toBe(201);
    expect((await api(leader.url, 'POST', '/v2/apps', example('worker.json'))).status).toBe(201);
    const web = await settled('/examples/web', 2);
    expect(web.every((t) => t.healthCheckResults?.[0]?.alive === true)).toBe(true);
    expect(new Set(web.map((t) => t.host)).size).toBe(2);
    for (const t of web) {
      // The agents share this machine (host networking): each task serves on its PORT0 here.
      const res = await fetch(`http://127.0.0.1:${t.ports[0]}/`);
      expect((await res.text()).trim()).toBe(t.id);
    }
    expect((await api(leader.url, 'GET', '/v2/apps/examples/web')).body.app).toMatchObject({ tasksHealthy: 2, tasksUnhealthy: 0 });
    await settled('/examples/worker', 1);
    for (const id of ['/examples/web', '/examples/worker']) expect((await api(leader.url, 'DELETE', `/v2/apps${id}`)).status).toBe(200);
    await waitUntil(async () => (await api(leader.url, 'GET', '/v2/deployments')).body.length === 0, 30_000, 'the examples to stop');
  });

  it('drives deployments from the CLI, streams events, and exits 2 on an invalid definition', async () => {
    const events: string[] = [];
    const abort = new AbortController();
    const stream = fetch(`${leader.url}/v2/events`, { signal: abort.signal }).then(async (res) => {
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const m of decoder.decode(chunk).matchAll(/^event: (\S+)$/gm)) events.push(m[1]!);
      }
    }).catch(() => {});
    const file = join(cluster.group.dir, 'cli-app.json');
    writeFileSync(file, JSON.stringify({ ...SLEEPER, id: '/test/cli', instances: 1 }));
    // Through the standby: the CLI follows its redirect to the leader.
    const cli = async (...args: string[]): Promise<{ code: number | null; out: string }> => {
      const p = cluster.group.spawnCommand(`cli-${args[0]}-${args[1] ?? ''}`, [...args, `--apps=${standby.url}`]);
      const exit = await p.exited;
      return { code: exit.code, out: p.lines.join('\n') };
    };
    const deployed = await cli('app', 'deploy', file);
    expect(deployed.code, deployed.out).toBe(0);
    expect(deployed.out).toMatch(/\/test\/cli: 1\/1 running/);
    expect(deployed.out).toMatch(/deployment \S+ finished/);
    const scaled = await cli('app', 'scale', '/test/cli', '2');
    expect(scaled.code, scaled.out).toBe(0);
    // Deploying the file again with only more instances is a scale: the running tasks stay.
    const two = (await running('/test/cli')).map((t) => t.id);
    writeFileSync(file, JSON.stringify({ ...SLEEPER, id: '/test/cli', instances: 3 }));
    expect((await cli('app', 'deploy', file)).code).toBe(0);
    expect((await running('/test/cli')).map((t) => t.id)).toEqual(expect.arrayContaining(two));
    const list = await cli('app', 'list');
    expect(list.out).toMatch(/\/test\/cli\s+3\/3/);
    const rolledBack = await cli('app', 'rollback', '/test/cli');
    expect(rolledBack.code, rolledBack.out).toBe(0);
    expect(rolledBack.out).toMatch(/rolling \/test\/cli back to version/);
    expect((await api(leader.url, 'GET', '/v2/apps/test/cli')).body.app.instances).toBe(2);
    const show = await cli('app', 'show', 'test/cli');
    expect(show.out).toMatch(/TASK_RUNNING/);
    expect((await cli('deployments')).out).toMatch(/no deployments running/);
    writeFileSync(file, JSON.stringify({ ...SLEEPER, id: '/test/cli', cpus: -1 }));
    const invalid = await cli('app', 'deploy', file);
    expect(invalid.code).toBe(2);
    expect(invalid.out).toMatch(/\/cpus: got -1, expected 0.001 or more/);
    const removed = await cli('app', 'rm', '/test/cli');
    expect(removed.code, removed.out).toBe(0);
    abort.abort();
    await stream;
    expect([...new Set(events)]).toEqual(expect.arrayContaining([
      'api_post_event', 'deployment_info', 'deployment_success', 'status_update_event', 'instance_changed_event', 'app_terminated_event',
    ]));
  });

  it('keeps the same tasks when the leader is SIGKILLed and the standby takes over', async () => {
    const tasks = (await settled('/test/sleeper', 2)).map((t) => t.id).sort();
    await waitUntil(async () => JSON.stringify(await masterRunningTasks()) === JSON.stringify(tasks), 20_000, 'the master to list the same tasks');
    const frameworkId = (await api(leader.url, 'GET', '/v2/info')).body.frameworkId;
    leader.signal('SIGKILL');
    await standby.waitForLine(/leading and ready/, 40_000);
    leader = standby;
    expect((await api(leader.url, 'GET', '/v2/info')).body.frameworkId).toBe(frameworkId);
    expect((await tasksOf('/test/sleeper')).map((t) => t.id).sort()).toEqual(tasks);
    // A few checks later still the same tasks, in the framework and in Mesos: nothing relaunched, nothing doubled.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await running('/test/sleeper')).map((t) => t.id).sort()).toEqual(tasks);
    expect(await masterRunningTasks()).toEqual(tasks);
    // The new leader acts: a scale goes through it.
    expect((await api(leader.url, 'PUT', '/v2/apps/test/sleeper', { instances: 3 })).status).toBe(200);
    await settled('/test/sleeper', 3);
  });

  it('finishes a rolling upgrade when the leader is SIGKILLed during it, with no duplicate or lost instance', async () => {
    const next = await cluster.startApps('apps-3');
    await next.waitForLine(/standing by/, 20_000);
    const before = (await running('/test/sleeper')).map((t) => t.id);
    const put = await api(leader.url, 'PUT', '/v2/apps/test/sleeper', { cmd: 'sleep 3700' });
    expect(put.status).toBe(200);
    leader.signal('SIGKILL');
    await next.waitForLine(/leading and ready/, 40_000);
    leader = next;
    const after = await settled('/test/sleeper', 3);
    const { body } = await api(leader.url, 'GET', '/v2/apps/test/sleeper');
    expect(after.every((t) => t.version === body.app.versionInfo.lastConfigChangeAt)).toBe(true);
    expect(after.some((t) => before.includes(t.id))).toBe(false);
    await waitUntil(async () => JSON.stringify(await masterRunningTasks()) === JSON.stringify(after.map((t) => t.id).sort()), 20_000,
      'the master to run exactly the framework\'s tasks');
  });
});
