// Hardened containers on the real Docker engine: the user a task runs as
// (CommandInfo.user, FrameworkInfo.user, --default_container_user,
// --switch_user, --allow_root_tasks), the capabilities it keeps, no new
// privileges, and a read-only root filesystem on request. Each task prints
// what the kernel says about it; the test reads its sandbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TaskRunner } from '../../agent/task-runner.js';
import { checkTask, STRICT, type IsolationPolicy } from '../../agent/task-spec.js';
import { READ_ONLY_ROOTFS_LABEL } from '../../agent/isolation.js';
import { Resources } from '../../common/resources.js';
import type { FrameworkInfoOut, TaskInfoOut, TaskStatusIn } from '../../proto/index.js';
import { dockerRunnerBench, testFramework } from '../harness/docker-runner.js';
import { TEST_IMAGE as IMAGE } from '../harness/grpc-scheduler.js';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { startAgent, type RunningAgent } from '../../agent/main.js';
import { parseExecuteArgs, runExecute } from '../../framework/cli/execute.js';

const { context } = dockerRunnerBench('agent-isolation');

function task(id: string, command: string, opts: { user?: string; labels?: Record<string, string> } = {}): TaskInfoOut {
  return {
    name: id, task_id: { value: id }, agent_id: { value: 'agent-test' }, resources: Resources.parse('cpus:0.2;mem:32').toProto(),
    command: { value: command, shell: true, arguments: [], environment: null, uris: [], ...(opts.user !== undefined ? { user: opts.user } : {}) },
    container: { type: 'DOCKER', docker: { image: IMAGE, network: 'HOST', privileged: false, parameters: [], force_pull_image: false } },
    ...(opts.labels ? { labels: { labels: Object.entries(opts.labels).map(([key, value]) => ({ key, value })) } } : {}),
    kill_policy: null,
  } as unknown as TaskInfoOut;
}

const framework = (user?: string) => ({ ...testFramework('fw-iso'), ...(user !== undefined ? { user } : {}) }) as FrameworkInfoOut;

/** Runs the task to its end under `policy`; its last update, stdout and stderr. */
async function run(t: TaskInfoOut, fw = framework(), policy: IsolationPolicy = STRICT) {
  const checked = checkTask(fw, t, policy);
  if (!checked.ok) throw new Error(checked.message);
  const updates: TaskStatusIn[] = [];
  const r = new TaskRunner({ ...context(updates), isolation: policy }, fw, t, checked.resources);
  await r.run();
  const read = (name: string) => readFileSync(join(r.sandbox, name), 'utf8');
  return { last: updates.at(-1)!, stdout: read('stdout'), stderr: read('stderr') };
}

/** `CapEff:\t0000000000000400` and friends from /proc/self/status. */
const statusField = (status: string, name: string) => new RegExp(`^${name}:\\s*(\\S+)$`, 'm').exec(status)?.[1];
const NET_BIND_SERVICE = (1n << 10n).toString(16).padStart(16, '0');

