// One contract for every ContainerDriver (agent/driver/driver.ts), run with
// real containers against each: the Docker engine and the mesos
// containerizer (runc), as the allocator's sorters share one suite. What the
// agent relies on: exit codes; limits the kernel enforces (a memory hog
// OOM-killed and reported as REASON_CONTAINER_LIMITATION_MEMORY, a fork bomb
// stopped at the pids limit, a busy loop held to its cpu quota in every cfs
// period, as the cgroup accounts it); SIGTERM then SIGKILL after the grace; exec; network
// none; an unknown user refused; a restarted agent's new driver taking a
// container back and removing an orphan; removal that leaves nothing.
// The two drivers' suites run side by side, and each test's containers are
// removed by their recorded ids when it ends.
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { placementOf } from '../../agent/driver/cgroup-stats.js';
import { DockerDriver } from '../../agent/driver/docker.js';
import { LaunchError, type ContainerDriver, type ContainerSpec } from '../../agent/driver/driver.js';
import { TaskRunner } from '../../agent/task-runner.js';
import { checkTask, LABEL } from '../../agent/task-spec.js';
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log/logger.js';
import { Resources } from '../../common/resources.js';
import type { TaskInfoOut, TaskStatusIn } from '../../proto/index.js';
import { testFramework } from '../harness/docker-runner.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';
import { ociDriverFor } from '../harness/oci.js';
import { waitUntil } from '../harness/wait-until.js';

type Made = { readonly name: string; readonly type: 'DOCKER' | 'MESOS'; make(workDir: string): ContainerDriver };
const DRIVERS: Made[] = [
  { name: 'docker', type: 'DOCKER', make: () => new DockerDriver({ pull: 'never', pullTimeoutSeconds: 5 }) },
  { name: 'mesos (runc)', type: 'MESOS', make: (workDir) => ociDriverFor(workDir) },
];

