// The simulation: the real allocator driven in simulated time. Nothing
// sleeps; the clock jumps from one event to the next.
//
//   agent joins ──> addAgent            framework arrives ──> addFramework
//   task submitted ──> queued (revive if the framework was suppressed)
//   every allocation_interval_s: allocate(now) ──> offers ──> each framework
//       launches the queued tasks that fit (first fit, in submission order)
//       and declines the rest with its refuse_seconds; a framework with an
//       empty queue suppresses
//   task finishes after its duration ──> recoverResources
//
// Events at the same instant run in a fixed order: finishes, agents,
// arrivals, submissions, then the pass. When no framework has queued tasks
// the passes in between are skipped (they could offer nothing anyone wants).
import type { AllocationDecision, Allocator } from '../master/allocator/allocator.js';
import type { Resources } from '../common/resources.js';
import { matchDemand } from '../framework/sdk/matching.js';
import { EventQueue } from './event-queue.js';
import { Timeline } from './metrics.js';
import type { SimAgent, SimFramework, SimTask, Workload } from './workload.js';

export interface TaskRun {
  readonly task: SimTask;
  startS?: number;
  finishS?: number;
  agentId?: string;
  /** What the task holds on its agent (the roles it came from), recovered when it finishes. */
  taken?: Resources;
}

export interface Progress {
  readonly nowS: number;
  /** The workload's end_s, or the safety cap when it has none. */
  readonly untilS: number;
  readonly started: number;
  readonly finished: number;
  readonly total: number;
}

export interface SimulationResult {
  /** Where the measured period stops: end_s, or when the last task finished. */
  readonly endS: number;
  /** True when a workload without end_s hit the safety cap with tasks left. */
  readonly capped: boolean;
  readonly timeline: Timeline;
  readonly tasks: readonly TaskRun[];
  /** Wall time of each allocate() call, ms. */
  readonly passMs: readonly number[];
}

type SimEvent =
  | { readonly kind: 'finish'; readonly run: TaskRun }
  | { readonly kind: 'agent'; readonly agent: SimAgent }
  | { readonly kind: 'arrive'; readonly framework: FrameworkState }
  | { readonly kind: 'submit'; readonly run: TaskRun };

const RANK: Record<SimEvent['kind'], number> = { finish: 0, agent: 1, arrive: 2, submit: 3 };

interface FrameworkState {
  readonly spec: SimFramework;
  /** Distinct demands among its tasks: once all fail in an offer, stop looking. */
  readonly demandKinds: number;
  arrived: boolean;
  suppressed: boolean;
  pending: TaskRun[];
  running: number;
  readonly used: number[];
}

export function simulate(workload: Workload, allocator: Allocator, onProgress?: (p: Progress) => void): SimulationResult {
  return new Simulation(workload, allocator, onProgress).run();
}

class Simulation {
  private readonly queue = new EventQueue<SimEvent>();
  private readonly frameworks = new Map<string, FrameworkState>();
  private readonly runs: TaskRun[] = [];
  private readonly resources: readonly string[];
  private readonly total: number[];
  private readonly timeline: Timeline;
  private readonly passMs: number[] = [];
  /** Demand vectors (Timeline.resources order), one per distinct demand object. */
  private readonly vectors = new Map<Resources, readonly number[]>();
  private started = 0;
  private finished = 0;

  constructor(
    private readonly workload: Workload,
    private readonly allocator: Allocator,
    private readonly onProgress?: (p: Progress) => void,
  ) {
    this.resources = scalarNames(workload.agents);
    this.total = this.resources.map(() => 0);
    const weight = (f: SimFramework): number => workload.roles.get(f.roles[0]!)?.weight ?? 1;
    this.timeline = new Timeline(this.resources, workload.frameworks.map((f) => f.name), workload.frameworks.map(weight));
    for (const spec of workload.frameworks) {
      const state: FrameworkState = {
        spec, demandKinds: new Set(spec.tasks.map((t) => t.demand)).size,
        arrived: false, suppressed: false, pending: [], running: 0, used: this.resources.map(() => 0),
      };
      this.frameworks.set(spec.name, state);
      this.queue.push(spec.arrivalS, RANK.arrive, { kind: 'arrive', framework: state });
      for (const task of spec.tasks) {
        const run: TaskRun = { task };
        this.runs.push(run);
        this.queue.push(task.submitS, RANK.submit, { kind: 'submit', run });
      }
    }
    for (const agent of workload.agents) this.queue.push(agent.joinS, RANK.agent, { kind: 'agent', agent });
  }

  run(): SimulationResult {
    const { endS, allocationIntervalS: interval } = this.workload;
    const until = endS ?? this.safetyCap();
    let pass = 0;
    let now = 0;
    this.record(0);
    for (;;) {
      const passAt = toMicros(pass * interval);
      const t = Math.min(this.queue.peekTime(), passAt);
      if (t > until || t === Infinity) break;
      now = t;
      while (this.queue.peekTime() === t) this.handle(this.queue.pop()!, t);
      if (passAt === t) {
        // With nothing queued anywhere every framework is suppressed: no pass
        // now, and the next one that can matter follows the next event.
        if (this.anyQueued()) this.pass(t);
        pass = this.anyQueued() ? pass + 1 : Math.max(pass + 1, Math.ceil(this.queue.peekTime() / interval - 1e-9));
        this.onProgress?.({ nowS: t, untilS: until, started: this.started, finished: this.finished, total: this.runs.length });
      }
      this.record(t);
      if (endS === undefined && this.finished === this.runs.length) break;
    }
    const done = this.finished === this.runs.length;
    const end = endS ?? (done ? now : until);
    if (endS !== undefined) this.record(endS);
    return { endS: end, capped: endS === undefined && !done, timeline: this.timeline, tasks: this.runs, passMs: this.passMs };
  }

