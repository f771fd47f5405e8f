// An agent with --containerizers=mesos and no Docker engine to talk to (its
// --docker_socket names nothing): a real agent process, the master in this
// process, tasks in runc containers. Tasks finish, are OOM-killed and killed
// as on Docker; after the agent is SIGKILLed its running containers are
// taken back, one that ended meanwhile is reported with its exit status, and
// a container no task knows is removed. Bad input (a user the image lacks,
// layers escaping the root, a layer that is not a tar) fails that task only.
// Every container is removed at the end.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layout, tar } from '../harness/oci-layout.js';
import { startAgent as startAgentInProcess } from '../../agent/main.js';
import { RawScheduler, TEST_IMAGE, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';
import { OCI_REGISTRY, ociDriverFor } from '../harness/oci.js';
import { OciAgents, containersSeen, mesosTask, settles } from '../harness/oci-agents.js';
import { mountsUnder } from '../../common/hosts/engine-leftovers.js';
import { NOTHING, leftovers } from '../harness/leftovers.js';
import { LABEL } from '../../agent/task-spec.js';
import type { TaskInfoIn } from '../../proto/index.js';

let cluster: OciAgents;
let group: OciAgents['group'];
let grpcPort: number;

beforeAll(async () => {
  cluster = await OciAgents.start();
  group = cluster.group;
  grpcPort = cluster.grpcPort;
});

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('an agent running only the mesos containerizer (no Docker engine)', () => {
  it('refuses to start, naming the flag, when --oci_runtime cannot be run or the seccomp profile is missing or invalid', async () => {
    const workDir = join(group.dir, 'no-runtime');
    await expect(startAgentInProcess({
      master: `127.0.0.1:${grpcPort}`, port: 0, work_dir: workDir, containerizers: 'mesos', oci_runtime: '/nonexistent/runc', log: () => {},
    })).rejects.toThrow("--oci_runtime '/nonexistent/runc' cannot be run");
    expect(existsSync(join(workDir, 'oci'))).toBe(false);
    // A seccomp profile that is not there, or not valid, stops the agent at start too, naming the file and the field.
    const profiles = join(group.dir, 'seccomp');
    mkdirSync(profiles, { recursive: true });
    writeFileSync(join(profiles, 'broken.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOPE' }] }));
    const withProfile = (name: string) => startAgentInProcess({
      master: `127.0.0.1:${grpcPort}`, port: 0, work_dir: workDir, containerizers: 'mesos', seccomp_config_dir: profiles, seccomp_profile_name: name, log: () => {},
    });
    await expect(withProfile('absent')).rejects.toThrow(`--seccomp_profile_name 'absent': no file ${join(profiles, 'absent')}`);
    await expect(withProfile('broken')).rejects.toThrow(`seccomp profile ${join(profiles, 'broken.json')}: syscalls[0].action must be one of`);
    expect(existsSync(join(workDir, 'oci'))).toBe(false);
  });

  it('runs tasks to FINISHED, OOM-kills one over 32 MiB, kills one on request', async () => {
    const agent = await cluster.startAgent('oci-a');
    const id = await cluster.agentId(agent);
    const s = await cluster.subscribe('oci-basic');
    const offer = await cluster.offerOn(s, id);
    const plain = { ...commandTask('plain', offer, 'echo plain'), container: null } as unknown as TaskInfoIn;
    await s.launch(offer, [
      mesosTask('ok', offer, 'echo hello from runc'),
      plain,
      mesosTask('hog', offer, 'x=a; while true; do x="$x$x"; done', 'cpus:0.1;mem:32'),
      mesosTask('victim', offer, 'sleep 3600'),
    ]);
    const finished = await s.next(isUpdate('ok', 'TASK_FINISHED'), 30_000);
    expect(finished.update!.status!.container_status?.container_id?.value).toMatch(/^mesos-/);
    await s.next(isUpdate('plain', 'TASK_FINISHED'), 30_000);
    const oom = await s.next(isUpdate('hog', 'TASK_FAILED'), 30_000);
    expect(oom.update!.status).toMatchObject({ reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: 'memory limit of 32 MB exceeded (OOM killed)' });
    await s.next(isUpdate('victim', 'TASK_RUNNING'), 30_000);
    // /monitor/statistics reads the runc container's cgroup as it reads a Docker container's.
    const statistics = (await (await fetch(`http://${agent.httpAddress}/monitor/statistics`)).json()) as { executor_id: string; statistics: Record<string, number> }[];
    expect(statistics.find((e) => e.executor_id === 'victim')?.statistics).toMatchObject({ mem_limit_bytes: 32 * 1024 * 1024, cpus_limit: 0.1 });
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: 'victim' }, agent_id: { value: id } } });
    await s.next(isUpdate('victim', 'TASK_KILLED'), 30_000);
    // Finished, OOM-killed, killed: nothing of their containers is left (the plain task's went to the same containerizer).
    expect(containersSeen(s).length).toBe(4);
    // (The agent's pool keeps roots for the next launches meanwhile: counted in the last test.)
    await settles(() => ({ ...leftovers(agent.workDir, containersSeen(s), [agent.pid]), pooled: [] }), NOTHING);
    s.close();
  });

  it('runs `mesos-ts execute --containerizer=mesos` and `mesos-ts demo --containerizer=mesos` end to end', async () => {
    const agent = await cluster.startAgent('oci-cli');
    await cluster.agentId(agent);
    const master = `127.0.0.1:${grpcPort}`;
    const execute = group.spawnCommand('execute', ['execute', '--master', master, '--name', 'oci-exec', '--containerizer=mesos', '--command', 'echo hi from runc', '--instances', '2', '--timeout', '60s']);
    expect((await execute.exited).code).toBe(0);
    const demo = group.spawnCommand('demo', ['demo', '--master', master, '--tasks', '3', '--containerizer=mesos', '--timeout', '60']);
    expect((await demo.exited).code).toBe(0);
    await waitUntil(async () => (await ociDriverFor(agent.workDir).list({})).length === 0, 15_000, 'every container to be removed');
  });

  it('takes its running containers back after SIGKILL; reports one that ended meanwhile; removes an orphan', async () => {
    const first = await cluster.startAgent('oci-r');
    const id = await cluster.agentId(first);
    const s = await cluster.subscribe('oci-recovery');
    const offer = await cluster.offerOn(s, id);
    await s.launch(offer, [
      mesosTask('long', offer, 'sleep 4; echo long done'),
      mesosTask('brief', offer, 'sleep 1; exit 7'),
    ]);
    await s.next(isUpdate('long', 'TASK_RUNNING'), 30_000);
    await s.next(isUpdate('brief', 'TASK_RUNNING'), 30_000);
    first.signal('SIGKILL');
    await first.exited;
    // While the agent is down: brief exits with 7, and a container no task knows appears in its work_dir.
    const driver = ociDriverFor(first.workDir);
    const orphan = await driver.launch({
      image: TEST_IMAGE, forcePull: false, command: { entrypoint: ['sleep', '3600'] }, env: {}, labels: { [LABEL.workDir]: first.workDir, [LABEL.taskId]: 'orphan' },
      cpus: 0.1, memMiB: 32, pidsLimit: 16, privileged: false, user: 'nobody', capabilities: [], readOnlyRootfs: false, mounts: [],
      stdoutPath: join(first.workDir, 'orphan.out'), stderrPath: join(first.workDir, 'orphan.err'),
    });
    await waitUntil(async () => (await driver.inspect((await driver.list({ [LABEL.taskId]: 'brief' }))[0]!.id))?.running === false, 15_000, 'brief to exit');

    const second = await cluster.startAgent('oci-r');
    await second.waitForLine(/recovered agent .*2 task\(s\)/, 15_000);
    expect(await cluster.agentId(second)).toBe(id);
    const failed = await s.next(isUpdate('brief', 'TASK_FAILED'), 20_000);
    expect(failed.update!.status!.message).toBe('exited with status 7');
    await waitUntil(() => !existsSync(join(first.workDir, 'oci', 'containers', orphan)), 15_000, 'the orphan to be removed');
    await s.next(isUpdate('long', 'TASK_FINISHED'), 30_000);
    expect(s.events.filter((e) => e.update?.status?.task_id?.value === 'long' && e.update.status.state === 'TASK_FAILED')).toEqual([]);
    // Taken back and finished, ended while the agent was down, orphaned: nothing of any is left.
    await settles(() => leftovers(first.workDir, [...containersSeen(s), orphan], [second.pid]), NOTHING);
    s.close();
  });

  it('fails a task whose user the image lacks, or whose image escapes its root or is not a tar, naming them, and goes on launching', async () => {
    // A registry of the test image beside hostile ones: a layer climbing out with ../, one writing through an absolute symlink, one not a tar.
    const registry = mkdtempSync(join(tmpdir(), 'mesos-ts-oci-registry-'));
    onTestFinished(() => rmSync(registry, { recursive: true, force: true }));
    mkdirSync(join(registry, 'mesos-ts'));
    symlinkSync(join(OCI_REGISTRY, TEST_IMAGE), join(registry, TEST_IMAGE));
    layout(registry, 'evil/dots', 'latest', [tar([{ name: '../../../tmp/escaped', type: 'file', data: 'pwn\n' }])]);
    layout(registry, 'evil/link', 'latest', [tar([{ name: 'etc', type: 'symlink', target: '/etc' }]), tar([{ name: 'etc/cron.d/pwned', type: 'file', data: 'pwn\n' }])]);
    layout(registry, 'evil/junk', 'latest', [Buffer.from('not a tar\n'.repeat(100))]);
    const agent = await cluster.startAgent('oci-bad', [`--docker_registry=${registry}`]);
    const id = await cluster.agentId(agent);
    const s = await cluster.subscribe('oci-bad');
    const offer = await cluster.offerOn(s, id);
    const stranger = mesosTask('stranger', offer, 'echo never');
    await s.launch(offer, [
      { ...stranger, command: { ...stranger.command!, user: 'nosuchuser' } },
      mesosTask('dots', offer, 'echo never', undefined, 'evil/dots'),
      mesosTask('link', offer, 'echo never', undefined, 'evil/link'),
      mesosTask('junk', offer, 'echo never', undefined, 'evil/junk'),
    ]);
    const failure = async (task: string) => (await s.next(isUpdate(task, 'TASK_FAILED'), 30_000)).update!.status!;
    expect((await failure('stranger')).message).toContain("user 'nosuchuser' does not exist in image");
    const dots = await failure('dots');
    expect(dots.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
    expect(dots.message).toContain("image evil/dots: layer 1 of 1: entry '../../../tmp/escaped' climbs out of the root");
    expect((await failure('link')).message).toContain("image evil/link: layer 2 of 2: entry 'etc/cron.d/pwned' is written through the symlink 'etc'");
    expect((await failure('junk')).message).toContain('image evil/junk: layer 1 of 1 is not a tar archive');
    expect(existsSync('/tmp/escaped')).toBe(false);
    expect(agent.alive()).toBe(true);
    // The stranger's root was mounted before its user was looked up: removed, with its bundle, before its TASK_FAILED.
    expect(mountsUnder(agent.workDir).filter((m) => !m.startsWith(join(agent.workDir, 'oci', 'pool')))).toEqual([]);
    expect(readdirSync(join(agent.workDir, 'oci', 'containers'))).toEqual([]);
    const next = await cluster.offerOn(s, id);
    await s.launch(next, [mesosTask('after-bad', next, 'echo fine')]);
    await s.next(isUpdate('after-bad', 'TASK_FINISHED'), 30_000);
    s.close();
  });

  it('leaves no mount, cgroup, process or bundle behind after its tasks end, nor after a SIGKILL and restart', async () => {
    const first = await cluster.startAgent('oci-left');
    const id = await cluster.agentId(first);
    const s = await cluster.subscribe('oci-leftovers');
    const containers: string[] = [];
    const containerOf = (e: Awaited<ReturnType<RawScheduler['next']>>) => containers.push(e.update!.status!.container_status!.container_id!.value);
    const offer = await cluster.offerOn(s, id);
    await s.launch(offer, [mesosTask('done', offer, 'echo done'), mesosTask('killed', offer, 'sleep 3600'), mesosTask('stays', offer, 'sleep 3600')]);
    for (const task of ['done', 'killed', 'stays']) containerOf(await s.next(isUpdate(task, 'TASK_RUNNING'), 30_000));
    await s.next(isUpdate('done', 'TASK_FINISHED'), 30_000);
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: 'killed' }, agent_id: { value: id } } });
    await s.next(isUpdate('killed', 'TASK_KILLED'), 30_000);
    const ended = containers.slice(0, 2);
    await settles(() => ({ ...leftovers(first.workDir, ended, [first.pid]), pooled: [] }), { ...NOTHING, bundles: [containers[2]!] });
    // Roots mounted ahead of the next launches of this image: --oci_root_pool's default of 4.
    await waitUntil(() => leftovers(first.workDir, []).pooled.length === 4, 15_000, 'the root pool to fill');
    // The one still running has its root mounted, its cgroups and its processes: the count can see them.
    const running = leftovers(first.workDir, [containers[2]!], [first.pid]);
    expect(running.mounts.length).toBe(1);
    expect(running.cgroups.length).toBeGreaterThan(0);
    expect(running.processes.length).toBeGreaterThanOrEqual(2); // its supervisor and its task

    first.signal('SIGKILL');
    await first.exited;
    const second = await cluster.startAgent('oci-left');
    await second.waitForLine(/recovered agent .*1 task\(s\)/, 15_000);
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: 'stays' }, agent_id: { value: id } } });
    await s.next(isUpdate('stays', 'TASK_KILLED'), 30_000);
    // The restarted agent removed the roots the killed one had prepared.
    await settles(() => leftovers(first.workDir, containers, [second.pid]), NOTHING);

    // One more task (its root from no pool: this run's is empty yet), the pool refills; a stopping agent removes it.
    const more = await cluster.offerOn(s, id);
    await s.launch(more, [mesosTask('after', more, 'echo after')]);
    containerOf(await s.next(isUpdate('after', 'TASK_RUNNING'), 30_000));
    await s.next(isUpdate('after', 'TASK_FINISHED'), 30_000);
    await waitUntil(() => leftovers(first.workDir, []).pooled.length === 4, 15_000, 'the root pool to fill again');
    second.signal('SIGTERM');
    await second.exited;
    expect(leftovers(first.workDir, containers)).toEqual(NOTHING);
    s.close();
  });
});
