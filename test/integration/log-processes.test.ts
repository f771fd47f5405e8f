// A master and an agent as processes with --log_format=json: every line they
// print, from start to shutdown, is a JSON object a shipper can read, and
// --log_dir holds the same log in a file.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessGroup, type Proc } from '../harness/processes.js';

const group = new ProcessGroup();
afterAll(() => group.stopAll());

function records(proc: Proc): Record<string, unknown>[] {
  return proc.lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${proc.name} printed a line that is not JSON: ${line}`);
    }
  });
}

describe('--log_format=json', () => {
  it('master and agent print only JSON lines, with time, level, component, message and ids', async () => {
    const logDir = join(group.dir, 'master-logs');
    const master = await group.spawnMaster('master', ['--log_format=json', `--log_dir=${logDir}`]);
    await master.waitForLine(/leading/, 15_000);
    const agent = await group.spawnAgent('agent', [`--master=${master.grpcAddress}`, '--resources=cpus:1;mem:256', '--log_format=json']);
    await agent.waitForLine(/registered with the master/, 15_000);
    await master.waitForLine(/agent .* registered with/, 15_000);
    await agent.stop();
    await master.stop();

    for (const proc of [master, agent]) {
      const all = records(proc);
      expect(all.length, proc.name).toBeGreaterThan(1);
      for (const r of all) {
        expect(typeof r.msg).toBe('string');
        expect(['INFO', 'WARNING', 'ERROR']).toContain(r.level);
        expect(Date.parse(String(r.time))).toBeGreaterThan(0);
        expect(r.component).toBeTypeOf('string');
      }
    }
    const registered = records(agent).find((r) => r.msg === 'registered with the master');
    expect(registered).toMatchObject({ component: 'agent', agent_id: expect.stringMatching(/-S\d+$/) });
    expect(records(master).find((r) => String(r.msg).includes('registered with'))).toMatchObject({ agent_id: registered!.agent_id });
    // The file holds the same records as stderr.
    const file = readFileSync(join(logDir, 'mesos-master.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(file.map((r) => r.msg)).toEqual(records(master).map((r) => r.msg));
  }, 60_000);
});
