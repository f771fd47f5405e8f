// Container usage from cgroup files: where /proc/<pid>/cgroup places a
// container on v1, v2 and hybrid hosts, and what each layout's files say,
// in Mesos's ResourceStatistics units.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { placementOf, statsAt } from '../../agent/driver/cgroup-stats.js';
import { mesosDuration } from '../../agent/state-json.js';
import { modeString } from '../../agent/files.js';

const root = mkdtempSync(join(tmpdir(), 'mesos-ts-cgroup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function files(dir: string, contents: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(contents)) writeFileSync(join(dir, name), text);
}

const V1 = ['12:pids:/docker/c1', '4:memory:/docker/c1', '3:cpu,cpuacct:/docker/c1', '1:name=systemd:/docker/c1', '0::/docker/c1'].join('\n');
const V2 = '0::/system.slice/docker-c2.scope\n';

describe('placementOf', () => {
  it('places a v1 (or hybrid) container by controller, joined controllers sharing a directory', () => {
    expect(placementOf(V1, '/cg', '/cg/unified')).toEqual({
      version: 1,
      dirs: { pids: '/cg/pids/docker/c1', memory: '/cg/memory/docker/c1', cpu: '/cg/cpu,cpuacct/docker/c1', cpuacct: '/cg/cpu,cpuacct/docker/c1', 'name=systemd': '/cg/name=systemd/docker/c1' },
    });
  });

  it('places a v2 container in its one directory', () => {
    expect(placementOf(V2, '/cg', '/cg')).toEqual({ version: 2, dir: '/cg/system.slice/docker-c2.scope' });
  });

  it('finds nothing in an empty file', () => {
    expect(placementOf('', '/cg', '/cg')).toBeNull();
  });
});

describe('statsAt', () => {
  it('reads v1: ticks, quota over period, the limit, rss and cache', async () => {
    files(join(root, 'cpu,cpuacct/docker/c1'), {
      'cpuacct.stat': 'user 250\nsystem 50\n', 'cpu.cfs_quota_us': '50000\n', 'cpu.cfs_period_us': '100000\n',
      'cpu.stat': 'nr_periods 40\nnr_throttled 7\nthrottled_time 1500000000\n',
    });
    files(join(root, 'memory/docker/c1'), { 'memory.limit_in_bytes': '67108864\n', 'memory.usage_in_bytes': '5000000\n', 'memory.stat': 'cache 10\nrss 20\ntotal_cache 1000\ntotal_rss 4000\n' });
    files(join(root, 'pids/docker/c1'), { 'pids.current': '3\n' });
    expect(await statsAt(placementOf(V1, root, join(root, 'unified'))!, () => 100)).toEqual({
      timestamp: 100, cpus_user_time_secs: 2.5, cpus_system_time_secs: 0.5, cpus_limit: 0.5, cpus_nr_periods: 40, cpus_nr_throttled: 7,
      cpus_throttled_time_secs: 1.5, mem_limit_bytes: 67108864, mem_total_bytes: 5000000, mem_rss_bytes: 4000, mem_cache_bytes: 1000, processes: 3,
    });
  });

  it('reads v2: microseconds, cpu.max, memory.max, anon and file; "max" is no limit', async () => {
    const dir = join(root, 'v2/system.slice/docker-c2.scope');
    files(dir, {
      'cpu.stat': 'usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 500000\n',
      'cpu.max': '150000 100000\n', 'memory.max': 'max\n', 'memory.current': '123456\n', 'memory.stat': 'anon 4096\nfile 8192\n', 'pids.current': '1\n',
    });
    expect(await statsAt(placementOf(V2, root, join(root, 'v2'))!, () => 7)).toEqual({
      timestamp: 7, cpus_user_time_secs: 2, cpus_system_time_secs: 1, cpus_limit: 1.5, cpus_nr_periods: 10, cpus_nr_throttled: 2,
      cpus_throttled_time_secs: 0.5, mem_total_bytes: 123456, mem_rss_bytes: 4096, mem_cache_bytes: 8192, processes: 1,
    });
  });

  it('answers null when no file can be read (the container is gone)', async () => {
    expect(await statsAt({ version: 2, dir: join(root, 'nowhere') }, () => 0)).toBeNull();
  });
});

describe('Mesos spellings', () => {
  it('prints durations in the largest unit that is at least 1', () => {
    expect([3, 90, 600, 604800, 0.5, 7 * 24 * 3600 * 2].map(mesosDuration)).toEqual(['3secs', '1.5mins', '10mins', '1weeks', '500ms', '2weeks']);
  });

  it('prints modes as ls -l does', () => {
    expect(modeString(0o100644)).toBe('-rw-r--r--');
    expect(modeString(0o040755)).toBe('drwxr-xr-x');
  });
});
