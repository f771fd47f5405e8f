// A workload: the agents, roles and frameworks of one simulation, read from
// JSON (docs/simulator.md has the format). It is checked here, once: every
// error names the file's line and the field's path with the bad value.
// Task groups ({count, demand, duration_s, interarrival_s}) are expanded
// into single tasks with the workload's seed, so every policy of a run sees
// exactly the same tasks.
import { InvalidArgument, errorMessage } from '../common/errors.js';
import { Resources } from '../common/resources.js';
import { matchDemand } from '../framework/sdk/matching.js';
import { seededRandom } from '../master/allocator/index.js';
import { childPath, parseJsonSource, type JsonSource } from './json-source.js';

export interface Workload {
  readonly seed: number;
  /** Simulated time at which the run stops; undefined: when every task has finished. */
  readonly endS: number | undefined;
  readonly allocationIntervalS: number;
  readonly refuseSeconds: number;
  readonly agents: readonly SimAgent[];
  /** Only the roles the file configures; others have weight 1 and no quota. */
  readonly roles: ReadonlyMap<string, SimRole>;
  readonly frameworks: readonly SimFramework[];
}

export interface SimAgent {
  readonly id: string;
  readonly resources: Resources;
  readonly joinS: number;
}

export interface SimRole {
  readonly weight: number;
  readonly quota?: { readonly guarantee?: Resources; readonly limit?: Resources };
}

export interface SimFramework {
  readonly name: string;
  readonly roles: readonly string[];
  readonly arrivalS: number;
  readonly refuseSeconds: number;
  /** Tasks launched from one offer at most; Infinity: all that fit. */
  readonly maxTasksPerOffer: number;
  /** In submission order. */
  readonly tasks: readonly SimTask[];
}

export interface SimTask {
  readonly id: string;
  readonly framework: string;
  /** Absolute simulated time the task joins its framework's queue. */
  readonly submitS: number;
  readonly demand: Resources;
  readonly durationS: number;
}

const TOP_FIELDS = ['description', 'seed', 'end_s', 'allocation_interval_s', 'refuse_seconds', 'agents', 'roles', 'frameworks'];
const AGENT_FIELDS = ['name', 'count', 'resources', 'join_s'];
const ROLE_FIELDS = ['weight', 'quota'];
const QUOTA_FIELDS = ['guarantee', 'limit'];
const FRAMEWORK_FIELDS = ['name', 'role', 'roles', 'arrival_s', 'refuse_seconds', 'max_tasks_per_offer', 'tasks'];
const TASK_FIELDS = ['count', 'demand', 'duration_s', 'submit_s', 'interarrival_s'];

/** Values given on the command line, in place of the file's top-level fields. */
export interface WorkloadOverrides {
  readonly seed?: number;
  readonly endS?: number;
  readonly allocationIntervalS?: number;
  readonly refuseSeconds?: number;
}

/** Parses and checks a workload; `file` names it in error messages. */
export function parseWorkload(text: string, file = 'workload', overrides: WorkloadOverrides = {}): Workload {
  let source: JsonSource;
  try {
    source = parseJsonSource(text);
  } catch (err) {
    throw new InvalidArgument(`${file}: not valid JSON: ${errorMessage(err)}`);
  }
  return new WorkloadReader(source, file).workload(overrides);
}

/** A number, or [min, max] drawn uniformly for each task. */
type Spread = number | readonly [number, number];

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

class WorkloadReader {
  constructor(
    private readonly source: JsonSource,
    private readonly file: string,
  ) {}

  workload(overrides: WorkloadOverrides): Workload {
    const top = this.object('', this.source.value, TOP_FIELDS);
    if (top.description !== undefined) this.string('description', top.description);
    const seed = overrides.seed ?? (top.seed === undefined ? 1 : this.number('seed', top.seed, { integer: true, min: 0 }));
    const refuseSeconds = overrides.refuseSeconds ?? (top.refuse_seconds === undefined ? 5 : this.number('refuse_seconds', top.refuse_seconds, { min: 0 }));
    const agents = this.agents(top.agents);
    const roles = this.roles(top.roles);
    const random = seededRandom(seed);
    if (!Array.isArray(top.frameworks) || top.frameworks.length === 0) this.fail('frameworks', 'must be a non-empty list of frameworks');
    const frameworks = top.frameworks.map((f, i) => this.framework(`frameworks[${i}]`, f, refuseSeconds, random, agents));
    const seen = new Set<string>();
    frameworks.forEach((f, i) => {
      if (seen.has(f.name)) this.fail(`frameworks[${i}].name`, `'${f.name}' is used by an earlier framework`);
      seen.add(f.name);
    });
    return {
      seed,
      endS: overrides.endS ?? (top.end_s === undefined ? undefined : this.number('end_s', top.end_s, { positive: true })),
      allocationIntervalS:
        overrides.allocationIntervalS ??
        (top.allocation_interval_s === undefined ? 1 : this.number('allocation_interval_s', top.allocation_interval_s, { positive: true })),
      refuseSeconds,
      agents,
      roles,
      frameworks,
    };
  }

