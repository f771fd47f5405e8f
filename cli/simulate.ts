// `mesos-ts simulate`: runs allocation policies on one workload in
// simulated time and writes what they did (summary.json, CSVs, SVG charts)
// into --out. The workload comes from a JSON file (docs/simulator.md) or is
// generated from the flags below. Progress goes to stderr, the table to stdout.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgument, errorMessage } from '../common/errors.js';
import { parseFlags, usage, type Flags } from '../common/flags.js';
import { ALLOCATOR_NAMES } from '../master/allocator/index.js';
import type { Progress } from '../simulator/engine.js';
import { GENERATE_DEFAULTS, generateWorkload } from '../simulator/generate.js';
import { summaryTable } from '../simulator/report.js';
import { checkPolicies, outputFiles, runPolicy, type PolicyRun } from '../simulator/run.js';
import { parseWorkload, type Workload, type WorkloadOverrides } from '../simulator/workload.js';

const D = GENERATE_DEFAULTS;
const WHEN_GENERATING = 'when generating';

export const SIMULATE_FLAGS = {
  workload: { type: 'string', help: 'workload JSON file (format: docs/simulator.md); without it one is generated from the flags marked "generate"' },
  policies: { type: 'string', default: ALLOCATOR_NAMES.join(','), help: 'allocation policies to compare, comma-separated: built-in names or module paths (./my-policy.js)' },
  out: { type: 'string', required: true, help: 'directory for summary.json, the CSVs and the SVG charts (created if missing)' },
  seed: { type: 'number', help: `seed of the workload's random draws and of the allocator (overrides the file's; ${D.seed} ${WHEN_GENERATING})` },
  end_s: { type: 'number', help: "simulated time to stop at (overrides the file's; default: when every task has finished)" },
  allocation_interval_s: { type: 'number', help: "simulated seconds between allocation passes (overrides the file's; default 1)" },
  refuse_seconds: { type: 'number', help: "how long a declined offer's resources stay hidden from the framework (overrides the file's; default 5)" },
  agents: { type: 'number', help: `generate: number of agents (${D.agents})` },
  agent_resources: { type: 'string', help: `generate: resources of each agent ('${D.agentResources}')` },
  frameworks: { type: 'number', help: `generate: number of frameworks (${D.frameworks})` },
  tasks_per_framework: { type: 'number', help: `generate: tasks of each framework (${D.tasksPerFramework})` },
  task_demand: { type: 'string', help: "generate: every task's resources, e.g. 'cpus:1;mem:2048' (default: each framework draws its own, cpu- or memory-heavy)" },
  duration_s: { type: 'number', help: `generate: mean task duration; each is drawn from [0.5, 1.5] x this (${D.durationS})` },
  interarrival_s: { type: 'number', help: `generate: mean gap between a framework's tasks, drawn from [0, 2] x this (${D.interarrivalS})` },
  arrival_spread_s: { type: 'number', help: `generate: frameworks after the first arrive within [0, this] (${D.arrivalSpreadS})` },
  quiet: { type: 'boolean', default: false, help: 'no progress lines on stderr' },
} as const;

const SUMMARY =
  'Runs allocation policies side by side on one workload in simulated time (no sleeping) with simulated agents and frameworks, and writes ' +
  'DIR/summary.json, DIR/<policy>-{shares,utilization,tasks}.csv, DIR/<policy>-{shares,utilization}.svg and DIR/compare.svg.';

const GENERATE_FLAGS = ['agents', 'agent_resources', 'frameworks', 'tasks_per_framework', 'task_demand', 'duration_s', 'interarrival_s', 'arrival_spread_s'] as const;

type SimulateFlags = Flags<typeof SIMULATE_FLAGS>;

