// The pure side of container hardening: which user a task runs as (Mesos's
// rule under --switch_user), what checkTask refuses, the capability flag, and
// what containerSpec hands the driver.
import { describe, expect, it } from 'vitest';
import { STRICT, checkTaskUser, isRoot, parseCapabilities, readOnlyRootfs, taskUser, type IsolationPolicy } from '../../agent/isolation.js';
import { containerSpec } from '../../agent/task-spec.js';
import { Resources } from '../../common/resources.js';
import type { FrameworkInfoOut, TaskInfoOut } from '../../proto/index.js';

const fw = (user?: string) => ({ id: { value: 'fw1' }, ...(user !== undefined ? { user } : {}) }) as FrameworkInfoOut;
const task = (user?: string, labels: Record<string, string> = {}) => ({
  task_id: { value: 't1' }, resources: Resources.parse('cpus:1;mem:32').toProto(),
  command: { value: 'true', shell: true, arguments: [], uris: [], ...(user !== undefined ? { user } : {}) },
  labels: { labels: Object.entries(labels).map(([key, value]) => ({ key, value })) },
}) as unknown as TaskInfoOut;
const rootOk: IsolationPolicy = { ...STRICT, allowRoot: true };
const noSwitch: IsolationPolicy = { ...STRICT, switchUser: false, defaultUser: 'svc' };

describe('taskUser', () => {
  it.each([
    // [CommandInfo.user, FrameworkInfo.user, policy, user, from]
    ['app', 'ops', STRICT, 'app', 'CommandInfo.user'],
    [undefined, 'ops', STRICT, 'ops', 'FrameworkInfo.user'],
    [undefined, undefined, STRICT, 'nobody', '--default_container_user'],
    ['', '', STRICT, 'nobody', '--default_container_user'],
    [undefined, 'root', STRICT, 'nobody', '--default_container_user'], // the scheduler's account, not a request for root
    [undefined, 'root', rootOk, 'root', 'FrameworkInfo.user'],
    ['root', undefined, STRICT, 'root', 'CommandInfo.user'], // refused by checkTaskUser
    ['app', 'ops', noSwitch, 'svc', '--default_container_user'],
  ] as const)('command %s, framework %s -> %s', (command, framework, policy, user, from) => {
    expect(taskUser(fw(framework), task(command), policy)).toEqual({ user, from });
  });
});

describe('checkTaskUser', () => {
  it('refuses root named by the task unless --allow_root_tasks', () => {
    expect(checkTaskUser(fw(), task('root'), STRICT)).toBe("CommandInfo.user 'root' is root, which this agent does not allow (--allow_root_tasks is off)");
    expect(checkTaskUser(fw(), task('0:0'), STRICT)).toContain("'0:0' is root");
    expect(checkTaskUser(fw(), task('root'), rootOk)).toBeNull();
    expect(checkTaskUser(fw(), task('root'), noSwitch)).toBeNull(); // not used: every task runs as svc
  });
  it('refuses a user that is no name or uid', () => {
    expect(checkTaskUser(fw(), task('a b'), STRICT)).toBe("CommandInfo.user must be a user name or uid, optionally ':group', got 'a b'");
    expect(checkTaskUser(fw('-x'), task(), STRICT)).toContain("FrameworkInfo.user must be a user name or uid");
    expect(checkTaskUser(fw(), task('1000:1000'), STRICT)).toBeNull();
  });
  it('tells root by name or uid', () => {
    expect(['root', '0', '00', 'root:staff', '0:100'].every(isRoot)).toBe(true);
    expect(['nobody', '10', 'rooter', '1000:0'].some(isRoot)).toBe(false);
  });
});

describe('parseCapabilities', () => {
  it("takes a list or Mesos's CapabilityInfo JSON", () => {
    expect(parseCapabilities('NET_BIND_SERVICE, cap_chown')).toEqual(['NET_BIND_SERVICE', 'CHOWN']);
    expect(parseCapabilities('{"capabilities":["NET_RAW","SYS_ADMIN"]}')).toEqual(['NET_RAW', 'SYS_ADMIN']);
    expect(parseCapabilities('')).toEqual([]);
    expect(() => parseCapabilities('ALL')).toThrow("'ALL' is not a capability name");
    expect(() => parseCapabilities('{"caps":[]}')).toThrow('must be {"capabilities": [...]}');
  });
});

describe('containerSpec hardening', () => {
  const ctx = { agentId: 'A', hostname: 'h', workDir: '/w', defaultImage: 'img', pidsLimit: 8 };
  it('carries the user, the kept capabilities and the read-only rootfs request', () => {
    const t = task('app', { 'mesos-ts.read_only_rootfs': 'true' });
    expect(containerSpec(ctx, fw(), t, Resources.fromProto(t.resources))).toMatchObject({ user: 'app', capabilities: ['NET_BIND_SERVICE'], readOnlyRootfs: true });
    const plain = task();
    expect(containerSpec({ ...ctx, isolation: { ...STRICT, capabilities: [] } }, fw(), plain, Resources.fromProto(plain.resources)))
      .toMatchObject({ user: 'nobody', capabilities: [], readOnlyRootfs: false });
    expect(readOnlyRootfs(task(undefined, { 'mesos-ts.read_only_rootfs': 'yes' }))).toBe(false);
  });
});
