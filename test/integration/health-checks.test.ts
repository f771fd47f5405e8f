// Health checks of tasks in real containers, through the task runner (as
// agent-docker.test.ts drives it): HTTP against busybox httpd, TCP against
// busybox nc, COMMAND through docker exec; passing ones report healthy, and
// failing ones kill the task after consecutive_failures. Small delays keep
// each case to a few seconds.
import { describe, expect, it } from 'vitest';
import { freePort } from '../harness/zookeeper.js';
import { waitUntil } from '../harness/wait-until.js';
import { dockerRunnerBench, testFramework } from '../harness/docker-runner.js';
import { TEST_IMAGE as IMAGE } from '../harness/grpc-scheduler.js';
import { DockerDriver } from '../../agent/driver/docker.js';
import type { ContainerDriver } from '../../agent/driver/driver.js';
import { TaskRunner } from '../../agent/task-runner.js';
import { checkTask } from '../../agent/task-spec.js';
import { Resources } from '../../common/resources.js';
import type { TaskInfoOut, TaskStatusIn, TaskStatusOut } from '../../proto/index.js';

const { driver, context } = dockerRunnerBench('health-checks');
const REASON = 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED';

const framework = (caps: string[] = []) => testFramework('fw-hc', caps);

/** Fast timing: first probe after 0.2 s, every 0.3 s, 1 s to answer, no grace, killed at the 2nd failure in a row. */
const FAST = { delay_seconds: 0.2, interval_seconds: 0.3, timeout_seconds: 1, grace_period_seconds: 0, consecutive_failures: 2 };

function task(id: string, command: string, ports: number[], healthCheck: Record<string, unknown>): TaskInfoOut {
  return {
    name: id, task_id: { value: id }, agent_id: { value: 'agent-test' },
    resources: Resources.parse(`cpus:0.2;mem:32;ports:[${ports.map((p) => `${p}-${p}`).join(',')}]`).toProto(),
    command: { value: command, shell: true, arguments: [], environment: null, uris: [] },
    container: { type: 'DOCKER', docker: { image: IMAGE, network: 'HOST', privileged: false, parameters: [], force_pull_image: false } },
    kill_policy: null, health_check: { ...FAST, ...healthCheck },
  } as unknown as TaskInfoOut;
}

function start(t: TaskInfoOut, fw = framework(), d: ContainerDriver = driver) {
  const updates: TaskStatusIn[] = [];
  const checked = checkTask(fw, t);
  if (!checked.ok) throw new Error(checked.message);
  const ctx = context(updates, d);
  const runner = new TaskRunner(ctx, fw, t, checked.resources);
  const health = () => updates.filter((u) => u.reason === REASON && u.state === 'TASK_RUNNING').map((u) => u.healthy);
  return { runner, updates, health, ctx, states: () => updates.map((u) => u.state) };
}

/** Runs until the first health result and a few intervals more (no further update: health did not change), then kills the task. */
async function healthyThenKill(t: TaskInfoOut) {
  const s = start(t);
  const done = s.runner.run();
  await waitUntil(() => s.health().length > 0 || (s.runner.state !== 'TASK_RUNNING' && s.runner.state !== 'TASK_STARTING'), 15_000, 'a health result or the task to end');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  s.runner.kill(0);
  await done;
  return s;
}

/** Runs a task whose check fails until the runner kills it: its updates. */
async function untilKilled(t: TaskInfoOut, fw = framework()) {
  const s = start(t, fw);
  const t0 = Date.now();
  await s.runner.run();
  return { ...s, took: Date.now() - t0, last: s.updates.at(-1)! };
}

function expectKilledByHealthCheck(last: TaskStatusIn, check: string, failure: string | RegExp) {
  expect(last).toMatchObject({ state: 'TASK_KILLED', healthy: false, reason: REASON });
  expect(last.message).toMatch(new RegExp(`^killed: ${check.replace(/[()[\]]/g, '\\$&')} failed 2 time\\(s\\) in a row \\(consecutive_failures: 2\\): `));
  expect(last.message).toMatch(failure);
}

