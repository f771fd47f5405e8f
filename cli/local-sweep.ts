// What a `mesos-ts local` run on loopback (no --hosts) leaves after a
// kill -9, and its removal at the start of the next run. Its master and
// agents run in its own process and die with it; what outlives it is
// ZooKeeper (--masters > 1: a process of its own, in its own process group),
// the task containers (Docker ones, labelled with the agent's work_dir under
// the run's directory; the mesos containerizer's supervisors, tasks, cgroups
// and mounts) and the run's directory, /tmp/mesos-ts-local-*. Each run
// writes run.json there (its pid and start time, and ZooKeeper's); the
// sweep removes what a directory of a dead owner holds, and the directory.
// A run on hosts is recorded with its hosts instead (common/hosts/network.ts),
// whose sweep also stops the processes it started on them.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { processStart } from '../common/hosts/network.js';
import { kill, readdirSafe } from '../common/hosts/engine-leftovers.js';
import { removeRunDir } from '../common/hosts/run-dir-leftovers.js';
import { LABEL } from '../agent/task-spec.js';

export const RUN_DIR_PREFIX = 'mesos-ts-local-';
const RUN_FILE = 'run.json';

interface Recorded {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: a reused pid is not taken for the process. */
  readonly start: string;
}

interface RunFile {
  readonly owner: Recorded;
  readonly zooKeeper?: Recorded;
}

const alive = (p: Recorded) => processStart(p.pid) === p.start;

/** Records this process as the owner of the run's directory `base` (and, once it runs, ZooKeeper's pid). */
export function recordRun(base: string, zooKeeperPid?: number | null): void {
  const zkStart = zooKeeperPid ? processStart(zooKeeperPid) : null;
  const file: RunFile = { owner: { pid: process.pid, start: processStart(process.pid) ?? '' }, ...(zkStart ? { zooKeeper: { pid: zooKeeperPid!, start: zkStart } } : {}) };
  writeFileSync(join(base, RUN_FILE), JSON.stringify(file));
}

/** Removes what every run directory of a dead owner holds (see the top of the file); returns the directories removed. */
export async function sweepLocalRuns(docker: Docker | null, root = tmpdir()): Promise<string[]> {
  const swept: string[] = [];
  for (const dir of readdirSafe(root).filter((d) => d.startsWith(RUN_DIR_PREFIX)).map((d) => join(root, d))) {
    const run = readRunFile(dir);
    if (!run || alive(run.owner)) continue;
    if (run.zooKeeper && alive(run.zooKeeper)) kill(run.zooKeeper.pid);
    if (docker) await removeContainersUnder(docker, dir);
    await removeRunDir(dir);
    swept.push(dir);
  }
  return swept;
}

function readRunFile(dir: string): RunFile | null {
  try {
    return JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8')) as RunFile;
  } catch {
    // No file (a run on hosts, a run starting this instant, not ours): not swept here.
    return null;
  }
}

/** The Docker task containers of agents whose work_dir is under `dir` (their label says), running or not. */
export async function containersUnder(docker: Docker, dir: string): Promise<Docker.ContainerInfo[]> {
  const all = await docker.listContainers({ all: true, filters: { label: [LABEL.workDir] } });
  return all.filter((c) => (c.Labels[LABEL.workDir] ?? '').startsWith(`${dir}/`));
}

/** Removes them (force: running ones too); an engine that does not answer has none to remove. */
async function removeContainersUnder(docker: Docker, dir: string): Promise<void> {
  const ours = await containersUnder(docker, dir).catch(() => []);
  await Promise.all(ours.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
}
