// A Docker engine of a simulated host's own (common/hosts/docker-engine.ts
// started with `nsenter --net=`): an agent on host a1, on a1's engine, runs a
// host-network task that serves HTTP; the server answers at a1's address and
// inside a1, and not on the root namespace's loopback, where it would be had
// the engine been the shared one (or an engine in the root namespace). The
// master runs on host m1 and the scheduler in the root namespace, through the
// bridge. Stopping the engine leaves no mount, process or directory; the
// hosts' teardown leaves no namespace, link or process. A run that dies
// with an engine and a container on a host leaves them behind, and the next
// run's sweep removes them all.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostNetwork, sweepHosts, type Host } from '../harness/hosts.js';
import { ProcessGroup, type AgentProc, type MasterProc } from '../harness/processes.js';
import { DockerEngine } from '../harness/docker-engine.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';
import { startRun } from '../harness/crashing-run.js';
import { mountsUnder, processesUnder } from '../../common/hosts/engine-leftovers.js';

const run = promisify(execFile);
/** In the agent's port range; the test checks first that nothing in the root namespace serves it. */
const PORT = 31885;
const TASK = 'serves-on-a1';

let net: HostNetwork;
let a1: Host;
let group: ProcessGroup;
let master: MasterProc;
let agent: AgentProc;
let engine: DockerEngine;
let scheduler: RawScheduler;

/** The body of GET http://address:PORT/, or null when the connection is refused or times out. */
const get = (address: string) =>
  fetch(`http://${address}:${PORT}/index.html`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => null);

beforeAll(async () => {
  net = await HostNetwork.create(['m1', 'a1']);
  a1 = net.host('a1');
  group = new ProcessGroup();
  master = await group.spawnMaster('m1-1', ['--allocation_interval=0.2s'], { host: net.host('m1') });
  engine = await DockerEngine.start({ liveRestore: false, netns: `/var/run/netns/${a1.netns}` });
  net.trackEngineDir(engine.dir);
  a1.track(engine.enginePid!);
  agent = await group.spawnAgent('a1-agent', [
    `--master=${master.grpcAddress}`, `--resources=cpus:1;mem:512;disk:100;ports:[31880-31889]`, `--docker_socket=${engine.socketPath}`, '--containerizers=docker',
  ], { host: a1 });
  scheduler = new RawScheduler(master.grpcAddress);
  scheduler.autoAcknowledge = true;
  expect((await scheduler.subscribe({ name: 'engine-on-a-host', user: 'root' })).type).toBe('SUBSCRIBED');
}, 180_000);

afterAll(async () => {
  scheduler?.close();
  await group?.stopAll();
  await engine?.stop();
  await net?.destroy();
}, 120_000);

