// The task runner on the real Docker engine: what is Docker's own (the
// engine's settings, pulls, out-of-order answers, host paths) and the
// runner's removal and kill steps; what both drivers share (exit codes,
// limits the kernel enforces, kill with grace, exec, network none, reattach)
// is in driver-contract.test.ts. No master involved: the
// runner's updates are collected through a plain callback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DockerDriver } from '../../agent/driver/docker.js';
import { TaskRunner } from '../../agent/task-runner.js';
import { checkTask, LABEL, STRICT } from '../../agent/task-spec.js';
import { Resources } from '../../common/resources.js';
import type { TaskInfoOut, TaskStatusIn } from '../../proto/index.js';
import { dockerRunnerBench, testFramework } from '../harness/docker-runner.js';
import { TEST_IMAGE as IMAGE } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';

const { workDir, driver, context } = dockerRunnerBench('agent-docker');
const framework = (caps: string[] = []) => testFramework('fw-test', caps);

function task(id: string, command: string | { value: string; arguments: string[] }, resources = 'cpus:0.5;mem:64', image = IMAGE): TaskInfoOut {
  const cmd = typeof command === 'string' ? { value: command, shell: true, arguments: [] } : { ...command, shell: false };
  return {
    name: id, task_id: { value: id }, agent_id: { value: 'agent-test' }, resources: Resources.parse(resources).toProto(),
    command: { ...cmd, environment: null, uris: [] },
    container: { type: 'DOCKER', docker: { image, network: 'HOST', privileged: false, parameters: [], force_pull_image: false } },
    kill_policy: null,
  } as unknown as TaskInfoOut;
}

function runner(t: TaskInfoOut, fw = framework(), d = driver) {
  const updates: TaskStatusIn[] = [];
  const checked = checkTask(fw, t);
  if (!checked.ok) throw new Error(checked.message);
  const r = new TaskRunner(context(updates, d), fw, t, checked.resources);
  return { runner: r, updates, states: () => updates.map((u) => u.state), done: r.run() };
}

async function run(t: TaskInfoOut, fw = framework()) {
  const started = runner(t, fw);
  await started.done;
  return { ...started, last: started.updates.at(-1)! };
}

