// What a run's directory (`mesos-ts local`'s /tmp/mesos-ts-local-*, holding
// the agents' work_dirs) can hold once the run and its agents are dead: the
// mesos containerizer's containers (agent/driver/oci/), whose supervisors
// outlive the agent on purpose, with their tasks' processes, their cgroups
// (kept by `runc run --keep`) and their root mounts (overlays, the roots the
// agent's pool prepared). removeRunDir() removes them and the directory;
// the hosts' sweeper (network.ts) and `local`'s own (cli/local-sweep.ts)
// call it. Everything is found from the directory: the containers' ids in
// each <work_dir>/oci/containers, the processes by their cgroup, their
// working directory (a supervisor's is its bundle) or a command line naming
// a work_dir's oci/ (a runtime call). Nothing else is killed: not a shell
// whose working directory is in the run's directory, say.
import { readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, cmdline, kill, readdirSafe, unmountUnder } from './engine-leftovers.js';

/** The mesos containerizer's cgroup parent (agent/driver/oci/oci.ts): a container's cgroup is <hierarchy>/mesos-ts/<id>. */
const CGROUP_PARENT = 'mesos-ts';
const CGROUP_ROOT = '/sys/fs/cgroup';
const EXIT_WAIT_MS = 5_000;

/** Kills every process of the containers under `dir`, removes their cgroups and mounts, then the directory. */
export async function removeRunDir(dir: string): Promise<void> {
  const ids = ociContainerIds(dir);
  let pids = runDirProcesses(dir, ids);
  for (const pid of pids) kill(pid);
  for (const until = Date.now() + EXIT_WAIT_MS; pids.length > 0 && Date.now() < until; pids = pids.filter(alive)) await sleep(20);
  for (const cgroup of ociCgroups(ids)) {
    try {
      rmdirSync(cgroup);
    } catch {
      // Still busy (a process that would not die), or gone meanwhile: counted by whoever checks.
    }
  }
  await unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** The ids of the mesos containerizer's containers recorded under `dir`: <dir>/oci/containers/* and <dir>/<work_dir>/oci/containers/*. */
export function ociContainerIds(dir: string): string[] {
  return ociDirs(dir).flatMap((o) => readdirSafe(join(o, 'containers')));
}

/** The mesos containerizer's state dirs under `dir`: its own oci/ or its work_dirs'. */
function ociDirs(dir: string): string[] {
  return [dir, ...readdirSafe(dir).map((d) => join(dir, d))].map((w) => join(w, 'oci')).filter((o) => readdirSafe(o).length > 0);
}

/** The cgroup directories of these containers, in every hierarchy (v1) or the unified one (v2). */
export function ociCgroups(ids: readonly string[]): string[] {
  const parents = [CGROUP_ROOT, ...readdirSafe(CGROUP_ROOT).map((h) => join(CGROUP_ROOT, h))].map((h) => join(h, CGROUP_PARENT));
  return parents.flatMap((p) => ids.filter((id) => readdirSafe(join(p, id)).length > 0).map((id) => join(p, id)));
}

/** Live processes of the run: in a container's cgroup, working in the directory, or naming it on their command line. */
export function runDirProcesses(dir: string, ids: readonly string[] = ociContainerIds(dir)): number[] {
  const pids = new Set<number>();
  for (const cgroup of ociCgroups(ids)) {
    for (const line of readLines(join(cgroup, 'cgroup.procs'))) if (Number(line) > 0) pids.add(Number(line));
  }
  const oci = ociDirs(dir).map((o) => `${o}/`);
  if (oci.length === 0) return [...pids].filter(alive);
  for (const pid of readdirSafe('/proc').filter((e) => /^\d+$/.test(e)).map(Number)) {
    if (pid === process.pid || !alive(pid)) continue;
    const [where, command] = [`${cwd(pid)}/`, cmdline(pid)];
    if (oci.some((o) => where.startsWith(o) || command.includes(o))) pids.add(pid);
  }
  return [...pids].filter(alive);
}

function cwd(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return '';
  }
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n');
  } catch {
    return [];
  }
}