  /** A list of agent groups, or one group. */
  private agents(value: unknown): SimAgent[] {
    if (value === undefined) this.fail('agents', 'is missing: give {count, resources} or a list of them');
    const groups = Array.isArray(value) ? value.map((g, i) => [`agents[${i}]`, g] as const) : [['agents', value] as const];
    if (groups.length === 0) this.fail('agents', 'must hold at least one agent');
    const agents: SimAgent[] = [];
    const ids = new Set<string>();
    for (const [path, raw] of groups) {
      const group = this.object(path, raw, AGENT_FIELDS);
      const count = group.count === undefined ? 1 : this.number(`${path}.count`, group.count, { integer: true, min: 1 });
      const resources = this.resources(`${path}.resources`, group.resources);
      const joinS = group.join_s === undefined ? 0 : this.number(`${path}.join_s`, group.join_s, { min: 0 });
      const name = group.name === undefined ? undefined : this.name(`${path}.name`, group.name);
      for (let i = 0; i < count; i++) {
        const id = name === undefined ? `agent-${agents.length}` : count === 1 ? name : `${name}-${i}`;
        if (ids.has(id)) this.fail(`${path}.name`, `agent id '${id}' is used by an earlier agent`);
        ids.add(id);
        agents.push({ id, resources, joinS });
      }
    }
    return agents;
  }

  private roles(value: unknown): Map<string, SimRole> {
    const roles = new Map<string, SimRole>();
    if (value === undefined) return roles;
    for (const [role, raw] of Object.entries(this.object('roles', value))) {
      const path = childPath('roles', role);
      this.role(path, role);
      const spec = this.object(path, raw, ROLE_FIELDS);
      const weight = spec.weight === undefined ? 1 : this.number(`${path}.weight`, spec.weight, { positive: true });
      if (spec.quota === undefined) {
        roles.set(role, { weight });
        continue;
      }
      const q = this.object(`${path}.quota`, spec.quota, QUOTA_FIELDS);
      const guarantee = q.guarantee === undefined ? undefined : this.resources(`${path}.quota.guarantee`, q.guarantee);
      const limit = q.limit === undefined ? undefined : this.resources(`${path}.quota.limit`, q.limit);
      // A limit bounds only the resources it names.
      if (guarantee && limit && guarantee.names().some((n) => limit.names().includes(n) && guarantee.scalar(n) > limit.scalar(n))) {
        this.fail(`${path}.quota`, `the guarantee ${guarantee.toString()} is above the limit ${limit.toString()}`);
      }
      roles.set(role, { weight, quota: { ...(guarantee && { guarantee }), ...(limit && { limit }) } });
    }
    return roles;
  }

  private framework(path: string, raw: unknown, refuseDefault: number, random: () => number, agents: readonly SimAgent[]): SimFramework {
    const f = this.object(path, raw, FRAMEWORK_FIELDS);
    const name = this.name(`${path}.name`, f.name);
    if (f.role !== undefined && f.roles !== undefined) this.fail(`${path}.roles`, "give 'role' or 'roles', not both");
    let roles = ['*'];
    if (f.role !== undefined) roles = [this.role(`${path}.role`, f.role)];
    if (f.roles !== undefined) {
      if (!Array.isArray(f.roles) || f.roles.length === 0) this.fail(`${path}.roles`, 'must be a non-empty list of role names');
      roles = f.roles.map((r, i) => this.role(`${path}.roles[${i}]`, r));
    }
    const arrivalS = f.arrival_s === undefined ? 0 : this.number(`${path}.arrival_s`, f.arrival_s, { min: 0 });
    const groups = Array.isArray(f.tasks) ? f.tasks.map((g, i) => [`${path}.tasks[${i}]`, g] as const) : [[`${path}.tasks`, f.tasks] as const];
    if (f.tasks === undefined || groups.length === 0) this.fail(`${path}.tasks`, 'is missing: give {count, demand, duration_s} or a list of tasks');
    const tasks: SimTask[] = [];
    for (const [groupPath, group] of groups) tasks.push(...this.tasks(groupPath, group, name, arrivalS, tasks.length, random, agents));
    return {
      name,
      roles,
      arrivalS,
      refuseSeconds: f.refuse_seconds === undefined ? refuseDefault : this.number(`${path}.refuse_seconds`, f.refuse_seconds, { min: 0 }),
      maxTasksPerOffer: f.max_tasks_per_offer === undefined ? Infinity : this.number(`${path}.max_tasks_per_offer`, f.max_tasks_per_offer, { integer: true, min: 1 }),
      // Stable: groups interleave in time, and equal times keep file order.
      tasks: tasks.sort((a, b) => a.submitS - b.submitS),
    };
  }

