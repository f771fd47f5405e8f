// What the harness (main.ts) and its worker processes say to each other over
// the fork IPC channel. Times are wall-clock milliseconds with sub-ms
// precision (performance.timeOrigin + performance.now()), comparable across
// the processes of one machine.

import { monitorEventLoopDelay } from 'node:perf_hooks';

export const wallNow = (): number => performance.timeOrigin + performance.now();

/** To an agent worker: start `count` agents numbered from `first`. */
export interface AgentWorkerStart {
  readonly type: 'start';
  /** The master's gRPC address, or a zk:// URL (followed with a LeaderDetector, as the agent does). */
  readonly master: string;
  readonly first: number;
  readonly count: number;
  readonly resources: string;
  readonly racks: number;
  readonly finishAfterMs: number;
  /** Each agent on a TCP connection of its own. */
  readonly ownConnections: boolean;
}

/** To a scheduler worker: subscribe these frameworks and keep launching. */
export interface SchedulerWorkerStart {
  readonly type: 'start';
  readonly master: string;
  readonly names: readonly string[];
  readonly demand: string;
  readonly tasksPerOffer: number;
  /** Per framework: tasks launched and not yet RUNNING at most (0: no limit). */
  readonly maxInFlight: number;
  /** An offer a framework has no room for is declined for this long. */
  readonly declineSeconds: number;
}

/** Tasks whose id ends in a number divisible by this are traced hop by hop, on both sides (hops.ts). */
export const TRACE_EVERY = 10;
/** Traced tasks each worker keeps, at most. */
export const TRACE_MAX = 2000;

/** Whether a harness task id (`<framework>-<pid>-<n>`) is traced. */
export function traced(taskId: string): boolean {
  const n = Number(taskId.slice(taskId.lastIndexOf('-') + 1));
  return Number.isInteger(n) && n % TRACE_EVERY === 0;
}

/** Wall-clock times of a traced task's hops, as one side saw them. */
export type Hops = Readonly<Record<string, number>>;

/** 'hops': answer with a report that carries the traced tasks (the periodic ones leave them out). */
export type ToWorker = AgentWorkerStart | SchedulerWorkerStart | { readonly type: 'stop' } | { readonly type: 'hops' };

/** Cumulative counts, sent every 250 ms and once more on stop. */
export interface AgentWorkerProgress {
  readonly type: 'agents';
  readonly registered: number;
  readonly reregistrations: number;
  /** When the last of this worker's agents registered for the first time. */
  readonly lastRegisteredAt: number | null;
  readonly acknowledged: Readonly<Record<string, number>>;
  readonly pending: number;
  /** This worker's event-loop delay p99 since its previous report (ms). */
  readonly loopP99Ms: number;
  /** Traced tasks (only in answers to 'hops'): 'runTask', 'TASK_STARTING acked', 'TASK_RUNNING acked' at the agent. */
  readonly hops: Readonly<Record<string, Hops>> | null;
}

/** A framework's subscriptions and first offer from each master. */
export interface FrameworkTimes {
  readonly name: string;
  readonly subscribeSentAt: number;
  readonly subscriptions: readonly { readonly masterId: string; readonly at: number }[];
  /** The first offer received while subscribed to each master. */
  readonly firstOffers: readonly { readonly masterId: string; readonly at: number }[];
}

export interface SchedulerWorkerProgress {
  readonly type: 'schedulers';
  readonly frameworks: readonly FrameworkTimes[];
  readonly offers: number;
  readonly launched: number;
  readonly launchErrors: number;
  readonly running: number;
  readonly finished: number;
  readonly otherUpdates: number;
  /** This worker's event-loop delay p99 since its previous report (ms). */
  readonly loopP99Ms: number;
  /** Milliseconds from handling the offer (ACCEPT about to go out) to the task's STARTING / RUNNING update, a uniform sample of at most 5,000 of each. */
  readonly latency: { readonly starting: readonly number[]; readonly running: readonly number[] };
  /** Traced tasks (only in answers to 'hops'): 'launch', 'TASK_STARTING', 'TASK_RUNNING' received at the scheduler. */
  readonly hops: Readonly<Record<string, Hops>> | null;
}

export type FromWorker = { readonly type: 'ready' } | AgentWorkerProgress | SchedulerWorkerProgress | { readonly type: 'error'; readonly message: string };

/** This process's event-loop delay p99 since the last call (ms): a worker that cannot keep up shows it here. */
export function loopDelaySampler(): () => number {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return () => {
    const p99 = Math.max(0, h.percentile(99) / 1e6 - 10);
    h.reset();
    return p99;
  };
}
