// Retry backoff: the wait before each retry grows exponentially up to a cap,
// and is randomised so that many clients retrying together spread out. The
// formula and its options live here; each caller names its own parameters.
//
//   wait(n) = round(min(maxDelayMs, min(maxDelayMs, initialDelayMs × multiplier^n) × f))
//
// for retry n = 0, 1, 2, ..., with f drawn uniformly from
// [1 - jitter.below, 1 + jitter.above].

/** How far the random factor f may take a wait below and above its exponential value. */
export interface Jitter {
  readonly below: number;
  readonly above: number;
}

/** Every wait exactly as the formula says. */
export const NO_JITTER: Jitter = Object.freeze({ below: 0, above: 0 });
/** "Equal jitter": between half and all of the exponential wait. */
export const EQUAL_JITTER: Jitter = Object.freeze({ below: 0.5, above: 0 });
/** f in [1 - fraction, 1 + fraction], e.g. 0.2 for ±20 %. */
export const symmetricJitter = (fraction: number): Jitter => ({ below: fraction, above: fraction });

export interface BackoffOptions {
  /** Wait before the first retry (n = 0), milliseconds. No default. */
  readonly initialDelayMs: number;
  /** Upper bound of any wait, jitter included, milliseconds. No default. */
  readonly maxDelayMs: number;
  /** Growth of the wait per retry. Default 2. */
  readonly multiplier?: number;
  /** Default NO_JITTER. */
  readonly jitter?: Jitter;
}

export const DEFAULT_MULTIPLIER = 2;

/**
 * The wait before retry `retry` (0-based), in whole milliseconds. `random`
 * returns a number in [0, 1) and is only asked when there is jitter; tests
 * pass a constant to get a fixed schedule.
 */
export function backoffDelay(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
  const { initialDelayMs, maxDelayMs, multiplier = DEFAULT_MULTIPLIER, jitter = NO_JITTER } = options;
  const base = Math.min(maxDelayMs, initialDelayMs * multiplier ** Math.max(0, retry));
  const spread = jitter.below + jitter.above;
  const factor = spread > 0 ? 1 - jitter.below + spread * random() : 1;
  return Math.round(Math.min(maxDelayMs, base * factor));
}

/** The first `n` waits, for documentation and tests. */
export function backoffSchedule(n: number, options: BackoffOptions, random: () => number = Math.random): number[] {
  return Array.from({ length: n }, (_, retry) => backoffDelay(retry, options, random));
}
