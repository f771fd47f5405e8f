// Workload files: what they mean once expanded, and what a bad one says —
// every error names the file's line, the field's path and the value.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseJsonSource } from '../../simulator/json-source.js';
import { parseWorkload } from '../../simulator/workload.js';
import { generateWorkload, GENERATE_DEFAULTS } from '../../simulator/generate.js';

const MINIMAL = {
  agents: { count: 2, resources: 'cpus:4;mem:8192' },
  frameworks: [{ name: 'a', tasks: { count: 3, demand: 'cpus:1;mem:1024', duration_s: 10 } }],
};

/** Pretty-printed like a hand-written file, so line numbers are meaningful. */
const text = (value: unknown): string => JSON.stringify(value, null, 2);
const parse = (value: unknown) => parseWorkload(text(value), 'w.json');
const withFramework = (extra: Record<string, unknown>) => ({ ...MINIMAL, frameworks: [{ ...MINIMAL.frameworks[0], ...extra }] });

describe('workload format', () => {
  it('fills in the defaults and expands task groups', () => {
    const w = parse(MINIMAL);
    expect(w).toMatchObject({ seed: 1, endS: undefined, allocationIntervalS: 1, refuseSeconds: 5 });
    expect(w.agents.map((a) => a.id)).toEqual(['agent-0', 'agent-1']);
    const [fw] = w.frameworks;
    expect(fw).toMatchObject({ name: 'a', roles: ['*'], arrivalS: 0, refuseSeconds: 5, maxTasksPerOffer: Infinity });
    expect(fw!.tasks.map((t) => [t.id, t.submitS, t.durationS, t.demand.toString()])).toEqual([
      ['a-0', 0, 10, 'cpus:1;mem:1024'],
      ['a-1', 0, 10, 'cpus:1;mem:1024'],
      ['a-2', 0, 10, 'cpus:1;mem:1024'],
    ]);
  });

  it('spaces submissions by interarrival_s after arrival_s + submit_s and draws [min, max] from the seed', () => {
    const w = parse(
      withFramework({
        arrival_s: 100,
        tasks: [
          { count: 3, demand: 'cpus:1', duration_s: [10, 20], interarrival_s: 2.5 },
          { submit_s: 1, demand: 'mem:64', duration_s: 1 },
        ],
      }),
    );
    const tasks = w.frameworks[0]!.tasks;
    expect(tasks.map((t) => t.submitS)).toEqual([100, 101, 102.5, 105]); // sorted by submission, groups interleaved
    expect(tasks.map((t) => t.id)).toEqual(['a-0', 'a-3', 'a-1', 'a-2']);
    for (const t of tasks.filter((t) => t.demand.scalar('cpus') > 0)) {
      expect(t.durationS).toBeGreaterThanOrEqual(10);
      expect(t.durationS).toBeLessThanOrEqual(20);
    }
    expect(parse(withFramework({ tasks: { count: 5, demand: 'cpus:1', duration_s: [1, 100] } })).frameworks[0]!.tasks.map((t) => t.durationS)).toEqual(
      parse(withFramework({ tasks: { count: 5, demand: 'cpus:1', duration_s: [1, 100] } })).frameworks[0]!.tasks.map((t) => t.durationS),
    );
  });

  it('reads agent groups, roles with weights and quota, multi-role frameworks and overrides', () => {
    const w = parseWorkload(
      text({
        seed: 9,
        agents: [{ name: 'big', count: 2, resources: 'cpus:16;mem:65536' }, { name: 'late', resources: 'cpus:1;mem:1024', join_s: 30 }],
        roles: { prod: { weight: 3, quota: { guarantee: 'cpus:4', limit: 'cpus:8' } }, 'team-a': {} },
        frameworks: [{ name: 'f', roles: ['prod', 'team-a'], refuse_seconds: 1, max_tasks_per_offer: 2, tasks: { demand: 'cpus:1', duration_s: 1 } }],
      }),
      'w.json',
      { seed: 3, endS: 60 },
    );
    expect(w.agents.map((a) => [a.id, a.joinS])).toEqual([['big-0', 0], ['big-1', 0], ['late', 30]]);
    expect(w.roles.get('prod')).toMatchObject({ weight: 3 });
    expect(w.roles.get('prod')!.quota!.guarantee!.toString()).toBe('cpus:4');
    expect(w.roles.get('team-a')).toEqual({ weight: 1 });
    expect(w.frameworks[0]).toMatchObject({ roles: ['prod', 'team-a'], refuseSeconds: 1, maxTasksPerOffer: 2 });
    expect(w).toMatchObject({ seed: 3, endS: 60 });
  });

  it("accepts the full example of docs/simulator.md", () => {
    const doc = readFileSync('docs/simulator.md', 'utf8');
    const json = /```json\n([\s\S]*?)```/.exec(doc)![1]!;
    const w = parseWorkload(json, 'docs/simulator.md');
    expect(w.frameworks.map((f) => [f.name, f.tasks.length])).toEqual([['web', 40], ['etl', 201], ['adhoc', 50]]);
    expect(w.agents.filter((a) => a.joinS === 300).map((a) => a.id)).toEqual(['highmem-0', 'highmem-1']);
  });

  it('accepts every shipped example', () => {
    for (const name of ['drf-paper', 'mixed', 'large']) {
      const file = `examples/workloads/${name}.json`;
      expect(() => parseWorkload(readFileSync(file, 'utf8'), file)).not.toThrow();
    }
  });
});

