// Mesos health checks (TaskInfo.health_check) of one running task: when to
// probe, which failures count, what the framework is told, when the task dies.
//
//   start ──delay_seconds──> probe ──interval_seconds──> probe ──> ...
//     success ──> healthy, reported on the first success and on the first after failures
//     failure before any success, within grace_period_seconds of start ──> ignored
//     failure ──> unhealthy, reported every time (as Mesos's built-in executors do);
//                 the consecutive_failures-th in a row asks for the kill and ends checking
//
// A probe that has not answered within timeout_seconds (0: no limit) failed;
// one that could not be run (RuntimeUnavailableError: the Docker engine is
// restarting) is no result, neither success nor failure.
// The grace period counts from start, so it includes the delay (Mesos).
// Timers, clock and probe are injected; the real probes (HTTP and TCP on
// 127.0.0.1, a command run in the container) are at the bottom.
import { request } from 'node:http';
import { connect } from 'node:net';
import type { TaskInfoOut } from '../proto/index.js';
import { errorMessage } from '../common/errors.js';
import { RuntimeUnavailableError, type ContainerDriver } from './driver/driver.js';
import { realTimers, type Timers } from '../common/clock.js';

export type HealthCheckInfo = NonNullable<TaskInfoOut['health_check']>;

/** HealthCheck's timing fields, with Mesos's defaults. */
export interface HealthPolicy {
  readonly delaySeconds: number;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly gracePeriodSeconds: number;
  readonly consecutiveFailures: number;
}

export type ProbeResult = { readonly healthy: true } | { readonly healthy: false; readonly failure: string };

/** One check; stops its work when `signal` aborts (the timeout passed, or checking stopped). */
export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

/** What the framework is to be told. */
export interface HealthResult {
  readonly healthy: boolean;
  /** Counted failures in a row; 0 when healthy. */
  readonly consecutiveFailures: number;
  /** consecutive_failures was reached: the task is to be killed (the checker has stopped). */
  readonly kill: boolean;
  readonly message: string;
  /** Why the last check failed (unhealthy results only). */
  readonly failure?: string;
}

export interface HealthCheckerOptions {
  /** Names the check in messages, e.g. "HTTP health check (GET http://127.0.0.1:31000/)". */
  readonly name: string;
  readonly policy: HealthPolicy;
  readonly probe: Probe;
  readonly onResult: (result: HealthResult) => void;
  /** Seconds; only differences are used. */
  readonly now: () => number;
  readonly timers?: Timers;
  /**
   * The health last reported before the agent restarted, when there was one:
   * checking goes on from it (first probe after interval_seconds, no grace,
   * no repeated healthy update).
   */
  readonly previous?: boolean;
}

export class HealthChecker {
  private readonly timers: Timers;
  private startedAt = 0;
  /** Mesos's "initializing": no success yet, so the grace period may apply. */
  private succeeded: boolean;
  private failures = 0;
  private reported: boolean | null;
  private timer: unknown = null;
  private running: AbortController | null = null;
  private stopped = false;

  constructor(private readonly options: HealthCheckerOptions) {
    this.timers = options.timers ?? realTimers;
    this.succeeded = options.previous !== undefined;
    this.reported = options.previous ?? null;
  }

  start(): void {
    this.startedAt = this.options.now();
    const { delaySeconds, intervalSeconds } = this.options.policy;
    this.schedule(this.options.previous === undefined ? delaySeconds : intervalSeconds);
  }

