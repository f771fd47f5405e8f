// One contract for every ContainerDriver (agent/driver/driver.ts), run with
// real containers against each: the Docker engine and the mesos
// containerizer (runc). What the task runner relies on: exit codes, OOM kills
// told by the kernel, SIGTERM then SIGKILL after the grace, exec, usage from
// the cgroup, labels, and removal that leaves nothing. Every container is
// removed by its recorded id after each test.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DockerDriver } from '../../agent/driver/docker.js';
import type { ContainerDriver, ContainerSpec } from '../../agent/driver/driver.js';
import { LABEL } from '../../agent/task-spec.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';
import { ociDriverFor } from '../harness/oci.js';
import { waitUntil } from '../harness/wait-until.js';

const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-driver-contract-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const DRIVERS: [string, () => ContainerDriver][] = [
  ['docker', () => new DockerDriver({ pull: 'never', pullTimeoutSeconds: 5 })],
  ['mesos (runc)', () => ociDriverFor(workDir)],
];

describe.each(DRIVERS)('ContainerDriver contract: %s', (name, make) => {
  const driver = make();
  const ids = new Set<string>();
  let seq = 0;
  afterEach(async () => {
    for (const id of ids) await driver.remove(id).catch(() => {});
    ids.clear();
  });

  async function launch(command: string, over: Partial<ContainerSpec> = {}): Promise<{ id: string; sandbox: string }> {
    const sandbox = join(workDir, `${name.split(' ')[0]}-${seq++}`);
    mkdirSync(sandbox, { recursive: true });
    const id = await driver.launch({
      image: TEST_IMAGE, forcePull: false, command: { entrypoint: ['/bin/sh', '-c', command] }, env: { GREETING: 'hi' },
      labels: { [LABEL.workDir]: workDir, [LABEL.taskId]: `t${seq}` }, cpus: 0.5, memMiB: 64, pidsLimit: 64, privileged: false,
      user: 'nobody', capabilities: ['NET_BIND_SERVICE'], readOnlyRootfs: false, mounts: [],
      stdoutPath: join(sandbox, 'stdout'), stderrPath: join(sandbox, 'stderr'), ...over,
    });
    ids.add(id);
    return { id, sandbox };
  }

  it('reports the exit code, with the output in the sandbox files, as the spec\'s user', async () => {
    const { id, sandbox } = await launch('echo "$GREETING as $(id -u)"; echo err >&2; exit 3');
    expect(await driver.wait(id)).toEqual({ exitCode: 3, oomKilled: false });
    expect(readFileSync(join(sandbox, 'stdout'), 'utf8')).toBe('hi as 65534\n');
    expect(readFileSync(join(sandbox, 'stderr'), 'utf8')).toBe('err\n');
  });

  it('mounts the sandbox at /mnt/mesos/sandbox and names it in MESOS_SANDBOX, as Mesos does', async () => {
    const sandbox = join(workDir, `${name.split(' ')[0]}-${seq}`);
    mkdirSync(sandbox, { recursive: true });
    writeFileSync(join(sandbox, 'marker'), 'from the host\n');
    const { id } = await launch('echo "$MESOS_SANDBOX"; cat "$MESOS_SANDBOX/marker"; grep -c " /mnt/mesos/sandbox " /proc/self/mountinfo');
    expect(await driver.wait(id)).toEqual({ exitCode: 0, oomKilled: false });
    expect(readFileSync(join(sandbox, 'stdout'), 'utf8')).toBe('/mnt/mesos/sandbox\nfrom the host\n1\n');
  });

  it('tells an OOM kill (the kernel\'s word, from the cgroup)', async () => {
    const { id } = await launch('x=a; while true; do x="$x$x"; done', { memMiB: 32 });
    expect((await driver.wait(id)).oomKilled).toBe(true);
  });

  it('stops with SIGTERM; a task that ignores it is killed after the grace', async () => {
    const polite = await launch("trap 'echo term; exit 0' TERM; while true; do sleep 0.1; done");
    await waitUntil(async () => (await driver.inspect(polite.id))?.running === true, 10_000, 'running');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await driver.stop(polite.id, 10);
    expect((await driver.wait(polite.id)).exitCode).toBe(0);
    expect(readFileSync(join(polite.sandbox, 'stdout'), 'utf8')).toContain('term');

    const stubborn = await launch("trap '' TERM; while true; do sleep 0.1; done");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await driver.stop(stubborn.id, 1);
    const exit = await driver.wait(stubborn.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(exit.exitCode).toBe(137);
  });

  it('runs exec in the running container, and reads its usage and limits from the cgroup', async () => {
    const { id } = await launch('sleep 30', { cpus: 0.25, memMiB: 48 });
    await waitUntil(async () => (await driver.inspect(id))?.running === true, 10_000, 'running');
    expect(await driver.exec(id, { shell: true, value: 'echo $GREETING; exit 5', arguments: [] }, 10)).toEqual({ exitCode: 5, output: 'hi\n' });
    const stats = await driver.stats(id);
    expect(stats?.cpus_limit).toBeCloseTo(0.25);
    expect(stats?.mem_limit_bytes).toBe(48 * 1024 * 1024);
    expect(stats?.processes).toBeGreaterThanOrEqual(1);
  });

  it("gives a container of network 'none' only its own lo: the host's loopback listener is out of its reach, as it is in reach of a host-network one", async () => {
    const accepted: string[] = [];
    const server = createServer((socket) => socket.once('data', (d) => accepted.push(d.toString().trim())).on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const probe = (who: string) => `echo ${who} | nc 127.0.0.1 ${port} && echo reached || echo unreachable; ls /sys/class/net`;
      const isolated = await launch(probe('isolated'), { network: 'none' });
      const host = await launch(probe('host'));
      expect(await driver.wait(isolated.id)).toEqual({ exitCode: 0, oomKilled: false });
      expect(await driver.wait(host.id)).toEqual({ exitCode: 0, oomKilled: false });
      await waitUntil(() => accepted.includes('host'), 10_000, 'the host-network container to reach the listener');
      expect(accepted).toEqual(['host']);
      expect(readFileSync(join(isolated.sandbox, 'stdout'), 'utf8')).toBe('unreachable\nlo\n');
      expect(readFileSync(join(host.sandbox, 'stdout'), 'utf8')).toMatch(/^reached\n/);
    } finally {
      server.close();
    }
  });

  it('lists its containers by label; a removed container is gone, and removing it again is no error', async () => {
    const { id } = await launch('sleep 30');
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
