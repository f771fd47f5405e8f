// A scheduler worker process (forked by main.ts): subscribes its frameworks
// with the SDK's Scheduler and launches small command tasks into every
// offer as fast as offers come (up to `tasksPerOffer` per offer; the offers
// of an event it does not use declined together for --decline_seconds, 0.2 s
// by default, so that they go to other frameworks and come back soon), while
// fewer than `maxInFlight` of a framework's tasks are launched and not yet
// RUNNING: a closed loop, so that the figures show what the master sustains
// rather than how long a queue an open loop can build in front of it (the
// decision: offer-plan.ts).
// Status updates are acknowledged by the SDK as they arrive. Reports its
// counts and each framework's subscriptions and first offers every 250 ms.
import { Scheduler, parseDemand, silentLogger } from '../../framework/sdk/index.js';
import { planOffers } from './offer-plan.js';
import { TRACE_MAX, loopDelaySampler, traced, wallNow, type FrameworkTimes, type FromWorker, type SchedulerWorkerProgress, type SchedulerWorkerStart, type ToWorker } from './ipc.js';

const REPORT_MS = 250;
const send = (m: FromWorker) => process.send?.(m);
const loopDelay = loopDelaySampler();

interface Framework {
  readonly scheduler: Scheduler;
  readonly times: FrameworkTimes & { subscriptions: { masterId: string; at: number }[]; firstOffers: { masterId: string; at: number }[] };
  masterId: string;
  /** Launched (ACCEPT sent), not yet RUNNING or terminal. */
  inFlight: number;
}

const frameworks: Framework[] = [];
const counts = { offers: 0, launched: 0, launchErrors: 0, running: 0, finished: 0, otherUpdates: 0 };
let reporter: NodeJS.Timeout | null = null;
let nextTask = 0;
/** Launch times of tasks not yet seen STARTING / RUNNING; the latencies seen (capped, the first ones kept). */
const launchedAt = new Map<string, number>();
const latency = { starting: [] as number[], running: [] as number[] };
const seenLatencies = { starting: 0, running: 0 };
const MAX_LATENCIES = 5000;
const hops: Record<string, Record<string, number>> = {};
let tracedTasks = 0;

function hop(taskId: string, name: string, at: number): void {
  if (!traced(taskId)) return;
  let h = hops[taskId];
  if (!h) {
    if (tracedTasks >= TRACE_MAX || name !== 'launch') return;
    tracedTasks++;
    h = hops[taskId] = {};
  }
  h[name] ??= at;
}

/** Reservoir sampling: a uniform sample of every latency seen, at most MAX_LATENCIES of each. */
function keep(kind: 'starting' | 'running', v: number): void {
  const n = ++seenLatencies[kind];
  if (latency[kind].length < MAX_LATENCIES) latency[kind].push(v);
  else if (Math.random() * n < MAX_LATENCIES) latency[kind][Math.floor(Math.random() * MAX_LATENCIES)] = v;
}

function progress(withHops = false): SchedulerWorkerProgress {
  return { type: 'schedulers', frameworks: frameworks.map((f) => f.times), ...counts, latency, loopP99Ms: loopDelay(), hops: withHops ? hops : null };
}

async function start(m: SchedulerWorkerStart): Promise<void> {
  const demand = parseDemand(m.demand);
  for (const name of m.names) {
    const scheduler = new Scheduler({
      master: m.master, framework: { name, failoverTimeoutSeconds: 600 }, logger: silentLogger,
      reconnect: { initialDelayMs: 100 },
    });
    const fw: Framework = { scheduler, times: { name, subscribeSentAt: wallNow(), subscriptions: [], firstOffers: [] }, masterId: '', inFlight: 0 };
    frameworks.push(fw);
    scheduler.on('subscribed', (e) => {
      fw.masterId = e.masterInfo?.id ?? '';
      fw.times.subscriptions.push({ masterId: fw.masterId, at: wallNow() });
    });
    scheduler.on('offers', (e) => {
      const at = wallNow();
      if (!fw.times.firstOffers.some((o) => o.masterId === fw.masterId)) fw.times.firstOffers.push({ masterId: fw.masterId, at });
      counts.offers += e.offers.length;
      const plan = planOffers(e.offers, { demand, perOffer: m.tasksPerOffer, maxInFlight: m.maxInFlight, inFlight: fw.inFlight }, () => `${name}-${process.pid}-${nextTask++}`);
      for (const { offer, tasks } of plan.launches) {
        fw.inFlight += tasks.length;
        for (const t of tasks) {
          launchedAt.set(t.task_id?.value ?? '', at);
          hop(t.task_id?.value ?? '', 'launch', at);
        }
        scheduler.launch(offer, tasks, { refuseSeconds: 0 }).then(() => void (counts.launched += tasks.length), () => {
          counts.launchErrors += tasks.length;
          fw.inFlight -= tasks.length;
        });
      }
      if (plan.decline.length > 0) scheduler.decline(plan.decline, { refuseSeconds: m.declineSeconds }).catch(() => {});
    });
    scheduler.on('update', (e) => {
      const state = String(e.status.state);
      const id = e.status.task_id?.value ?? '';
      const t0 = launchedAt.get(id);
      hop(id, state, wallNow());
      if (t0 !== undefined && state === 'TASK_STARTING') keep('starting', wallNow() - t0);
      if (t0 !== undefined && (state === 'TASK_RUNNING' || (state !== 'TASK_STARTING' && state !== 'TASK_STAGING'))) {
        if (state === 'TASK_RUNNING') keep('running', wallNow() - t0);
        launchedAt.delete(id);
        fw.inFlight--;
      }
      if (state === 'TASK_RUNNING') counts.running++;
      else if (state === 'TASK_FINISHED') counts.finished++;
      else if (state !== 'TASK_STARTING') counts.otherUpdates++;
    });
    // Not awaited: every framework's SUBSCRIBE goes out at once.
    scheduler.start().catch((err: unknown) => send({ type: 'error', message: `${name}: ${String(err)}` }));
  }
  reporter = setInterval(() => send(progress()), REPORT_MS);
}

async function stop(): Promise<void> {
  if (reporter) clearInterval(reporter);
  send(progress());
  await Promise.all(frameworks.map((f) => f.scheduler.teardown({ signal: AbortSignal.timeout(2000) }).catch(() => f.scheduler.close())));
  process.exit(0);
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'start' && 'names' in m) start(m).catch((err: unknown) => send({ type: 'error', message: String(err) }));
  else if (m.type === 'hops') send(progress(true));
  else if (m.type === 'stop') void stop();
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