describe('hardened task containers', () => {
  it('runs a task that names no user as --default_container_user (nobody), its sandbox output intact', async () => {
    const { last, stdout } = await run(task('default-user', 'id -u; id -g'));
    expect(last.state).toBe('TASK_FINISHED');
    expect(stdout).toBe('65534\n65534\n');
  });

  it('runs a task as the CommandInfo.user it names, before FrameworkInfo.user', async () => {
    const { stdout } = await run(task('named', 'id -u', { user: '4242' }), framework('1000'));
    expect(stdout).toBe('4242\n');
    const { stdout: fromFramework } = await run(task('framework-user', 'id -u'), framework('1000'));
    expect(fromFramework).toBe('1000\n');
  });

  it('runs every task as the default user with --no-switch_user', async () => {
    const policy = { ...STRICT, switchUser: false, defaultUser: '3000' };
    const { stdout } = await run(task('no-switch', 'id -u', { user: '4242' }), framework('1000'), policy);
    expect(stdout).toBe('3000\n');
  });

  it('runs as root only when --allow_root_tasks is on', async () => {
    expect(checkTask(framework(), task('root-refused', 'id -u', { user: 'root' }), STRICT))
      .toMatchObject({ ok: false, message: "CommandInfo.user 'root' is root, which this agent does not allow (--allow_root_tasks is off)" });
    // A framework registered by root (the scheduler's own account) gets the default user instead.
    expect((await run(task('root-framework', 'id -u'), framework('root'))).stdout).toBe('65534\n');
    const allowed = { ...STRICT, allowRoot: true };
    expect((await run(task('root-allowed', 'id -u', { user: 'root' }), framework(), allowed)).stdout).toBe('0\n');
  });

  it('drops every capability but --effective_capabilities and sets no-new-privileges, root included', async () => {
    const show = 'grep -E "^(CapEff|CapPrm|CapBnd|NoNewPrivs)" /proc/self/status';
    const root = await run(task('caps-root', show, { user: 'root' }), framework(), { ...STRICT, allowRoot: true });
    expect(statusField(root.stdout, 'CapBnd')).toBe(NET_BIND_SERVICE);
    expect(statusField(root.stdout, 'CapEff')).toBe(NET_BIND_SERVICE);
    expect(statusField(root.stdout, 'NoNewPrivs')).toBe('1');
    const nobody = await run(task('caps-nobody', show));
    expect(statusField(nobody.stdout, 'CapEff')).toBe('0000000000000000');
    expect(statusField(nobody.stdout, 'CapBnd')).toBe(NET_BIND_SERVICE);
    expect(statusField(nobody.stdout, 'NoNewPrivs')).toBe('1');
    const none = await run(task('caps-none', show, { user: 'root' }), framework(), { ...STRICT, allowRoot: true, capabilities: [] });
    expect(statusField(none.stdout, 'CapBnd')).toBe('0000000000000000');
  });

  it(`makes the root filesystem read-only with ${READ_ONLY_ROOTFS_LABEL}=true, /tmp writable`, async () => {
    const write = 'echo x > /tmp/ok && cat /tmp/ok; echo y > /etc/probe || echo refused';
    const ro = await run(task('ro', write, { user: 'root', labels: { [READ_ONLY_ROOTFS_LABEL]: 'true' } }), framework(), { ...STRICT, allowRoot: true });
    expect(ro.stdout).toBe('x\nrefused\n');
    expect(ro.stderr).toMatch(/Read-only file system/);
    const rw = await run(task('rw', write, { user: 'root' }), framework(), { ...STRICT, allowRoot: true });
    expect(rw.stdout).toBe('x\n'); // Writable without the label (root owns /etc).
  });

  it('fails a task whose user the image does not know, naming the user', async () => {
    const { last } = await run(task('alice', 'id -u', { user: 'alice' }));
    expect(last).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(last.message).toBe(`user 'alice' does not exist in image ${IMAGE} (no matching entry in its /etc/passwd or /etc/group)`);
  });
});

describe('an agent started from its command line', () => {
  let cluster: TestCluster;
  let agent: RunningAgent;
  beforeAll(async () => {
    cluster = await startCluster({ agents: [] });
    agent = await startAgent([
      '--master', cluster.master.grpcAddress, '--port=0', `--work_dir=${join(cluster.base, 'agent-flags')}`, '--resources=cpus:1;mem:256;disk:64;ports:[31400-31401]',
      '--docker_pull=never', '--no-switch_user', '--default_container_user=3000:3000', '--effective_capabilities={"capabilities":[]}', '--logging_level=ERROR',
    ]);
    await waitUntil(() => agent.agentId() !== null, 10_000, 'agent registration');
  }, 60_000);
  afterAll(async () => {
    await agent?.stop({ killTasks: true });
    await cluster?.stop();
  });

  it('runs a framework\'s task as --default_container_user with --no-switch_user, keeping no capability', async () => {
    const parsed = parseExecuteArgs([
      '--master', cluster.master.grpcAddress, '--name', 'iso', '--docker_image', IMAGE, '--resources', 'cpus:0.1;mem:32', '--timeout', '60s',
      '--command', 'id -u; id -g; grep ^CapBnd /proc/self/status',
    ]);
    if (parsed.help) throw new Error('help');
    const out: string[] = [];
    expect(await runExecute(parsed.options, { out: (l) => out.push(l), err: (l) => out.push(l) })).toBe(0);
    const sandboxes = join(cluster.base, 'agent-flags', 'sandboxes');
    const [fw] = readdirSync(sandboxes);
    const [taskId] = readdirSync(join(sandboxes, fw!));
    expect(readFileSync(join(sandboxes, fw!, taskId!, 'stdout'), 'utf8')).toBe('3000\n3000\nCapBnd:\t0000000000000000\n');
  });
});
