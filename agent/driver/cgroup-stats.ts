// A container's usage read from its cgroup files, as Mesos's cgroups
// isolators read them: any runtime that can name the container's init pid
// can use it (docker.ts does; a runc driver would). Works on cgroup v1, v2
// and hybrid hosts: /proc/<pid>/cgroup says which hierarchy holds the
// container's cpu and memory controllers. All reads are async; a file that
// cannot be read leaves its fields out.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { ContainerStats } from './driver.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** USER_HZ: cpuacct.stat counts in these ticks (100 on every Linux Mesos supports). */
const TICKS_PER_SECOND = 100;

/** Where a process's controllers live: v1 (one directory per controller) or v2 (one directory). */
export type CgroupPlacement =
  | { readonly version: 1; readonly dirs: Readonly<Record<string, string>> }
  | { readonly version: 2; readonly dir: string };

/** Parses /proc/<pid>/cgroup ("hierarchy:controllers:path" per line); null when it names no cpu or memory controller. */
export function placementOf(procCgroup: string, root = CGROUP_ROOT, v2Root = unifiedRoot(root)): CgroupPlacement | null {
  const dirs: Record<string, string> = {};
  let v2: string | null = null;
  for (const line of procCgroup.split('\n')) {
    const [hierarchy, controllers, ...rest] = line.split(':');
    const path = rest.join(':');
    if (hierarchy === undefined || controllers === undefined || path === '') continue;
    if (hierarchy === '0' && controllers === '') v2 = `${v2Root}${path === '/' ? '' : path}`;
    for (const c of controllers.split(',')) if (c !== '') dirs[c] = `${root}/${controllers}${path === '/' ? '' : path}`;
  }
  if (dirs.cpuacct !== undefined || dirs.memory !== undefined) return { version: 1, dirs };
  return v2 !== null ? { version: 2, dir: v2 } : null;
}

/** On a hybrid host the v2 tree is mounted at <root>/unified. */
function unifiedRoot(root: string): string {
  return existsSync(`${root}/cgroup.controllers`) ? root : `${root}/unified`;
}

/** The usage of the cgroups `pid` is in; null when /proc/<pid>/cgroup cannot be read (the process is gone or not visible). */
export async function cgroupStats(pid: number, now: () => number): Promise<ContainerStats | null> {
  const procCgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => null);
  const placement = procCgroup === null ? null : placementOf(procCgroup);
  return placement ? statsAt(placement, now) : null;
}

/** The usage the cgroup files at `placement` tell; null when none can be read. */
export async function statsAt(placement: CgroupPlacement, now: () => number): Promise<ContainerStats | null> {
  const timestamp = now();
  const stats = placement.version === 1 ? await readV1(placement.dirs) : await readV2(placement.dir);
  return Object.keys(stats).length === 0 ? null : { timestamp, ...stats };
}

type Usage = Omit<ContainerStats, 'timestamp'>;

async function readV1(dirs: Readonly<Record<string, string>>): Promise<Usage> {
  const at = (controller: string, file: string) => (dirs[controller] === undefined ? Promise.resolve(null) : text(`${dirs[controller]}/${file}`));
  const [cpuacct, quota, period, cpuStat, limit, usage, memStat, pids] = await Promise.all([
    at('cpuacct', 'cpuacct.stat'), at('cpu', 'cpu.cfs_quota_us'), at('cpu', 'cpu.cfs_period_us'), at('cpu', 'cpu.stat'),
    at('memory', 'memory.limit_in_bytes'), at('memory', 'memory.usage_in_bytes'), at('memory', 'memory.stat'), at('pids', 'pids.current'),
  ]);
  const acct = keyed(cpuacct);
  const cpu = keyed(cpuStat);
  const mem = keyed(memStat);
  const q = num(quota);
  const p = num(period);
  const l = num(limit);
  return defined({
    cpus_user_time_secs: div(acct.user, TICKS_PER_SECOND),
    cpus_system_time_secs: div(acct.system, TICKS_PER_SECOND),
    // -1: no quota. An unlimited memory cgroup reports a huge page-rounded number instead.
    cpus_limit: q !== undefined && q > 0 && p ? q / p : undefined,
    cpus_nr_periods: cpu.nr_periods,
    cpus_nr_throttled: cpu.nr_throttled,
    cpus_throttled_time_secs: div(cpu.throttled_time, 1e9),
    mem_limit_bytes: l !== undefined && l < 2 ** 62 ? l : undefined,
    mem_total_bytes: num(usage),
    mem_rss_bytes: mem.total_rss ?? mem.rss,
    mem_cache_bytes: mem.total_cache ?? mem.cache,
    processes: num(pids),
  });
}

async function readV2(dir: string): Promise<Usage> {
  const [cpuStat, cpuMax, memMax, current, memStat, pids] = await Promise.all(
    ['cpu.stat', 'cpu.max', 'memory.max', 'memory.current', 'memory.stat', 'pids.current'].map((f) => text(`${dir}/${f}`)),
  );
  const cpu = keyed(cpuStat);
  const mem = keyed(memStat);
  const [quota, period] = (cpuMax ?? '').trim().split(/\s+/);
  return defined({
    cpus_user_time_secs: div(cpu.user_usec, 1e6),
    cpus_system_time_secs: div(cpu.system_usec, 1e6),
    cpus_limit: quota !== undefined && quota !== 'max' && quota !== '' && Number(period) > 0 ? Number(quota) / Number(period) : undefined,
    cpus_nr_periods: cpu.nr_periods,
    cpus_nr_throttled: cpu.nr_throttled,
    cpus_throttled_time_secs: div(cpu.throttled_usec, 1e6),
    mem_limit_bytes: memMax?.trim() === 'max' ? undefined : num(memMax),
    mem_total_bytes: num(current),
    mem_rss_bytes: mem.anon,
    mem_cache_bytes: mem.file,
    processes: num(pids),
  });
}

function text(path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch(() => null);
}

/** "key value" lines (cpu.stat, memory.stat, cpuacct.stat) as numbers. */
function keyed(content: string | null | undefined): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const line of (content ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && Number.isFinite(Number(value))) out[key] = Number(value);
  }
  return out;
}

function num(content: string | null | undefined): number | undefined {
  const n = content === null || content === undefined ? NaN : Number(content.trim());
  return Number.isFinite(n) ? n : undefined;
}

function div(value: number | undefined, by: number): number | undefined {
  return value === undefined ? undefined : value / by;
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
