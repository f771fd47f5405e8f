// RunTask -> ContainerSpec, pure: validation messages, Mesos command
// semantics, the environment, kill-policy graces.
import { describe, expect, it } from 'vitest';
import { checkTask, containerCommand, containerSpec, containerizerOf, graceSeconds, LABEL } from '../../agent/task-spec.js';
import { Resources } from '../../common/resources.js';
import type { FrameworkInfoOut, TaskInfoOut } from '../../proto/index.js';

const framework = { id: { value: 'fw1' }, name: 'test', capabilities: [] } as unknown as FrameworkInfoOut;
const fw1 = { id: { value: 'fw1' } } as FrameworkInfoOut;
const ctx = { agentId: 'A-S0', hostname: 'h1', workDir: '/w', defaultImage: 'img:default', pidsLimit: 99 };

function task(over: Record<string, unknown> = {}, resources = 'cpus:0.5;mem:64'): TaskInfoOut {
  return {
    name: 't', task_id: { value: 't1' }, resources: Resources.parse(resources).toProto(),
    command: { value: 'echo hi', shell: true, arguments: [], environment: null, uris: [], user: '' },
    container: null, kill_policy: null, ...over,
  } as unknown as TaskInfoOut;
}

const cmd = (c: Record<string, unknown>) => task({ command: { value: '', shell: false, arguments: [], environment: null, uris: [], ...c } });
const problem = (t: TaskInfoOut | null, fw: FrameworkInfoOut | null = framework) => {
  const r = checkTask(fw, t);
  return r.ok ? null : r.message;
};

describe('checkTask', () => {
  it('accepts a well-formed task and returns its resources', () => {
    const r = checkTask(framework, task());
    expect(r.ok && r.resources.toString()).toBe('cpus:0.5;mem:64');
  });

  it.each([
    ['no framework id', task(), { ...framework, id: null }, 'RunTask.framework.id is required'],
    ['no task', null, framework, 'RunTask.task is required'],
    ['no task id', task({ task_id: null }), framework, 'TaskInfo.task_id is required'],
    ['a task id that escapes the sandbox', task({ task_id: { value: '..' } }), framework, "id '..' must not be"],
    ['a task id with a slash', task({ task_id: { value: 'a/b' } }), framework, "id 'a/b'"],
    ['no cpus', task({}, 'mem:64'), framework, 'cpus > 0, got cpus:0'],
    ['too little mem', task({}, 'cpus:1;mem:2'), framework, 'mem >= 4 (MB), got mem:2'],
    ['no command and no image', task({ command: null }), framework, 'TaskInfo.command or TaskInfo.container.docker.image is required'],
    ['a shell command without value', cmd({ shell: true }), framework, 'TaskInfo.command.value is required'],
    ['uris', cmd({ value: 'x', uris: [{ value: 'http://x' }] }), framework, 'TaskInfo.command.uris is not supported'],
    ['a secret', cmd({ value: 'x', environment: { variables: [{ name: 'S', type: 'SECRET', value: '' }] } }), framework, "variable 'S' is a SECRET"],
    ['bridge networking', task({ container: { type: 'DOCKER', docker: { image: 'i', network: 'BRIDGE', privileged: false, parameters: [] } } }), framework, 'network must be HOST or NONE (this agent runs no bridge and no user networks), got BRIDGE'],
    ['privileged', task({ container: { type: 'DOCKER', docker: { image: 'i', network: 'HOST', privileged: true, parameters: [] } } }), framework, 'privileged is not allowed'],
  ])('refuses %s', (_what, t, fw, message) => {
    expect(problem(t as TaskInfoOut | null, fw as FrameworkInfoOut)).toContain(message);
  });

  it('names the malformed resource', () => {
    const bad = task({ resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: -1 } }] });
    expect(problem(bad)).toMatch(/TaskInfo\.resources\[0\]/);
  });

  it('accepts an image without a command (the image runs as built)', () => {
    expect(problem(task({ command: null, container: { type: 'DOCKER', docker: { image: 'i', network: 'HOST', privileged: false, parameters: [] } } }))).toBeNull();
  });
});

describe('MESOS containers', () => {
  const mesos = (image: unknown) => task({ container: { type: 'MESOS', mesos: image === undefined ? null : { image }, volumes: [] } });
  it('run on the mesos containerizer with the image named in mesos.image, else the default image', () => {
    const t = mesos({ type: 'DOCKER', docker: { name: 'repo/img:1' } });
    expect(problem(t)).toBeNull();
    expect(containerizerOf(t)).toBe('mesos');
    expect(containerSpec(ctx, framework, t, Resources.parse('cpus:0.5;mem:64'))).toMatchObject({ containerizer: 'mesos', image: 'repo/img:1' });
    expect(containerSpec(ctx, framework, mesos(undefined), Resources.parse('cpus:0.5;mem:64'))).toMatchObject({ containerizer: 'mesos', image: 'img:default' });
    expect(containerizerOf(task())).toBeUndefined();
    expect(containerSpec(ctx, framework, task(), Resources.parse('cpus:0.5;mem:64')).containerizer).toBeUndefined();
  });
  it.each([
    ['an APPC image', mesos({ type: 'APPC' }), 'TaskInfo.container.mesos.image.type must be DOCKER'],
    ['a DOCKER image without a name', mesos({ type: 'DOCKER', docker: { name: '' } }), 'TaskInfo.container.mesos.image.docker.name is required'],
    ['a DockerInfo', task({ container: { type: 'MESOS', docker: { image: 'x' }, volumes: [] } }), 'TaskInfo.container.docker is for ContainerInfo.type DOCKER'],
  ])('refuse %s, naming the field', (_what, t, message) => {
    expect(problem(t)).toContain(message);
  });
});

