// BoundedStaleness: rebuilt after every change while builds are fast; after a
// slow build, reused until staleFactor x its CPU time has passed; `fresh`
// always rebuilds a changed value. Time is a fake clock the builds advance.
import { describe, expect, it } from 'vitest';
import { BoundedStaleness } from '../../master/bounded-staleness.js';

function setup(buildCpuMs: number) {
  const clock = { wall: 0, cpu: 0, wallMs() { return this.wall; }, cpuMs() { return this.cpu; } };
  let version = 0;
  let builds = 0;
  let freshFrom = 0;
  const cache = new BoundedStaleness(() => version, { slowBuildMs: 10, staleFactor: 20 }, clock, () => freshFrom);
  const build = () => {
    clock.cpu += buildCpuMs;
    clock.wall += buildCpuMs;
    return `v${version} (build ${++builds})`;
  };
  return { clock, cache, build, change: () => version++, builds: () => builds, readOwnWrite: () => (freshFrom = version) };
}

describe('BoundedStaleness', () => {
  it('builds once per version', () => {
    const { cache, build, builds } = setup(50);
    expect(cache.get(build)).toBe('v0 (build 1)');
    expect(cache.get(build)).toBe('v0 (build 1)');
    expect(builds()).toBe(1);
  });

  it('rebuilds after every change while builds are fast (under slowBuildMs of CPU)', () => {
    const { cache, build, change } = setup(5);
    cache.get(build);
    change();
    expect(cache.get(build)).toBe('v1 (build 2)');
    change();
    expect(cache.get(build)).toBe('v2 (build 3)');
  });

  it('after a slow build, answers the old value until 20 build-times have passed', () => {
    const { clock, cache, build, change } = setup(50); // 50 ms: reused for 20 x 50 = 1000 ms after the build
    cache.get(build);
    change();
    clock.wall += 999;
    expect(cache.get(build)).toBe('v0 (build 1)');
    expect(cache.stale).toBe(true);
    clock.wall += 1;
    expect(cache.get(build)).toBe('v1 (build 2)');
    expect(cache.stale).toBe(false);
  });

  it('a slow build measured in wall time only (a descheduled master) is not slow', () => {
    const { clock, cache, change } = setup(0);
    cache.get(() => {
      clock.wall += 500; // 500 ms on the clock, no CPU
      return 'first';
    });
    change();
    expect(cache.get(() => 'second')).toBe('second');
  });

  it('fresh ignores the bound but still reuses an unchanged value', () => {
    const { cache, build, change, builds } = setup(50);
    cache.get(build);
    expect(cache.get(build, true)).toBe('v0 (build 1)');
    change();
    expect(cache.get(build, true)).toBe('v1 (build 2)');
    expect(builds()).toBe(2);
  });

  it('answers a version marked to be read fresh (an operator write) from that version on, then is bounded again', () => {
    const { clock, cache, build, change, readOwnWrite } = setup(50);
    cache.get(build);
    change();
    readOwnWrite(); // v1 must be read as it is
    expect(cache.get(build)).toBe('v1 (build 2)');
    change(); // v2, not marked: the bound holds again
    clock.wall += 100;
    expect(cache.get(build)).toBe('v1 (build 2)');
    readOwnWrite();
    expect(cache.get(build)).toBe('v2 (build 3)');
  });
});