describe('task runner on Docker', () => {
  it('runs a task to FINISHED, with its output in the sandbox and PORT0 from its ports', async () => {
    const { runner: r, states, last } = await run(
      task('ok', 'echo "hello $MESOS_TASK_ID port=$PORT0 port=$PORT ports=$PORTS"; echo oops >&2', 'cpus:0.5;mem:64;ports:[31557-31557,31555-31555]'),
    );
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(last.source).toBe('SOURCE_EXECUTOR');
    expect(last.container_status?.container_id?.value).toBe(r.containerId);
    expect(r.sandbox).toBe(join(workDir, 'sandboxes', 'fw-test', 'ok'));
    expect(readFileSync(join(r.sandbox, 'stdout'), 'utf8')).toBe('hello ok port=31555 port=31555 ports=31555,31557\n');
    expect(readFileSync(join(r.sandbox, 'stderr'), 'utf8')).toBe('oops\n');
    expect(await driver.inspect(r.containerId!)).toBeNull(); // removed once it exited
  });

  it('removes a finished task\'s container only once its terminal update is written down', async () => {
    const updates: TaskStatusIn[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ctx = context(updates);
    const r = new TaskRunner({ ...ctx, emit: (fw, status) => (ctx.emit(fw, status), status.state === 'TASK_FINISHED' ? held : undefined) },
      framework(), task('held', 'true'), Resources.parse('cpus:0.5;mem:64'));
    const done = r.run();
    await waitUntil(() => updates.at(-1)?.state === 'TASK_FINISHED', 20_000, 'TASK_FINISHED');
    // An agent killed now restarts with the container there and the update on disk, not a vanished container.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await driver.inspect(r.containerId!))?.running).toBe(false);
    release();
    await done;
    await waitUntil(async () => (await driver.inspect(r.containerId!)) === null, 10_000, 'the container to be removed');
  });

  it('tells when the container of a task that ended is removed (the agent waits for it before it stops)', async () => {
    const updates: TaskStatusIn[] = [];
    const slow = Object.create(driver) as typeof driver;
    slow.remove = async (id: string) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return driver.remove(id);
    };
    const r = new TaskRunner(context(updates, slow), framework(), task('slow-removal', 'true'), Resources.parse('cpus:0.5;mem:64'));
    const done = r.run();
    await r.finished();
    expect(updates.at(-1)?.state).toBe('TASK_FINISHED');
    expect(await driver.inspect(r.containerId!)).not.toBeNull(); // Ended, not yet removed.
    await r.containerRemoved();
    expect(await driver.inspect(r.containerId!)).toBeNull();
    await done;
  });

  it('runs a command without a shell: value is the program, arguments its argv', async () => {
    const { runner: r, last } = await run(task('argv', { value: '/bin/echo', arguments: ['echo', 'a b', '$HOME'] }));
    expect(last.state).toBe('TASK_FINISHED');
    expect(readFileSync(join(r.sandbox, 'stdout'), 'utf8')).toBe('a b $HOME\n');
  });

  it('mounts a host path only where the agent allows it, read-only unless the task asks for RW', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'mesos-ts-shared-'));
    writeFileSync(join(shared, 'greeting'), 'hello from the host\n');
    chmodSync(shared, 0o777); // Tasks run as nobody: a host path's own permissions still apply inside.
    const policy = { ...STRICT, allowedHostPaths: [shared] };
    const withVolume = (id: string, command: string, mode: 'RO' | 'RW') => {
      const t = task(id, command);
      return { ...t, container: { ...t.container!, volumes: [{ host_path: shared, container_path: '/shared', mode }] } } as TaskInfoOut;
    };
    try {
      expect(checkTask(framework(), withVolume('nope', 'true', 'RO'))).toMatchObject({
        ok: false, message: expect.stringContaining("TaskInfo.container.volumes[0].host_path '" + shared + "' may not be mounted"),
      });
      const reader = withVolume('reader', 'cat /shared/greeting; echo x > /shared/written', 'RO');
      const checked = checkTask(framework(), reader, policy);
      if (!checked.ok) throw new Error(checked.message);
      const updates: TaskStatusIn[] = [];
      const r = new TaskRunner(context(updates), framework(), reader, checked.resources);
      await r.run();
      expect(readFileSync(join(r.sandbox, 'stdout'), 'utf8')).toBe('hello from the host\n');
      expect(readFileSync(join(r.sandbox, 'stderr'), 'utf8')).toMatch(/Read-only file system/);
      expect(existsSync(join(shared, 'written'))).toBe(false);

      const writer = withVolume('writer', 'echo x > /shared/written', 'RW');
      const w = new TaskRunner(context([]), framework(), writer, (checkTask(framework(), writer, policy) as { resources: Resources }).resources);
      await w.run();
      expect(readFileSync(join(shared, 'written'), 'utf8')).toBe('x\n');
      expect(checkTask(framework(), { ...task('priv', 'true'), container: { ...task('priv', 'true').container!, docker: { ...task('priv', 'true').container!.docker!, privileged: true } } } as TaskInfoOut, policy))
        .toMatchObject({ ok: false, message: expect.stringContaining('--allow_privileged is off') });
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it('passes cpu, memory and pid limits to the engine, with host networking, no privileges, the default user and capabilities', async () => {
    const { runner: r, done, states } = runner(task('limits', 'sleep 30', 'cpus:0.25;mem:48'));
    await waitUntil(() => r.state === 'TASK_RUNNING', 15_000, 'the task to run');
    const info = await driver.docker.getContainer(r.containerId!).inspect();
    expect(info.Name).toMatch(/^\/mesos-ts-[0-9a-f-]{36}$/);
    expect(info.HostConfig).toMatchObject({
      NanoCpus: 250_000_000, Memory: 48 * 1024 * 1024, MemorySwap: 48 * 1024 * 1024, PidsLimit: 64,
      Init: true, NetworkMode: 'host', Privileged: false,
      CapDrop: ['ALL'], CapAdd: ['NET_BIND_SERVICE'], SecurityOpt: ['no-new-privileges'], ReadonlyRootfs: false,
    });
    expect(info.Config.User).toBe('nobody');
    expect(info.HostConfig.Binds).toEqual([`${r.sandbox}:/mnt/mesos/sandbox:rw`]); // the sandbox only: no host path the agent did not allow
    expect(info.Config.Labels).toMatchObject({ [LABEL.taskId]: 'limits', [LABEL.frameworkId]: 'fw-test', [LABEL.agentId]: 'agent-test', [LABEL.workDir]: workDir });
    r.kill(0);
    await done;
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']); // no KILLING without the capability
  });

  it('kills with SIGTERM, then SIGKILL after the grace period', async () => {
    const { runner: r, done, states } = runner(task('stubborn', "trap '' TERM; sleep 60 & wait; sleep 60"), framework(['TASK_KILLING_STATE']));
    await waitUntil(() => r.state === 'TASK_RUNNING', 15_000, 'the task to run');
    const t0 = Date.now();
    r.kill(2);
    await done;
    const took = Date.now() - t0;
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(8000);
  });

  // A busy engine handles the driver's requests in no particular order. These two
  // reorder them on purpose, through a driver whose containers delay one request.
  describe('on an engine that answers out of order', () => {
    it('reports a task that exited before the engine heard the wait (no hang)', async () => {
      // The wait reaches the engine only once the container has already exited: a
      // wait for the *next* exit would never answer and the task would stay RUNNING.
      const late = interposed(async (c, call) => {
        await untilExited(c);
        return call();
      }, 'wait');
      const { done, states, updates } = runner(task('late-wait', 'echo hi; exit 3', 'cpus:0.1;mem:32'), framework(), late);
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
      expect(updates.at(-1)?.message).toBe('exited with status 3');
    }, 20_000);

    it('does not take a container that has not started yet for one that exited', async () => {
      // The start reaches the engine late: a wait that answers for a container not
      // yet started ('not-running' before start) would report it FINISHED at once.
      const slowStart = interposed(async (_c, call) => {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return call();
      }, 'start');
      const { done, states, updates } = runner(task('late-start', 'sleep 4; exit 3', 'cpus:0.1;mem:32'), framework(), slowStart);
      await done;
      expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
      expect(updates.at(-1)?.message).toBe('exited with status 3');
    }, 20_000);
  });

  it('fails fast on a missing image with --docker_pull=never, naming it', async () => {
    const t0 = Date.now();
    const { last, states } = await run(task('noimage', 'true', 'cpus:0.1;mem:32', 'mesos-ts/does-not-exist:1'));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(states()).toEqual(['TASK_STARTING', 'TASK_FAILED']);
    expect(last).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', source: 'SOURCE_AGENT' });
    expect(last.message).toContain('mesos-ts/does-not-exist:1');
    expect(last.message).toContain('--docker_pull=never');
  });

  describe('pulling from a registry that never answers (on loopback)', () => {
    let registry: Server;
    const sockets = new Set<Socket>();
    let image = '';
    beforeAll(async () => {
      registry = createServer((s) => void sockets.add(s)); // accept, then say nothing
      await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
      image = `127.0.0.1:${(registry.address() as AddressInfo).port}/mesos-ts/silent:1`;
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => registry.close(resolve));
    });
    const pulling = new DockerDriver({ pull: 'missing', pullTimeoutSeconds: 1.5 });

    it('bounds the pull by --docker_pull_timeout and fails the task', async () => {
      const t0 = Date.now();
      const { done, updates } = runner(task('slowpull', 'true', 'cpus:0.1;mem:32', image), framework(), pulling);
      await done;
      expect(Date.now() - t0).toBeLessThan(6000);
      const last = updates.at(-1)!;
      expect(last).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
      expect(last.message).toContain(image);
      expect(last.message).toContain('timed out after 1.5s');
    });

    it('kills a task while its image is being pulled', async () => {
      const { runner: r, done, states } = runner(task('killpull', 'true', 'cpus:0.1;mem:32', image), framework(), pulling);
      await new Promise((resolve) => setTimeout(resolve, 200));
      r.kill();
      await done;
      expect(states()).toEqual(['TASK_STARTING', 'TASK_KILLED']);
    });
  });
});

type Container = Awaited<ReturnType<DockerDriver['docker']['createContainer']>>;

/** A driver whose containers pass every `method` call through `around` (to delay it, say). */
function interposed(around: (c: Container, call: () => Promise<unknown>) => Promise<unknown>, method: 'wait' | 'start'): DockerDriver {
  const d = new DockerDriver({ pull: 'never', pullTimeoutSeconds: 5 });
  const create = d.docker.createContainer.bind(d.docker);
  d.docker.createContainer = (async (options: Parameters<typeof create>[0]) => {
    const c = await create(options);
    const original = (c[method] as (...args: unknown[]) => Promise<unknown>).bind(c);
    (c as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => around(c, () => original(...args));
    return c;
  }) as typeof d.docker.createContainer;
  return d;
}

/** Resolves once the container has run and exited (or after 10 s). */
async function untilExited(c: Container): Promise<void> {
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const info = await c.inspect().catch(() => null);
    if (info?.State.Status === 'exited') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