  /** No probe starts after this and no result is reported; a probe under way is aborted. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    this.running?.abort(new Error('health checking stopped'));
  }

  private schedule(seconds: number): void {
    if (this.stopped) return;
    this.timer = this.timers.set(() => {
      this.timer = null;
      void this.check();
    }, seconds * 1000);
  }

  private async check(): Promise<void> {
    const abort = (this.running = new AbortController());
    const timeout = this.options.policy.timeoutSeconds;
    let timer: unknown = null;
    const late = new Promise<ProbeResult>((resolve) => {
      if (timeout > 0) timer = this.timers.set(() => resolve({ healthy: false, failure: `no answer within ${timeout}s` }), timeout * 1000);
    });
    let unavailable = false;
    const answer = this.options.probe(abort.signal).catch((err: unknown): ProbeResult => {
      unavailable = err instanceof RuntimeUnavailableError;
      return { healthy: false, failure: errorMessage(err) };
    });
    const result = await Promise.race([answer, late]);
    if (timer !== null) this.timers.clear(timer);
    abort.abort(new Error('health check over'));
    this.running = null;
    if (this.stopped) return;
    // The check could not be run at all (the container runtime is away): no result, as Mesos skips a check it could not perform.
    if (unavailable) return this.schedule(this.options.policy.intervalSeconds);
    if (result.healthy) this.success();
    else this.failure(result.failure);
  }

  private success(): void {
    this.succeeded = true;
    this.failures = 0;
    if (this.reported !== true) this.report({ healthy: true, consecutiveFailures: 0, kill: false, message: `${this.options.name} passed` });
    this.schedule(this.options.policy.intervalSeconds);
  }

  private failure(failure: string): void {
    const { gracePeriodSeconds, consecutiveFailures, intervalSeconds } = this.options.policy;
    const inGrace = !this.succeeded && gracePeriodSeconds > 0 && this.options.now() - this.startedAt <= gracePeriodSeconds;
    if (inGrace) return this.schedule(intervalSeconds);
    this.failures++;
    const kill = this.failures >= consecutiveFailures;
    const message = `${this.options.name} failed ${this.failures} time(s) in a row (consecutive_failures: ${consecutiveFailures}): ${failure}`;
    if (kill) this.stop();
    this.report({ healthy: false, consecutiveFailures: this.failures, kill, message, failure });
    this.schedule(intervalSeconds);
  }

  private report(result: HealthResult): void {
    this.reported = result.healthy;
    this.options.onResult(result);
  }
}

/** Mesos's defaults fill what the message leaves out (a decoded TaskInfo has them already). */
export function healthPolicy(check: HealthCheckInfo): HealthPolicy {
  return {
    delaySeconds: check.delay_seconds ?? 15,
    intervalSeconds: check.interval_seconds ?? 10,
    timeoutSeconds: check.timeout_seconds ?? 20,
    gracePeriodSeconds: check.grace_period_seconds ?? 10,
    consecutiveFailures: check.consecutive_failures ?? 3,
  };
}

/** For messages: "HTTP health check (GET http://127.0.0.1:31000/health)". */
export function describeHealthCheck(check: HealthCheckInfo): string {
  switch (check.type) {
    case 'HTTP':
      return `HTTP health check (GET ${httpUrl(check)})`;
    case 'TCP':
      return `TCP health check (127.0.0.1:${check.tcp?.port ?? 0})`;
    case 'COMMAND': {
      const cmd = check.command;
      const text = cmd?.shell ? cmd.value : JSON.stringify([cmd?.value ?? '', ...(cmd?.arguments ?? []).slice(1)]);
      return `COMMAND health check (${text.length > 80 ? `${text.slice(0, 77)}...` : text})`;
    }
    default:
      return `${String(check.type)} health check`;
  }
}

function httpUrl(check: HealthCheckInfo): string {
  return `http://127.0.0.1:${check.http?.port ?? 0}${check.http?.path || '/'}`;
}

/** The probe for a checked TaskInfo.health_check (see checkTask): HTTP and TCP on loopback, COMMAND inside the container. */
export function healthProbe(check: HealthCheckInfo, target: { readonly driver: ContainerDriver; readonly containerId: string }): Probe {
  switch (check.type) {
    case 'HTTP':
      return (signal) => httpProbe(httpUrl(check), signal);
    case 'TCP':
      return (signal) => tcpProbe(check.tcp?.port ?? 0, signal);
    case 'COMMAND':
      return () => commandProbe(check, target);
    default:
      throw new Error(`unsupported health check type ${String(check.type)}`);
  }
}

/** Healthy on a status from 200 to 399 (redirects are not followed: a 3xx is already a pass). */
function httpProbe(url: string, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', agent: false, signal, headers: { 'user-agent': 'mesos-ts-health-check' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.destroy();
      resolve(status >= 200 && status < 400 ? { healthy: true } : { healthy: false, failure: `GET ${url} answered ${status}` });
    });
    req.on('error', (err) => resolve({ healthy: false, failure: `GET ${url}: ${err.message}` }));
    req.end();
  });
}

function tcpProbe(port: number, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const onAbort = () => socket.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (result: ProbeResult) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done({ healthy: true }));
    socket.once('error', (err) => done({ healthy: false, failure: err.message }));
  });
}

async function commandProbe(check: HealthCheckInfo, target: { readonly driver: ContainerDriver; readonly containerId: string }): Promise<ProbeResult> {
  const cmd = check.command;
  const env = Object.fromEntries((cmd?.environment?.variables ?? []).map((v) => [v.name, v.value]));
  const command = { shell: Boolean(cmd?.shell), value: cmd?.value ?? '', arguments: cmd?.arguments ?? [], env };
  const { exitCode, output } = await target.driver.exec(target.containerId, command, healthPolicy(check).timeoutSeconds);
  if (exitCode === 0) return { healthy: true };
  const last = output.trim().split('\n').at(-1)?.trim().slice(0, 200);
  if (exitCode < 0) return { healthy: false, failure: last || 'did not end in time' };
  return { healthy: false, failure: `exited with status ${exitCode}${last ? `: ${last}` : ''}` };
}
