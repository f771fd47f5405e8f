// What a task is reported as when its container runtime restarted and
// stopped its container itself (a Docker engine without live-restore): as
// Mesos reports an executor that ended with no state of its own, TASK_LOST,
// or TASK_GONE to a PARTITION_AWARE framework, with REASON_EXECUTOR_TERMINATED
// from the agent. A driver stands in for the runtime here; the real engine
// restart is test/integration/docker-engine-restart.test.ts.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRunner } from '../../agent/task-runner.js';
import { checkTask } from '../../agent/task-spec.js';
import type { ContainerDriver, ContainerExit } from '../../agent/driver/driver.js';
import { Resources } from '../../common/resources.js';
import { silentLogger } from '../../common/log/logger.js';
import { testFramework } from '../harness/docker-runner.js';
import type { TaskInfoOut, TaskStatusIn } from '../../proto/index.js';

/** A runtime whose one container ends as `exit` says. */
function driverEnding(exit: ContainerExit): ContainerDriver {
  return {
    launch: async () => 'c1', wait: async () => exit, stop: async () => {}, inspect: async () => null, list: async () => [],
    remove: async () => {}, reattach: async () => null, exec: async () => ({ exitCode: 0, output: '' }), stats: async () => null,
  };
}

async function run(exit: ContainerExit, capabilities: string[] = []): Promise<TaskStatusIn> {
  const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-engine-exit-'));
  try {
    const fw = testFramework('fw', capabilities);
    const task = {
      name: 't', task_id: { value: 't' }, agent_id: { value: 'a' }, resources: Resources.parse('cpus:0.1;mem:32').toProto(),
      command: { value: 'sleep 1', shell: true, arguments: [], uris: [] }, container: { type: 'DOCKER', docker: { image: 'img', network: 'HOST', parameters: [] } },
    } as unknown as TaskInfoOut;
    const checked = checkTask(fw, task);
    if (!checked.ok) throw new Error(checked.message);
    const updates: TaskStatusIn[] = [];
    const runner = new TaskRunner({
      driver: driverEnding(exit), agentId: () => 'a', hostname: 'h', workDir, defaultImage: 'img', pidsLimit: 64, killGraceSeconds: 1,
      now: () => 1, emit: (_fw, s) => void updates.push(s), launched: () => {}, logger: () => silentLogger(),
    }, fw, task, checked.resources);
    await runner.run();
    return updates.at(-1)!;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

describe('a container stopped by a restart of its runtime', () => {
  it('is TASK_LOST, REASON_EXECUTOR_TERMINATED, from the agent', async () => {
    const last = await run({ exitCode: 137, oomKilled: false, engineRestarted: true });
    expect(last).toMatchObject({ state: 'TASK_LOST', reason: 'REASON_EXECUTOR_TERMINATED', source: 'SOURCE_AGENT' });
    expect(last.message).toContain('exit status 137');
  });

  it('is TASK_GONE to a partition-aware framework', async () => {
    expect(await run({ exitCode: 137, oomKilled: false, engineRestarted: true }, ['PARTITION_AWARE'])).toMatchObject({ state: 'TASK_GONE', reason: 'REASON_EXECUTOR_TERMINATED' });
  });

  it('while the same status from the task itself stays a failure with that status', async () => {
    expect(await run({ exitCode: 137, oomKilled: false })).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exited with status 137' });
  });
});