/** The workload the flags describe, and its JSON as it is written to DIR/workload.json. */
export async function loadWorkload(flags: SimulateFlags): Promise<{ workload: Workload; json: string; source: string }> {
  const overrides: WorkloadOverrides = {
    ...(flags.seed !== undefined && { seed: checkNumber('seed', flags.seed, { integer: true, min: 0 }) }),
    ...(flags.end_s !== undefined && { endS: checkNumber('end_s', flags.end_s, { positive: true }) }),
    ...(flags.allocation_interval_s !== undefined && { allocationIntervalS: checkNumber('allocation_interval_s', flags.allocation_interval_s, { positive: true }) }),
    ...(flags.refuse_seconds !== undefined && { refuseSeconds: checkNumber('refuse_seconds', flags.refuse_seconds, { min: 0 }) }),
  };
  if (flags.workload !== undefined) {
    const given = GENERATE_FLAGS.find((f) => flags[f] !== undefined);
    if (given) throw new InvalidArgument(`--${given} generates a workload; it cannot be combined with --workload`);
    let text: string;
    try {
      text = await readFile(flags.workload, 'utf8');
    } catch (err) {
      throw new InvalidArgument(`--workload: cannot read '${flags.workload}': ${errorMessage(err)}`);
    }
    const workload = parseWorkload(text, flags.workload, overrides);
    return { workload, json: Object.keys(overrides).length === 0 ? text : withOverrides(text, overrides), source: flags.workload };
  }
  const raw = generateWorkload({
    agents: flags.agents ?? D.agents,
    agentResources: flags.agent_resources ?? D.agentResources,
    frameworks: flags.frameworks ?? D.frameworks,
    tasksPerFramework: flags.tasks_per_framework ?? D.tasksPerFramework,
    ...(flags.task_demand !== undefined && { taskDemand: flags.task_demand }),
    durationS: flags.duration_s ?? D.durationS,
    interarrivalS: flags.interarrival_s ?? D.interarrivalS,
    arrivalSpreadS: flags.arrival_spread_s ?? D.arrivalSpreadS,
    seed: overrides.seed ?? D.seed,
    ...(overrides.endS !== undefined && { endS: overrides.endS }),
    ...(overrides.allocationIntervalS !== undefined && { allocationIntervalS: overrides.allocationIntervalS }),
    ...(overrides.refuseSeconds !== undefined && { refuseSeconds: overrides.refuseSeconds }),
  });
  const json = JSON.stringify(raw, null, 2) + '\n';
  return { workload: parseWorkload(json, 'generated workload'), json, source: 'generated workload' };
}

export async function simulateCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(SIMULATE_FLAGS, argv, { env: process.env });
  if (flags.help) {
    process.stdout.write(usage('simulate', SUMMARY, SIMULATE_FLAGS) + '\n');
    return 0;
  }
  if (flags._.length > 0) throw new InvalidArgument(`unexpected argument '${flags._[0]}'`);
  const { workload, json, source } = await loadWorkload(flags);
  const policies = await checkPolicies(flags.policies, workload);
  const tasks = workload.frameworks.reduce((n, f) => n + f.tasks.length, 0);
  const say = (line: string): void => {
    if (!flags.quiet) process.stderr.write(`[simulate] ${line}\n`);
  };
  say(`${source}: ${count(workload.agents.length, 'agent')}, ${count(workload.frameworks.length, 'framework')}, ${count(tasks, 'task')}, seed ${workload.seed}`);
  const runs: PolicyRun[] = [];
  for (const { policy, label } of policies) {
    const run = await runPolicy(policy, label, workload, progressReporter(label, say));
    say(`${label}: ${run.summary.tasks_finished}/${tasks} tasks finished by ${run.summary.end_s} s simulated, ${run.summary.passes} passes, ${(run.wallMs / 1000).toFixed(1)} s`);
    if (run.result.capped) say(`${label}: stopped at the safety cap (${run.summary.end_s} s) with tasks that never started`);
    runs.push(run);
  }
  await mkdir(flags.out, { recursive: true });
  const files = outputFiles(runs);
  files.set('workload.json', json);
  for (const [name, content] of files) await writeFile(join(flags.out, name), content);
  process.stdout.write(summaryTable(new Map(runs.map((r) => [r.label, r.summary]))) + '\n');
  process.stdout.write(`\nwrote ${files.size} files to ${flags.out}: summary.json, compare.svg, workload.json and <policy>-{shares,utilization,tasks}.csv, <policy>-{shares,utilization}.svg\n`);
  return 0;
}

/** A progress line every 2 s of wall time, so only long runs print them. */
function progressReporter(label: string, say: (line: string) => void): (p: Progress) => void {
  let last = performance.now();
  return (p) => {
    const now = performance.now();
    if (now - last < 2000) return;
    last = now;
    say(`${label}: ${p.nowS.toFixed(0)} s simulated (of at most ${p.untilS.toFixed(0)}), ${p.started}/${p.total} tasks started, ${p.finished} finished`);
  };
}

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

function checkNumber(flag: string, value: number, rule: { integer?: boolean; min?: number; positive?: boolean }): number {
  if (rule.integer && !Number.isInteger(value)) throw new InvalidArgument(`--${flag} must be a whole number, got ${value}`);
  if (rule.positive && !(value > 0)) throw new InvalidArgument(`--${flag} must be > 0, got ${value}`);
  if (rule.min !== undefined && value < rule.min) throw new InvalidArgument(`--${flag} must be >= ${rule.min}, got ${value}`);
  return value;
}

/** The file's JSON with the command line's values in place, so DIR/workload.json reproduces the run. */
function withOverrides(text: string, o: WorkloadOverrides): string {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (o.seed !== undefined) raw.seed = o.seed;
  if (o.endS !== undefined) raw.end_s = o.endS;
  if (o.allocationIntervalS !== undefined) raw.allocation_interval_s = o.allocationIntervalS;
  if (o.refuseSeconds !== undefined) raw.refuse_seconds = o.refuseSeconds;
  return JSON.stringify(raw, null, 2) + '\n';
}
