// What a mesos-containerizer agent can leave on the host, counted for some of
// its containers (by id, in its work_dir): mounts (container roots), cgroup
// folders (every hierarchy, v1 and v2), processes (a supervisor's cwd is its
// bundle, a runc call names the container, a task's cgroup names it) and
// bundles (every one in the work_dir); and the container roots the agent's
// pool keeps mounted ahead of launches (<work_dir>/oci/pool).
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface Leftovers {
  readonly mounts: string[];
  readonly cgroups: string[];
  readonly processes: string[];
  readonly bundles: string[];
  readonly pooled: string[];
}

/** `except`: pids not to count. */
export function leftovers(workDir: string, containerIds: readonly string[], except: readonly number[] = [], cgroupRoot = '/sys/fs/cgroup'): Leftovers {
  const ours = (text: string) => containerIds.some((id) => text.includes(id));
  const mountPoints = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '');
  const mounts = mountPoints.filter((p) => p.startsWith(workDir) && ours(p));
  const pooled = mountPoints.filter((p) => p.startsWith(join(workDir, 'oci', 'pool') + '/'));
  const hierarchies = [cgroupRoot, ...readdirSync(cgroupRoot).map((d) => join(cgroupRoot, d))];
  const cgroups = hierarchies.flatMap((h) => containerIds.map((id) => join(h, 'mesos-ts', id))).filter((p) => existsSync(p));
  const processes: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d) && !except.includes(Number(d)))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      if (ours(cwd) || ours(cmdline) || containerIds.some((id) => cgroup.includes(`/mesos-ts/${id}\n`) || cgroup.includes(`/mesos-ts/${id}/`))) processes.push(`${pid} ${cmdline.slice(0, 80)}`);
    } catch {
      // The process ended while being looked at.
    }
  }
  const bundles = existsSync(join(workDir, 'oci', 'containers')) ? readdirSync(join(workDir, 'oci', 'containers')) : [];
  return { mounts, cgroups, processes, bundles, pooled };
}

export const NOTHING: Leftovers = { mounts: [], cgroups: [], processes: [], bundles: [], pooled: [] };
