// The leader's plumbing: the Scheduler subscription, status updates, offers
// and the periodic reconciliation of every app towards its plan.
//
//   elected ──load state──> subscribe (stored FrameworkID, failover_timeout)
//     ──> reconcile: explicit (our instances), then implicit (kill tasks we do not know)
//     ──> ready: every `tick` and after each change, planApp() per app:
//            kills issued; launches queued → REVIVE; nothing queued → SUPPRESS
//         offers: matchOffers() → instance stored in ZooKeeper → LAUNCH; the rest DECLINEd with a filter
//         updates: terminal → instance dropped (a failure not asked for → launch backoff)
//
// Every change to the state runs through `serial`, one at a time, so an
// offer, an update and an API call never interleave halfway.
import { randomUUID } from 'node:crypto';
import type { OfferOut, TaskStatusOut } from '../../proto/index.js';
import type { Scheduler } from '../sdk/scheduler.js';
import { needsAcknowledgement, type SchedulerEventMap } from '../sdk/events.js';
import type { EventEmitter } from 'node:events';
import { isTerminal, type TaskState } from '../../common/task-state.js';
import { errorMessage } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log/logger.js';
import type { AppDefinition } from './app-definition.js';
import type { Deployment } from './deployments.js';
import type { EventBus } from './events.js';
import { matchOffers, offerView, type OfferView, type Wanted } from './offer-matcher.js';
import { isExpunged, planApp, type Instance, type InstanceState } from './planner.js';
import type { AppsStore } from './store.js';
import { appTaskInfo, launchDelaySeconds, newTaskId } from './task-info.js';
import { probeReady, readinessUrl } from './readiness.js';
import { newOfferStats, recordOffers, taskJson, type OfferStats } from './views.js';
import { Drainer, drainsFirst, type DrainOptions } from './drain.js';

/** What the runtime needs of the SDK's Scheduler; test/harness/fake-scheduler.ts plays it in unit tests. */
export type SchedulerPort = Pick<Scheduler, 'reconcile' | 'kill' | 'launch' | 'decline' | 'revive' | 'suppress' | 'acknowledge'> & Pick<EventEmitter<SchedulerEventMap>, 'on'>;

export interface RuntimeOptions {
  readonly declineRefuseSeconds: number;
  readonly defaultImage: string;
  /** How long to wait for answers to an explicit reconciliation. */
  readonly reconcileTimeoutMs: number;
  readonly tickMs: number;
  /** An instance not RUNNING this long after its launch is killed (and so replaced). */
  readonly taskLaunchTimeoutSeconds: number;
  /** Kills of healthy instances drain them in the load balancers first (drain.ts); none: killed at once. */
  readonly drain?: DrainOptions;
}

interface Backoff {
  failures: number;
  delayUntil: number;
  lastFailureAt: number;
}

/** The framework's state in memory, the leader's only copy while it leads. */
export class AppsState {
  readonly apps = new Map<string, AppDefinition>();
  readonly instances = new Map<string, Instance>();
  readonly deployments = new Map<string, Deployment>();
  readonly backoff = new Map<string, Backoff>();
  readonly offerStats = new Map<string, OfferStats>();
  /** When each app's current launch queue entry started. */
  readonly queuedSince = new Map<string, string>();
  /** Each app's last task that ended without being asked to (Marathon's lastTaskFailure). */
  readonly lastTaskFailure = new Map<string, Record<string, unknown>>();

  instancesOf(appId: string): Instance[] {
    return [...this.instances.values()].filter((i) => i.appId === appId);
  }

  deploymentsOf(appId: string): Deployment[] {
    return [...this.deployments.values()].filter((d) => d.appId === appId);
  }
}

const FAILURES: ReadonlySet<TaskState> = new Set<TaskState>(['TASK_FAILED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_KILLED', 'TASK_GONE_BY_OPERATOR', 'TASK_FINISHED']);

export class AppsRuntime {
  private chain: Promise<unknown> = Promise.resolve();
  private ready = false;
  private suppressed = false;
  /** Launches wanted (and not held back by a delay) at the last check. */
  private lastPending = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** When each instance's readiness was last probed (seconds). */
  private readonly probed = new Map<string, number>();
  /** Task ids reported in the current reconciliation. */
  private answered: Set<string> | null = null;
  private readonly drainer: Drainer | null;

