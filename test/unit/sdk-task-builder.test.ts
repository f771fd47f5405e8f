import { describe, expect, it } from 'vitest';
import { Resources } from '../../common/resources.js';
import { InvalidArgument } from '../../common/errors.js';
import { allocationRoleOf, dockerTask, type DockerTaskSpec } from '../../framework/sdk/task-builder.js';

const base: DockerTaskSpec = { taskId: 'job-1', agentId: 'agent-S0', resources: Resources.parse('cpus:0.1;mem:32'), image: 'busybox:latest' };

describe('dockerTask', () => {
  it('builds a shell command task in a Docker container on the host network', () => {
    const task = dockerTask({ ...base, command: 'echo hi; sleep 1', env: { A: '1' }, labels: { team: 'x' } });
    expect(task).toMatchObject({
      name: 'job-1',
      task_id: { value: 'job-1' },
      agent_id: { value: 'agent-S0' },
      command: { shell: true, value: 'echo hi; sleep 1', environment: { variables: [{ name: 'A', type: 'VALUE', value: '1' }] } },
      container: { type: 'DOCKER', docker: { image: 'busybox:latest', network: 'HOST' } },
      labels: { labels: [{ key: 'team', value: 'x' }] },
    });
    expect(Resources.fromProto(task.resources).toString()).toBe('cpus:0.1;mem:32');
    expect(task.kill_policy).toBeUndefined();
  });

  it('runs argv without a shell, as Mesos\'s Docker containerizer does (value = argv[0], arguments = the rest)', () => {
    expect(dockerTask({ ...base, argv: ['sleep', '5'] }).command).toEqual({ shell: false, value: 'sleep', arguments: ['5'] });
  });

  it("puts the task in a MESOS container, the image named in mesos.image as Mesos shapes it, with containerizer 'mesos'", () => {
    const task = dockerTask({ ...base, command: 'true', containerizer: 'mesos' });
    expect(task.container).toEqual({ type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'busybox:latest' } } } });
    expect(dockerTask({ ...base, command: 'true', containerizer: 'docker' }).container?.type).toBe('DOCKER');
  });

  it('refuses what the mesos containerizer cannot do, naming it', () => {
    expect(() => dockerTask({ ...base, command: 'true', containerizer: 'mesos', forcePullImage: true })).toThrow(/forcePullImage needs the docker containerizer/);
    expect(() => dockerTask({ ...base, command: 'true', containerizer: 'mesos', network: 'BRIDGE' })).toThrow(/network HOST only, got BRIDGE/);
    expect(() => dockerTask({ ...base, containerizer: 'mesos' })).toThrow(/needs a command or argv/);
    expect(() => dockerTask({ ...base, command: 'true', containerizer: 'rkt' as never })).toThrow(InvalidArgument);
  });

  it("runs the image's own entrypoint when given no command", () => {
    expect(dockerTask(base).command).toEqual({ shell: false });
  });

  it('sets kill policy and completion time in nanoseconds, and the allocation role on each resource', () => {
    const task = dockerTask({ ...base, killGracePeriodSeconds: 2.5, maxCompletionTimeSeconds: 60, allocationRole: 'web', name: 'pretty' });
    expect(task.kill_policy).toEqual({ grace_period: { nanoseconds: 2_500_000_000 } });
    expect(task.max_completion_time).toEqual({ nanoseconds: 60_000_000_000 });
    expect(task.name).toBe('pretty');
    expect(task.resources!.every((r) => r.allocation_info?.role === 'web')).toBe(true);
  });

  it.each([
    [{ taskId: 'has space' }, /no whitespace or '\/'/],
    [{ taskId: 'a/b' }, /no whitespace or '\/'/],
    [{ image: '' }, /Docker image is required/],
    [{ agentId: '' }, /agentId is required/],
    [{ command: 'x', argv: ['y'] }, /command or argv, not both/],
    [{ argv: [] }, /argv is empty/],
    [{ command: '  ' }, /command is empty/],
    [{ resources: Resources.EMPTY }, /resources are empty/],
    [{ killGracePeriodSeconds: -1 }, /killGracePeriodSeconds must be a non-negative/],
  ] as [Partial<DockerTaskSpec>, RegExp][])('rejects %j', (patch, message) => {
    expect(() => dockerTask({ ...base, ...patch })).toThrow(InvalidArgument);
    expect(() => dockerTask({ ...base, ...patch })).toThrow(message);
  });
});

describe('allocationRoleOf', () => {
  it('reads the offer-level or resource-level allocation role', () => {
    expect(allocationRoleOf({ allocation_info: { role: 'web' }, resources: [] })).toBe('web');
    expect(allocationRoleOf({ allocation_info: null, resources: [{ allocation_info: { role: 'db' } } as never] })).toBe('db');
    expect(allocationRoleOf({ allocation_info: null, resources: [] })).toBeUndefined();
  });
});
