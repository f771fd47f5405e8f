// What a Docker engine of our own (docker-engine.ts) can leave under its
// directory once dockerd is gone: its containerd (a SIGKILLed dockerd does
// not take it along), the shims and processes of its containers, and mounts
// (the data root's bind mount, exec/netns/default). removeEngineLeftovers()
// removes them all and the directory; DockerEngine.stop() and the hosts'
// sweeper (network.ts) both call it. Everything is found from the
// directory: a pid file, command lines naming it, the containers' cgroups.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Kills the engine's containerd, its containers' processes and shims, unmounts everything under `dir` and removes it. */
export async function removeEngineLeftovers(dir: string): Promise<void> {
  const containerd = readPid(containerdPidFile(dir));
  if (containerd !== null && alive(containerd) && cmdline(containerd).includes(dir)) kill(containerd);
  // Containers the engine could not remove (it was down): their processes by their cgroups, then their shims.
  for (const pid of containerProcesses(join(dir, 'data', 'containers'))) kill(pid);
  for (const pid of shimsUnder(dir)) kill(pid);
  await unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Mount points under `dir` still mounted (in this process's mount namespace). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/** Live processes whose command line names `dir` (dockerd, containerd, shims of this engine). */
export function processesUnder(dir: string): number[] {
  return readdirSafe('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => pid !== process.pid && alive(pid) && cmdline(pid).includes(dir));
}

export const containerdPidFile = (dir: string) => join(dir, 'exec', 'containerd', 'containerd.pid');

/** True for a live process (a zombie is not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

export function readPid(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
}

/** containerd-shim processes serving this engine's containerd (their command line names its socket under `dir`). */
function shimsUnder(dir: string): number[] {
  return processesUnder(dir).filter((pid) => cmdline(pid).includes('containerd-shim'));
}

/** Processes of this engine's containers (ids from its data root), as the cgroupfs driver files them: <hierarchy>/docker/<id>. */
function containerProcesses(containersDir: string): number[] {
  const pids = new Set<number>();
  for (const id of readdirSafe(containersDir)) {
    for (const hierarchy of readdirSafe('/sys/fs/cgroup')) {
      try {
        for (const line of readFileSync(join('/sys/fs/cgroup', hierarchy, 'docker', id, 'cgroup.procs'), 'utf8').split('\n')) if (Number(line) > 0) pids.add(Number(line));
      } catch {
        // Not in this hierarchy.
      }
    }
  }
  return [...pids];
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** Unmounts (lazily) every mount under `dir`, deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const p of mountsUnder(dir).sort().reverse()) await run('umount', ['-l', p]).catch(() => {});
}