  constructor(
    readonly state: AppsState,
    private readonly scheduler: SchedulerPort,
    private readonly store: AppsStore,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: RuntimeOptions,
  ) {
    scheduler.on('offers', (e) => void this.serial(() => this.onOffers(e.offers)));
    scheduler.on('update', (e) => void this.serial(() => this.onUpdateThenAcknowledge(e.status)));
    scheduler.on('reconnected', () => void this.reconcileThenRun());
    scheduler.on('subscribed', (e) => void this.serial(() => this.store.saveFrameworkId(e.frameworkId)));
    const instances = state.instances;
    const kill = (taskId: string, why: string) => this.serial(async () => { const i = instances.get(taskId); if (i) await this.sendKill(i, why); });
    this.drainer = options.drain ? new Drainer(options.drain, { instances, store, events, clock, log, kill }) : null;
  }

  get isReady(): boolean {
    return this.ready;
  }

  now(): string {
    return new Date(this.clock.now() * 1000).toISOString();
  }

  /** Runs `fn` after every change queued before it; errors are logged, not thrown to the caller's caller. */
  serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch((err: unknown) => this.log.error({ err: errorMessage(err) }, `apps: ${errorMessage(err)}`));
    return run;
  }

  /** Subscribed: reconcile, then act (and keep acting every tick). */
  async reconcileThenRun(): Promise<void> {
    this.ready = false;
    this.suppressed = false;
    await this.reconcile();
    if (this.stopped) return;
    this.ready = true;
    this.drainer?.resume(this.state.instances.values());
    this.log.info(`apps: reconciled ${this.state.instances.size} instance(s); scheduling`);
    if (!this.timer) {
      this.timer = setInterval(() => void this.serial(() => this.tick()), this.options.tickMs);
      this.timer.unref();
    }
    await this.serial(() => this.tick());
  }

  stop(): void {
    this.stopped = true;
    this.drainer?.stop();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Explicit reconciliation of what we stored, then implicit: answers go through onUpdate like any status. */
  private async reconcile(): Promise<void> {
    const known = [...this.state.instances.values()].map((i) => ({ taskId: i.taskId, agentId: i.agentId }));
    this.answered = new Set();
    if (known.length > 0) {
      await this.scheduler.reconcile(known).catch((err: unknown) => this.log.warn(`apps: explicit reconciliation failed: ${errorMessage(err)}`));
      const deadline = performance.now() + this.options.reconcileTimeoutMs;
      while (performance.now() < deadline && known.some((k) => !this.answered!.has(k.taskId))) await sleep(50);
      const silent = known.filter((k) => !this.answered!.has(k.taskId));
      if (silent.length > 0) this.log.warn(`apps: no reconciliation answer for ${silent.map((s) => s.taskId).join(', ')}; keeping them`);
    }
    await this.scheduler.reconcile([]).catch((err: unknown) => this.log.warn(`apps: implicit reconciliation failed: ${errorMessage(err)}`));
    // Implicit answers come without an end marker: give them a moment, then act on what arrived.
    await sleep(Math.min(1000, this.options.reconcileTimeoutMs));
    await this.serial(() => undefined);
    this.answered = null;
  }

  /**
   * Acknowledged only once handled (and stored): a leader that dies before that leaves the update
   * with the agent, which sends it again to the next leader.
   */
  private async onUpdateThenAcknowledge(status: TaskStatusOut): Promise<void> {
    await this.onUpdate(status);
    if (needsAcknowledgement(status)) {
      await this.scheduler.acknowledge(status).catch((err: unknown) => this.log.warn(`apps: acknowledge ${status.task_id?.value}: ${errorMessage(err)}`));
    }
  }

  private async onUpdate(status: TaskStatusOut): Promise<void> {
    const taskId = status.task_id?.value ?? '';
    const state = String(status.state) as TaskState;
    this.answered?.add(taskId);
    const inst = this.state.instances.get(taskId);
    this.events.publish('status_update_event', this.now(), {
      slaveId: status.agent_id?.value ?? '', agentId: status.agent_id?.value ?? '', taskId, taskStatus: state,
      message: status.message ?? '', appId: inst?.appId ?? '', host: inst?.agent.hostname ?? '', ports: inst?.ports ?? [], version: inst?.version ?? '',
    });
    if (!inst) {
      // Instances are stored before their launch, so a live task without one is left from a deleted app or a crash.
      if (!isTerminal(state)) await this.killUnknown(taskId, status.agent_id?.value);
      return;
    }
    if (isTerminal(state)) {
      this.state.instances.delete(taskId);
      await this.store.deleteInstance(taskId);
      if (!inst.killing && FAILURES.has(state)) {
        this.recordFailure(inst.appId, taskId, state, status.message ?? '');
        this.state.lastTaskFailure.set(inst.appId, {
          appId: inst.appId, host: inst.agent.hostname, message: status.message ?? '', state, taskId, timestamp: this.now(), version: inst.version,
        });
      }
      this.events.publish('instance_changed_event', this.now(), { instanceId: taskId, condition: state, runSpecId: inst.appId, agentId: inst.agentId, host: inst.agent.hostname, runSpecVersion: inst.version });
      this.kick();
      return;
    }
    const { unreachableSince: _since, ...rest } = inst;
    const next: Instance = {
      ...rest,
      ...(state === 'TASK_UNREACHABLE' && { unreachableSince: inst.unreachableSince ?? this.now() }),
      state: state as InstanceState,
      ...(state === 'TASK_RUNNING' && !inst.startedAt && { startedAt: this.now() }),
      ...(status.healthy !== undefined && status.healthy !== null && { healthy: status.healthy }),
    };
    this.state.instances.set(taskId, next);
    // Kept in ZooKeeper as it changes, so a new leader knows which instances were healthy without waiting for checks.
    if (next.state !== inst.state || next.healthy !== inst.healthy) await this.store.putInstance(next);
    if (next.healthy !== inst.healthy && next.healthy !== undefined) {
      this.events.publish('health_status_changed_event', this.now(), { appId: inst.appId, taskId, instanceId: taskId, version: inst.version, alive: next.healthy });
    }
    if (next.state !== inst.state) {
      this.events.publish('instance_changed_event', this.now(), { instanceId: taskId, condition: next.state, runSpecId: inst.appId, agentId: inst.agentId, host: inst.agent.hostname, runSpecVersion: inst.version });
      this.kick();
    } else if (next.healthy !== inst.healthy) this.kick();
  }

  /** A task of ours we have no instance for (its app was deleted, or it is left from a crash): it goes. */
  private async killUnknown(taskId: string, agentId: string | undefined): Promise<void> {
    this.log.warn(`apps: killing task ${taskId}: no app instance knows it`);
    await this.scheduler.kill(taskId, { ...(agentId && { agentId }) }).catch((err: unknown) => this.log.warn(`apps: kill ${taskId}: ${errorMessage(err)}`));
  }

  private recordFailure(appId: string, taskId: string, state: TaskState, message: string): void {
    const app = this.state.apps.get(appId);
    if (!app) return;
    const b = this.state.backoff.get(appId) ?? { failures: 0, delayUntil: 0, lastFailureAt: 0 };
    b.failures++;
    b.lastFailureAt = this.clock.now();
    b.delayUntil = b.lastFailureAt + launchDelaySeconds(app, b.failures);
    this.state.backoff.set(appId, b);
    this.log.info(`apps: ${appId}: task ${taskId} ended ${state} (${message}); next launch in ${launchDelaySeconds(app, b.failures).toFixed(1)} s (failure ${b.failures})`);
  }

  /**
   * The dependencies a deploying app waits for: those missing, deploying, or not complete. An app with no
   * deployment running replaces its instances whatever its dependencies do, as Marathon does.
   */
  waitingFor(app: AppDefinition): string[] {
    if ((app.dependencies ?? []).length === 0 || this.state.deploymentsOf(app.id).length === 0) return [];
    return app.dependencies.filter((id) => {
      const dep = this.state.apps.get(id);
      return !dep || this.state.deploymentsOf(id).length > 0 || !planApp(dep, this.state.instancesOf(id), this.clock.now()).complete;
    });
  }

  /** Seconds until the app may launch again (0: now). */
  delayLeft(appId: string): number {
    const b = this.state.backoff.get(appId);
    return b ? Math.max(0, b.delayUntil - this.clock.now()) : 0;
  }

  /** Forget an app's failures (a new configuration deserves a fresh start). */
  resetDelay(appId: string): void {
    this.state.backoff.delete(appId);
  }

  /** Another tick soon, after the current work. */
  kick(): void {
    if (this.ready) void this.serial(() => this.tick());
  }

  /** Brings every app one step closer to its plan; ends deployments that are done. */
  private async tick(): Promise<void> {
    if (!this.ready || this.stopped) return;
    let pending = 0;
    const now = this.clock.now();
    for (const inst of this.state.instances.values()) {
      if (inst.killing) continue;
      const app = this.state.apps.get(inst.appId);
      if (!app) await this.kill(inst, 'its app was deleted');
      else if (isExpunged(app, inst, now)) await this.expunge(inst);
      else if ((inst.state === 'TASK_STAGING' || inst.state === 'TASK_STARTING') && now - Date.parse(inst.stagedAt) / 1000 > this.options.taskLaunchTimeoutSeconds) {
        await this.kill(inst, `not RUNNING ${this.options.taskLaunchTimeoutSeconds} s after its launch (--task_launch_timeout)`);
      } else this.checkReadiness(app, inst, now);
    }
    for (const app of this.state.apps.values()) {
      const plan = planApp(app, this.state.instancesOf(app.id), this.clock.now());
      for (const inst of plan.kill) await this.kill(inst, 'the deployment plan');
      if (plan.launch > 0) {
        if (!this.state.queuedSince.has(app.id)) this.state.queuedSince.set(app.id, this.now());
        if (this.delayLeft(app.id) === 0 && this.waitingFor(app).length === 0) pending += plan.launch;
      } else this.state.queuedSince.delete(app.id);
      const b = this.state.backoff.get(app.id);
      if (plan.complete && b && this.clock.now() > b.delayUntil + Math.max(1, app.backoffSeconds)) this.resetDelay(app.id);
      for (const d of this.state.deploymentsOf(app.id)) if (plan.complete && d.actions[0] !== 'StopApplication') await this.finishDeployment(d);
    }
    for (const d of [...this.state.deployments.values()]) {
      if (d.actions[0] === 'StopApplication' && this.state.instancesOf(d.appId).length === 0) await this.finishDeployment(d);
    }
    // More to launch than at the last check (a task died, a delay ran out): REVIVE, which also drops the
    // refuse filters of earlier declines, so agents that could not help before are offered again.
    const grew = pending > this.lastPending;
    this.lastPending = pending;
    if (pending > 0 && (this.suppressed || grew)) {
      this.suppressed = false;
      await this.scheduler.revive().catch((err: unknown) => this.log.warn(`apps: revive: ${errorMessage(err)}`));
    } else if (pending === 0 && !this.suppressed) {
      this.suppressed = true;
      await this.scheduler.suppress().catch((err: unknown) => {
        this.suppressed = false;
        this.log.warn(`apps: suppress: ${errorMessage(err)}`);
      });
    }
  }

  private async finishDeployment(d: Deployment): Promise<void> {
    this.state.deployments.delete(d.id);
    await this.store.deleteDeployment(d.id);
    this.log.info(`apps: deployment ${d.id} of ${d.appId} (${d.actions.join(', ')}) succeeded`);
    this.events.publish('deployment_step_success', this.now(), { plan: { id: d.id, version: d.version }, currentStep: { actions: d.actions.map((action) => ({ action, app: d.appId })) } });
    this.events.publish('deployment_success', this.now(), { id: d.id, plan: { id: d.id, version: d.version } });
  }

  /** Probes a new instance's readiness (outside the serial work: a probe may take timeoutSeconds), at most once per interval. */
  private checkReadiness(app: AppDefinition, inst: Instance, now: number): void {
    const check = app.readinessChecks?.[0];
    if (!check || !inst.readinessChecked || inst.ready || inst.killing || inst.state !== 'TASK_RUNNING') return;
    const last = this.probed.get(inst.taskId);
    if (last !== undefined && now - last < check.intervalSeconds) return;
    this.probed.set(inst.taskId, now);
    const url = readinessUrl(app, check, inst);
    if (!url) return;
    void probeReady(url, check).then((ready) => {
      if (ready) void this.serial(() => this.markReady(inst.taskId, check.name));
    });
  }

  private async markReady(taskId: string, check: string): Promise<void> {
    const inst = this.state.instances.get(taskId);
    if (!inst || inst.ready) return;
    const next: Instance = { ...inst, ready: true };
    this.state.instances.set(taskId, next);
    this.probed.delete(taskId);
    await this.store.putInstance(next);
    this.log.info(`apps: ${taskId} of ${inst.appId} is ready (${check})`);
    this.kick();
  }

  /** Unreachable past expungeAfterSeconds: forgotten; should it come back, it is an unknown task and is killed. */
  private async expunge(inst: Instance): Promise<void> {
    this.log.info(`apps: expunging ${inst.taskId} of ${inst.appId}: unreachable since ${inst.unreachableSince}`);
    this.state.instances.delete(inst.taskId);
    await this.store.deleteInstance(inst.taskId);
    this.state.lastTaskFailure.set(inst.appId, {
      appId: inst.appId, host: inst.agent.hostname, message: `unreachable since ${inst.unreachableSince}`, state: 'TASK_UNREACHABLE',
      taskId: inst.taskId, timestamp: this.now(), version: inst.version,
    });
    this.events.publish('instance_changed_event', this.now(), { instanceId: inst.taskId, condition: 'Expunged', runSpecId: inst.appId, agentId: inst.agentId, host: inst.agent.hostname, runSpecVersion: inst.version });
    await this.scheduler.kill(inst.taskId, { agentId: inst.agentId }).catch(() => {});
  }

  /** Asks Mesos to kill the instance (draining it first when it may be serving); its terminal update removes it. */
  async kill(inst: Instance, why: string): Promise<void> {
    if (inst.killing) return;
    if (this.drainer && drainsFirst(inst)) return this.drainer.begin(inst, why);
    await this.sendKill(inst, why);
  }

  private async sendKill(inst: Instance, why: string): Promise<void> {
    this.state.instances.set(inst.taskId, { ...inst, killing: true });
    this.log.info(`apps: killing ${inst.taskId} of ${inst.appId}: ${why}`);
    const app = this.state.apps.get(inst.appId);
    await this.scheduler.kill(inst.taskId, {
      agentId: inst.agentId,
      ...(app?.taskKillGracePeriodSeconds !== undefined && { gracePeriodSeconds: app.taskKillGracePeriodSeconds }),
    }).catch((err: unknown) => {
      this.log.warn(`apps: kill ${inst.taskId}: ${errorMessage(err)}`);
      const now = this.state.instances.get(inst.taskId);
      if (now) this.state.instances.set(inst.taskId, { ...now, killing: false });
    });
  }

  private async onOffers(offers: readonly OfferOut[]): Promise<void> {
    const views = offers.map(offerView);
    if (!this.ready) {
      await this.decline(views, 1);
      return;
    }
    const wanted: Wanted[] = [];
    for (const app of this.state.apps.values()) {
      const plan = planApp(app, this.state.instancesOf(app.id), this.clock.now());
      if (plan.launch > 0 && this.delayLeft(app.id) === 0 && this.waitingFor(app).length === 0) {
        wanted.push({ app, count: plan.launch, placed: this.state.instancesOf(app.id).filter((i) => !i.killing).map((i) => i.agent) });
      }
    }
    const result = matchOffers(views, wanted);
    const used = new Set(result.launches.map((l) => l.app.id));
    for (const w of wanted) {
      const stats = this.state.offerStats.get(w.app.id) ?? newOfferStats();
      this.state.offerStats.set(w.app.id, recordOffers(stats, views.length, result.refusals.get(w.app.id) ?? [], used.has(w.app.id), this.now()));
    }
    const byOffer = new Map<string, typeof result.launches[number][]>();
    for (const l of result.launches) byOffer.set(l.offer.id, [...(byOffer.get(l.offer.id) ?? []), l]);
    for (const [, launches] of byOffer) {
      const offer = launches[0]!.offer;
      const tasks = [];
      const created: Instance[] = [];
      for (const l of launches) {
        const taskId = newTaskId(l.app, randomUUID());
        const inst: Instance = {
          taskId, appId: l.app.id, version: l.app.versionInfo.lastConfigChangeAt, agentId: offer.agentId, agent: offer.agent, ...(offer.url && { agentUrl: offer.url }),
          ports: l.ports, servicePorts: l.app.portDefinitions.map((p) => p.port), stagedAt: this.now(), state: 'TASK_STAGING',
          healthChecked: l.app.healthChecks.length > 0,
          readinessChecked: (l.app.readinessChecks ?? []).length > 0,
        };
        tasks.push(appTaskInfo(l, taskId, this.options.defaultImage));
        // Stored before the launch: a leader that dies after LAUNCH leaves its successor a record to reconcile.
        await this.store.putInstance(inst);
        this.state.instances.set(taskId, inst);
        created.push(inst);
      }
      try {
        await this.scheduler.launch(offer.id, tasks, { refuseSeconds: this.options.declineRefuseSeconds });
        for (const inst of created) this.log.info(`apps: launched ${inst.taskId} on ${inst.agent.hostname} (ports ${inst.ports.join(',') || 'none'})`);
      } catch (err) {
        this.log.warn(`apps: launch on offer ${offer.id} failed: ${errorMessage(err)}`);
        for (const inst of created) {
          this.state.instances.delete(inst.taskId);
          await this.store.deleteInstance(inst.taskId);
        }
      }
    }
    await this.decline(result.unused, this.options.declineRefuseSeconds);
  }

  private async decline(offers: readonly OfferView[], refuseSeconds: number): Promise<void> {
    if (offers.length === 0) return;
    await this.scheduler.decline(offers.map((o) => o.id), { refuseSeconds }).catch((err: unknown) => this.log.warn(`apps: decline: ${errorMessage(err)}`));
  }

  /** GET /v2/apps/{id}/tasks's form of an instance. */
  taskJson(inst: Instance): Record<string, unknown> {
    return taskJson(inst);
  }
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
