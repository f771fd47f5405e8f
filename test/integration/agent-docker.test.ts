// The task runner on the real Docker engine: every outcome a task can have,
// the limits the engine enforces, and the sandbox. No master involved: the
// runner's updates are collected as they are emitted.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerDriver } from '../../agent/driver/docker.js';
import { LABEL, TaskRunner, type RunnerContext } from '../../agent/task-runner.js';
import { Resources } from '../../common/resources.js';
import { systemClock } from '../../common/clock.js';
import type { TaskStatusIn, FrameworkInfoOut, TaskInfoOut } from '../../proto/index.js';

const IMAGE = 'mesos-ts/busybox:latest';
const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-agent-test-'));
const driver = new DockerDriver({ pull: 'never', pullTimeoutSeconds: 5 });

afterAll(async () => {
  for (const c of await driver.list({ [LABEL.workDir]: workDir })) await driver.remove(c.id);
  rmSync(workDir, { recursive: true, force: true });
});

function context(updates: TaskStatusIn[]): RunnerContext {
  return {
    driver, agentId: () => 'agent-test', hostname: '127.0.0.1', workDir, defaultImage: IMAGE, pidsLimit: 64, killGraceSeconds: 1,
    now: () => systemClock.now(), emit: (_fw, status) => updates.push(status), log: () => {},
  };
}

const framework = (caps: string[] = []) => ({ id: { value: 'fw-test' }, name: 'test', capabilities: caps.map((type) => ({ type })) }) as unknown as FrameworkInfoOut;

function task(id: string, command: string, resources = 'cpus:0.5;mem:64', image = IMAGE): TaskInfoOut {
  return {
    name: id, task_id: { value: id }, agent_id: { value: 'agent-test' }, resources: Resources.parse(resources).toProto(),
    command: { value: command, shell: true, arguments: [], environment: null },
    container: { type: 'DOCKER', docker: { image } }, kill_policy: null,
  } as unknown as TaskInfoOut;
}

async function run(t: TaskInfoOut, fw = framework()) {
  const updates: TaskStatusIn[] = [];
  const runner = new TaskRunner(context(updates), fw, t);
  await runner.run();
  return { runner, updates, states: updates.map((u) => u.state) };
}

describe('task runner on Docker', () => {
  it('runs a task to FINISHED and keeps its output in the sandbox', async () => {
    const { runner, states } = await run(task('ok', 'echo "hello $MESOS_TASK_ID port=$PORT0"; echo oops >&2', 'cpus:0.5;mem:64;ports:[31555-31556]'));
    expect(states).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(readFileSync(join(runner.sandbox, 'stdout'), 'utf8')).toBe('hello ok port=31555\n');
    expect(readFileSync(join(runner.sandbox, 'stderr'), 'utf8')).toBe('oops\n');
  });

  it('reports a non-zero exit as FAILED with the status', async () => {
    const { updates } = await run(task('exit3', 'exit 3'));
    const last = updates.at(-1)!;
    expect(last.state).toBe('TASK_FAILED');
    expect(last.message).toBe('exited with status 3');
    expect(last.reason).toBe('REASON_COMMAND_EXECUTOR_FAILED');
  });

  it('enforces the memory limit and names the OOM kill', async () => {
    const { updates } = await run(task('oom', 'x=a; while true; do x="$x$x"; done', 'cpus:0.5;mem:32'));
    const last = updates.at(-1)!;
    expect(last.state).toBe('TASK_FAILED');
    expect(last.reason).toBe('REASON_CONTAINER_LIMITATION_MEMORY');
    expect(last.message).toContain('memory limit of 32 MB exceeded');
  });

  it('passes cpu and memory limits to the engine', async () => {
    const updates: TaskStatusIn[] = [];
    const runner = new TaskRunner(context(updates), framework(), task('limits', 'sleep 30', 'cpus:0.25;mem:48'));
    const done = runner.run();
    await waitFor(() => runner.state === 'TASK_RUNNING');
    const info = await driver.docker.getContainer(runner.containerId!).inspect();
    expect(info.HostConfig.NanoCpus).toBe(250_000_000);
    expect(info.HostConfig.Memory).toBe(48 * 1024 * 1024);
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.Config.Labels[LABEL.taskId]).toBe('limits');
    runner.kill(0);
    await done;
    expect(updates.at(-1)!.state).toBe('TASK_KILLED');
  });

  it('kills with SIGTERM, then SIGKILL after the grace period', async () => {
    const updates: TaskStatusIn[] = [];
    const runner = new TaskRunner(context(updates), framework(['TASK_KILLING_STATE']), task('stubborn', "trap '' TERM; sleep 60 & wait; sleep 60"));
    const done = runner.run();
    await waitFor(() => runner.state === 'TASK_RUNNING');
    const t0 = Date.now();
    runner.kill(1);
    await done;
    const took = Date.now() - t0;
    expect(updates.map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(8000);
  });

  it('fails fast on a missing image, naming it', async () => {
    const t0 = Date.now();
    const { updates } = await run(task('noimage', 'true', 'cpus:0.1;mem:32', 'mesos-ts/does-not-exist:1'));
    expect(Date.now() - t0).toBeLessThan(5000);
    const last = updates.at(-1)!;
    expect(last.state).toBe('TASK_FAILED');
    expect(last.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
    expect(last.message).toContain('mesos-ts/does-not-exist:1');
  });

  it('refuses a task without memory as TASK_ERROR', async () => {
    const { states, updates } = await run(task('nomem', 'true', 'cpus:0.1'));
    expect(states).toEqual(['TASK_ERROR']);
    expect(updates[0]!.message).toContain('mem >= 4');
  });

  it('leaves no container behind', async () => {
    expect(await driver.list({ [LABEL.workDir]: workDir })).toEqual([]);
  });
});

async function waitFor(pred: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
