// bench/state: GET /state latency on a master that knows 1,000 agents and
// 10,000 tasks. The master runs in this process with its real HTTP server;
// agents are registered through Master.registerAgent over a connection that
// discards what the master sends (no agent processes), frameworks through
// Master.subscribe, and tasks are added to the master's task book directly:
// what is measured is building and serving the snapshot, not launching.
// Printed: the time (wall and CPU) to build the snapshot's bytes, GET_STATE's JSON encoded whole
// and spliced from kept task texts (master/operator/state-json.ts), GET /state right after a change
// (the snapshot is rebuilt at most once per 20 build-times: see
// master/v0/snapshot.ts) and unchanged, the response size, and one
// allocation pass at that size.
// With --load, also how much polling the state holds back status handling
// (bench/state-load.ts).
//   npx tsx bench/state.ts [--agents 1000] [--tasks 10000] [--samples 20] [--load]
import { startMaster } from '../master/main.js';
import { StateSnapshot } from '../master/v0/snapshot.js';
import { buildInfo } from '../master/v0/build-info.js';
import { parseFlags, type FlagSpecs } from '../common/flags.js';
import { loadPhase, type TaskRef } from './state-load.js';
import { GetStateJson } from '../master/operator/state-json.js';
import { OperatorViews } from '../master/operator/views.js';
import { buildStateGauges } from '../master/metrics.js';
import { encodeMessage } from '../master/http-api/proto-json.js';
import { protoRoot } from '../proto/index.js';
import { Resources } from '../common/resources.js';
import type { AgentConnection, EventSink, Master } from '../master/master.js';
import type { Call } from '../proto/index.js';
import type { AgentId, FrameworkId, TaskId } from '../common/ids.js';

const FLAGS = {
  agents: { type: 'number', default: 1000, help: 'agents registered' },
  tasks: { type: 'number', default: 10000, help: 'running tasks' },
  frameworks: { type: 'number', default: 10, help: 'frameworks' },
  samples: { type: 'number', default: 20, help: 'requests timed per figure' },
  load: { type: 'boolean', default: false, help: 'also measure status updates applied per second alone and while /master/state and GET_STATE are polled (bench/state-load.ts)' },
  load_seconds: { type: 'number', default: 10, help: 'length of each --load phase' },
  sample_ms: { type: 'number', default: 250, help: '--load: one state request every this many ms, /master/state and GET_STATE in turn' },
  churn_tasks: { type: 'number', default: 1, help: 'tasks given a new status before each timed build' },
  churn_offers: { type: 'number', default: 0, help: 'offers rescinded and made again (one allocation pass) before each timed build, as under bench:scale\'s launches' },
} as const satisfies FlagSpecs;

const say = (line: string) => process.stdout.write(line + '\n');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

