// Two integration files run at once, one per lane; inside a lane, one at a
// time. Integration files mostly wait (ZooKeeper sessions, Docker, timeouts),
// so two lanes on two cores take far less wall time than one.
//
// A lane is a group of files that must not overlap one another:
// - "services": the files that run long-lived apps, local clusters and
//   docker-compose (the fixed ports of docker-compose.yml, task ports served
//   by HAProxy, Chromium);
// - "faults": the fault and fuzz files (simulated hosts, a ZooKeeper
//   ensemble, a Docker engine of their own, the randomized fault run), each
//   heavy on the machine for a while;
// - "core": every other integration file.
// Unit files take no lane. A file waits for its lane in lane-setup.ts before
// its first hook; lane-sequencer.ts deals the files so that the two workers
// mostly pick files of different lanes.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Lane = 'services' | 'faults' | 'core';

const LANES: readonly [Lane, RegExp][] = [
  ['services', /^(apps-|lb-|compose|local-|webui)/],
  ['faults', /^(hosts|zk-ensemble|multi-host-|nemesis|docker-engine-|agent-full-disk|leader-kill-|scheduler-failover-mid-|fuzz-)/],
];

/** The lane of a test file (an absolute or relative path), or null for a unit file. */
export function laneOf(file: string): Lane | null {
  const path = file.replaceAll('\\', '/');
  const at = path.lastIndexOf('test/integration/');
  if (at < 0) return null;
  const name = path.slice(at + 'test/integration/'.length);
  return LANES.find(([, pattern]) => pattern.test(name))?.[0] ?? 'core';
}

export interface Planned {
  readonly lane: Lane | null;
  readonly seconds: number;
}

/**
 * The order in which to hand `files` to `workers` workers. Vitest gives the
 * next file of the list to whichever worker is free first, and a file whose
 * lane is busy waits for it; so the list is made by playing that out with
 * each file's expected duration: each time a worker frees, it takes the
 * longest file whose lane is free by then, else a unit file (they take no
 * lane), else the file whose lane frees first.
 */
export function plan<T extends Planned>(files: readonly T[], workers = 2): T[] {
  const left = [...files].sort((a, b) => b.seconds - a.seconds);
  const free = new Array<number>(workers).fill(0);
  const laneFree = new Map<Lane, number>();
  const order: T[] = [];
  while (left.length > 0) {
    const w = free.indexOf(Math.min(...free));
    const now = free[w]!;
    const ready = (f: T) => f.lane !== null && (laneFree.get(f.lane) ?? 0) <= now;
    let i = left.findIndex(ready);
    if (i < 0) i = left.findIndex((f) => f.lane === null);
    if (i < 0) i = left.reduce((best, f, j) => ((laneFree.get(f.lane!) ?? 0) < (laneFree.get(left[best]!.lane!) ?? 0) ? j : best), 0);
    const [file] = left.splice(i, 1) as [T];
    const start = file.lane === null ? now : Math.max(now, laneFree.get(file.lane) ?? 0);
    free[w] = start + file.seconds;
    if (file.lane !== null) laneFree.set(file.lane, free[w]!);
    order.push(file);
  }
  return order;
}

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
};

/**
 * Takes a lane for this process: mkdir is atomic, and the directory holds the
 * owner's pid, so a lane held by a worker that died is taken over. Locks live
 * under a folder named after the test run (the vitest process), so an earlier
 * run's leftovers are never waited for.
 */
export async function acquireLane(lane: Lane, run: string, pollMs = 100): Promise<() => void> {
  const root = join(tmpdir(), `mesos-ts-lanes-${run}`);
  mkdirSync(root, { recursive: true });
  const dir = join(root, `${lane}.lock`);
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'owner'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(readOwner(dir));
    if (owner > 0 && !alive(owner)) { rmSync(dir, { recursive: true, force: true }); continue; }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function readOwner(dir: string): string {
  try { return readFileSync(join(dir, 'owner'), 'utf8'); } catch { return ''; }
}
