// `mesos-ts execute`: run K copies of a command in containers on the
// cluster and wait for them, like mesos-execute. Prints one line per task
// state change, exits 0 only when every task FINISHED, and tears its
// framework down at the end (also on Ctrl-C and on --timeout).
import { CLIENT_CREDENTIAL_FLAGS, clientCredential, type Credential } from '../../common/credentials.js';
import { parseFlags, usage, type ParseOptions } from '../../common/flags.js';
import { TLS_FLAGS, clientTls, type Tls } from '../../common/tls.js';
import { InvalidArgument, errorMessage } from '../../common/errors.js';
import { systemClock } from '../../common/clock.js';
import type { Logger, Scheduler } from '../sdk/scheduler.js';
import { parseDemand, type Demand } from '../sdk/matching.js';
import { BatchPlan, formatTaskLine, type BatchTaskSpec } from '../sdk/batch.js';
import type { BatchOutcome } from '../sdk/batch-runner.js';
import { parseContainerizer, type Containerizer } from '../sdk/task-builder.js';

export const EXECUTE_FLAGS = {
  master: { type: 'string', required: true, help: "the master's gRPC address, HOST:PORT" },
  name: { type: 'string', required: true, help: 'framework name; the tasks are <name>-1 ... <name>-K' },
  docker_image: { type: 'string', default: 'mesos-ts/busybox:latest', help: 'Docker image to run the command in (the agents must have it)' },
  containerizer: { type: 'string', default: 'docker', help: "'docker' (the Docker engine) or 'mesos' (the agent's own containerizer: runc, images from its local store), as mesos-execute takes it" },
  command: { type: 'string', help: "command to run; without it the image's own entrypoint runs (docker only)" },
  shell: { type: 'boolean', default: true, help: 'run --command with /bin/sh -c; with --no-shell it is split on spaces into argv' },
  resources: { type: 'string', default: 'cpus:0.1;mem:32', help: 'resources of each task' },
  ports: { type: 'number', default: 0, help: 'how many ports each task takes from the offer' },
  instances: { type: 'number', default: 1, help: 'how many copies of the task to run' },
  role: { type: 'string', default: '*', help: 'role to subscribe with' },
  env: { type: 'string', help: 'environment of the command, as a JSON object: {"NAME":"value"}' },
  kill_after: { type: 'duration', help: 'kill each task this long after it is RUNNING (e.g. 10s, 2mins)' },
  timeout: { type: 'duration', default: 300, help: 'give up (killing the tasks) after this long, in seconds or with a unit' },
  failover_timeout: { type: 'duration', default: 60, help: 'how long the master keeps the tasks if this command loses its connection' },
  ...CLIENT_CREDENTIAL_FLAGS,
  ...TLS_FLAGS,
} as const;

const SUMMARY = 'Runs a command in containers on the cluster (Docker, or the agents\' mesos containerizer) and waits for it (like mesos-execute).';

export interface ExecuteOptions {
  readonly master: string;
  readonly name: string;
  readonly image: string;
  readonly containerizer: Containerizer;
  readonly command?: string;
  readonly argv?: readonly string[];
  readonly demand: Demand;
  readonly instances: number;
  readonly role: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly killAfterSeconds?: number;
  readonly timeoutSeconds: number;
  readonly failoverTimeoutSeconds: number;
  /** For a master that authenticates frameworks (--principal/--secret or --credential). */
  readonly credential?: Credential;
  /** TLS to the master (--ssl_* flags, else LIBPROCESS_SSL_* in the environment given); null: plain text. */
  readonly tls?: Tls | null;
}

