// The task runner on the mesos containerizer (agent/driver/oci/): real runc
// containers from the OCI image setup.sh builds, no Docker engine involved.
// What is the mesos containerizer's own (cgroup paths, seccomp, the image
// store's failures, rotation, its supervisor, its sweeps, leftovers); what
// both drivers share (exit codes, limits, kill, exec, network none, unknown
// users, reattach) is in driver-contract.test.ts. Every container this file
// creates is removed by its recorded id after each test, and the runtime's
// cgroups with it.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { OciDriver } from '../../agent/driver/oci/oci.js';
import { CommandRuntime } from '../../agent/driver/oci/runtime.js';
import { ImageStore, RootfsMaker } from '../../agent/driver/oci/image-store.js';
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
import { seccompProfile, taskSeccompProfile } from '../../agent/driver/oci/seccomp.js';
import { onLaunchHop } from '../../common/launch-trace.js';
const IMAGE = 'mesos-ts/busybox:latest';

const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-agent-oci-'));
const stateDir = join(workDir, 'oci');
const driver = ociDriverFor(workDir);
const created = new Set<string>();
/** Every container id this file saw, for the last test's count of what is left. */
const seen = new Set<string>();

async function removeAll(): Promise<void> {
  for (const c of await driver.list({})) created.add(c.id);
  for (const id of created) seen.add(id);
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

function start(t: TaskInfoOut, pidsLimit = 64, d = driver) {
  const updates: TaskStatusIn[] = [];
  const checked = checkTask(framework, t);
  if (!checked.ok) throw new Error(checked.message);
  const r = new TaskRunner({
    driver: d, agentId: () => 'agent-test', hostname: '127.0.0.1', workDir, defaultImage: IMAGE, pidsLimit, killGraceSeconds: 1,
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

  it('refuses the default seccomp profile\'s calls with EPERM (unshare of a user namespace, which the kernel lets anyone make), not without the profile', async () => {
    const probe = 'unshare -U true; echo "unshare $?"; echo ok';
    const confined = start(task('seccomp', probe));
    await confined.done;
    expect(confined.states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(readFileSync(join(confined.runner.sandbox, 'stdout'), 'utf8')).toBe('unshare 1\nok\n');
    expect(readFileSync(join(confined.runner.sandbox, 'stderr'), 'utf8')).toContain('Operation not permitted');
    // --seccomp_profile_name=unconfined: the same call succeeds, so what refused it above is the filter.
    const open = start(task('unconfined', probe), 64, ociDriverFor(workDir, () => {}, { seccomp: null }));
    await open.done;
    expect(readFileSync(join(open.runner.sandbox, 'stdout'), 'utf8')).toBe('unshare 0\nok\n');
    // --seccomp_config_dir: a profile of Docker's format from a file, which runc takes: mkdir fails with the errno it names (EACCES).
    const profiles = join(workDir, 'seccomp');
    mkdirSync(profiles, { recursive: true });
    writeFileSync(join(profiles, 'no-mkdir.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
    const filed = start(task('seccomp-file', 'mkdir /tmp/d; echo "mkdir $?"; unshare -U true; echo "unshare $?"'), 64,
      ociDriverFor(workDir, () => {}, { seccomp: seccompProfile('no-mkdir', profiles) }));
    await filed.done;
    expect(readFileSync(join(filed.runner.sandbox, 'stdout'), 'utf8')).toBe('mkdir 1\nunshare 0\n');
    expect(readFileSync(join(filed.runner.sandbox, 'stderr'), 'utf8')).toContain('Permission denied');
  });

  it("takes a task's own seccomp choice (LinuxInfo.seccomp) over the agent's: none, or a profile of --seccomp_config_dir; a missing one fails the task, naming it", async () => {
    const profiles = join(workDir, 'seccomp-own');
    mkdirSync(profiles, { recursive: true });
    writeFileSync(join(profiles, 'no-mkdir.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
    // The agent's own profile is the default one (unshare refused); its config dir holds no-mkdir.
    const d = ociDriverFor(workDir, () => {}, { seccompNamed: (name) => taskSeccompProfile(name, profiles) });
    const probe = 'mkdir /tmp/d; echo "mkdir $?"; unshare -U true; echo "unshare $?"';
    const withSeccomp = (id: string, seccomp: object) => task(id, probe, 'cpus:0.5;mem:64', {
      container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: IMAGE } } }, volumes: [], linux_info: { seccomp } },
    } as unknown as Partial<TaskInfoOut>);
    const agents = start(task('seccomp-agent', probe), 64, d);
    const open = start(withSeccomp('seccomp-none', { unconfined: true }), 64, d);
    const named = start(withSeccomp('seccomp-named', { profile_name: 'no-mkdir' }), 64, d);
    const missing = start(withSeccomp('seccomp-missing', { profile_name: 'absent' }), 64, d);
    await Promise.all([agents.done, open.done, named.done, missing.done]);
    expect(readFileSync(join(agents.runner.sandbox, 'stdout'), 'utf8')).toBe('mkdir 0\nunshare 1\n');
    expect(readFileSync(join(open.runner.sandbox, 'stdout'), 'utf8')).toBe('mkdir 0\nunshare 0\n');
    expect(readFileSync(join(named.runner.sandbox, 'stdout'), 'utf8')).toBe('mkdir 1\nunshare 0\n');
    const failed = missing.updates.at(-1)!;
    expect(failed.state).toBe('TASK_FAILED');
    expect(failed.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
    expect(failed.message).toContain("TaskInfo.container.linux_info.seccomp.profile_name 'absent': no file");
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
    expect(updates.at(-1)).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(updates.at(-1)?.message).toContain('no/such:image');
    expect(updates.at(-1)?.message).toContain(OCI_REGISTRY);
  });

  it('fails a task whose image archive is not a tar, naming the file, and keeps the store usable', async () => {
    const registry = join(workDir, 'bad-registry');
    mkdirSync(join(registry, 'broken'), { recursive: true });
    writeFileSync(join(registry, 'broken', 'img.tar'), 'this is not a tar archive');
    const bad = new OciDriver({
      runtime: new CommandRuntime('runc', join(stateDir, 'runtime')), stateDir, images: new ImageStore(registry, join(workDir, 'bad-store')),
      rootfs: new RootfsMaker(() => {}), hostname: 'h',
    });
    const { updates, done } = start(task('badtar', 'true', 'cpus:0.5;mem:64', {
      container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'broken/img' } } }, volumes: [] },
    } as unknown as Partial<TaskInfoOut>), 64, bad);
    await done;
    expect(updates.at(-1)).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(updates.at(-1)?.message).toContain(`cannot import ${join(registry, 'broken', 'img.tar')}`);
    expect(readdirSync(join(workDir, 'bad-store', 'layouts'))).toEqual([]);
  });

  it('rotates the sandbox output at --sandbox_log_max_size, keeping --sandbox_log_rotations files', async () => {
    const rotating = new OciDriver({
      runtime: new CommandRuntime('runc', join(stateDir, 'runtime')), stateDir, images: new ImageStore(OCI_REGISTRY, join(workDir, 'store', 'docker')),
      rootfs: new RootfsMaker(() => {}), hostname: 'h', logRotation: { maxBytes: 1000, keep: 2 },
    });
    const { runner: r, updates, done } = start(task('chatty', 'i=0; while [ $i -lt 40 ]; do echo 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789; i=$((i+1)); sleep 0.1; done'), 64, rotating);
    await done;
    expect(updates.at(-1)?.state).toBe('TASK_FINISHED');
    expect(existsSync(join(r.sandbox, 'stdout.1'))).toBe(true);
    expect(existsSync(join(r.sandbox, 'stdout.3'))).toBe(false);
  });

  it('reports a container whose supervisor was killed (its exit status lost) as FAILED, and removes it', async () => {
    const { runner: r, updates, done } = start(task('orphaned-supervisor', 'sleep 30'));
    await waitUntil(() => r.state === 'TASK_RUNNING', 20_000, 'TASK_RUNNING');
    const supervisor = Number(readFileSync(join(stateDir, 'containers', r.containerId!, 'supervisor.pid'), 'utf8'));
    process.kill(supervisor, 'SIGKILL');
    await done;
    expect(updates.at(-1)).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_EXECUTOR_TERMINATED' });
    expect(updates.at(-1)?.message).toContain('supervisor is gone');
    await r.containerRemoved();
    expect(await driver.inspect(r.containerId!)).toBeNull();
  });

  it('removes a container once when two remove it at once (its runner and the agent): both wait for that one removal', async () => {
    const { runner: r } = start(task('removed-twice', 'sleep 30'));
    await waitUntil(() => r.state === 'TASK_RUNNING', 20_000, 'TASK_RUNNING');
    const id = r.containerId!;
    const root = join(stateDir, 'containers', id, 'rootfs');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(root);
    const first = driver.remove(id);
    const second = driver.remove(id);
    expect(second).toBe(first); // The same removal: neither returns while the other's unmount still runs.
    await Promise.all([first, second]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(root);
    const umounts = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(id);
      } catch {
        return false;
      }
    });
    expect(umounts).toEqual([]);
    expect(existsSync(join(stateDir, 'containers', id))).toBe(false);
  });

  it('removes, on reattach, a bundle the agent wrote but never started (it stopped in between)', async () => {
    const id = 'mesos-never-started';
    mkdirSync(join(stateDir, 'containers', id), { recursive: true });
    writeFileSync(join(stateDir, 'containers', id, 'meta.json'), JSON.stringify({ id, labels: { [LABEL.taskId]: 'x' }, image: IMAGE }));
    expect((await driver.list({ [LABEL.taskId]: 'x' })).map((c) => c.id)).toEqual([id]);
    expect(await driver.reattach(id)).toBeNull();
    expect(existsSync(join(stateDir, 'containers', id))).toBe(false);
  });

  it('destroys, on its first listing, a container its runtime runs without a bundle (nothing could name it an orphan)', async () => {
    const { runner: r } = start(task('bundle-lost', 'sleep 30'));
    await waitUntil(() => r.state === 'TASK_RUNNING', 20_000, 'TASK_RUNNING');
    const id = r.containerId!;
    const pid = r.pid!;
    // The bundle's record vanishes (removed by hand): a fresh driver, as after an agent restart, finds only the runtime's state.
    rmSync(join(stateDir, 'containers', id, 'meta.json'));
    const fresh = ociDriverFor(workDir);
    expect((await fresh.list({})).map((c) => c.id)).not.toContain(id);
    await waitUntil(() => !existsSync(`/proc/${pid}`), 10_000, 'the container to be killed');
    await driver.remove(id).catch(() => {});
  });

  it('fails the launch with the mount\'s own error when the supervisor cannot mount the root', async () => {
    const store = join(workDir, 'store-broken');
    const own = new OciDriver({
      runtime: new CommandRuntime('runc', join(stateDir, 'runtime')), stateDir, images: new ImageStore(OCI_REGISTRY, store),
      rootfs: new RootfsMaker(() => {}), hostname: 'h',
    });
    const first = start(task('mount-ok', 'true'), 64, own);
    await first.done;
    expect(first.updates.at(-1)?.state).toBe('TASK_FINISHED');
    // The image's cached root vanishes: the next overlay mount (made by the supervisor) has no lower layer.
    for (const digest of readdirSync(join(store, 'rootfs'))) rmSync(join(store, 'rootfs', digest, 'rootfs'), { recursive: true });
    const t = task('mount-broken', 'true');
    (t.command as { user?: string }).user = '65534';
    const second = start(t, 64, own);
    await second.done;
    expect(second.updates.at(-1)).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(second.updates.at(-1)?.message).toMatch(/could not start the container: .*mount/);
    expect(readdirSync(join(stateDir, 'containers'))).toEqual([]);
  });

  it('starts at most --oci_launch_parallelism containers at once; a task killed while waiting is KILLED and never started', async () => {
    const own = ociDriverFor(workDir, () => {}, { launchParallelism: 1 });
    const starting = new Set<string>();
    const stopTracing = onLaunchHop(({ taskId, hop }) => hop === 'oci: starting' && starting.add(taskId));
    try {
      const tasks = ['queue-0', 'queue-1', 'queue-2', 'queue-3', 'queue-4'].map((id) => start(task(id, 'sleep 30', 'cpus:0.1;mem:32'), 64, own));
      // One start at a time: the others of the five wait in the queue, STARTING.
      await waitUntil(() => own.launchesWaiting >= 2, 20_000, 'two launches waiting for their turn');
      const waiting = tasks.filter((t) => !starting.has(t.runner.taskId));
      expect(waiting.length).toBeGreaterThanOrEqual(2);
      for (const t of waiting) t.runner.kill();
      // Out of the queue at the kill, not when their turn would have come.
      expect(own.launchesWaiting).toBe(0);
      await Promise.all(waiting.map((t) => t.done));
      for (const t of waiting) {
        expect(t.states()).toEqual(['TASK_STARTING', 'TASK_KILLED']);
        expect(t.updates.at(-1)?.reason).toBe('REASON_TASK_KILLED_DURING_LAUNCH');
        expect(starting.has(t.runner.taskId)).toBe(false);
      }
      const started = tasks.filter((t) => !waiting.includes(t));
      await waitUntil(() => started.every((t) => t.runner.state === 'TASK_RUNNING'), 20_000, 'the started tasks RUNNING');
      // Only the started tasks have a bundle: the killed ones' were removed before the runtime saw them.
      expect(readdirSync(join(stateDir, 'containers')).sort()).toEqual(started.map((t) => t.runner.containerId!).sort());
      expect((await own.list({})).length).toBe(started.length);
    } finally {
      stopTracing();
    }
  });

  it('leaves no mount, cgroup, bundle or process of any of those tasks behind', async () => {
    await removeAll();
    expect(seen.size).toBeGreaterThan(5);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    const cgroups = readdirSync('/sys/fs/cgroup').flatMap((c) => {
      try {
        return readdirSync(join('/sys/fs/cgroup', c, 'mesos-ts'));
      } catch {
        return [];
      }
    });
    const processes = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    });
    for (const id of seen) {
      expect(mounts).not.toContain(id);
      expect(cgroups).not.toContain(id);
      expect(processes.filter((cmd) => cmd.includes(id))).toEqual([]);
      expect(existsSync(join(stateDir, 'containers', id))).toBe(false);
    }
  });
});
