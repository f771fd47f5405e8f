// The agent's running containers and their usage, read live from the
// driver (each task is its own executor: executor id = task id), as Mesos's
// /monitor/statistics, /containers and the v1 GET_CONTAINERS call show them.
// Readings are taken in parallel and bounded in time; a container whose
// reading failed or timed out is listed without statistics (as Mesos does).
import type { Agent } from './agent.js';
import { containerStatus, type TaskRunner } from './task-runner.js';
import type { ContainerStats } from './driver/driver.js';
import { isTerminal } from '../common/task-state.js';

/** A reading slower than this is left out rather than holding the answer up. */
const STATS_TIMEOUT_MS = 5000;

export interface ContainerUsage {
  readonly runner: TaskRunner;
  readonly containerId: string;
  readonly statistics: ContainerStats | null;
}

/** Which containers to show: Mesos's query parameters (container_id, or framework_id with an optional executor_id). */
export interface ContainerFilter {
  readonly containerId?: string;
  readonly frameworkId?: string;
  readonly executorId?: string;
}

/** Every running task container matching `filter`, with its usage. */
export async function containerUsage(agent: Agent, filter: ContainerFilter = {}): Promise<ContainerUsage[]> {
  const running = [...agent.runners.values()].filter((r): r is TaskRunner & { containerId: string } =>
    r.containerId !== null && !isTerminal(r.state) &&
    (filter.containerId === undefined || r.containerId === filter.containerId) &&
    (filter.frameworkId === undefined || r.frameworkId === filter.frameworkId) &&
    (filter.executorId === undefined || r.taskId === filter.executorId));
  return Promise.all(running.map(async (runner) => ({ runner, containerId: runner.containerId, statistics: await bounded(agent, runner.containerId) })));
}

async function bounded(agent: Agent, containerId: string): Promise<ContainerStats | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), STATS_TIMEOUT_MS)));
  try {
    return await Promise.race([agent.options.driver.stats(containerId).catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The executor's name Mesos gives a command task's executor. */
export function executorName(runner: TaskRunner): string {
  return `Command Executor (Task: ${runner.taskId})`;
}

/** GET /monitor/statistics: one entry per container with statistics. */
export function statisticsJson(usage: readonly ContainerUsage[]) {
  return usage.filter((u) => u.statistics !== null).map((u) => ({
    executor_id: u.runner.taskId, executor_name: executorName(u.runner), framework_id: u.runner.frameworkId, source: u.runner.taskId,
    statistics: u.statistics!,
  }));
}

/** GET /containers. */
export function containersJson(usage: readonly ContainerUsage[], ip: string | undefined) {
  return usage.map((u) => ({
    container_id: u.containerId, executor_id: u.runner.taskId, executor_name: executorName(u.runner), framework_id: u.runner.frameworkId,
    source: u.runner.taskId, status: containerStatus(u.containerId, u.runner.pid, ip),
    ...(u.statistics !== null ? { statistics: u.statistics } : {}),
  }));
}
