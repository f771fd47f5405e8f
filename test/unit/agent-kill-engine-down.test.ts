// A kill that reaches the agent while its container engine is down (stopped
// with live-restore: the container keeps running) cannot stop the container.
// The task used to stay in its kill for good: every later kill was ignored as
// "under way" and the container ran on (the fault run found it, seed 3 with
// engine restarts). A kill asked again now tries the stop again, as Mesos
// forwards a repeated kill to the executor. A driver stands in for the engine
// here; the real engine restart is docker-engine-restart.test.ts.
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

/** An engine down for the first `failures` stops; a stop that works ends the container (SIGTERM). */
function engineDownFor(failures: number): { driver: ContainerDriver; stops: () => number } {
  let stops = 0;
  let exit!: (e: ContainerExit) => void;
  const exited = new Promise<ContainerExit>((resolve) => (exit = resolve));
  const driver: ContainerDriver = {
    launch: async () => 'c1', wait: () => exited, inspect: async () => null, list: async () => [],
    remove: async () => {}, reattach: async () => null, exec: async () => ({ exitCode: 0, output: '' }), stats: async () => null,
    stop: async () => {
      if (++stops <= failures) throw new Error('connect ENOENT /tmp/mts-engine-x/docker.sock');
      exit({ exitCode: 143, oomKilled: false });
    },
  };
  return { driver, stops: () => stops };
}

async function runnerOn(driver: ContainerDriver, workDir: string): Promise<{ runner: TaskRunner; updates: TaskStatusIn[]; running: Promise<void> }> {
  const fw = testFramework('fw', []);
  const task = {
    name: 't', task_id: { value: 't' }, agent_id: { value: 'a' }, resources: Resources.parse('cpus:0.1;mem:32').toProto(),
    command: { value: 'sleep 600', shell: true, arguments: [], uris: [] }, container: { type: 'DOCKER', docker: { image: 'img', network: 'HOST', parameters: [] } },
  } as unknown as TaskInfoOut;
  const checked = checkTask(fw, task);
  if (!checked.ok) throw new Error(checked.message);
  const updates: TaskStatusIn[] = [];
  const runner = new TaskRunner({
    driver, agentId: () => 'a', hostname: 'h', workDir, defaultImage: 'img', pidsLimit: 64, killGraceSeconds: 1,
    now: () => 1, emit: (_fw, s) => void updates.push(s), launched: () => {}, logger: () => silentLogger(),
  }, fw, task, checked.resources);
  const running = runner.run();
  for (let i = 0; i < 100 && runner.state !== 'TASK_RUNNING'; i++) await new Promise((r) => setImmediate(r));
  expect(runner.state).toBe('TASK_RUNNING');
  return { runner, updates, running };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('a kill while the container engine is down', () => {
  it('is carried out when the kill is asked again once the engine answers', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-kill-engine-down-'));
    try {
      const { driver, stops } = engineDownFor(1);
      const { runner, updates, running } = await runnerOn(driver, workDir);
      runner.kill();
      await settle();
      expect(stops()).toBe(1);
      expect(runner.state).toBe('TASK_RUNNING'); // The stop failed: nothing ended.
      runner.kill(); // The framework's kill again, the engine back.
      await running;
      expect(stops()).toBe(2);
      expect(updates.at(-1)).toMatchObject({ state: 'TASK_KILLED' });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('while a kill asked again during a stop that has not failed does not stop twice', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-kill-engine-down-'));
    try {
      const { driver, stops } = engineDownFor(0);
      const { runner, updates, running } = await runnerOn(driver, workDir);
      runner.kill();
      runner.kill();
      await running;
      expect(stops()).toBe(1);
      expect(updates.at(-1)).toMatchObject({ state: 'TASK_KILLED' });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
