import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { acquireLane, laneOf, plan, type Lane } from '../harness/lanes.js';

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

describe('the lane plan', () => {
  const file = (name: string, lane: Lane | null, seconds: number) => ({ name, lane, seconds });

  it('keeps both workers on different lanes, longest first, with unit files filling the gaps', () => {
    const order = plan([
      file('core-a', 'core', 50), file('core-b', 'core', 40), file('svc-a', 'services', 60),
      file('svc-b', 'services', 20), file('unit-a', null, 1), file('unit-b', null, 1),
    ]).map((f) => f.name);
    // Worker 1 takes svc-a (60 s), worker 2 core-a (50 s); at 50 s the services lane is busy
    // until 60 s, so worker 2 takes core-b; at 60 s worker 1 takes svc-b; then the units.
    expect(order).toEqual(['svc-a', 'core-a', 'core-b', 'svc-b', 'unit-a', 'unit-b']);
  });

  it('hands a worker a unit file rather than a file whose lane is busy', () => {
    const order = plan([file('core-a', 'core', 30), file('core-b', 'core', 30), file('unit-a', null, 1)]).map((f) => f.name);
    expect(order).toEqual(['core-a', 'unit-a', 'core-b']);
  });
});