/** Flags (command line over MESOS_TS_* in `env`) to options, every value checked; throws InvalidArgument naming the flag. */
export function parseExecuteArgs(argv: readonly string[], env: ParseOptions['env'] = {}): { help: true } | { help: false; options: ExecuteOptions } {
  const flags = parseFlags(EXECUTE_FLAGS, argv, { env });
  if (flags.help) return { help: true };
  if (flags._.length > 0) throw new InvalidArgument(`unexpected argument '${flags._[0]}' (quote the --command)`);
  if (!/^[^\s/]+$/.test(flags.name)) throw new InvalidArgument(`--name '${flags.name}' must hold no whitespace or '/' (it names the tasks)`);
  if (!Number.isInteger(flags.instances) || flags.instances < 1) throw new InvalidArgument(`--instances must be a whole number >= 1, got ${flags.instances}`);
  if (!(flags.timeout > 0)) throw new InvalidArgument(`--timeout must be positive, got ${flags.timeout}`);
  if (flags.kill_after !== undefined && !(flags.kill_after > 0)) throw new InvalidArgument(`--kill_after must be positive, got ${flags.kill_after}`);
  let demand: Demand;
  try {
    demand = parseDemand(flags.resources, flags.ports);
  } catch (err) {
    throw new InvalidArgument(`--resources/--ports: ${errorMessage(err)}`, { cause: err });
  }
  const credential = clientCredential(flags);
  const tls = clientTls(flags, env ?? {});
  const command = flags.command?.trim();
  if (command === '') throw new InvalidArgument('--command is empty');
  const containerizer = parseContainerizer(flags.containerizer);
  if (containerizer === 'mesos' && command === undefined) throw new InvalidArgument('--containerizer=mesos needs a --command');
  return {
    help: false,
    options: {
      master: flags.master,
      name: flags.name,
      image: flags.docker_image,
      containerizer,
      ...(command !== undefined && (flags.shell ? { command } : { argv: command.split(/\s+/) })),
      demand,
      instances: flags.instances,
      role: flags.role,
      ...(flags.env !== undefined && { env: parseEnv(flags.env) }),
      ...(flags.kill_after !== undefined && { killAfterSeconds: flags.kill_after }),
      timeoutSeconds: flags.timeout,
      failoverTimeoutSeconds: flags.failover_timeout,
      ...(credential && { credential }),
      ...(tls && { tls }),
    },
  };
}

