// The apps framework when an agent dies: its process SIGKILLed, the master
// stops hearing it after a few missed pings and reports its tasks
// TASK_UNREACHABLE (the framework is partition-aware); after the app's
// unreachableStrategy.inactiveAfterSeconds the framework replaces them on
// the other agent, after expungeAfterSeconds it forgets them.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, startAppsCluster, type AppsCluster, type AppsProc } from '../harness/apps-cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';

let cluster: AppsCluster;
let apps: AppsProc;

interface Task {
  id: string;
  host: string;
  state: string;
}

const running = async (): Promise<Task[]> =>
  ((await api(apps.url, 'GET', '/v2/apps/lonely/tasks')).body.tasks as Task[]).filter((t) => t.state === 'TASK_RUNNING');

beforeAll(async () => {
  cluster = await startAppsCluster(['host-a', 'host-b'], { masterFlags: ['--agent_ping_timeout=0.5s', '--max_agent_ping_timeouts=4'] });
  apps = await cluster.startApps('apps-1');
  await apps.waitForLine(/leading and ready/, 30_000);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

it('replaces the task of a SIGKILLed agent on another agent once it is inactive, and expunges it', async () => {
  const app = { id: '/lonely', cmd: 'sleep 3600', cpus: 0.1, mem: 16, instances: 1, backoffSeconds: 0.2, unreachableStrategy: { inactiveAfterSeconds: 1, expungeAfterSeconds: 2 }, container: { type: 'DOCKER', docker: { image: TEST_IMAGE } } };
  expect((await api(apps.url, 'POST', '/v2/apps', app)).status).toBe(201);
  await waitUntil(async () => (await running()).length === 1, 30_000, 'the task to run');
  const [first] = await running();
  const agent = cluster.group.processes().find((p) => p.name === `agent-${first!.host}`)!;
  agent.signal('SIGKILL');
  await waitUntil(async () => {
    const now = await running();
    return now.length === 1 && now[0]!.id !== first!.id;
  }, 60_000, 'a replacement on the other agent');
  const [second] = await running();
  expect(second!.host).not.toBe(first!.host);
  await waitUntil(async () => (await api(apps.url, 'GET', '/v2/apps/lonely')).body.app.lastTaskFailure !== undefined, 20_000, 'the lost task to be expunged');
  const { body } = await api(apps.url, 'GET', '/v2/apps/lonely');
  expect(body.app.lastTaskFailure).toMatchObject({ taskId: first!.id, state: 'TASK_UNREACHABLE', host: first!.host });
  expect(body.app.tasks.map((t: Task) => t.id)).toEqual([second!.id]);
}, 120_000);
