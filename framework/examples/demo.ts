// The demo framework `mesos-ts local` runs: ~10 short container tasks that
// say hello and sleep 1-3 s, packed into the agents' offers, with a state
// table the caller can draw live. Logic (runDemo) and drawing (renderDemo)
// are separate: runDemo reports DemoViews, renderDemo turns one into text.
//
//   npx tsx framework/examples/demo.ts --master 127.0.0.1:5060
import type { Credential } from '../../common/credentials.js';
import type { Tls } from '../../common/tls.js';
import { pathToFileURL } from 'node:url';
import { systemClock, type Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import { parseFlags, usage } from '../../common/flags.js';
import { Scheduler } from '../sdk/scheduler.js';
import { parseDemand } from '../sdk/matching.js';
import { BatchPlan, formatTaskLine, type BatchSummary, type BatchTaskSpec, type BatchTaskView } from '../sdk/batch.js';
import { runBatch } from '../sdk/batch-runner.js';
import type { Containerizer } from '../sdk/task-builder.js';

export const DEMO_IMAGE = 'mesos-ts/busybox:latest';

export interface DemoOptions {
  /** The master's gRPC address, host:port. */
  readonly master: string;
  /** For a master that authenticates frameworks. */
  readonly credential?: Credential;
  /** TLS to the master; default: what LIBPROCESS_SSL_* say (the Scheduler's default). */
  readonly tls?: Tls | null;
  /** Default 10. */
  readonly tasks?: number;
  /** Default mesos-ts/busybox:latest; any image with /bin/sh, echo and sleep. */
  readonly image?: string;
  /** Default 'docker'; 'mesos' runs the tasks on the agents' mesos containerizer. */
  readonly containerizer?: Containerizer;
  /** Aborting kills the tasks, tears the framework down and resolves. */
  readonly signal?: AbortSignal;
  /** Called on every task change and once a second (for the clocks); draw it with renderDemo. */
  readonly onProgress?: (view: DemoView) => void;
  /** One line per task state change (for logs when not drawing a table). */
  readonly onEvent?: ((line: string) => void) | undefined;
  /** Awaited once the tasks ended (or were killed), before the framework is torn down: the cluster still lists it. */
  readonly beforeTeardown?: () => Promise<void>;
  readonly clock?: Clock;
}

export interface DemoView {
  readonly frameworkId: string | null;
  readonly connection: Scheduler['state'];
  readonly tasks: readonly BatchTaskView[];
  readonly summary: BatchSummary;
  readonly startedAt: number;
  /** Clock seconds when the view was taken. */
  readonly now: number;
  readonly done: boolean;
}

export interface DemoResult {
  /** Every task FINISHED. */
  readonly ok: boolean;
  readonly total: number;
  readonly finished: number;
  readonly failed: number;
  readonly aborted: boolean;
  /** One line for humans. */
  readonly summary: string;
  readonly frameworkId: string | null;
  readonly tasks: readonly BatchTaskView[];
}

/** The demo's tasks: `demo-1` ... `demo-N`, sleeping 1-3 s with cpus 0.1-0.2 and mem 32. Deterministic. */
export function demoTasks(count: number, image: string, containerizer: Containerizer = 'docker'): BatchTaskSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `demo-${i + 1}`;
    const sleep = 1 + (i % 3);
    const cpus = i % 2 === 0 ? 0.1 : 0.2;
    return {
      id,
      demand: parseDemand(`cpus:${cpus};mem:32`),
      task: {
        image,
        ...(containerizer !== 'docker' && { containerizer }),
        command: `echo "hello from \${MESOS_TASK_ID:-${id}} on $(hostname)"; sleep ${sleep}; echo "${id} done after ${sleep}s"`,
        env: { DEMO_SLEEP_SECONDS: String(sleep) },
        labels: { 'mesos-ts.demo': 'true' },
        killGracePeriodSeconds: 2,
      },
    };
  });
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const clock = options.clock ?? systemClock;
  const count = options.tasks ?? 10;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`tasks must be a whole number >= 1, got ${count}`);
  const scheduler = new Scheduler({
    master: options.master,
    framework: { name: 'mesos-ts-demo', failoverTimeoutSeconds: 30, capabilities: ['PARTITION_AWARE', 'TASK_KILLING_STATE'] },
    logger: { debug: () => {}, info: () => {}, warn: (m) => options.onEvent?.(m) },
    ...(options.credential ? { credential: options.credential } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
  });
  const plan = new BatchPlan(demoTasks(count, options.image ?? DEMO_IMAGE, options.containerizer), { clock, maxRetries: 1, placement: 'spread' });
  const startedAt = clock.now();
  let done = false;
  const progress = (): void => {
    const view: DemoView = {
      frameworkId: scheduler.frameworkId, connection: scheduler.state, tasks: plan.views(), summary: plan.summary(), startedAt, now: clock.now(), done,
    };
    try {
      options.onProgress?.(view);
    } catch (err) {
      options.onEvent?.(`onProgress threw: ${errorMessage(err)}`);
    }
  };
  const ticker = setInterval(progress, 1000);
  ticker.unref();
  scheduler.on('subscribed', progress);
  progress();
  try {
    const outcome = await runBatch(scheduler, plan, {
      ...(options.signal && { signal: options.signal }),
      declineRefuseSeconds: 1,
      onChange: (view) => {
        options.onEvent?.(formatTaskLine(view));
        progress();
      },
      onLog: (line) => options.onEvent?.(line),
    });
    done = true;
    progress();
    const summary = outcome.ok ? `all ${outcome.total} tasks FINISHED in ${(clock.now() - startedAt).toFixed(1)} s`
      : outcome.aborted ? `interrupted: ${outcome.finished} of ${outcome.total} tasks FINISHED, the rest killed`
      : `${outcome.finished} of ${outcome.total} tasks FINISHED, ${outcome.failed} did not${outcome.closedReason ? ` (${outcome.closedReason})` : ''}`;
    return {
      ok: outcome.ok, total: outcome.total, finished: outcome.finished, failed: outcome.total - outcome.finished, aborted: outcome.aborted,
      summary, frameworkId: scheduler.frameworkId, tasks: outcome.views,
    };
  } finally {
    clearInterval(ticker);
    await options.beforeTeardown?.().catch((err: unknown) => options.onEvent?.(`before the teardown: ${errorMessage(err)}`));
    if (scheduler.state === 'subscribed') {
      await scheduler.teardown({ signal: AbortSignal.timeout(5000) }).catch((err: unknown) => options.onEvent?.(`teardown failed: ${errorMessage(err)}`));
    } else {
      await scheduler.close();
    }
  }
}

