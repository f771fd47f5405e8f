// How the scheduler client keeps its subscription alive. Every retry and
// liveness setting, with its default, lives here and nowhere else.
//
// After a failed or broken subscription the client waits
//   min(maxDelayMs, initialDelayMs × multiplier^(attempt-1)) × (1 ± jitter)
// (capped at maxDelayMs) before subscribing again (attempt counts
// consecutive failures from 1), so a fleet of schedulers does not hammer a
// master that just came back. The formula is common/backoff.ts's.
import { InvalidArgument } from '../../common/errors.js';
import { backoffDelay, symmetricJitter } from '../../common/backoff.js';

/** How the Scheduler retries and keeps its subscription alive; every field has a default in {@link DEFAULT_RECONNECT}. The wait before retry n is min(maxDelayMs, initialDelayMs × multiplier^(n-1)) × (1 ± jitter). */
export interface ReconnectOptions {
  /** Wait before the first retry. Default 500 ms. */
  readonly initialDelayMs: number;
  /** Upper bound of any wait. Default 30 s. */
  readonly maxDelayMs: number;
  /** Growth of the wait per consecutive failure. Default 2. */
  readonly multiplier: number;
  /** Each wait is scaled by a random factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  readonly jitter: number;
  /** Consecutive failed attempts before the client gives up and closes. Default Infinity. */
  readonly maxAttempts: number;
  /** Heartbeats that may go missing before the stream counts as dead (Mesos suggests 5). Default 5. */
  readonly missedHeartbeats: number;
  /** Time for the SUBSCRIBED event to arrive after the stream opens. Default 15 s. */
  readonly subscribeTimeoutMs: number;
  /** Deadline of each unary call (ACCEPT, DECLINE, ...) unless the caller's signal ends it sooner. Default 10 s. */
  readonly callTimeoutMs: number;
}

/** The defaults of {@link ReconnectOptions}, as each field's comment states them. */
export const DEFAULT_RECONNECT: Readonly<ReconnectOptions> = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.2,
  maxAttempts: Infinity,
  missedHeartbeats: 5,
  subscribeTimeoutMs: 15_000,
  callTimeoutMs: 10_000,
});

/** Defaults filled in and every field checked; throws InvalidArgument naming the field. */
export function resolveReconnect(partial: Partial<ReconnectOptions> = {}): ReconnectOptions {
  const out = { ...DEFAULT_RECONNECT, ...stripUndefined(partial) };
  const positive = ['initialDelayMs', 'maxDelayMs', 'missedHeartbeats', 'subscribeTimeoutMs', 'callTimeoutMs', 'maxAttempts'] as const;
  for (const key of positive) {
    if (!(out[key] > 0)) throw new InvalidArgument(`reconnect.${key} must be positive, got ${out[key]}`);
  }
  if (!(out.multiplier >= 1)) throw new InvalidArgument(`reconnect.multiplier must be >= 1, got ${out.multiplier}`);
  if (!(out.jitter >= 0 && out.jitter < 1)) throw new InvalidArgument(`reconnect.jitter must be in [0, 1), got ${out.jitter}`);
  if (out.maxDelayMs < out.initialDelayMs) {
    throw new InvalidArgument(`reconnect.maxDelayMs (${out.maxDelayMs}) is below reconnect.initialDelayMs (${out.initialDelayMs})`);
  }
  return out;
}

/**
 * The wait before retry number `attempt` (1-based). `random` returns a
 * number in [0, 1); tests pass a constant to get the bare schedule.
 */
export function reconnectDelay(attempt: number, options: ReconnectOptions, random: () => number): number {
  const { initialDelayMs, maxDelayMs, multiplier, jitter } = options;
  return backoffDelay(attempt - 1, { initialDelayMs, maxDelayMs, multiplier, jitter: symmetricJitter(jitter) }, random);
}

/** The first `n` waits, for documentation and tests. */
export function reconnectSchedule(n: number, options: ReconnectOptions, random: () => number): number[] {
  return Array.from({ length: n }, (_, i) => reconnectDelay(i + 1, options, random));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