export function parseEnv(text: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgument(`--env is not JSON: ${errorMessage(err)}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgument('--env must be a JSON object, e.g. {"NAME":"value"}');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new InvalidArgument(`--env: the value of '${k}' must be a string`);
    out[k] = String(v);
  }
  return out;
}

/** The tasks of one run: `<name>-1` ... `<name>-K`. */
export function executeTasks(options: ExecuteOptions): BatchTaskSpec[] {
  return Array.from({ length: options.instances }, (_, i) => ({
    id: `${options.name}-${i + 1}`,
    demand: options.demand,
    task: {
      image: options.image,
      ...(options.containerizer !== 'docker' && { containerizer: options.containerizer }),
      ...(options.command !== undefined && { command: options.command }),
      ...(options.argv !== undefined && { argv: options.argv }),
      ...(options.env && { env: options.env }),
    },
  }));
}

export interface ExecuteIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Ctrl-C. */
  readonly signal?: AbortSignal;
}

/** The command proper; returns the exit code. */
export async function runExecute(options: ExecuteOptions, io: ExecuteIo): Promise<number> {
  const timeout = AbortSignal.timeout(options.timeoutSeconds * 1000);
  const signal = io.signal ? AbortSignal.any([io.signal, timeout]) : timeout;
  let lastWarning = '';
  const warn = (m: string): void => {
    io.err(m);
    lastWarning = m.replace(/; subscribing again in .*$/, '');
  };
  const logger: Logger = { debug: () => {}, info: () => {}, warn };
  // Imported here, not at the top: they load gRPC and the .proto files, which `execute --help` does without.
  const [{ Scheduler }, { runBatch }] = await Promise.all([import('../sdk/scheduler.js'), import('../sdk/batch-runner.js')]);
  const scheduler = new Scheduler({
    master: options.master,
    framework: {
      name: options.name,
      roles: options.role === '*' ? [] : [options.role],
      failoverTimeoutSeconds: options.failoverTimeoutSeconds,
      capabilities: ['PARTITION_AWARE', 'TASK_KILLING_STATE'],
    },
    logger,
    ...(options.credential && { credential: options.credential }),
    // The flags (and LIBPROCESS_SSL_*) were read by parseExecuteArgs: no TLS there means plain text.
    tls: options.tls ?? null,
  });
  scheduler.on('subscribed', (e) => io.out(`subscribed to ${options.master} as framework ${e.frameworkId}`));
  const plan = new BatchPlan(executeTasks(options), { clock: systemClock });
  let outcome: BatchOutcome;
  try {
    outcome = await runBatch(scheduler, plan, {
      signal,
      ...(options.killAfterSeconds !== undefined && { killAfterSeconds: options.killAfterSeconds }),
      onChange: (view) => io.out(formatTaskLine(view)),
      onLog: (line) => io.err(line),
    });
  } finally {
    await finish(scheduler, io);
  }
  const subscribed = scheduler.frameworkId !== null;
  return report(outcome, options, { interrupted: io.signal?.aborted ?? false, timedOut: timeout.aborted, subscribed, lastWarning }, io);
}

/** Tear the framework down if we are still subscribed; otherwise just close (the failover timeout cleans up). */
async function finish(scheduler: Scheduler, io: ExecuteIo): Promise<void> {
  if (scheduler.state !== 'subscribed') return scheduler.close();
  await scheduler.teardown({ signal: AbortSignal.timeout(5000) }).catch((err: unknown) => io.err(`teardown failed: ${errorMessage(err)}`));
}

interface Ending {
  readonly interrupted: boolean;
  readonly timedOut: boolean;
  readonly subscribed: boolean;
  readonly lastWarning: string;
}

function report(outcome: BatchOutcome, options: ExecuteOptions, why: Ending, io: ExecuteIo): number {
  if (outcome.ok) {
    io.out(`${outcome.finished} of ${outcome.total} task(s) FINISHED`);
    return 0;
  }
  const unfinished = outcome.views.filter((v) => v.state !== 'TASK_FINISHED');
  const neverLaunched = unfinished.filter((v) => v.launches === 0).length;
  if (why.interrupted) {
    io.err(`interrupted: killed the tasks and tore the framework down (${outcome.finished} of ${outcome.total} FINISHED)`);
    return 130;
  }
  if (why.timedOut && !why.subscribed) {
    io.err(`timed out after ${options.timeoutSeconds} s (--timeout) without subscribing to the master at ${options.master}${why.lastWarning ? ` (${why.lastWarning})` : ''}`);
    return 1;
  }
  if (why.timedOut) {
    io.err(`timed out after ${options.timeoutSeconds} s (--timeout) with ${unfinished.length} of ${outcome.total} task(s) not FINISHED`);
    if (neverLaunched > 0) {
      io.err(`${neverLaunched} task(s) never got an offer that fits ${options.demand.resources.toString()}${options.demand.ports ? ` + ${options.demand.ports} ports` : ''}` +
        `${options.role === '*' ? '' : ` for role ${options.role}`}: are agents registered with enough free resources?`);
    }
  } else if (outcome.closedReason) {
    io.err(`the scheduler stopped: ${outcome.closedReason}`);
  }
  for (const v of unfinished) io.err(`  ${formatTaskLine(v)}`);
  io.err(`${outcome.finished} of ${outcome.total} task(s) FINISHED`);
  return 1;
}

export async function executeCommand(argv: string[]): Promise<number> {
  const parsed = parseExecuteArgs(argv, process.env);
  if (parsed.help) {
    process.stdout.write(usage('execute', SUMMARY, EXECUTE_FLAGS) + '\n');
    return 0;
  }
  const interrupt = new AbortController();
  const onSignal = (): void => {
    if (interrupt.signal.aborted) process.exit(130); // a second Ctrl-C: stop waiting for the cleanup
    process.stderr.write('interrupted: killing the tasks (Ctrl-C again to quit at once)\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runExecute(parsed.options, {
      out: (line) => process.stdout.write(line + '\n'),
      err: (line) => process.stderr.write(line + '\n'),
      signal: interrupt.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