// ---- rendering (no logic below) ----------------------------------------------

const COLORS: Readonly<Record<string, string>> = {
  FINISHED: '32', RUNNING: '36', STARTING: '36', STAGING: '33', PENDING: '90', KILLING: '33',
  FAILED: '31', ERROR: '31', LOST: '31', DROPPED: '31', GONE: '31', KILLED: '35', CANCELLED: '35', UNREACHABLE: '33',
};

/** The view as a block of text: a header line and one row per task. */
export function renderDemo(view: DemoView, options: { color?: boolean } = {}): string {
  const paint = (state: string, text: string): string => (options.color && COLORS[state] ? `\x1b[${COLORS[state]}m${text}\x1b[0m` : text);
  const s = view.summary;
  const header = [
    `framework ${view.frameworkId ?? '(subscribing)'}${view.connection === 'reconnecting' ? ' [reconnecting]' : ''}`,
    `${(view.now - view.startedAt).toFixed(0)}s`,
    `${s.finished}/${s.total} finished`,
    `${s.active} active`,
    `${s.pending} waiting for offers`,
    ...(s.failed > 0 ? [`${s.failed} failed`] : []),
  ].join(' · ');
  const rows = view.tasks.map((t) => {
    const state = t.state.replace(/^TASK_/, '');
    const agent = t.agentId ? (t.agentId.split('-').pop() ?? t.agentId) : '-';
    const end = t.endedAt ?? view.now;
    const time = t.launchedAt !== null ? `${(end - t.launchedAt).toFixed(1)}s` : '-';
    const cells = [(t.taskId || t.id).padEnd(10), paint(state, state.padEnd(11)), agent.padEnd(6), (t.resources?.toString() ?? '-').padEnd(18), time.padStart(6)];
    return `  ${cells.join(' ')}${t.message ? `  ${t.message}` : ''}`;
  });
  const title = `  ${'TASK'.padEnd(10)} ${'STATE'.padEnd(11)} ${'AGENT'.padEnd(6)} ${'RESOURCES'.padEnd(18)} ${'TIME'.padStart(6)}`;
  return [header, title, ...rows].join('\n') + '\n';
}

// Run on its own: npx tsx framework/examples/demo.ts --master HOST:PORT
const FLAGS = {
  master: { type: 'string', required: true, help: "the master's gRPC address" },
  tasks: { type: 'number', default: 10, help: 'how many tasks' },
  image: { type: 'string', default: DEMO_IMAGE, help: 'image of the tasks' },
} as const;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  if (flags.help) {
    process.stdout.write(usage('demo', 'The demo framework of `mesos-ts local`.', FLAGS).replace('mesos-ts demo', 'npx tsx framework/examples/demo.ts') + '\n');
  } else {
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    const result = await runDemo({ master: flags.master, tasks: flags.tasks, image: flags.image, signal: abort.signal, onEvent: (l) => console.log(l) });
    console.log(result.summary);
    process.exitCode = result.ok ? 0 : 1;
  }
}
