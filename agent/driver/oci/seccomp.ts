// The default seccomp profile of the mesos containerizer's tasks, in the
// spirit of Docker's: every system call is allowed but those that reach
// outside the container or into the kernel, which fail with EPERM (an
// ordinary error a program handles, not a kill). Most of them already need
// a capability a task lacks; the filter still holds where one is granted
// (--effective_capabilities) or where the kernel lets anyone in (unshare or
// clone of a user namespace). Mesos's flag --seccomp_profile_name chooses
// it ('default'), none ('unconfined') or a file of --seccomp_config_dir.
import { machine } from 'node:os';
import { join } from 'node:path';
import { InvalidArgument } from '../../../common/errors.js';
import { isDirectory, readable, readSeccompProfile, type SeccompProfile } from './seccomp-file.js';

const EPERM = 1;

/** Denied whatever the arguments. */
const DENIED = [
  // Kernel keyrings: not namespaced.
  'add_key', 'keyctl', 'request_key',
  // Other processes' memory and the host's namespaces and mounts.
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp',
  'mount', 'umount', 'umount2', 'pivot_root', 'chroot', 'unshare', 'setns',
  'open_by_handle_at', 'name_to_handle_at', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree',
  // The kernel itself: modules, kexec, bpf, perf, swap, reboot, the clock, accounting, quotas.
  'init_module', 'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load', 'bpf', 'perf_event_open',
  'swapon', 'swapoff', 'reboot', 'clock_settime', 'clock_settime64', 'clock_adjtime', 'clock_adjtime64', 'settimeofday', 'stime', 'adjtimex',
  'acct', 'quotactl', 'lookup_dcookie', 'userfaultfd', 'iopl', 'ioperm', 'syslog', 'vhangup', 'nfsservctl', 'uselib', 'ustat', 'sysfs', '_sysctl',
];

/** personality() with the values programs use (Linux, 32-bit Linux, with or without address randomisation, the query). */
const PERSONALITY_ALLOWED = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/**
 * The system call conventions a process on this kernel (uname -m) can use, as Docker's default profile maps them
 * (archMap): rules for any other architecture are never reached, and each one listed costs runc init time (on
 * x86_64, 9.4 ms of CPU in the container's cgroup with these three against 10.1 ms with the five listed before,
 * mean of 40 launches each; 8.2 ms without a filter). An unknown machine gets the five.
 */
const ARCHITECTURES: Readonly<Record<string, readonly string[]>> = {
  x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  armv7l: ['SCMP_ARCH_ARM'],
  armv6l: ['SCMP_ARCH_ARM'],
  i686: ['SCMP_ARCH_X86'],
  i386: ['SCMP_ARCH_X86'],
};
const ANY_ARCHITECTURE = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];

export type { SeccompProfile };

/** The OCI `linux.seccomp` of the default profile, for a kernel of machine type `host` (default: this one's). */
export function defaultSeccomp(host = machine()): SeccompProfile {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: [...(ARCHITECTURES[host] ?? ANY_ARCHITECTURE)],
    syscalls: [
      { names: DENIED, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      // Any other persona (e.g. READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE's kin) is refused: each value is one condition.
      {
        names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM,
        args: PERSONALITY_ALLOWED.map((value) => ({ index: 0, value, op: 'SCMP_CMP_NE' })),
      },
    ],
  };
}

export const SECCOMP_PROFILE_NAMES = ['default', 'unconfined'] as const;

/** A task's own profile by name (ContainerInfo.linux_info.seccomp.profile_name): seccompProfile, with errors naming that field. */
export function taskSeccompProfile(name: string, configDir?: string, capabilities: readonly string[] = []): SeccompProfile | null {
  return seccompProfile(name, configDir, capabilities, 'TaskInfo.container.linux_info.seccomp.profile_name');
}

/**
 * --seccomp_profile_name (with --seccomp_config_dir, Mesos's pair) checked: the profile, or null for none.
 * With a config dir the name is a file in it (NAME or NAME.json, Docker's profile format; seccomp-file.ts);
 * 'default' is the built-in profile unless that dir holds a default(.json), and 'unconfined' is none.
 */
export function seccompProfile(name: string, configDir?: string, capabilities: readonly string[] = [], what = '--seccomp_profile_name'): SeccompProfile | null {
  if (name === 'unconfined') return null;
  if (configDir !== undefined) {
    if (!isDirectory(configDir)) throw new InvalidArgument(`--seccomp_config_dir ${configDir} is not a directory`);
    const ownDefault = [join(configDir, 'default'), join(configDir, 'default.json')].some((p) => readable(p));
    if (name !== 'default' || ownDefault) return readSeccompProfile(configDir, name, capabilities, what);
  }
  if (name === 'default') return defaultSeccomp();
  throw new InvalidArgument(`${what}: unknown profile '${name}' (known: ${SECCOMP_PROFILE_NAMES.join(', ')}; or a file of --seccomp_config_dir${configDir === undefined ? ', which this agent was not given' : ''})`);
}
