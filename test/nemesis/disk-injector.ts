// A full disk that proves something: an agent's work_dir tmpfs filled to the
// last byte at a moment when the agent must write (it waits up to 10 s for a
// task to run there). Right after the fill the injector ends every task
// container running there but the oldest (SIGKILL through the agent's
// engine, as a crash of the task would), so the agent has terminal updates
// to write down while nothing fits (tmpfs allocates by page: a small
// append may still fit in a page its file holds), and the resources freed
// bring the load frameworks' next launch there, whose task.json cannot be
// written. The heal waits (30 s at most) until the agent has said a write
// failed, frees the space, and reads a copy
// of the agent's checkpoints with the agent's own recovery code: every file
// must read back whole, and every task's updates be in lifecycle order. The
// checker (full-disk-recovers) then holds the history to it: the ended tasks
// get their terminal updates once space returns, the others are never
// reported lost for the fill.
import { cpSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpointer } from '../../agent/checkpoint.js';
import { canTransition, type TaskState } from '../../common/task-state.js';
import { waitUntil } from '../harness/wait-until.js';
import type { NemesisCluster } from './cluster.js';
import { HistoryWriter, type HistoryEntry } from './history.js';
import { pick, TASK_WAIT_MS, type Injector } from './injectors.js';

const FILLER = 'nemesis-filler';
/** How long a heal waits for the agent to report a failed write before freeing the space anyway (a launch there can take that long under load). */
export const WRITE_FAILURE_WAIT_MS = 30_000;
/** An agent log line saying a write failed for want of space. */
export const DISK_FULL_LINE = /ENOSPC|no space left/i;

/** Fills the file system of `dir` to the last byte with a file `dir/<FILLER>`; returns the bytes written. */
export function fillDisk(dir: string): number {
  const { bavail, bsize } = statfsSync(dir);
  const bytes = Number(bavail) * Number(bsize);
  try {
    writeFileSync(join(dir, FILLER), Buffer.alloc(bytes));
  } catch {
    // ENOSPC on the last blocks (the file's own metadata): full either way.
  }
  return bytes;
}

/** An agent as the fill sees it: the tasks whose containers run on its engine. */
export interface FillChoice {
  readonly slot: string;
  readonly running: readonly string[];
}

/** An agent with running tasks when there is one (its updates are what must be written), any agent otherwise. */
export function chooseFill(agents: readonly FillChoice[], random: () => number): string | undefined {
  const busy = agents.filter((a) => a.running.length > 0);
  return pick(busy.length > 0 ? busy : agents, random)?.slot;
}

/** What a copy of an agent's checkpoints reads back as: the history's `checkpoints` entry. */
export function readCheckpointsCopy(workDir: string, agent: string): Extract<HistoryEntry, { type: 'checkpoints' }> {
  const copy = mkdtempSync(join(tmpdir(), 'mesos-ts-checkpoints-'));
  try {
    // A copy: recovery removes the directory of a task not yet written down, which the live agent may be writing.
    cpSync(join(workDir, 'meta'), join(copy, 'meta'), { recursive: true });
    const recovered = new Checkpointer(copy).recover();
    const outOfOrder: string[] = [];
    for (const t of recovered.tasks) {
      const states = t.updates.map((u) => u.state as TaskState);
      const bad = states.findIndex((s, i) => i > 0 && s !== states[i - 1] && !canTransition(states[i - 1]!, s));
      if (bad > 0) outOfOrder.push(`${t.task.task_id?.value}: ${states.join(' -> ')}`);
    }
    return { type: 'checkpoints', agent, tasks: recovered.tasks.length, updates: recovered.tasks.reduce((n, t) => n + t.updates.length, 0), outOfOrder };
  } catch (err) {
    return { type: 'checkpoints', agent, tasks: 0, updates: 0, outOfOrder: [], error: err instanceof Error ? err.message : String(err) };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/**
 * SIGKILLs every task container running on the agent's engine now but the oldest (kept, the likeliest to be a long
 * task, to show a task survives the fill), or the only one: each ended task is a terminal update to write down, and
 * the resources freed bring the frameworks' launches there. The TaskIDs ended, and why some could not be.
 */
async function endAllButOldest(cluster: NemesisCluster, slot: string): Promise<{ ended: string[]; errors: string[] }> {
  const { docker } = cluster.machines.engines.get(slot)!.engine;
  const running = [...(await cluster.runningTasksOn(slot))];
  const ended: string[] = [];
  const errors: string[] = [];
  // A short task may have ended, and its container been removed, since the listing: 'no such container'.
  for (const [taskId, container] of running.length > 1 ? running.slice(1) : running) {
    const failed = await docker.getContainer(container).kill({ signal: 'SIGKILL' }).then(() => null, (err: unknown) => String(err).split('\n')[0]!);
    if (failed === null) ended.push(taskId);
    else errors.push(`${taskId}: ${failed}`);
  }
  return { ended, errors };
}

/** An agent's work_dir tmpfs filled to the last byte while it has a task's end to write down; heal frees it and reads its checkpoints. */
export function fillDiskInjector(cluster: NemesisCluster): Injector {
  let filled: { slot: string; dir: string; fromLine: number } | null = null;
  return {
    name: 'fill-disk',
    async inject(random) {
      const running = new Map(await Promise.all([...cluster.agents.keys()].map(async (slot) => [slot, await cluster.runningTasksOn(slot)] as const)));
      const slot = chooseFill([...running].map(([a, tasks]) => ({ slot: a, running: [...tasks.keys()] })), random);
      if (!slot) return null;
      // A fill that ends no task proves little: wait a little for one to run there (the load keeps launching).
      let tasks = [...running.get(slot)!.keys()];
      await waitUntil(async () => (tasks = [...(await cluster.runningTasksOn(slot)).keys()]).length > 0, TASK_WAIT_MS, 'a task on the agent').catch(() => {});
      const dir = join(cluster.group.dir, slot);
      const fromLine = cluster.agents.get(slot)!.lines.length;
      const bytes = fillDisk(dir);
      const { ended, errors } = await endAllButOldest(cluster, slot);
      filled = { slot, dir, fromLine };
      const what = [
        ended.length > 0 ? `, and SIGKILL the containers of ${ended.join(', ')} so that their ends must be written down there` : ', ending no task there',
        errors.length > 0 ? ` (could not end ${errors.join('; ')})` : '',
      ].join('');
      return {
        kind: 'fill-disk', target: slot, tasks: [...new Set([...tasks, ...ended])], ...(ended.length > 0 ? { ended } : {}),
        description: `fill ${slot}'s work_dir (${(bytes / 2 ** 20).toFixed(1)} MiB free) to the last byte${what}`,
      };
    },
    async heal() {
      const f = filled;
      filled = null;
      if (!f) return;
      const failedWrite = () => (cluster.agents.get(f.slot)?.lines ?? []).slice(f.fromLine).some((l) => DISK_FULL_LINE.test(l));
      await waitUntil(failedWrite, WRITE_FAILURE_WAIT_MS, `${f.slot} to report a failed write`).catch(() => {});
      rmSync(join(f.dir, FILLER), { force: true });
      const history = new HistoryWriter(cluster.historyPath, 'nemesis');
      history.record(readCheckpointsCopy(f.dir, f.slot));
      history.close();
    },
    holding: () => new Set(),
  };
}
