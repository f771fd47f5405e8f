// bench/state-ab: the CPU of one /master/state build, one GET_STATE build and
// one metrics-gauges build, this checkout's code against another checkout's
// (a baseline: its dist/, built), in ONE process, builds taken in turn. On a
// shared machine two runs of bench/state minutes apart see different loads;
// here both masters see the same machine, build after build. Each side is a
// master of its own code (agents, frameworks, tasks and offers set up as
// bench/state does), changed the same way before each build: --churn_tasks
// tasks get a new status, --churn_offers offers are rescinded and an
// allocation pass makes new ones (as under bench:scale's launches).
//   npx tsx bench/state-ab.ts --baseline /work/main [--agents 1000] [--tasks 2500] [--churn_tasks 300] [--churn_offers 500]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseFlags, type FlagSpecs } from '../common/flags.js';

const FLAGS = {
  baseline: { type: 'string', help: 'a checkout whose dist/ (npm run build) is the baseline' },
  candidate: { type: 'string', help: "the checkout compared with it (default: this one); its dist/ is what runs" },
  agents: { type: 'number', default: 1000, help: 'agents registered' },
  tasks: { type: 'number', default: 2500, help: 'running tasks' },
  frameworks: { type: 'number', default: 10, help: 'frameworks' },
  samples: { type: 'number', default: 40, help: 'builds timed per side and kind' },
  churn_tasks: { type: 'number', default: 300, help: 'tasks given a new status before each build' },
  churn_offers: { type: 'number', default: 500, help: 'offers rescinded and made again (one allocation pass) before each build' },
} as const satisfies FlagSpecs;

const KINDS = ['/master/state', 'GET_STATE', 'gauges'] as const;
type Kind = (typeof KINDS)[number];

/** One side: a master of one checkout's code, and its three builds. */
interface Side {
  readonly name: string;
  readonly builds: Record<Kind, () => unknown>;
  churn(tasks: number, offers: number): void;
  stop(): Promise<void>;
}

async function side(name: string, root: string, flags: { agents: number; tasks: number; frameworks: number }): Promise<Side> {
  const load = (path: string): Promise<any> => import(pathToFileURL(resolve(root, path)).href);
  const [{ startMaster }, { Resources }, { StateSnapshot }, { GetStateJson }, { buildStateGauges }, { buildInfo }] = await Promise.all([
    load('master/main.js'), load('common/resources.js'), load('master/v0/snapshot.js'), load('master/operator/state-json.js'), load('master/metrics.js'), load('master/v0/build-info.js'),
  ]);
  const running = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 3600, quiet: true }, () => {});
  const master = running.master;
  const conn = { open: true, send: () => {}, close: () => {} };
  const agentIds: string[] = [];
  for (let i = 0; i < flags.agents; i++) {
    const agent = await master.registerAgent({
      agent_info: { hostname: `host-${i}`, port: 5051, resources: Resources.parse('cpus:32;mem:131072;disk:1000000;ports:[31000-32000]').toProto(), attributes: [{ name: 'rack', type: 'TEXT', text: { value: `r${i % 10}` } }] },
      tasks: [], frameworks: [], version: 'bench',
    }, conn);
    agentIds.push(agent.id);
  }
  const sink = { send: () => {}, close: () => {}, queued: 0, queuedBytes: 0 };
  const frameworkIds: string[] = [];
  for (let i = 0; i < flags.frameworks; i++) {
    const call = { type: 'SUBSCRIBE', subscribe: { framework_info: { name: `fw-${i}`, user: 'bench', roles: [], capabilities: [], failover_timeout: 60 }, suppressed_roles: [] } };
    frameworkIds.push((await master.subscribe(call, () => sink)).frameworkId);
  }
  for (let i = 0; i < flags.tasks; i++) {
    const taskId = `task-${i}`;
    const resources = Resources.parse('cpus:0.5;mem:512'); // One value per task, as tasks' own TaskInfos give.
    master.tasks.add({
      frameworkId: frameworkIds[i % frameworkIds.length], agentId: agentIds[i % agentIds.length], taskId, resources, state: 'TASK_RUNNING',
      info: { name: taskId, task_id: { value: taskId }, resources: resources.toProto() }, status: null, statusUuid: null, recovered: false, createdAt: master.now(),
    });
  }
  for (const f of frameworkIds) master.allocator.revive(f);
  master.runAllocation();
  const context = { flags: {}, electedTime: () => master.startTime, build: buildInfo() };
  const snapshot = new StateSnapshot(master, context, { slowBuildMs: Infinity, staleFactor: 0 });
  const getState = new GetStateJson(master);
  const tasks = [...master.tasks.all()];
  let next = 0;
  return {
    name,
    builds: {
      '/master/state': () => snapshot.encoded('state', (m: any) => m.state),
      GET_STATE: () => getState.encode(),
      gauges: () => buildStateGauges(master),
    },
    churn(count: number, offers: number) {
      for (let k = 0; k < count; k++) {
        const t = tasks[next++ % tasks.length];
        t.status = { task_id: { value: t.taskId }, state: 'TASK_RUNNING', timestamp: master.now() };
      }
      if (offers > 0) {
        for (const offer of [...master.offers.view().values()].slice(0, offers)) master.rescindOffer(offer.id, 'bench');
        for (const f of frameworkIds) master.allocator.revive(f);
        master.runAllocation();
      }
      master.version++;
    },
    stop: () => running.stop(),
  };
}

function cpuMs(fn: () => unknown): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  if (!flags.baseline) throw new Error('--baseline: a checkout with a built dist/ is required');
  const sides = [await side('baseline', resolve(flags.baseline, 'dist'), flags), await side('this', resolve(flags.candidate ?? resolve(import.meta.dirname, '..'), 'dist'), flags)];
  const times = new Map(sides.map((s) => [s.name, new Map(KINDS.map((k) => [k, [] as number[]]))]));
  try {
    for (const s of sides) for (const kind of KINDS) s.builds[kind](); // First builds write everything: not timed.
    for (let i = 0; i < flags.samples; i++) {
      // The same changes on both sides, then each kind built on one side and the other in turn (which goes first alternates).
      for (const s of sides) s.churn(flags.churn_tasks, flags.churn_offers);
      const order = i % 2 === 0 ? sides : [...sides].reverse();
      for (const kind of KINDS) for (const s of order) times.get(s.name)!.get(kind)!.push(cpuMs(s.builds[kind]));
    }
    process.stdout.write(`${flags.agents} agents, ${flags.tasks} tasks, ${flags.churn_tasks} new statuses and ${flags.churn_offers} offers made again before each build; CPU ms per build, p50 of ${flags.samples}:\n`);
    for (const kind of KINDS) {
      const [base, mine] = sides.map((s) => p50(times.get(s.name)!.get(kind)!));
      process.stdout.write(`  ${kind.padEnd(14)} baseline ${base!.toFixed(2).padStart(7)}   this ${mine!.toFixed(2).padStart(7)}   ratio ${(mine! / base!).toFixed(2)}\n`);
    }
  } finally {
    for (const s of sides) await s.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench/state-ab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