describe('a Docker engine on a simulated host', () => {
  it("runs the agent's host-network task in the host's namespace: reachable at the host's address, not on the root loopback", async () => {
    expect(await get('127.0.0.1')).toBeNull();
    const e = await scheduler.next((ev) => ev.type === 'OFFERS' && ev.offers!.offers.length > 0, 60_000);
    const offer = e.offers!.offers[0]!;
    const serve = `mkdir -p /tmp/www && echo "served on ${a1.address}" > /tmp/www/index.html && exec httpd -f -p ${PORT} -h /tmp/www`;
    await scheduler.launch(offer, [commandTask(TASK, offer, serve, `cpus:0.1;mem:32;ports:[${PORT}-${PORT}]`)]);
    await scheduler.next(isUpdate(TASK, 'TASK_RUNNING'), 60_000);

    let body: string | null = null;
    const updates = () => scheduler.events.filter((e) => e.type === 'UPDATE' && e.update?.status?.task_id?.value === TASK).map((e) => `${e.update!.status!.state} ${e.update!.status!.message}`).join('; ');
    await waitUntil(async () => (body = await get(a1.address)) !== null, 30_000, `the task's server at ${a1.address}:${PORT}`)
      .catch((err: Error) => Promise.reject(new Error(`${err.message} (the task's updates: ${updates()})`)));
    expect(body).toBe(`served on ${a1.address}\n`);
    // Inside the host, on its own loopback, too: the listener is in a1's namespace.
    const [cmd, ...pre] = a1.nsenter();
    const inside = await run(cmd!, [...pre, 'wget', '-qO-', `http://127.0.0.1:${PORT}/index.html`]).then((r) => r.stdout, () => null);
    expect(inside).toBe(`served on ${a1.address}\n`);
    expect(await get('127.0.0.1')).toBeNull();
    // The container is on a1's engine, not on the shared one.
    expect((await engine.containers(`mesos-ts.task_id=${TASK}`)).map((c) => c.State)).toEqual(['running']);
    expect(await new Docker().listContainers({ all: true, filters: { label: [`mesos-ts.work_dir=${agent.workDir}`] } })).toEqual([]);

    await scheduler.call('Kill', { type: 'KILL', kill: { task_id: { value: TASK } } });
    await scheduler.next(isUpdate(TASK, 'TASK_KILLED'), 30_000);
    await waitUntil(async () => (await get(a1.address)) === null, 10_000, 'the server to be gone after the kill');
  }, 180_000);

  it('leaves no mount, process or directory once the engine stops, and no namespace or link once the hosts go', async () => {
    const dir = engine.dir;
    const pid = engine.enginePid!;
    expect(mountsUnder(dir).length).toBeGreaterThan(0);
    await Promise.all(group.processes().map((p) => p.stop()));
    await engine.stop();
    expect(engine.running()).toBe(false);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(mountsUnder(dir)).toEqual([]);
    expect(processesUnder(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(await net.leftovers()).not.toEqual([]);
    expect(await net.destroy()).toEqual([]);
    const { stdout } = await run('ip', ['netns', 'list']);
    expect(stdout).not.toContain(a1.netns);
  }, 120_000);

  it("is swept with its container, containerd, shim and mounts when the run that started it dies", async () => {
    // A run in a process of its own, SIGKILLed once its host's engine runs a container.
    const script = `
      import { execFileSync } from 'node:child_process';
      import { HostNetwork } from './test/harness/hosts.ts';
      import { DockerEngine } from './test/harness/docker-engine.ts';
      const net = await HostNetwork.create(['e1']);
      const h = net.host('e1');
      const engine = await DockerEngine.start({ liveRestore: false, netns: '/var/run/netns/' + h.netns });
      net.trackEngineDir(engine.dir);
      h.track(engine.enginePid);
      const docker = (...args) => execFileSync('docker', ['-H', 'unix://' + engine.socketPath, ...args]).toString().trim();
      const id = docker('run', '-d', '--network', 'host', '--label', 'mesos-ts.test=swept-engine', 'mesos-ts/busybox:latest', 'sleep', '600');
      const pid = Number(docker('inspect', '-f', '{{.State.Pid}}', id));
      console.log(JSON.stringify({ dir: engine.dir, netns: h.netns, dockerd: engine.enginePid, container: pid }));
      setInterval(() => {}, 1000);
    `;
    const { child: crashed, first: left } = await startRun<{ dir: string; netns: string; dockerd: number; container: number }>(script);
    crashed.kill('SIGKILL');
    await new Promise((r) => crashed.once('exit', r));
    // What the dead run left: its engine (dockerd, containerd, the shim), the container's process, mounts, the namespace.
    expect(existsSync(`/proc/${left.dockerd}`)).toBe(true);
    expect(existsSync(`/proc/${left.container}`)).toBe(true);
    expect(processesUnder(left.dir).length).toBeGreaterThanOrEqual(3);
    expect(mountsUnder(left.dir).length).toBeGreaterThan(0);

    await sweepHosts();
    await waitUntil(() => !existsSync(`/proc/${left.container}`) && !existsSync(`/proc/${left.dockerd}`), 10_000, 'the container and dockerd to be gone');
    expect(processesUnder(left.dir)).toEqual([]);
    expect(mountsUnder(left.dir)).toEqual([]);
    expect(existsSync(left.dir)).toBe(false);
    expect((await run('ip', ['netns', 'list'])).stdout).not.toContain(left.netns);
  }, 120_000);
});
