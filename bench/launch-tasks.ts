// The framework side of bench/launch: tasks launched through the master,
// ACCEPT to TASK_RUNNING timed, and the launch trace's hops of each task
// (common/launch-trace.ts) recorded relative to its ACCEPT. Each launch's
// tasks are killed afterwards, untimed, and the next launch waits until the
// agent removed their containers (and refilled its root pool).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { LABEL } from '../agent/task-spec.js';
import { onLaunchHop } from '../common/launch-trace.js';
import { Resources } from '../common/resources.js';
import { dockerTask, type OfferOut, type Scheduler, type TaskStatusOut } from '../framework/sdk/index.js';
import { BENCH_IMAGE, type Confinement, type Limits } from './plain-launch.js';

export type Containerizer = 'docker' | 'mesos';
/** Per task: when it passed each hop (the first time), in ms since its ACCEPT. */
export type Hops = Map<string, Map<string, number>>;

const TERMINAL = new Set(['TASK_FAILED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_KILLED', 'TASK_FINISHED']);
/** The last hop of every traced launch, added by the bench itself. */
export const RUNNING_SEEN = 'framework: TASK_RUNNING seen';

type Outcome = 'reached' | 'invalid offer';

export interface BenchTasksOptions {
  readonly scheduler: Scheduler;
  readonly limits: Limits;
  /** The agent's work_dir and --oci_root_pool: what "the agent is idle again" is checked against. */
  readonly agentWorkDir: string;
  readonly rootPool: number;
  /** For a test of the bench's clean-up: a launch throws once this many tasks (counted from the start) reached TASK_RUNNING, its own still running. */
  readonly failAfter?: number;
}

export class BenchTasks {
  /** Single launches' hops, per containerizer; cleared after the warm-up. */
  readonly traced: Record<Containerizer, Hops> = { docker: new Map(), mesos: new Map() };
  /** The hops of the last burst's tasks (a launch of more than one task), per containerizer. */
  readonly tracedBurst: Record<Containerizer, Hops> = { docker: new Map(), mesos: new Map() };
  /** The seccomp filter and capabilities of the agent's first mesos task (plain runc compares with it). */
  confinement: Confinement | null = null;
  // By offer id: an offer the SDK hands over again (after a re-subscription) is held once, never accepted twice.
  private readonly offers = new Map<string, OfferOut>();
  private readonly waiting = new Map<string, { state: string; resolve: (outcome: Outcome) => void; reject: (err: Error) => void }>();
  private readonly hops: Hops = new Map();
  private readonly acceptedAt = new Map<string, number>();
  private readonly demand: Resources;
  private seq = 0;
  private launched = 0;
  readonly stopTracing: () => void;

  constructor(private readonly options: BenchTasksOptions) {
    this.demand = Resources.parse(`cpus:${options.limits.cpus};mem:${options.limits.memMiB}`);
    const { scheduler } = options;
    scheduler.on('offers', (e) => e.offers.forEach((o) => this.offers.set(o.id!.value, o)));
    scheduler.on('rescind', (e) => this.offers.delete(e.offerId));
    scheduler.on('update', (e: { status: TaskStatusOut }) => this.onUpdate(e.status));
    this.stopTracing = onLaunchHop(({ taskId, hop, at }) => {
      const t0 = this.acceptedAt.get(taskId);
      const seen = this.hops.get(taskId);
      if (t0 !== undefined && seen && !seen.has(hop)) seen.set(hop, at - t0);
    });
  }

  private onUpdate(status: TaskStatusOut): void {
    const w = this.waiting.get(status.task_id!.value);
    if (w && status.state === w.state) w.resolve('reached');
    // The master refused the ACCEPT (an offer it no longer held: rescinded after the agent missed pings under load): launched again.
    else if (w && status.reason === 'REASON_INVALID_OFFERS') w.resolve('invalid offer');
    else if (w && TERMINAL.has(status.state ?? '')) w.reject(new Error(`${status.task_id!.value}: ${status.state} ${status.message ?? ''}`));
  }

  private until(taskId: string, state: string): Promise<Outcome> {
    return new Promise((resolve, reject) => this.waiting.set(taskId, { state, resolve, reject }));
  }

  /** `count` tasks in one ACCEPT: ms from it to each one's TASK_RUNNING; they are killed afterwards (untimed). */
  async launch(containerizer: Containerizer, count: number): Promise<number[]> {
    for (let attempt = 1; ; attempt++) {
      const took = await this.launchOnce(containerizer, count);
      if (took !== null) return took;
      if (attempt === 3) throw new Error(`the master refused ${attempt} ACCEPTs in a row for offers it no longer held`);
      process.stderr.write(`an ACCEPT named an offer the master no longer held; launching again (attempt ${attempt + 1})\n`);
    }
  }

