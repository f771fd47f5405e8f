// A workload generated from a few parameters (`mesos-ts simulate --agents N
// --frameworks N ...`). It produces the same JSON a workload file holds, so
// it goes through the same checks and is written next to the results.
import { InvalidArgument, errorMessage } from '../common/errors.js';
import { Resources } from '../common/resources.js';
import { matchDemand } from '../framework/sdk/matching.js';
import { seededRandom } from '../master/allocator/index.js';

export interface GenerateParams {
  readonly agents: number;
  readonly agentResources: string;
  readonly frameworks: number;
  readonly tasksPerFramework: number;
  /** Every task's demand; undefined: each framework draws its own (see below). */
  readonly taskDemand?: string;
  /** Mean task duration: each task's is drawn from [0.5, 1.5] × this. */
  readonly durationS: number;
  /** Mean gap between a framework's task submissions, drawn from [0, 2] × this. */
  readonly interarrivalS: number;
  /** Frameworks after the first arrive at a time drawn from [0, this]. */
  readonly arrivalSpreadS: number;
  readonly seed: number;
  readonly endS?: number;
  readonly allocationIntervalS?: number;
  readonly refuseSeconds?: number;
}

export const GENERATE_DEFAULTS = {
  agents: 10,
  agentResources: 'cpus:8;mem:16384',
  frameworks: 4,
  tasksPerFramework: 50,
  durationS: 30,
  interarrivalS: 1,
  arrivalSpreadS: 60,
  seed: 1,
} as const;

/** The workload as JSON (the format of docs/simulator.md). */
export function generateWorkload(p: GenerateParams): Record<string, unknown> {
  for (const [flag, value] of [['agents', p.agents], ['frameworks', p.frameworks], ['tasks_per_framework', p.tasksPerFramework]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new InvalidArgument(`--${flag} must be a whole number >= 1, got ${value}`);
  }
  if (!(p.durationS > 0)) throw new InvalidArgument(`--duration_s must be > 0, got ${p.durationS}`);
  for (const [flag, value] of [['interarrival_s', p.interarrivalS], ['arrival_spread_s', p.arrivalSpreadS]] as const) {
    if (!(value >= 0)) throw new InvalidArgument(`--${flag} must be >= 0, got ${value}`);
  }
  const agent = parseFlagResources('agent_resources', p.agentResources);
  if (p.taskDemand !== undefined && !matchDemand(agent, { resources: parseFlagResources('task_demand', p.taskDemand), ports: 0 })) {
    throw new InvalidArgument(`--task_demand '${p.taskDemand}' does not fit on an agent of --agent_resources '${p.agentResources}'`);
  }
  if (p.taskDemand === undefined && !(agent.scalar('cpus') > 0 && agent.scalar('mem') > 0)) {
    throw new InvalidArgument(`--agent_resources '${p.agentResources}' has no cpus or no mem: give --task_demand`);
  }
  const random = seededRandom(p.seed ^ 0x5eed);
  const width = String(p.frameworks - 1).length;
  const frameworks = Array.from({ length: p.frameworks }, (_, i) => ({
    name: `fw-${String(i).padStart(width, '0')}`,
    arrival_s: i === 0 ? 0 : Math.round(random() * p.arrivalSpreadS),
    tasks: {
      count: p.tasksPerFramework,
      demand: p.taskDemand ?? drawDemand(agent, random),
      duration_s: [round3(p.durationS * 0.5), round3(p.durationS * 1.5)],
      interarrival_s: [0, round3(p.interarrivalS * 2)],
    },
  }));
  return {
    description: `generated: ${p.agents} agents of ${p.agentResources}, ${p.frameworks} frameworks of ${p.tasksPerFramework} tasks, seed ${p.seed}`,
    seed: p.seed,
    ...(p.endS !== undefined && { end_s: p.endS }),
    ...(p.allocationIntervalS !== undefined && { allocation_interval_s: p.allocationIntervalS }),
    ...(p.refuseSeconds !== undefined && { refuse_seconds: p.refuseSeconds }),
    agents: { count: p.agents, resources: p.agentResources },
    frameworks,
  };
}

/**
 * A framework's task shape: cpus and mem each a log-uniform fraction of one
 * agent between 1/32 and 1/4, drawn independently, so some frameworks are
 * cpu-heavy and others memory-heavy — where DRF and the baselines differ.
 */
function drawDemand(agent: Resources, random: () => number): string {
  const fraction = (): number => Math.pow(2, -2 - 3 * random());
  const cpus = Math.max(0.1, Math.round(agent.scalar('cpus') * fraction() * 10) / 10);
  const mem = Math.max(32, Math.round((agent.scalar('mem') * fraction()) / 32) * 32);
  return `cpus:${cpus};mem:${mem}`;
}

function parseFlagResources(flag: string, text: string): Resources {
  try {
    return Resources.parse(text);
  } catch (err) {
    throw new InvalidArgument(`--${flag}: ${errorMessage(err)}`);
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