describe.concurrent.each(DRIVERS)('ContainerDriver contract: $name', ({ type, make }) => {
  const workDir = mkdtempSync(join(tmpdir(), `mesos-ts-driver-contract-${type.toLowerCase()}-`));
  const dirs = [workDir];
  const driver = make(workDir);
  let seq = 0;
  // The first listing sweeps what an earlier run left (as at an agent's start): done before any launch, not beside one.
  beforeAll(() => driver.list({}).then(() => {}));
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** Launches on `d` (default: the suite's driver); the container is removed when the test ends. */
  async function launch(ctx: TestContext, command: string, over: Partial<ContainerSpec> = {}, d = driver, dir = workDir): Promise<{ id: string; sandbox: string }> {
    const sandbox = join(dir, `sandbox-${seq++}`);
    mkdirSync(sandbox, { recursive: true });
    const id = await d.launch({
      image: TEST_IMAGE, forcePull: false, command: { entrypoint: ['/bin/sh', '-c', command] }, env: { GREETING: 'hi' },
      labels: { [LABEL.workDir]: dir, [LABEL.taskId]: `t${seq}` }, cpus: 0.5, memMiB: 64, pidsLimit: 64, privileged: false,
      user: 'nobody', capabilities: ['NET_BIND_SERVICE'], readOnlyRootfs: false, mounts: [],
      stdoutPath: join(sandbox, 'stdout'), stderrPath: join(sandbox, 'stderr'), ...over,
    });
    ctx.onTestFinished(() => d.remove(id).catch(() => {}));
    return { id, sandbox };
  }

  const running = (id: string) => waitUntil(async () => (await driver.inspect(id))?.running === true, 20_000, 'the container to run');

  it("reports the exit code, with the output in the sandbox files, as the spec's user", async (ctx) => {
    const { id, sandbox } = await launch(ctx, 'echo "$GREETING as $(id -u)"; echo err >&2; exit 3');
    expect(await driver.wait(id)).toEqual({ exitCode: 3, oomKilled: false });
    expect(readFileSync(join(sandbox, 'stdout'), 'utf8')).toBe('hi as 65534\n');
    expect(readFileSync(join(sandbox, 'stderr'), 'utf8')).toBe('err\n');
  });

  it('mounts the sandbox at /mnt/mesos/sandbox and names it in MESOS_SANDBOX, as Mesos does', async (ctx) => {
    const { id, sandbox } = await launch(ctx, 'while [ ! -f "$MESOS_SANDBOX/marker" ]; do sleep 0.05; done; echo "$MESOS_SANDBOX"; cat "$MESOS_SANDBOX/marker"; grep -c " /mnt/mesos/sandbox " /proc/self/mountinfo');
    writeFileSync(join(sandbox, 'marker'), 'from the host\n');
    expect(await driver.wait(id)).toEqual({ exitCode: 0, oomKilled: false });
    expect(readFileSync(join(sandbox, 'stdout'), 'utf8')).toBe('/mnt/mesos/sandbox\nfrom the host\n1\n');
  });

  it("hands the sandbox to the task's user, who may write there, as Mesos does", async (ctx) => {
    const named = await launch(ctx, 'echo written >"$MESOS_SANDBOX/by-task" && cat "$MESOS_SANDBOX/by-task"');
    expect(await driver.wait(named.id)).toEqual({ exitCode: 0, oomKilled: false });
    expect(readFileSync(join(named.sandbox, 'by-task'), 'utf8')).toBe('written\n');
    expect(statSync(named.sandbox)).toMatchObject({ uid: 65534, gid: 65534 }); // nobody in the image's /etc/passwd
    const numeric = await launch(ctx, 'touch "$MESOS_SANDBOX/by-task"', { user: '1234:5678' });
    expect(await driver.wait(numeric.id)).toEqual({ exitCode: 0, oomKilled: false });
    expect(statSync(numeric.sandbox)).toMatchObject({ uid: 1234, gid: 5678 });
  });

  it('OOM-kills a memory hog over its limit; the task runner reports REASON_CONTAINER_LIMITATION_MEMORY (the kernel\'s word, from the cgroup), and a plain non-zero exit as FAILED', async () => {
    const framework = testFramework(`fw-contract-${type}`);
    const runTask = async (id: string, command: string, resources: string) => {
      const task = {
        name: id, task_id: { value: id }, agent_id: { value: 'agent-test' }, resources: Resources.parse(resources).toProto(),
        command: { value: command, shell: true, arguments: [], environment: null, uris: [] },
        container: type === 'DOCKER'
          ? { type, docker: { image: TEST_IMAGE, network: 'HOST', privileged: false, parameters: [], force_pull_image: false }, volumes: [] }
          : { type, mesos: { image: { type: 'DOCKER', docker: { name: TEST_IMAGE } } }, volumes: [] },
        kill_policy: null,
      } as unknown as TaskInfoOut;
      const checked = checkTask(framework, task);
      if (!checked.ok) throw new Error(checked.message);
      const updates: TaskStatusIn[] = [];
      const runner = new TaskRunner({
        driver, agentId: () => 'agent-test', hostname: '127.0.0.1', workDir, defaultImage: TEST_IMAGE, pidsLimit: 64, killGraceSeconds: 1,
        now: () => systemClock.now(), emit: (_fw, status) => void updates.push(status), launched: () => {}, logger: () => silentLogger(),
      }, framework, task, checked.resources);
      await runner.run();
      await runner.containerRemoved();
      return updates;
    };
    const [oom, exit3] = await Promise.all([runTask('oom', 'x=a; while true; do x="$x$x"; done', 'cpus:0.5;mem:32'), runTask('exit3', 'exit 3', 'cpus:0.1;mem:32')]);
    expect(oom.map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    expect(oom.at(-1)).toMatchObject({ reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: 'memory limit of 32 MB exceeded (OOM killed)' });
    expect(Resources.fromProto(oom.at(-1)!.limitation?.resources).toString()).toBe('mem:32');
    expect(exit3.at(-1)).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exited with status 3' });
  });

  it('stops a fork bomb at the pids limit; the same forks fit under a higher one', async (ctx) => {
    const bomb = await launch(ctx, 'i=0; while [ $i -lt 30 ]; do sleep 5 & i=$((i+1)); done; echo forked', { pidsLimit: 8 });
    const fits = await launch(ctx, 'i=0; while [ $i -lt 5 ]; do sleep 1 & i=$((i+1)); done; wait; echo forked', { pidsLimit: 64 });
    await driver.wait(bomb.id);
    expect(readFileSync(join(bomb.sandbox, 'stderr'), 'utf8')).toMatch(/can't fork|Resource temporarily unavailable/);
    expect(await driver.wait(fits.id)).toEqual({ exitCode: 0, oomKilled: false });
    expect(readFileSync(join(fits.sandbox, 'stderr'), 'utf8')).toBe('');
  });

  it('throttles a busy loop to its cpu quota, as its cgroup accounts it', async (ctx) => {
    const { id } = await launch(ctx, 'while true; do :; done', { cpus: 0.2, memMiB: 32 });
    await running(id);
    const pid = (await driver.inspect(id))!.pid!;
    // Counted in the cgroup's own periods, not in wall-clock time: on a loaded machine the loop may get less than its
    // quota, and a read of the counters may come late, but no period may give it more than the quota. The window
    // ends once it holds 20 periods and at least one of them throttled the loop (the quota, not the load, held it).
    const before = cpuBandwidth(pid, 'periods first');
    expect(before.quotaCpus).toBeCloseTo(0.2, 5);
    let after = before;
    await waitUntil(() => {
      after = cpuBandwidth(pid, 'usage first');
      return after.periods - before.periods >= 20 && after.throttled > before.throttled;
    }, 50_000, 'twenty cfs periods, one of them throttled');
    const periods = after.periods - before.periods;
    const used = after.usageSecs - before.usageSecs;
    // At most one quota per period, plus the periods cut by either end of the window; at least the one throttled period's quota.
    expect(used).toBeLessThanOrEqual(0.2 * PERIOD_SECS * (periods + 2));
    expect(used).toBeGreaterThanOrEqual(0.2 * PERIOD_SECS);
    // What the agent reports (/monitor/statistics) says the same.
    const stats = (await driver.stats(id))!;
    expect(stats.cpus_limit).toBeCloseTo(0.2, 5);
    expect(stats.cpus_nr_throttled).toBeGreaterThanOrEqual(after.throttled);
  }, 70_000);

  it('stops with SIGTERM; a task that ignores it is killed after the grace', async (ctx) => {
    const polite = await launch(ctx, "trap 'echo term; exit 0' TERM; echo ready; while true; do sleep 0.1; done");
    const stubborn = await launch(ctx, "trap '' TERM; echo ready; while true; do sleep 0.1; done");
    const ready = (sandbox: string) => waitUntil(() => readFileSync(join(sandbox, 'stdout'), 'utf8').includes('ready'), 20_000, 'the trap to be set');
    await Promise.all([ready(polite.sandbox), ready(stubborn.sandbox)]);
    await driver.stop(polite.id, 10);
    expect((await driver.wait(polite.id)).exitCode).toBe(0);
    expect(readFileSync(join(polite.sandbox, 'stdout'), 'utf8')).toContain('term');
    const started = Date.now();
    await driver.stop(stubborn.id, 1);
    const exit = await driver.wait(stubborn.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(exit.exitCode).toBe(137);
  });

  it('runs exec in the running container, and reads its usage and limits from the cgroup', async (ctx) => {
    const { id } = await launch(ctx, 'sleep 60', { cpus: 0.25, memMiB: 48 });
    await running(id);
    expect(await driver.exec(id, { shell: true, value: 'echo $GREETING; exit 5', arguments: [] }, 10)).toEqual({ exitCode: 5, output: 'hi\n' });
    const stats = await driver.stats(id);
    expect(stats?.cpus_limit).toBeCloseTo(0.25);
    expect(stats?.mem_limit_bytes).toBe(48 * 1024 * 1024);
    expect(stats?.processes).toBeGreaterThanOrEqual(1);
  });

  it("gives a container of network 'none' only its own lo: the host's loopback listener is out of its reach, as it is in reach of a host-network one", async (ctx) => {
    const accepted: string[] = [];
    const server = createServer((socket) => socket.once('data', (d) => accepted.push(d.toString().trim())).on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ctx.onTestFinished(() => void server.close());
    const port = (server.address() as AddressInfo).port;
    const probe = (who: string) => `echo ${who} | nc 127.0.0.1 ${port} && echo reached || echo unreachable; ls /sys/class/net`;
    const isolated = await launch(ctx, probe('isolated'), { network: 'none' });
    const host = await launch(ctx, probe('host'));
    expect(await driver.wait(isolated.id)).toEqual({ exitCode: 0, oomKilled: false });
    expect(await driver.wait(host.id)).toEqual({ exitCode: 0, oomKilled: false });
    await waitUntil(() => accepted.includes('host'), 10_000, 'the host-network container to reach the listener');
    expect(accepted).toEqual(['host']);
    expect(readFileSync(join(isolated.sandbox, 'stdout'), 'utf8')).toBe('unreachable\nlo\n');
    expect(readFileSync(join(host.sandbox, 'stdout'), 'utf8')).toMatch(/^reached\n/);
  });

  it('refuses a user the image does not know, naming it', async (ctx) => {
    const failed = launch(ctx, 'echo never', { user: 'nosuchuser' });
    await expect(failed).rejects.toBeInstanceOf(LaunchError);
    await expect(failed).rejects.toThrow(`user 'nosuchuser' does not exist in image ${TEST_IMAGE}`);
  });

  it("after the agent lost its driver (a new one on the same state, as after a SIGKILL): takes a running container back with its real exit status, and lists and removes an orphan", async (ctx) => {
    // A work_dir of its own: the listing sees only this test's containers.
    const dir = mkdtempSync(join(tmpdir(), `mesos-ts-driver-recovery-${type.toLowerCase()}-`));
    dirs.push(dir);
    const before = make(dir);
    const kept = await launch(ctx, 'echo before; while [ ! -f /mnt/mesos/sandbox/go ]; do sleep 0.05; done; echo after; exit 7', {}, before, dir);
    const orphan = await launch(ctx, 'sleep 600', {}, before, dir);
    await waitUntil(() => readFileSync(join(kept.sandbox, 'stdout'), 'utf8').includes('before'), 20_000, 'the first output');
    const after = make(dir);
    const output = { stdoutPath: join(kept.sandbox, 'stdout'), stderrPath: join(kept.sandbox, 'stderr'), sinceSeconds: Math.floor(Date.now() / 1000) };
    expect(await after.reattach(kept.id, output)).toMatchObject({ id: kept.id, running: true });
    const listed = (await after.list({ [LABEL.workDir]: dir })).map((c) => c.id);
    expect(listed.sort()).toEqual([kept.id, orphan.id].sort());
    await after.remove(orphan.id);
    expect(await after.inspect(orphan.id)).toBeNull();
    expect((await after.list({ [LABEL.workDir]: dir })).map((c) => c.id)).toEqual([kept.id]);
    writeFileSync(join(kept.sandbox, 'go'), '');
    expect(await after.wait(kept.id)).toEqual({ exitCode: 7, oomKilled: false });
    await waitUntil(() => readFileSync(join(kept.sandbox, 'stdout'), 'utf8').includes('after'), 10_000, 'the output printed after the reattach');
  });

  it('lists its containers by label; a removed container is gone, and removing it again is no error', async (ctx) => {
    const { id } = await launch(ctx, 'sleep 60');
    const info = await driver.inspect(id);
    expect(info).toMatchObject({ id, running: true, labels: { [LABEL.workDir]: workDir } });
    expect(info?.pid).toBeGreaterThan(0);
    expect((await driver.list({ [LABEL.workDir]: workDir })).map((c) => c.id)).toContain(id);
    await driver.remove(id);
    expect(await driver.inspect(id)).toBeNull();
    expect((await driver.list({ [LABEL.workDir]: workDir })).map((c) => c.id)).not.toContain(id);
    await driver.remove(id);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(id);
  });
});

/** The cfs period both drivers set (bundle.ts, docker.ts): 100 ms. */
const PERIOD_SECS = 0.1;

/**
 * A container's cpu usage (precise: cpuacct.usage, cpu.stat usage_usec) and cfs bandwidth counters, read from the
 * cgroup of `pid` (v1 or v2). `order` says which of usage and the period count is read first, so that a window
 * from a 'periods first' reading to a 'usage first' one holds all of its usage within its periods.
 */
function cpuBandwidth(pid: number, order: 'periods first' | 'usage first'): { usageSecs: number; periods: number; throttled: number; quotaCpus: number } {
  const placement = placementOf(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  if (!placement) throw new Error(`no cpu cgroup for pid ${pid}`);
  const keyed = (text: string) => Object.fromEntries(text.trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
  if (placement.version === 2) {
    const stat = keyed(readFileSync(join(placement.dir, 'cpu.stat'), 'utf8'));
    const [quota = 'max', period = '100000'] = readFileSync(join(placement.dir, 'cpu.max'), 'utf8').trim().split(' ');
    return { usageSecs: stat.usage_usec! / 1e6, periods: stat.nr_periods!, throttled: stat.nr_throttled!, quotaCpus: quota === 'max' ? Infinity : Number(quota) / Number(period) };
  }
  const cpu = placement.dirs.cpu!;
  const readUsage = () => Number(readFileSync(join(placement.dirs.cpuacct!, 'cpuacct.usage'), 'utf8')) / 1e9;
  const readStat = () => keyed(readFileSync(join(cpu, 'cpu.stat'), 'utf8'));
  let usageSecs: number;
  let stat: Record<string, number>;
  if (order === 'usage first') {
    usageSecs = readUsage();
    stat = readStat();
  } else {
    stat = readStat();
    usageSecs = readUsage();
  }
  const quota = Number(readFileSync(join(cpu, 'cpu.cfs_quota_us'), 'utf8'));
  const quotaCpus = quota < 0 ? Infinity : quota / Number(readFileSync(join(cpu, 'cpu.cfs_period_us'), 'utf8'));
  return { usageSecs, periods: stat.nr_periods!, throttled: stat.nr_throttled!, quotaCpus };
}