  /** null when the master refused the ACCEPT for its offers (nothing was launched). */
  private async launchOnce(containerizer: Containerizer, count: number): Promise<number[] | null> {
    const taken = await this.takeOffers(count);
    const agentId = taken[0]!.agent_id!.value;
    const ids = Array.from({ length: count }, () => `bench-${containerizer}-${this.seq++}`);
    const took = await this.timeToRunning(containerizer, ids, taken);
    if (took === null) return null;
    if (containerizer === 'mesos') this.confinement ??= agentConfinement(this.options.agentWorkDir);
    this.launched += count;
    if (this.options.failAfter !== undefined && this.launched >= this.options.failAfter) {
      throw new Error(`--fail_after ${this.options.failAfter}: failing on purpose with ${count} task(s) running`);
    }
    await this.killAll(ids, agentId);
    // Untimed, as the plain ways remove their container before the next: the agent removes the killed tasks'
    // containers (and refills its root pool) before the next launch, which would otherwise share the cpus with it.
    await agentIdle(containerizer, this.options.agentWorkDir, this.options.rootPool);
    return took;
  }

  /** The ACCEPT of `ids` on `offers`, and ms from it to each TASK_RUNNING; null when the master refused every task for its offers. */
  private async timeToRunning(containerizer: Containerizer, ids: readonly string[], offers: readonly OfferOut[]): Promise<number[] | null> {
    const agentId = offers[0]!.agent_id!.value;
    const tasks = ids.map((taskId) => dockerTask({ taskId, agentId, resources: this.demand, image: BENCH_IMAGE, command: 'sleep 3600', containerizer }));
    const running = ids.map((id) => this.until(id, 'TASK_RUNNING').then((outcome) => ({ outcome, at: performance.now() })));
    for (const id of ids) this.hops.set(id, new Map());
    const t0 = performance.now();
    for (const id of ids) this.acceptedAt.set(id, t0);
    await this.options.scheduler.launch(offers, tasks, { refuseSeconds: 0 });
    const outcomes = await Promise.all(running);
    for (const id of ids) this.acceptedAt.delete(id); // later hops (its kill) are not part of the launch
    if (outcomes.some((o) => o.outcome === 'invalid offer')) {
      for (const id of ids) this.hops.delete(id);
      if (outcomes.every((o) => o.outcome === 'invalid offer')) return null;
      throw new Error('the master refused some tasks of one ACCEPT for its offers and launched others');
    }
    const took = outcomes.map((o) => o.at - t0);
    if (ids.length > 1) this.tracedBurst[containerizer].clear();
    ids.forEach((id, i) => {
      this.hops.get(id)!.set(RUNNING_SEEN, took[i]!);
      (ids.length === 1 ? this.traced : this.tracedBurst)[containerizer].set(id, this.hops.get(id)!);
      this.hops.delete(id);
    });
    return took;
  }

  private async killAll(ids: readonly string[], agentId: string): Promise<void> {
    const killed = ids.map((id) => this.until(id, 'TASK_KILLED'));
    for (const id of ids) await this.options.scheduler.kill(id, { agentId });
    await Promise.all(killed);
  }

  /** Every outstanding offer, once together they hold `count` tasks (one agent: one ACCEPT takes them all). */
  private async takeOffers(count: number): Promise<OfferOut[]> {
    const holds = () => {
      const total = [...this.offers.values()].reduce((sum, o) => sum.add(Resources.fromProto(o.resources)), Resources.EMPTY);
      return total.scalar('cpus') >= count * this.demand.scalar('cpus') - 1e-9 && total.scalar('mem') >= count * this.demand.scalar('mem');
    };
    const deadline = Date.now() + 30_000;
    while (!holds()) {
      if (Date.now() > deadline) throw new Error(`no offers for ${count} task(s) within 30 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const taken = [...this.offers.values()];
    this.offers.clear();
    return taken;
  }
}

/** The seccomp filter and capabilities of the agent's running mesos task, from its bundle's config.json. */
function agentConfinement(workDir: string): Confinement {
  const bundles = join(workDir, 'oci', 'containers');
  const id = readdirSync(bundles)[0];
  if (id === undefined) throw new Error(`no bundle in ${bundles} to read the agent's seccomp filter from`);
  const config = JSON.parse(readFileSync(join(bundles, id, 'config.json'), 'utf8')) as { process: { capabilities: unknown }; linux: { seccomp?: unknown } };
  return { capabilities: config.process.capabilities, ...(config.linux.seccomp !== undefined ? { seccomp: config.linux.seccomp } : {}) };
}

/**
 * Resolves once the agent removed every container of the containerizer and, for mesos, holds `rootPool` roots
 * ready again (counted in the mount table), or after 60 s.
 */
async function agentIdle(containerizer: Containerizer, workDir: string, rootPool: number): Promise<void> {
  const docker = new Docker();
  const idle = async () => {
    if (containerizer === 'docker') return (await docker.listContainers({ all: true, filters: { label: [`${LABEL.workDir}=${workDir}`] } })).length === 0;
    const bundles = existsSync(join(workDir, 'oci', 'containers')) ? readdirSync(join(workDir, 'oci', 'containers')) : [];
    const pooled = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => (l.split(' ')[4] ?? '').startsWith(join(workDir, 'oci', 'pool') + '/'));
    return bundles.length === 0 && pooled.length >= rootPool;
  };
  const deadline = Date.now() + 60_000;
  while (!(await idle()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}
