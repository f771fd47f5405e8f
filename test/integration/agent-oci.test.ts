// The task runner on the mesos containerizer (agent/driver/oci/): real runc
// containers from the OCI image setup.sh builds, no Docker engine involved.
// Every container this file creates is removed by its recorded id after each
// test, and the runtime's cgroups with it.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRunner } from '../../agent/task-runner.js';
import { checkTask, LABEL } from '../../agent/task-spec.js';
import { Resources } from '../../common/resources.js';
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log/logger.js';
import type { TaskInfoOut, TaskStatusIn } from '../../proto/index.js';
import { testFramework } from '../harness/docker-runner.js';
import { waitUntil } from '../harness/wait-until.js';
import { OCI_REGISTRY, ociDriverFor } from '../harness/oci.js';
const IMAGE = 'mesos-ts/busybox:latest';

const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-agent-oci-'));
const stateDir = join(workDir, 'oci');
const driver = ociDriverFor(workDir);
const created = new Set<string>();

async function removeAll(): Promise<void> {
  for (const c of await driver.list({})) created.add(c.id);
  for (const id of created) await driver.remove(id).catch(() => {});
  created.clear();
}
afterEach(removeAll);
afterAll(async () => {
  await removeAll();
  rmSync(workDir, { recursive: true, force: true });
});

const framework = testFramework('fw-oci');

function task(id: string, command: string, resources = 'cpus:0.5;mem:64', extra: Partial<TaskInfoOut> = {}): TaskInfoOut {
  return {
    name: id, task_id: { value: id }, agent_id: { value: 'agent-test' }, resources: Resources.parse(resources).toProto(),
    command: { value: command, shell: true, arguments: [], environment: null, uris: [] },
    container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: IMAGE } } }, volumes: [] },
    kill_policy: null, ...extra,
  } as unknown as TaskInfoOut;
}

function start(t: TaskInfoOut) {
  const updates: TaskStatusIn[] = [];
  const checked = checkTask(framework, t);
  if (!checked.ok) throw new Error(checked.message);
  const r = new TaskRunner({
    driver, agentId: () => 'agent-test', hostname: '127.0.0.1', workDir, defaultImage: IMAGE, pidsLimit: 64, killGraceSeconds: 1,
    now: () => systemClock.now(), emit: (_fw, status) => void updates.push(status),
    launched: (runner) => runner.containerId && created.add(runner.containerId), logger: () => silentLogger(),
  }, framework, t, checked.resources);
  return { runner: r, updates, states: () => updates.map((u) => u.state), done: r.run() };
}

describe('task runner on the mesos containerizer (runc)', () => {
  it('runs a task to FINISHED with its output, environment and sandbox, then removes its container', async () => {
    const { runner: r, states, done, updates } = start(task('ok', 'echo "hi $MESOS_TASK_ID in $MESOS_SANDBOX as $(id -u)"; echo oops >&2; echo x > $MESOS_SANDBOX/file'));
    await done;
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(r.containerId).toMatch(/^mesos-/);
    expect(updates.at(-1)?.container_status?.container_id?.value).toBe(r.containerId);
    expect(readFileSync(join(r.sandbox, 'stdout'), 'utf8')).toBe('hi ok in /mnt/mesos/sandbox as 65534\n');
    expect(readFileSync(join(r.sandbox, 'stderr'), 'utf8')).toBe('oops\n');
    expect(readFileSync(join(r.sandbox, 'file'), 'utf8')).toBe('x\n');
    await r.containerRemoved();
    expect(await driver.inspect(r.containerId!)).toBeNull();
    expect(existsSync(join(stateDir, 'containers', r.containerId!))).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(r.containerId!);
  });

  it('reports a non-zero exit as FAILED with its status', async () => {
    const { updates, done } = start(task('exit3', 'exit 3'));
    await done;
    expect(updates.at(-1)).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exited with status 3' });
  });

  it('OOM-kills a task over its 32 MiB memory limit and says so (read from the cgroup)', async () => {
    const { updates, done } = start(task('oom', 'x=a; while true; do x="$x$x"; done', 'cpus:0.5;mem:32'));
    await done;
    expect(updates.at(-1)).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: 'memory limit of 32 MB exceeded (OOM killed)' });
  });

  it('sets the cgroup limits from the task: CFS quota and shares from cpus, memory without swap, pids', async () => {
    const { runner: r, done } = start(task('limits', 'sleep 30', 'cpus:0.25;mem:48'));
    await waitUntil(() => r.state === 'TASK_RUNNING', 20_000, 'TASK_RUNNING');
    const stats = await driver.stats(r.containerId!);
    expect(stats?.cpus_limit).toBeCloseTo(0.25);
    expect(stats?.mem_limit_bytes).toBe(48 * 1024 * 1024);
    const cgroup = readFileSync(`/proc/${r.pid}/cgroup`, 'utf8');
    expect(cgroup).toContain(`/mesos-ts/${r.containerId}`);
    r.kill(0);
    await done;
  });

  it('kills a task: SIGTERM reaches it, TASK_KILLED', async () => {
    const { runner: r, updates, done } = start(task('kill', "trap 'echo term; exit 0' TERM; while true; do sleep 0.1; done"));
    await waitUntil(() => r.state === 'TASK_RUNNING', 20_000, 'TASK_RUNNING');
    await new Promise((resolve) => setTimeout(resolve, 300));
    r.kill(5);
    await done;
    expect(updates.at(-1)?.state).toBe('TASK_KILLED');
    expect(readFileSync(join(r.sandbox, 'stdout'), 'utf8')).toContain('term');
  });

  it('fails a task whose image is not in the store, naming the image and the store', async () => {
    const { updates, done } = start(task('noimage', 'true', 'cpus:0.5;mem:64', {
      container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'no/such:image' } } }, volumes: [] },
    } as unknown as Partial<TaskInfoOut>));
    await done;
    expect(updates.at(-1)).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_PREPARE_FAILED' });
    expect(updates.at(-1)?.message).toContain('no/such:image');
    expect(updates.at(-1)?.message).toContain(OCI_REGISTRY);
  });

  it('fails a task asking for a user the image does not know, and leaves nothing behind', async () => {
    const t = task('nouser', 'true');
    (t.command as { user?: string }).user = 'alice';
    const { updates, done } = start(t);
    await done;
    expect(updates.at(-1)).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(updates.at(-1)?.message).toContain("user 'alice' does not exist in image");
    expect(readdirSync(join(stateDir, 'containers'))).toEqual([]);
  });

  it('runs a COMMAND health check through the runtime\'s exec', async () => {
    const { runner: r, done } = start(task('exec', 'sleep 30'));
    await waitUntil(() => r.state === 'TASK_RUNNING', 20_000, 'TASK_RUNNING');
    const result = await driver.exec(r.containerId!, { shell: true, value: 'echo in-container; exit 4', arguments: [] }, 5);
    expect(result).toEqual({ exitCode: 4, output: 'in-container\n' });
    r.kill(0);
    await done;
  });

  it('takes a running container back after the agent lost track of it (a new driver on the same state)', async () => {
    const { runner: r, done } = start(task('reattach', 'sleep 1; echo done'));
    await waitUntil(() => r.state === 'TASK_RUNNING', 20_000, 'TASK_RUNNING');
    const id = r.containerId!;
    const again = ociDriverFor(workDir);
    const info = await again.reattach(id);
    expect(info).toMatchObject({ id, running: true, labels: { [LABEL.taskId]: 'reattach' } });
    expect(await again.wait(id)).toEqual({ exitCode: 0, oomKilled: false });
    await done;
  });
});