function timed(fn: () => unknown): Timing {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

/** Wall and CPU ms of one build, p50 and max. */
class Timings {
  private readonly wall: number[] = [];
  private readonly cpu: number[] = [];

  add(t: Timing): void {
    this.wall.push(t.ms);
    this.cpu.push(t.cpuMs);
  }

  toString(): string {
    const f = (xs: number[]) => `p50 ${pct(xs, 0.5).toFixed(1)} max ${Math.max(...xs).toFixed(1)}`;
    return `wall ${f(this.wall)} ms; CPU ${f(this.cpu)} ms`;
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  const running = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 3600, quiet: true }, () => {});
  const master = running.master;
  try {
    const conn: AgentConnection = { open: true, send: () => {}, close: () => {} };
    const agentIds: string[] = [];
    for (let i = 0; i < flags.agents; i++) {
      const agent = await master.registerAgent({
        agent_info: { hostname: `host-${i}`, port: 5051, resources: Resources.parse('cpus:32;mem:131072;disk:1000000;ports:[31000-32000]').toProto(), attributes: [] },
        tasks: [], frameworks: [], version: 'bench',
      } as never, conn);
      agentIds.push(agent.id);
    }
    const sink: EventSink = { send: () => {}, close: () => {}, queued: 0, queuedBytes: 0 };
    const frameworkIds: string[] = [];
    for (let i = 0; i < flags.frameworks; i++) {
      const call = { type: 'SUBSCRIBE', subscribe: { framework_info: { name: `fw-${i}`, user: 'bench', roles: [], capabilities: [], failover_timeout: 60 }, suppressed_roles: [] } };
      frameworkIds.push((await master.subscribe(call as unknown as Call, () => sink)).frameworkId);
    }
    const resources = Resources.parse('cpus:0.5;mem:512');
    for (let i = 0; i < flags.tasks; i++) {
      const taskId = `task-${i}`;
      master.tasks.add({
        frameworkId: frameworkIds[i % frameworkIds.length]! as FrameworkId, agentId: agentIds[i % agentIds.length]! as AgentId, taskId: taskId as TaskId, resources, state: 'TASK_RUNNING',
        info: { name: taskId, task_id: { value: taskId }, resources: resources.toProto() }, status: null, statusUuid: null, recovered: false,
        createdAt: master.now(),
      });
    }
    say(`master with ${flags.agents} agents, ${flags.frameworks} frameworks, ${flags.tasks} running tasks`);
    // CPU time too (this process's, the client's reading included, the same on every version): robust to a busy machine.
    const get = async () => {
      const t0 = performance.now();
      const cpu = process.cpuUsage();
      const res = await fetch(`http://${running.httpAddress}/state`);
      const body = await res.arrayBuffer();
      const used = process.cpuUsage(cpu);
      return { ms: performance.now() - t0, cpuMs: (used.user + used.system) / 1000, bytes: body.byteLength };
    };
    const cold: number[] = [];
    const warm: number[] = [];
    const warmCpu: number[] = [];
    let bytes = 0;
    for (let i = 0; i < flags.samples; i++) {
      master.version++; // As if an operation ran: the next /state rebuilds its snapshot.
      const c = await get();
      cold.push(c.ms);
      bytes = c.bytes;
      const w = await get();
      warm.push(w.ms);
      warmCpu.push(w.cpuMs);
    }
    const context = { flags: {}, electedTime: () => master.startTime, build: buildInfo() };
    // Both builds as the master makes them, each after one task's new status: /master/state's bytes from a
    // StateSnapshot (rebuilt on every change here: no staleness bound), GET_STATE's JSON encoded whole (the
    // views through protobufjs, as before round 3) and as GetStateJson splices it. Wall and CPU time of
    // this process per build (CPU, robust to a busy machine, also counts the GC's and compiler's threads).
    const snapshot = new StateSnapshot(master, context, { slowBuildMs: Infinity, staleFactor: 0 });
    const RESPONSE = protoRoot.lookupType('mesos.v1.master.Response');
    const views = new OperatorViews(master);
    const spliced = new GetStateJson(master);
    const builds = { state: new Timings(), whole: new Timings(), spliced: new Timings() };
    const first = { state: timed(() => snapshot.encoded('state', (m) => m.state)), spliced: timed(() => spliced.encode()) }; // Every task's and agent's JSON written.
    const taskList = [...master.tasks.all()];
    let next = 0;
    for (let i = 0; i < flags.samples; i++) {
      for (let k = 0; k < flags.churn_tasks; k++) {
        const changed = taskList[next++ % taskList.length]!;
        changed.status = { task_id: { value: changed.taskId }, state: 'TASK_RUNNING', timestamp: master.now() }; // A new status: its JSON is written again.
      }
      churnOffers(master, flags.churn_offers);
      master.version++;
      builds.state.add(timed(() => snapshot.encoded('state', (m) => m.state)));
      builds.whole.add(timed(() => encodeMessage(RESPONSE, { type: 'GET_STATE', get_state: views.getState(true) }, 'json')));
      builds.spliced.add(timed(() => spliced.encode()));
    }
    // The metrics gauges (/metrics/snapshot) read the same records: rebuilt once per change, whoever scrapes.
    const gauges = new Timings();
    for (let i = 0; i < flags.samples; i++) {
      const changed = taskList[next++ % taskList.length]!;
      changed.status = { task_id: { value: changed.taskId }, state: 'TASK_RUNNING', timestamp: master.now() };
      master.version++;
      gauges.add(timed(() => buildStateGauges(master)));
    }
    const passes: number[] = [];
    for (let i = 0; i < 5; i++) {
      master.allocator.revive(frameworkIds[0]!);
      const t0 = performance.now();
      master.runAllocation();
      passes.push(performance.now() - t0);
      for (const offer of [...master.offers.view().values()]) master.rescindOffer(offer.id, 'bench');
    }
    say(`GET /state (${(bytes / 1024 / 1024).toFixed(1)} MiB of JSON), ${flags.samples} requests each:`);
    say(`  building the snapshot's bytes (one turn)  first ${first.state.ms.toFixed(1)} ms, then ${builds.state}`);
    say(`  after a change (rebuilt at most once per 20 build-times)  p50 ${pct(cold, 0.5).toFixed(1)} ms   p95 ${pct(cold, 0.95).toFixed(1)} ms`);
    say(`  unchanged (cached snapshot)          p50 ${pct(warm, 0.5).toFixed(1)} ms   p95 ${pct(warm, 0.95).toFixed(1)} ms; CPU p50 ${pct(warmCpu, 0.5).toFixed(1)} ms`);
    say(`GET_STATE's JSON (one turn), ${flags.churn_tasks} task(s) and ${flags.churn_offers} offer(s) changed before each:`);
    say(`  encoded whole                        ${builds.whole}`);
    say(`  spliced (state-json.ts)              first ${first.spliced.ms.toFixed(1)} ms, then ${builds.spliced}`);
    say(`  one allocation pass at this size     p50 ${pct(passes, 0.5).toFixed(1)} ms`);
    say(`metrics gauges (buildStateGauges)     ${gauges}`);
    if (flags.load) {
      const refs = [...master.tasks.all()].map((t): TaskRef => [t.agentId, t.frameworkId, t.taskId]);
      const options = { seconds: flags.load_seconds, sampleMs: flags.sample_ms, batch: 20 };
      const alone = await loadPhase(running, refs, options, false);
      const polled = await loadPhase(running, refs, options, true);
      const fmt = (xs: number[]) => (xs.length ? `p50 ${pct(xs, 0.5).toFixed(0)} ms  p99 ${pct(xs, 0.99).toFixed(0)} ms (${xs.length})` : '—');
      say(`status updates through the master, ${flags.load_seconds} s per phase (batches of ${options.batch} per loop turn):`);
      say(`  alone                                ${alone.updatesPerSecond.toFixed(0)} updates/s   loop delay p99 ${alone.loopP99Ms.toFixed(0)} ms  max ${alone.loopMaxMs.toFixed(0)} ms`);
      say(`  polled every ${flags.sample_ms} ms                 ${polled.updatesPerSecond.toFixed(0)} updates/s   loop delay p99 ${polled.loopP99Ms.toFixed(0)} ms  max ${polled.loopMaxMs.toFixed(0)} ms`);
      say(`  polled / alone                       ${(polled.updatesPerSecond / alone.updatesPerSecond).toFixed(2)}`);
      say(`  /master/state ${fmt(polled.stateMs)};  GET_STATE ${fmt(polled.getStateMs)}`);
    }
  } finally {
    await running.stop();
  }
}

/** Rescinds up to `count` outstanding offers and runs one allocation pass, which offers their agents again (new offer records). */
function churnOffers(master: Master, count: number): void {
  if (count <= 0) return;
  for (const offer of [...master.offers.view().values()].slice(0, count)) master.rescindOffer(offer.id, 'bench');
  for (const f of master.frameworks.keys()) master.allocator.revive(f);
  master.runAllocation();
}

main().catch((err) => {
  process.stderr.write(`bench/state: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
