import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { acquireLane, laneOf } from '../harness/lanes.js';

describe('test lanes', () => {
  it('puts each integration file in one lane, and unit files in none', () => {
    expect(laneOf('/repo/test/integration/apps-framework.test.ts')).toBe('services');
    expect(laneOf('test/integration/compose-secure.test.ts')).toBe('services');
    expect(laneOf('/repo/test/integration/nemesis.test.ts')).toBe('faults');
    expect(laneOf('/repo/test/integration/fuzz-grpc.test.ts')).toBe('faults');
    expect(laneOf('/repo/test/integration/http-api-fuzz.test.ts')).toBe('core');
    expect(laneOf('/repo/test/integration/agent-docker.test.ts')).toBe('core');
    expect(laneOf('/repo/test/unit/allocator.test.ts')).toBeNull();
  });

  it('gives a lane to one holder at a time', async () => {
    const run = `unit-${process.pid}-${Date.now()}`;
    const release = await acquireLane('core', run);
    let second = false;
    const waiting = acquireLane('core', run, 10).then((r) => { second = true; return r; });
    const other = await acquireLane('services', run); // another lane is free meanwhile
    await new Promise((r) => setTimeout(r, 100));
    expect(second).toBe(false);
    release();
    (await waiting)();
    expect(second).toBe(true);
    other();
    rmSync(join(tmpdir(), `mesos-ts-lanes-${run}`), { recursive: true, force: true });
  });

  it('takes over a lane whose holder died', async () => {
    const run = `unit-dead-${process.pid}-${Date.now()}`;
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    const dir = join(tmpdir(), `mesos-ts-lanes-${run}`, 'faults.lock');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'owner'), String(dead));
    const release = await acquireLane('faults', run, 10);
    release();
    rmSync(join(tmpdir(), `mesos-ts-lanes-${run}`), { recursive: true, force: true });
  });
});
