// The apps framework through a Mesos master failover: two masters in
// ZooKeeper, the leading one SIGKILLed in the middle of a rolling upgrade.
// The framework re-subscribes to the new master with its FrameworkID,
// reconciles, and finishes the upgrade with exactly `instances` tasks, the
// same ones the master runs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, startAppsCluster, type AppsCluster, type AppsProc } from '../harness/apps-cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';

let cluster: AppsCluster;
let apps: AppsProc;

interface Task {
  id: string;
  state: string;
  version: string;
}

const tasksOf = async (): Promise<Task[]> => (await api(apps.url, 'GET', '/v2/apps/svc/tasks')).body.tasks as Task[];

async function masterRunningTasks(): Promise<string[]> {
  const m = await cluster.leadingMaster();
  const state = (await (await fetch(`http://${m.httpAddress}/state`)).json()) as { frameworks: { name: string; tasks: { id: string; state: string }[] }[] };
  return state.frameworks.filter((f) => f.name === 'mesos-ts-apps').flatMap((f) => f.tasks).filter((t) => t.state === 'TASK_RUNNING').map((t) => t.id).sort();
}

beforeAll(async () => {
  cluster = await startAppsCluster(['host-a', 'host-b'], { masters: 2 });
  apps = await cluster.startApps('apps-1');
  await apps.waitForLine(/leading and ready/, 30_000);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

it('finishes a rolling upgrade across a master failover with no duplicate or lost instance', async () => {
  const app = { id: '/svc', cmd: 'sleep 3600', cpus: 0.1, mem: 16, instances: 3, container: { type: 'DOCKER', docker: { image: TEST_IMAGE } }, taskKillGracePeriodSeconds: 1 };
  expect((await api(apps.url, 'POST', '/v2/apps', app)).status).toBe(201);
  await waitUntil(async () => (await tasksOf()).filter((t) => t.state === 'TASK_RUNNING').length === 3 && (await api(apps.url, 'GET', '/v2/deployments')).body.length === 0,
    45_000, 'three running tasks');
  const before = (await tasksOf()).map((t) => t.id);
  const put = await api(apps.url, 'PUT', '/v2/apps/svc', {
    cmd: 'sleep 3601',
    healthChecks: [{ protocol: 'COMMAND', command: { value: 'true' }, gracePeriodSeconds: 10, intervalSeconds: 1, delaySeconds: 2, timeoutSeconds: 5 }],
  });
  expect(put.status).toBe(200);
  expect((await api(apps.url, 'GET', '/v2/deployments')).body).toHaveLength(1);
  const old = await cluster.leadingMaster();
  const count = (re: RegExp): number => apps.lines.filter((l) => re.test(l)).length;
  const reconciled = count(/apps: reconciled/);
  old.signal('SIGKILL');
  // Subscribed again to the new master, and reconciled before acting.
  await waitUntil(() => count(/apps: reconciled/) > reconciled, 60_000, 'the framework to reconcile with the new master');
  await waitUntil(async () => {
    const tasks = await tasksOf();
    const deployments = (await api(apps.url, 'GET', '/v2/deployments')).body as unknown[];
    return deployments.length === 0 && tasks.length === 3 && tasks.every((t) => t.state === 'TASK_RUNNING');
  }, 90_000, 'the upgrade to finish on the new master');
  const after = await tasksOf();
  const { body } = await api(apps.url, 'GET', '/v2/apps/svc');
  expect(after.every((t) => t.version === body.app.versionInfo.lastConfigChangeAt)).toBe(true);
  expect(after.some((t) => before.includes(t.id))).toBe(false);
  await waitUntil(async () => JSON.stringify(await masterRunningTasks()) === JSON.stringify(after.map((t) => t.id).sort()), 30_000,
    "the new master to run exactly the framework's tasks");
}, 180_000);
