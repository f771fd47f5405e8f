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
