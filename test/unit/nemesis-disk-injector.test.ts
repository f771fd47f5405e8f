// The full-disk fault's pure parts: which agent it fills (one with running
// tasks when there is one) and which task it ends, from its seeded draws;
// and the read-back of an agent's checkpoints (a copy, through the agent's
// own recovery) that says whether they are whole and in lifecycle order.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpointer } from '../../agent/checkpoint.js';
import { seededRandom } from '../../master/allocator/seeded-random.js';
import { chooseFill, readCheckpointsCopy } from '../../test/nemesis/disk-injector.js';

describe('the full-disk fault', () => {
  it('fills an agent that runs tasks; an idle agent only when none runs any', () => {
    const agents = [{ slot: 'agent-1', running: [] }, { slot: 'agent-2', running: ['t1', 't2'] }, { slot: 'agent-3', running: ['t3'] }];
    const random = seededRandom(3);
    const chosen = new Set(Array.from({ length: 30 }, () => chooseFill(agents, random)));
    expect(chosen).toEqual(new Set(['agent-2', 'agent-3']));
    expect(chooseFill([{ slot: 'agent-1', running: [] }], random)).toBe('agent-1');
    expect(chooseFill([], random)).toBeUndefined();
  });

  describe('reading an agent\'s checkpoints back', () => {
    const dirs: string[] = [];
    afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
    const workDir = async (states: string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-cp-test-'));
      dirs.push(dir);
      const cp = new Checkpointer(dir);
      cp.writeAgentId('m1-S0');
      await cp.writeTask({ id: { value: 'f1' }, name: 'fw', user: 'root' } as never, { task_id: { value: 't1' }, name: 't1', agent_id: { value: 'm1-S0' } } as never);
      for (const [i, state] of states.entries()) await cp.appendUpdate('f1', { task_id: { value: 't1' }, state, uuid: Buffer.from([i]) } as never);
      return dir;
    };

    it('counts tasks and updates, and names a task whose updates are out of lifecycle order', async () => {
      expect(readCheckpointsCopy(await workDir(['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_FAILED']), 'agent-1'))
        .toEqual({ type: 'checkpoints', agent: 'agent-1', tasks: 1, updates: 4, outOfOrder: [] });
      expect(readCheckpointsCopy(await workDir(['TASK_RUNNING', 'TASK_STARTING']), 'agent-1').outOfOrder).toEqual(['t1: TASK_RUNNING -> TASK_STARTING']);
    });

    it('says what cannot be read, and leaves the agent\'s own files alone', async () => {
      const dir = await workDir(['TASK_RUNNING']);
      const taskDir = join(dir, 'meta', 'tasks', 'f1', 't1');
      writeFileSync(join(taskDir, 'task.json'), '{"framework":');
      const read = readCheckpointsCopy(dir, 'agent-1');
      expect(read.error).toMatch(/task\.json/);
      // Recovery removes a task directory without task.json: on the copy only, never under the live agent.
      rmSync(join(taskDir, 'task.json'));
      expect(readCheckpointsCopy(dir, 'agent-1').tasks).toBe(0);
      expect(readdirSync(taskDir)).toEqual(['updates']);
    });
  });
});