describe("a task's own seccomp filter (LinuxInfo.seccomp)", () => {
  const withSeccomp = (seccomp: unknown, type = 'MESOS') => task({ container: { type, volumes: [], linux_info: { seccomp } } });
  const spec = (t: TaskInfoOut) => containerSpec(ctx, framework, t, Resources.parse('cpus:0.5;mem:64'));
  it('reaches the container spec as none, or a profile by name; without one the spec names none', () => {
    expect(problem(withSeccomp({ unconfined: true, profile_name: '' }))).toBeNull();
    expect(spec(withSeccomp({ unconfined: true, profile_name: '' })).seccomp).toEqual({ unconfined: true });
    expect(problem(withSeccomp({ unconfined: false, profile_name: 'strict.json' }))).toBeNull();
    expect(spec(withSeccomp({ unconfined: false, profile_name: 'strict.json' })).seccomp).toEqual({ profileName: 'strict.json' });
    expect(spec(task({ container: { type: 'MESOS', volumes: [] } }))).not.toHaveProperty('seccomp');
  });
  it.each([
    ['both fields', withSeccomp({ unconfined: true, profile_name: 'x' }), "profile_name ('x') must not be set when unconfined is true"],
    ['neither', withSeccomp({ unconfined: false, profile_name: '' }), 'needs a profile_name'],
    ['a path for a name', withSeccomp({ profile_name: '../../etc/passwd' }), "must be a file name in the agent's --seccomp_config_dir, got '../../etc/passwd'"],
    ['a DOCKER container', withSeccomp({ unconfined: true }, 'DOCKER'), 'applies to the mesos containerizer'],
  ])('refuses %s, naming the field', (_what, t, message) => {
    expect(problem(t)).toContain(`TaskInfo.container.linux_info.seccomp`);
    expect(problem(t)).toContain(message);
  });
});

describe('containerCommand (Mesos semantics)', () => {
  it('runs a shell command through /bin/sh -c', () => {
    expect(containerCommand(task())).toEqual({ entrypoint: ['/bin/sh', '-c', 'echo hi'] });
  });
  it('runs value with arguments as its argv, argv[0] included', () => {
    expect(containerCommand(cmd({ value: '/bin/echo', arguments: ['echo', 'a', 'b'] }))).toEqual({ entrypoint: ['/bin/echo', 'a', 'b'] });
  });
  it('runs value alone when arguments are empty', () => {
    expect(containerCommand(cmd({ value: '/bin/true' }))).toEqual({ entrypoint: ['/bin/true'] });
  });
  it("gives bare arguments to the image's entrypoint", () => {
    expect(containerCommand(cmd({ arguments: ['--x'] }))).toEqual({ args: ['--x'] });
  });
  it('runs the image as built without a command', () => {
    expect(containerCommand(task({ command: null }))).toEqual({});
  });
});

describe('containerSpec', () => {
  it('carries limits, labels, sandbox files and the environment', () => {
    const t = task(
      { command: { value: 'x', shell: true, arguments: [], uris: [], environment: { variables: [{ name: 'A', value: '1' }, { name: 'PORT', value: 'mine' }] } } },
      'cpus:0.25;mem:48;ports:[31002-31003,31000-31000]',
    );
    const spec = containerSpec(ctx, fw1, t, Resources.fromProto(t.resources));
    expect(spec).toMatchObject({ image: 'img:default', cpus: 0.25, memMiB: 48, pidsLimit: 99, forcePull: false });
    expect(spec.stdoutPath).toBe('/w/sandboxes/fw1/t1/stdout');
    expect(spec.stderrPath).toBe('/w/sandboxes/fw1/t1/stderr');
    expect(spec.labels).toEqual({ [LABEL.agentId]: 'A-S0', [LABEL.frameworkId]: 'fw1', [LABEL.taskId]: 't1', [LABEL.workDir]: '/w' });
    expect(spec.env).toMatchObject({ PORT0: '31000', PORT1: '31002', PORT2: '31003', PORT: 'mine', MESOS_TASK_ID: 't1', A: '1' });
  });

  it("uses the task's image", () => {
    const t = task({ container: { type: 'DOCKER', docker: { image: 'other:1', force_pull_image: true, network: 'HOST', parameters: [] } } });
    const spec = containerSpec(ctx, fw1, t, Resources.fromProto(t.resources));
    expect(spec.image).toBe('other:1');
    expect(spec.forcePull).toBe(true);
  });

  it('gives a DOCKER container with DockerInfo.network NONE no network but its own lo (Docker NetworkMode none); HOST or none named, the host\'s', () => {
    const docker = (network?: string) => task({ container: { type: 'DOCKER', docker: { image: 'i', ...(network ? { network } : {}), parameters: [] } } });
    expect(problem(docker('NONE'))).toBeNull();
    expect(containerSpec(ctx, fw1, docker('NONE'), Resources.parse('cpus:0.5;mem:64')).network).toBe('none');
    expect(containerSpec(ctx, fw1, docker('HOST'), Resources.parse('cpus:0.5;mem:64')).network).toBe('host');
    expect(containerSpec(ctx, fw1, docker(), Resources.parse('cpus:0.5;mem:64')).network).toBe('host');
    expect(problem(docker('USER'))).toContain('network must be HOST or NONE');
  });
});

describe('graceSeconds', () => {
  it('reads a kill policy, 0 included; none without a grace period', () => {
    expect(graceSeconds({ grace_period: { nanoseconds: 2_500_000_000 } })).toBe(2.5);
    expect(graceSeconds({ grace_period: { nanoseconds: 0 } })).toBe(0);
    expect(graceSeconds({ grace_period: null })).toBeUndefined();
    expect(graceSeconds(null)).toBeUndefined();
  });
});
