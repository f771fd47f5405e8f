// `mesos-ts simulate` end to end, as a user runs it (a child process): the
// files it writes, the SVGs being well-formed, the table, and its errors.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { svgPage } from '../../simulator/svg.js';

const exec = promisify(execFile);
const POLICIES = ['drf', 'binpack', 'spread', 'fifo', 'random'];

async function simulate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node', ['bin/mesos-ts.js', 'simulate', ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Checks what a browser needs: one <svg> root, every tag closed in order,
 * quoted attributes, escaped text. Returns the element names seen.
 */
function checkWellFormed(xml: string): string[] {
  expect(xml.startsWith('<svg ')).toBe(true);
  expect(xml).toContain('xmlns="http://www.w3.org/2000/svg"');
  const stack: string[] = [];
  const names: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let end = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const between = xml.slice(end, m.index);
    expect(between, `stray markup before <${m[1]}${m[2]}>`).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|#\d+);)/);
    end = m.index + m[0].length;
    const [, closing, name, , selfClosing] = m;
    if (closing) expect(stack.pop()).toBe(name);
    else {
      names.push(name!);
      if (!selfClosing) stack.push(name!);
    }
    if (stack.length === 0) expect(xml.slice(end).trim(), 'content after the root element').toBe('');
  }
  expect(stack).toEqual([]);
  return names;
}

describe('mesos-ts simulate', () => {
  let out: string;
  let result: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'mesos-ts-sim-'));
    result = await simulate(['--workload', 'examples/workloads/mixed.json', '--policies', POLICIES.join(','), '--out', out]);
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes summary.json with every metric for every policy', () => {
    expect(result.stderr).toContain('[simulate] examples/workloads/mixed.json: 20 agents, 3 frameworks');
    expect(result.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(summary)).toEqual(POLICIES);
    for (const policy of POLICIES) {
      const s = summary[policy]!;
      for (const field of ['utilization', 'jain', 'wait_p50_s', 'wait_p95_s', 'pass_ms_p50']) expect(typeof s[field], `${policy}.${field}`).toBe('number');
      expect(s.utilization).toBeGreaterThan(0);
      expect(s.utilization).toBeLessThanOrEqual(1);
      expect(s.jain).toBeGreaterThan(0);
      expect(s.jain).toBeLessThanOrEqual(1);
    }
  });

  it('prints a table with one line per policy', () => {
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^policy\s+utilization\s+jain\s+wait p50 \(s\)\s+wait p95 \(s\)\s+pass p50 \(ms\)/);
    for (const [i, policy] of POLICIES.entries()) expect(lines[i + 1]).toMatch(new RegExp(`^${policy}\\s+[01]\\.\\d{3}\\s+[01]\\.\\d{3}`));
  });

  it('writes the CSVs and well-formed SVG charts', () => {
    for (const policy of POLICIES) {
      expect(readFileSync(join(out, `${policy}-shares.csv`), 'utf8').split('\n')[0]).toBe('time_s,batch,service,analytics');
      expect(readFileSync(join(out, `${policy}-utilization.csv`), 'utf8').split('\n')[0]).toBe('time_s,cpus,mem,dominant');
      expect(readFileSync(join(out, `${policy}-tasks.csv`), 'utf8').split('\n')[0]).toBe('task,framework,agent,demand,submit_s,start_s,finish_s,wait_s');
      for (const chart of ['shares', 'utilization']) {
        const names = checkWellFormed(readFileSync(join(out, `${policy}-${chart}.svg`), 'utf8'));
        expect(names.filter((n) => n === 'polyline').length).toBeGreaterThanOrEqual(3); // a line per framework / resource
        expect(names).toContain('text');
      }
    }
    const compare = checkWellFormed(readFileSync(join(out, 'compare.svg'), 'utf8'));
    expect(compare.filter((n) => n === 'rect').length).toBeGreaterThanOrEqual(POLICIES.length * 4); // 4 bars per policy
    expect(existsSync(join(out, 'workload.json'))).toBe(true);
  });

  it('draws escaped labels and dashed lines beyond the palette', () => {
    const series = Array.from({ length: 12 }, (_, i) => ({ name: i === 0 ? 'a<b & "c"' : `f${i}`, points: [[0, 0], [5, i / 12], [10, 0.5]] as [number, number][] }));
    const svg = svgPage([{ kind: 'line', chart: { title: 'title', xLabel: 'x', yLabel: 'y', series, xMax: 10, step: true } }]);
    checkWellFormed(svg);
    expect(svg).toContain('a&lt;b &amp; &quot;c&quot;');
    expect(svg).toContain('stroke-dasharray="2 2"');
  });

  it('generates a workload from flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-sim-'));
    try {
      const r = await simulate(['--agents', '4', '--frameworks', '3', '--tasks_per_framework', '10', '--duration_s', '5', '--policies', 'drf,fifo', '--out', dir, '--quiet']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const workload = JSON.parse(readFileSync(join(dir, 'workload.json'), 'utf8')) as { frameworks: unknown[] };
      expect(workload.frameworks).toHaveLength(3);
      expect(Object.keys(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as object)).toEqual(['drf', 'fifo']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what is wrong: unknown policy, bad workload field, conflicting flags', async () => {
    const unknown = await simulate(['--workload', 'examples/workloads/drf-paper.json', '--policies', 'drf,fastest', '--out', '/tmp/never']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("mesos-ts simulate: --policies: unknown allocator 'fastest'; known: drf, binpack, spread, fifo, random");

    const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-sim-'));
    try {
      const file = join(dir, 'bad.json');
      const text = readFileSync('examples/workloads/mixed.json', 'utf8').replace('"cpus:0.5;mem:8192"', '"cpus:x"');
      writeFileSync(file, text);
      const line = text.split('\n').findIndex((l) => l.includes('cpus:x')) + 1;
      const bad = await simulate(['--workload', file, '--out', dir]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`${file}:${line}: frameworks[2].tasks[0].demand: 'cpus:x' is not a resource`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const both = await simulate(['--workload', 'examples/workloads/mixed.json', '--agents', '3', '--out', '/tmp/never']);
    expect(both.stderr).toContain('--agents generates a workload; it cannot be combined with --workload');
  });

  it('--help lists every flag', async () => {
    const help = await simulate(['--help']);
    for (const flag of ['workload', 'policies', 'out', 'seed', 'end_s', 'allocation_interval_s', 'refuse_seconds', 'agents', 'agent_resources', 'frameworks', 'tasks_per_framework', 'task_demand', 'duration_s', 'interarrival_s', 'arrival_spread_s']) {
      expect(help.stdout).toContain(`--${flag} `);
    }
  });
});