  private handle(event: SimEvent, now: number): void {
    switch (event.kind) {
      case 'agent':
        this.allocator.addAgent(event.agent.id, event.agent.resources);
        this.resources.forEach((name, r) => (this.total[r]! += event.agent.resources.scalar(name)));
        return;
      case 'arrive':
        this.allocator.addFramework(event.framework.spec.name, { roles: event.framework.spec.roles });
        event.framework.arrived = true;
        return;
      case 'submit': {
        const fw = this.frameworks.get(event.run.task.framework)!;
        fw.pending.push(event.run);
        if (fw.suppressed) {
          this.allocator.revive(fw.spec.name);
          fw.suppressed = false;
        }
        return;
      }
      case 'finish': {
        const { run } = event;
        const fw = this.frameworks.get(run.task.framework)!;
        this.allocator.recoverResources(fw.spec.name, run.agentId!, run.taken!, 0, now);
        this.account(fw, run.task.demand, -1);
        fw.running--;
        run.finishS = now;
        this.finished++;
        return;
      }
    }
  }

  private pass(now: number): void {
    this.suppressIdle();
    const t0 = performance.now();
    const decisions = this.allocator.allocate(now);
    this.passMs.push(performance.now() - t0);
    for (const d of decisions) this.offer(d, now);
    this.suppressIdle();
  }

  /** The framework's answer to one offer: launch what fits, decline the rest. */
  private offer(d: AllocationDecision, now: number): void {
    const fw = this.frameworks.get(d.frameworkId);
    if (!fw) throw new Error(`the allocator offered to unknown framework '${d.frameworkId}'`);
    let left = d.resources;
    const failed = new Set<Resources>();
    const launched = new Set<TaskRun>();
    for (const run of fw.pending) {
      if (launched.size >= fw.spec.maxTasksPerOffer || failed.size === fw.demandKinds) break;
      if (failed.has(run.task.demand)) continue;
      const got = matchDemand(left, { resources: run.task.demand, ports: 0 });
      if (!got) {
        failed.add(run.task.demand);
        continue;
      }
      left = left.subtract(got);
      launched.add(run);
      this.start(fw, run, d.agentId, got, now);
    }
    if (launched.size > 0) fw.pending = fw.pending.filter((r) => !launched.has(r));
    if (!left.isEmpty()) this.allocator.recoverResources(fw.spec.name, d.agentId, left, fw.spec.refuseSeconds, now);
  }

  private start(fw: FrameworkState, run: TaskRun, agentId: string, taken: Resources, now: number): void {
    run.startS = now;
    run.agentId = agentId;
    run.taken = taken;
    fw.running++;
    this.started++;
    this.account(fw, run.task.demand, 1);
    this.queue.push(toMicros(now + run.task.durationS), RANK.finish, { kind: 'finish', run });
  }

  private anyQueued(): boolean {
    for (const fw of this.frameworks.values()) if (fw.pending.length > 0) return true;
    return false;
  }

  private suppressIdle(): void {
    for (const fw of this.frameworks.values()) {
      if (fw.arrived && !fw.suppressed && fw.pending.length === 0) {
        this.allocator.suppress(fw.spec.name);
        fw.suppressed = true;
      }
    }
  }

  private account(fw: FrameworkState, demand: Resources, sign: 1 | -1): void {
    let vector = this.vectors.get(demand);
    if (!vector) {
      vector = this.resources.map((name) => demand.scalar(name));
      this.vectors.set(demand, vector);
    }
    vector.forEach((v, r) => (fw.used[r] = Math.max(0, fw.used[r]! + sign * v)));
  }

  private record(t: number): void {
    const fws = [...this.frameworks.values()];
    this.timeline.record(t, this.total, fws.map((f) => f.used), fws.map((f) => f.arrived && f.pending.length + f.running > 0));
  }

  /**
   * Without end_s a run stops when every task has finished. A policy that
   * never starts some task must still stop: by then the tasks could have
   * run one after another, each after a refusal and a pass.
   */
  private safetyCap(): number {
    let last = Math.max(0, ...this.workload.agents.map((a) => a.joinS));
    let work = 0;
    for (const f of this.workload.frameworks) {
      for (const t of f.tasks) {
        last = Math.max(last, t.submitS);
        work += t.durationS + f.refuseSeconds + this.workload.allocationIntervalS;
      }
    }
    return last + work;
  }
}

/** Simulated times are kept to the microsecond, so 0.1 + 0.2 lands on 0.3 and CSVs stay readable. */
const toMicros = (t: number): number => Math.round(t * 1e6) / 1e6;

/** The scalar resources the agents have, in a stable order (cpus, mem first). */
function scalarNames(agents: readonly SimAgent[]): string[] {
  const names = new Set<string>();
  for (const a of agents) for (const e of a.resources.list()) if (e.value.kind === 'scalar') names.add(e.name);
  const first = ['cpus', 'mem', 'disk', 'gpus'].filter((n) => names.has(n));
  return [...first, ...[...names].filter((n) => !first.includes(n)).sort()];
}
