// config.json from a ContainerSpec (agent/driver/oci/bundle.ts), pure: the
// same limits as the Docker path, the task's capabilities only, runc's
// default hardening, and the user resolved from the image's own files.
import { describe, expect, it } from 'vitest';
import { ociConfig, processArgs, resolveUser, SANDBOX_IN_CONTAINER, type BundleContext } from '../../agent/driver/oci/bundle.js';
import type { ContainerSpec } from '../../agent/driver/driver.js';
import { seccompProfile } from '../../agent/driver/oci/seccomp.js';

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  image: 'mesos-ts/busybox:latest', forcePull: false, command: { entrypoint: ['/bin/sh', '-c', 'echo hi'] }, env: { MESOS_TASK_ID: 't1', PATH: '/task/bin' },
  labels: {}, cpus: 0.5, memMiB: 64, pidsLimit: 100, privileged: false, user: 'nobody', capabilities: ['NET_BIND_SERVICE'],
  readOnlyRootfs: false, mounts: [], stdoutPath: '/w/sb/stdout', stderrPath: '/w/sb/stderr', ...over,
});
const ctx: BundleContext = { uid: 65534, gid: 65534, sandbox: '/w/sb', cgroupsPath: '/mesos-ts/mesos-1', swapLimit: true, network: 'host', hostname: 'h1' };

type Config = {
  process: { args: string[]; env: string[]; cwd: string; user: { uid: number; gid: number }; noNewPrivileges: boolean; capabilities: Record<string, string[]>; rlimits: unknown[] };
  root: { path: string; readonly: boolean };
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: { cgroupsPath: string; resources: Record<string, Record<string, number>>; namespaces: { type: string }[]; maskedPaths: string[]; readonlyPaths: string[] };
};
const config = (s = spec(), image = {}, c = ctx) => ociConfig(s, image, c) as unknown as Config;