describe('bad workloads name the line, the field and the value', () => {
  const bad = (value: unknown) => () => parse(value);
  const threeFrameworks = (demand: string) => ({
    ...MINIMAL,
    frameworks: [
      { name: 'a', tasks: { demand: 'cpus:1', duration_s: 1 } },
      { name: 'b', tasks: { demand: 'cpus:1', duration_s: 1 } },
      { name: 'c', tasks: { demand, duration_s: 1 } },
    ],
  });

  it('a demand that is not a resource', () => {
    const source = text(threeFrameworks('cpus:x'));
    const line = source.split('\n').findIndex((l) => l.includes('cpus:x')) + 1;
    expect(() => parseWorkload(source, 'w.json')).toThrow(
      `w.json:${line}: frameworks[2].tasks.demand: 'cpus:x' is not a resource (bad resource 'cpus:x': 'x' is not a number)`,
    );
  });

  it('unknown fields, with the known ones', () => {
    expect(bad(withFramework({ taks: 1 }))).toThrow(/^w\.json:\d+: frameworks\[0\]\.taks: unknown field \(known: name, role, roles, arrival_s/);
    expect(bad({ ...MINIMAL, agent: 1 })).toThrow(/agent: unknown field/);
  });

  it('values out of range or of the wrong type', () => {
    expect(bad(withFramework({ tasks: { count: 0, demand: 'cpus:1', duration_s: 1 } }))).toThrow('frameworks[0].tasks.count: 0 must be >= 1');
    expect(bad(withFramework({ tasks: { count: 2.5, demand: 'cpus:1', duration_s: 1 } }))).toThrow('frameworks[0].tasks.count: 2.5 is not a whole number');
    expect(bad(withFramework({ tasks: { demand: 'cpus:1', duration_s: [5, 2] } }))).toThrow('frameworks[0].tasks.duration_s: [5,2]: max is below min');
    expect(bad(withFramework({ tasks: { demand: 'cpus:1', duration_s: 0 } }))).toThrow('frameworks[0].tasks.duration_s: 0 must be > 0');
    expect(bad(withFramework({ tasks: { demand: 'cpus:1' } }))).toThrow('frameworks[0].tasks.duration_s: is missing');
    expect(bad(withFramework({ arrival_s: '10' }))).toThrow("frameworks[0].arrival_s: '10' is not a number");
    expect(bad({ ...MINIMAL, roles: { prod: { weight: -1 } } })).toThrow('roles.prod.weight: -1 must be > 0');
    expect(bad({ ...MINIMAL, roles: { prod: { quota: { guarantee: 'cpus:8', limit: 'cpus:4' } } } })).toThrow('roles.prod.quota: the guarantee cpus:8 is above the limit cpus:4');
    expect(bad({ ...MINIMAL, allocation_interval_s: 0 })).toThrow('allocation_interval_s: 0 must be > 0');
  });

  it('tasks that could never run, duplicate names, missing sections', () => {
    expect(bad(withFramework({ tasks: { demand: 'cpus:5', duration_s: 1 } }))).toThrow("frameworks[0].tasks.demand: 'cpus:5' fits on no agent");
    expect(bad(withFramework({ tasks: { demand: 'ports:[1-2]', duration_s: 1 } }))).toThrow("'ports' is not a scalar");
    expect(bad({ ...MINIMAL, frameworks: [MINIMAL.frameworks[0], MINIMAL.frameworks[0]] })).toThrow("frameworks[1].name: 'a' is used by an earlier framework");
    expect(bad({ frameworks: MINIMAL.frameworks })).toThrow('agents: is missing');
    expect(bad({ agents: MINIMAL.agents, frameworks: [] })).toThrow('frameworks: must be a non-empty list');
    expect(bad(withFramework({ role: 'x', roles: ['y'] }))).toThrow("frameworks[0].roles: give 'role' or 'roles', not both");
    expect(bad([1])).toThrow('w.json:1: the workload must be a JSON object, got [1]');
  });

  it('JSON syntax errors give the line and column', () => {
    expect(() => parseWorkload('{\n  "seed": 1,\n  "agents": ,\n}', 'w.json')).toThrow('w.json: not valid JSON: line 3, column 13: unexpected ","');
    expect(() => parseWorkload('{"seed": 1', 'w.json')).toThrow(/line 1, column 11: unexpected end of input/);
  });
});

describe('JSON source', () => {
  it('parses as JSON.parse does and knows where each value starts', () => {
    const src = '{\n  "a": [1, {"b": "x\\n"}],\n  "c d": {\n    "e": -1.5e3\n  }\n}';
    const parsed = parseJsonSource(src);
    expect(parsed.value).toEqual(JSON.parse(src));
    expect(parsed.lineOf('a[1].b')).toBe(2);
    expect(parsed.lineOf('["c d"].e')).toBe(4);
    expect(parsed.lineOf('["c d"].missing')).toBe(3); // the nearest ancestor
  });
});

describe('generated workloads', () => {
  it('are valid workloads, the same for the same seed', () => {
    const params = { ...GENERATE_DEFAULTS, agents: 5, frameworks: 3, tasksPerFramework: 4 };
    const raw = generateWorkload(params);
    expect(raw).toEqual(generateWorkload(params));
    const w = parseWorkload(JSON.stringify(raw), 'generated');
    expect(w.agents).toHaveLength(5);
    expect(w.frameworks.map((f) => f.tasks.length)).toEqual([4, 4, 4]);
    expect(w.frameworks[0]!.arrivalS).toBe(0);
    expect(generateWorkload({ ...params, seed: 2 })).not.toEqual(raw);
  });

  it('check their parameters', () => {
    expect(() => generateWorkload({ ...GENERATE_DEFAULTS, agents: 0 })).toThrow('--agents must be a whole number >= 1, got 0');
    expect(() => generateWorkload({ ...GENERATE_DEFAULTS, agentResources: 'gpus:1' })).toThrow(/has no cpus or no mem: give --task_demand/);
  });
});