  private tasks(path: string, raw: unknown, framework: string, arrivalS: number, first: number, random: () => number, agents: readonly SimAgent[]): SimTask[] {
    const g = this.object(path, raw, TASK_FIELDS);
    const count = g.count === undefined ? 1 : this.number(`${path}.count`, g.count, { integer: true, min: 1 });
    const demand = this.resources(`${path}.demand`, g.demand);
    if (demand.isEmpty()) this.fail(`${path}.demand`, 'asks for nothing');
    const nonScalar = demand.list().find((e) => e.value.kind !== 'scalar');
    if (nonScalar) this.fail(`${path}.demand`, `'${nonScalar.name}' is not a scalar: tasks demand scalars only (cpus, mem, disk, gpus)`);
    if (!agents.some((a) => matchDemand(a.resources, { resources: demand, ports: 0 }))) {
      this.fail(`${path}.demand`, `'${demand.toString()}' fits on no agent, so these tasks could never run`);
    }
    const duration = this.spread(`${path}.duration_s`, g.duration_s, true);
    const interarrival = g.interarrival_s === undefined ? 0 : this.spread(`${path}.interarrival_s`, g.interarrival_s, false);
    const offset = g.submit_s === undefined ? 0 : this.number(`${path}.submit_s`, g.submit_s, { min: 0 });
    const draw = (s: Spread): number => (typeof s === 'number' ? s : s[0] + random() * (s[1] - s[0]));
    const tasks: SimTask[] = [];
    let submitS = arrivalS + offset;
    for (let i = 0; i < count; i++) {
      if (i > 0) submitS += draw(interarrival);
      tasks.push({ id: `${framework}-${first + i}`, framework, submitS: round3(submitS), demand, durationS: Math.max(0.001, round3(draw(duration))) });
    }
    return tasks;
  }

  // ---- field checks: each names the path and the value ---------------------

  private fail(path: string, message: string): never {
    const line = this.source.lineOf(path);
    throw new InvalidArgument(`${this.file}${line === undefined ? '' : `:${line}`}: ${path === '' ? '' : `${path}: `}${message}`);
  }

  private object(path: string, value: unknown, known?: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `${path === '' ? 'the workload ' : ''}must be a JSON object, got ${show(value)}`);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (known && !known.includes(key)) this.fail(childPath(path, key), `unknown field (known: ${known.join(', ')})`);
    }
    return record;
  }

  private number(path: string, value: unknown, rule: { integer?: boolean; min?: number; positive?: boolean }): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(path, `${show(value)} is not a number`);
    if (rule.integer && !Number.isInteger(value)) this.fail(path, `${show(value)} is not a whole number`);
    if (rule.positive && !(value > 0)) this.fail(path, `${show(value)} must be > 0`);
    if (rule.min !== undefined && value < rule.min) this.fail(path, `${show(value)} must be >= ${rule.min}`);
    return value;
  }

  private string(path: string, value: unknown): string {
    if (typeof value !== 'string') this.fail(path, `${show(value)} is not a string`);
    return value;
  }

  private name(path: string, value: unknown): string {
    const name = this.string(path, value);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) this.fail(path, `${show(value)} is not a name (letters, digits, '_', '.', '-')`);
    return name;
  }

  private role(path: string, value: unknown): string {
    const role = this.string(path, value);
    if (role !== '*' && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(role)) this.fail(path, `${show(value)} is not a role name`);
    return role;
  }

  private resources(path: string, value: unknown): Resources {
    const text = this.string(path, value);
    try {
      return Resources.parse(text);
    } catch (err) {
      return this.fail(path, `${show(text)} is not a resource (${errorMessage(err)})`);
    }
  }

  private spread(path: string, value: unknown, positive: boolean): Spread {
    const rule = positive ? { positive: true } : { min: 0 };
    if (value === undefined) this.fail(path, 'is missing');
    if (!Array.isArray(value)) return this.number(path, value, rule);
    if (value.length !== 2) this.fail(path, `${show(value)} must be a number or [min, max]`);
    const lo = this.number(`${path}[0]`, value[0], rule);
    const hi = this.number(`${path}[1]`, value[1], rule);
    if (hi < lo) this.fail(path, `${show(value)}: max is below min`);
    return [lo, hi];
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value}'`;
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
