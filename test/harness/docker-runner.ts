// The task runner on the real Docker engine with no master, for tests of
// what a task goes through: a temporary work_dir, a driver, a RunnerContext
// whose updates land in an array, and cleanup of every container labelled
// with that work_dir after each test (the directory goes after the file).
import { afterAll, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerDriver } from '../../agent/driver/docker.js';
import type { ContainerDriver } from '../../agent/driver/driver.js';
import type { RunnerContext } from '../../agent/task-runner.js';
import { LABEL } from '../../agent/task-spec.js';
import { systemClock } from '../../common/clock.js';
import type { FrameworkInfoOut, TaskStatusIn } from '../../proto/index.js';
import { TEST_IMAGE } from './grpc-scheduler.js';
import { silentLogger } from '../../common/log/logger.js';

export interface DockerRunnerBench {
  readonly workDir: string;
  /** Never pulls; gives up on a pull after 5 s. */
  readonly driver: DockerDriver;
  /** The runner's context: agent `agent-test` on 127.0.0.1, the test image by default, 64 pids, 1 s kill grace. */
  context(updates: TaskStatusIn[], driver?: ContainerDriver): RunnerContext;
}

/** Call at the top of a test file: `name` goes into the work_dir's name. */
export function dockerRunnerBench(name: string): DockerRunnerBench {
  const workDir = mkdtempSync(join(tmpdir(), `mesos-ts-${name}-`));
  const driver = new DockerDriver({ pull: 'never', pullTimeoutSeconds: 5 });
  const removeOurContainers = async () => {
    for (const c of await driver.list({ [LABEL.workDir]: workDir })) await driver.remove(c.id);
  };
  afterEach(removeOurContainers);
  afterAll(async () => {
    await removeOurContainers();
    rmSync(workDir, { recursive: true, force: true });
  });
  return {
    workDir,
    driver,
    context: (updates, d = driver) => ({
      driver: d, agentId: () => 'agent-test', hostname: '127.0.0.1', workDir, defaultImage: TEST_IMAGE, pidsLimit: 64, killGraceSeconds: 1,
      now: () => systemClock.now(), emit: (_fw, status) => void updates.push(status), launched: () => {}, logger: () => silentLogger(),
    }),
  };
}

/** A FrameworkInfo named `test` with these capabilities. */
export const testFramework = (id: string, capabilities: string[] = []) =>
  ({ id: { value: id }, name: 'test', capabilities: capabilities.map((type) => ({ type })) }) as unknown as FrameworkInfoOut;
