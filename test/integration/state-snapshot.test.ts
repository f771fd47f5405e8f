// /state's snapshot: fresh after every change while builds are fast; when
// builds are slow, rebuilt at most once per staleFactor build-times (here the
// bounds are lowered so that a small, real master counts as slow).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { StateSnapshot } from '../../master/v0/snapshot.js';
import { buildInfo } from '../../master/v0/build-info.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';

let running: RunningMaster;
const schedulers: RawScheduler[] = [];

beforeAll(async () => {
  running = await startMaster({ port: 0, grpc_port: 0 }, () => {});
});
afterAll(async () => {
  for (const s of schedulers) s.close();
  await running.stop();
});

async function subscribe(name: string): Promise<void> {
  const s = new RawScheduler(running.grpcAddress);
  schedulers.push(s);
  await s.subscribe({ name, user: 'root' });
}

const context = { flags: {}, electedTime: () => null, build: buildInfo() };
const frameworkNames = (json: string) => (JSON.parse(json) as { frameworks: { name: string }[] }).frameworks.map((f) => f.name).sort();

describe('the /state snapshot', () => {
  it('is rebuilt after every change while builds are fast', async () => {
    const snapshot = new StateSnapshot(running.master, context);
    await subscribe('one');
    expect(frameworkNames(snapshot.get())).toEqual(['one']);
    await subscribe('two');
    expect(frameworkNames(snapshot.get())).toEqual(['one', 'two']);
  });

  it('is rebuilt at most once per staleFactor build-times when builds are slow, then catches up', async () => {
    const snapshot = new StateSnapshot(running.master, context, { slowBuildMs: -1, staleFactor: 1e9 }); // Every build counts as slow; never rebuilt again.
    const first = snapshot.get();
    await subscribe('three');
    expect(snapshot.get()).toBe(first); // Stale, as bounded.
    const catching = new StateSnapshot(running.master, context, { slowBuildMs: -1, staleFactor: 0 }); // Slow, but the interval is already over.
    catching.get();
    await subscribe('four');
    expect(frameworkNames(catching.get())).toContain('four');
  });
});