describe('health checks on Docker', () => {
  it('HTTP: httpd answering 200 reports healthy, once', async () => {
    const port = await freePort();
    const serve = 'mkdir -p /tmp/www && echo ok > /tmp/www/health && exec httpd -f -p $PORT0 -h /tmp/www';
    // httpd needs a moment to listen: a grace period covers it.
    const s = await healthyThenKill(task('http-ok', serve, [port], { type: 'HTTP', http: { port, path: '/health' }, grace_period_seconds: 5 }));
    expect(s.states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_KILLED']);
    expect(s.updates[2]).toMatchObject({ healthy: true, reason: REASON, message: `HTTP health check (GET http://127.0.0.1:${port}/health) passed` });
    expect(s.updates[3]).toMatchObject({ state: 'TASK_KILLED', message: 'killed on request' });
    expect(s.updates[3]!.healthy).toBeUndefined();
  });

  it('HTTP: nothing listening kills the task after consecutive_failures, with TASK_KILLING for frameworks that take it', async () => {
    const [port, unused] = [await freePort(), await freePort()];
    const check = { type: 'HTTP', http: { port: unused, path: '/' } };
    const { states, health, last, took } = await untilKilled(task('http-down', 'sleep 60', [port, unused], check), framework(['TASK_KILLING_STATE']));
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    expect(health()).toEqual([false, false]);
    expectKilledByHealthCheck(last, `HTTP health check (GET http://127.0.0.1:${unused}/)`, `connect ECONNREFUSED 127.0.0.1:${unused}`);
    expect(took).toBeLessThan(10_000);
  });

  it('HTTP: a 404 is a failure', async () => {
    const port = await freePort();
    const serve = 'mkdir -p /tmp/www && exec httpd -f -p $PORT0 -h /tmp/www';
    const { last } = await untilKilled(task('http-404', serve, [port], { type: 'HTTP', http: { port, path: '/missing' }, grace_period_seconds: 2 }));
    expectKilledByHealthCheck(last, `HTTP health check (GET http://127.0.0.1:${port}/missing)`, 'answered 404');
  });

  it('TCP: a listening nc reports healthy; a port nothing listens on kills the task', async () => {
    const port = await freePort();
    const ok = await healthyThenKill(task('tcp-ok', 'exec nc -ll -p $PORT0 -e true', [port], { type: 'TCP', tcp: { port }, grace_period_seconds: 5 }));
    expect(ok.health()).toEqual([true]);
    expect(ok.updates[2]!.message).toBe(`TCP health check (127.0.0.1:${port}) passed`);

    const unused = await freePort();
    const down = await untilKilled(task('tcp-down', 'sleep 60', [unused], { type: 'TCP', tcp: { port: unused } }));
    expect(down.states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_KILLED']);
    expectKilledByHealthCheck(down.last, `TCP health check (127.0.0.1:${unused})`, `connect ECONNREFUSED 127.0.0.1:${unused}`);
  });

  it("COMMAND: runs in the task's container (its environment, its files) and reports healthy", async () => {
    const port = await freePort();
    const command = { shell: true, value: 'true && test "$MESOS_TASK_ID" = cmd-ok && test -f /tmp/ready', arguments: [] };
    const s = await healthyThenKill(task('cmd-ok', 'touch /tmp/ready; sleep 60', [port], { type: 'COMMAND', command, grace_period_seconds: 5 }));
    expect(s.health()).toEqual([true]);
  });

  it('COMMAND: a failing command kills the task, naming its exit status', async () => {
    const port = await freePort();
    const command = { shell: true, value: 'test -f /nonexistent', arguments: [] };
    const { health, last } = await untilKilled(task('cmd-fail', 'sleep 60', [port], { type: 'COMMAND', command }));
    expect(health()).toEqual([false, false]);
    expectKilledByHealthCheck(last, 'COMMAND health check (test -f /nonexistent)', /exited with status 1$/);
  });

  it('COMMAND: a command past timeout_seconds fails', async () => {
    const port = await freePort();
    const command = { shell: false, value: '/bin/sleep', arguments: ['sleep', '30'] };
    const { last, took } = await untilKilled(task('cmd-slow', 'sleep 60', [port], { type: 'COMMAND', command, timeout_seconds: 0.5 }));
    expectKilledByHealthCheck(last, 'COMMAND health check (["/bin/sleep","30"])', 'no answer within 0.5s');
    expect(took).toBeLessThan(10_000);
  });

  it('goes on checking a task resumed after an agent restart, from the health last reported', async () => {
    const port = await freePort();
    const check = { type: 'COMMAND', command: { shell: true, value: 'test -f /tmp/ready', arguments: [] }, grace_period_seconds: 60 };
    const t = task('resumed', 'touch /tmp/ready; sleep 60', [port], check);
    const before = start(t);
    void before.runner.run();
    await waitUntil(() => before.health().length > 0, 15_000, 'a health result');
    expect(before.health()).toEqual([true]);
    before.runner.detach(); // the agent stops without killing its tasks
    const containerId = before.runner.containerId!;
    await driver.exec(containerId, { shell: true, value: 'rm /tmp/ready', arguments: [] }, 5);

    // A new agent process (a new driver) takes the task back: no delay, no grace, no second healthy update.
    const after = start(t, framework(), new DockerDriver({ pull: 'never', pullTimeoutSeconds: 5 }));
    await after.runner.resume(before.runner.lastStatus as TaskStatusOut, containerId);
    expect(after.states()).toEqual(['TASK_RUNNING', 'TASK_RUNNING', 'TASK_KILLED']);
    expect(after.health()).toEqual([false, false]);
    expectKilledByHealthCheck(after.updates.at(-1)!, 'COMMAND health check (test -f /tmp/ready)', /exited with status 1$/);
  });
});