describe('OCI config from a task', () => {
  it('limits cpu (CFS quota over a 100 ms period, 1024 shares a cpu), memory with no swap, and pids, as the Docker path does', () => {
    const { linux } = config();
    expect(linux.cgroupsPath).toBe('/mesos-ts/mesos-1');
    expect(linux.resources.cpu).toEqual({ shares: 512, quota: 50_000, period: 100_000 }); // 0.5 cpus
    expect(linux.resources.memory).toEqual({ limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024, swappiness: 0 }); // swap == limit: none beyond it
    expect(linux.resources.pids).toEqual({ limit: 100 });
  });

  it('leaves the swap limit out where the kernel does not account swap', () => {
    expect(config(spec(), {}, { ...ctx, swapLimit: false }).linux.resources.memory).toEqual({ limit: 64 * 1024 * 1024, swappiness: 0 });
  });

  it('keeps only the task\'s capabilities, none inheritable or ambient, with no-new-privileges', () => {
    const { process } = config();
    expect(process.capabilities).toEqual({
      bounding: ['CAP_NET_BIND_SERVICE'], effective: ['CAP_NET_BIND_SERVICE'], permitted: ['CAP_NET_BIND_SERVICE'], inheritable: [], ambient: [],
    });
    expect(process.noNewPrivileges).toBe(true);
    expect(config(spec({ capabilities: [] })).process.capabilities.bounding).toEqual([]);
  });

  it('shares the host network by default; none is a new network namespace; pid, mount, ipc and uts are always new', () => {
    expect(config().linux.namespaces.map((n) => n.type)).toEqual(['pid', 'mount', 'ipc', 'uts']);
    expect(config(spec(), {}, { ...ctx, network: 'none' }).linux.namespaces.map((n) => n.type)).toEqual(['pid', 'mount', 'ipc', 'uts', 'network']);
    expect(config().mounts.map((m) => m.destination)).toContain('/etc/resolv.conf');
    expect(config(spec(), {}, { ...ctx, network: 'none' }).mounts.map((m) => m.destination)).not.toContain('/etc/resolv.conf');
  });

  it('mounts the sandbox at /mnt/mesos/sandbox with MESOS_SANDBOX set, and the allowed host paths read-only unless RW', () => {
    const c = config(spec({ mounts: [{ hostPath: '/data', containerPath: '/in', readOnly: true }, { hostPath: '/scratch', containerPath: '/out', readOnly: false }] }));
    expect(c.mounts.find((m) => m.destination === SANDBOX_IN_CONTAINER)).toMatchObject({ source: '/w/sb', type: 'bind' });
    expect(c.process.env).toContain(`MESOS_SANDBOX=${SANDBOX_IN_CONTAINER}`);
    expect(c.mounts.find((m) => m.destination === '/in')?.options).toContain('ro');
    expect(c.mounts.find((m) => m.destination === '/out')?.options).toContain('rw');
  });

  it('makes the root read-only on request, with a writable /tmp', () => {
    const c = config(spec({ readOnlyRootfs: true }));
    expect(c.root).toEqual({ path: 'rootfs', readonly: true });
    expect(c.mounts.find((m) => m.destination === '/tmp')?.type).toBe('tmpfs');
    expect(config().root.readonly).toBe(false);
  });

  it('filters system calls with the seccomp profile it is given (EPERM for the denied ones), none when given none', () => {
    const profile = seccompProfile('default')!;
    const withFilter = ociConfig(spec(), {}, { ...ctx, seccomp: profile }) as unknown as { linux: { seccomp: { defaultAction: string; syscalls: { names: string[]; action: string; errnoRet: number }[] } } };
    expect(withFilter.linux.seccomp.defaultAction).toBe('SCMP_ACT_ALLOW');
    const denied = withFilter.linux.seccomp.syscalls[0]!;
    expect(denied).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 1 });
    for (const call of ['mount', 'umount2', 'unshare', 'setns', 'keyctl', 'add_key', 'request_key', 'ptrace', 'kexec_load', 'open_by_handle_at', 'bpf', 'perf_event_open', 'init_module', 'finit_module', 'delete_module', 'swapon', 'swapoff', 'reboot', 'clock_settime', 'settimeofday', 'userfaultfd']) {
      expect(denied.names).toContain(call);
    }
    expect(withFilter.linux.seccomp.syscalls[1]).toMatchObject({ names: ['personality'], action: 'SCMP_ACT_ERRNO' });
    expect('seccomp' in (config().linux as object)).toBe(false);
    expect(seccompProfile('unconfined')).toBeNull();
    expect(() => seccompProfile('strict')).toThrow("--seccomp_profile_name: unknown profile 'strict' (known: default, unconfined; or a file of --seccomp_config_dir, which this agent was not given)");
  });

  it('masks and write-protects what runc masks by default', () => {
    const { linux } = config();
    expect(linux.maskedPaths).toContain('/proc/kcore');
    expect(linux.readonlyPaths).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  });

  it('runs the task as its user, its environment over the image\'s, in the image\'s working directory', () => {
    const c = config(spec(), { env: ['PATH=/bin', 'LANG=C'], workingDir: '/srv' });
    expect(c.process.user).toEqual({ uid: 65534, gid: 65534 });
    expect(c.process.env).toEqual(['PATH=/task/bin', 'LANG=C', 'MESOS_TASK_ID=t1', `MESOS_SANDBOX=${SANDBOX_IN_CONTAINER}`]);
    expect(c.process.cwd).toBe('/srv');
  });

  it('combines the task\'s command with the image\'s entrypoint and cmd as Docker does', () => {
    expect(processArgs(spec(), { entrypoint: ['/init'], cmd: ['x'] })).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(processArgs(spec({ command: { args: ['--flag'] } }), { entrypoint: ['/init'], cmd: ['x'] })).toEqual(['/init', '--flag']);
    expect(processArgs(spec({ command: {} }), { entrypoint: ['/init'], cmd: ['x'] })).toEqual(['/init', 'x']);
    expect(() => config(spec({ command: {} }), {})).toThrow('names no command');
  });
});

describe('the task user, from the image\'s /etc/passwd and /etc/group', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n';
  const group = 'root:x:0:\nnogroup:x:65534:\nstaff:x:50:\n';
  it('resolves names and numbers, with an optional group', () => {
    expect(resolveUser('nobody', passwd, group, 'img')).toEqual({ uid: 65534, gid: 65534 });
    expect(resolveUser('1000', passwd, group, 'img')).toEqual({ uid: 1000, gid: 1000 });
    expect(resolveUser('nobody:staff', passwd, group, 'img')).toEqual({ uid: 65534, gid: 50 });
    expect(resolveUser('0:7', passwd, group, 'img')).toEqual({ uid: 0, gid: 7 });
  });
  it('names a user or group the image lacks', () => {
    expect(() => resolveUser('alice', passwd, group, 'img')).toThrow("user 'alice' does not exist in image img");
    expect(() => resolveUser('nobody:wheel', passwd, group, 'img')).toThrow("group 'wheel' does not exist in image img");
    expect(() => resolveUser('alice', null, null, 'img')).toThrow('/etc/passwd');
  });
});
