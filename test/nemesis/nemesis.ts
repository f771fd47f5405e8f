// The nemesis: a seeded schedule of faults (the same seed and injectors give
// the same schedule: gaps, which injector, its random choices, how long the
// fault holds) and the loop that plays it, recording each injection and heal
// in the history. One fault at a time by default; with a concurrency of N,
// up to N faults hold at once (never two of one injector), each healed after
// its own hold, and every one healed when the time is up, so a run always
// ends healed. What a choice hits can still differ between runs with one
// seed (which master leads is the cluster's doing), and the times drift by
// how long injecting and healing take.
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../../master/allocator/seeded-random.js';
import type { HistoryWriter } from './history.js';
import type { Fault, Injector } from './injectors.js';

export interface Step {
  /** Quiet time before the fault, ms. */
  readonly gapMs: number;
  readonly injector: string;
  /** Seeds the injector's own choices (leader or standby, which agent...). */
  readonly choiceSeed: number;
  /** How long the fault holds before its heal, ms. */
  readonly holdMs: number;
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly seconds: number;
  readonly injectors: readonly string[];
  readonly minGapMs?: number;
  readonly maxGapMs?: number;
  readonly minHoldMs?: number;
  readonly maxHoldMs?: number;
  /** Faults that may hold at once (default 1): the schedule then has steps for that many in parallel. */
  readonly concurrency?: number;
  /**
   * Each of `injectors` once, in their order, instead of random draws filling `seconds` (gaps, holds and choices
   * are still drawn from the seed): a short run sure to hold the faults it names.
   */
  readonly inOrder?: boolean;
}

/** Enough steps to fill `seconds` of nominal time (with faults `concurrency` at a time), or each injector once in order; pure. */
export function planSchedule(o: ScheduleOptions): Step[] {
  const random = seededRandom(o.seed);
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  const steps: Step[] = [];
  const more = (elapsed: number) => (o.inOrder ? steps.length < o.injectors.length : elapsed < o.seconds * 1000);
  for (let elapsed = 0; more(elapsed);) {
    const gapMs = between(o.minGapMs ?? 2000, o.maxGapMs ?? 6000);
    const drawn = Math.floor(random() * o.injectors.length); // Drawn in order too: a seed's gaps, holds and choices stay the same.
    const step: Step = {
      gapMs,
      injector: o.injectors[o.inOrder ? steps.length : drawn]!,
      choiceSeed: Math.floor(random() * 2 ** 31),
      holdMs: between(o.minHoldMs ?? 1000, o.maxHoldMs ?? 7000),
    };
    steps.push(step);
    elapsed += step.gapMs + step.holdMs / (o.concurrency ?? 1);
  }
  return steps;
}

export interface NemesisDeps {
  readonly injectors: readonly Injector[];
  readonly history: HistoryWriter;
  readonly log: (line: string) => void;
  /** Before each fault: starts again whatever ended by itself, except what `held` names. */
  readonly revive: (held: ReadonlySet<string>) => Promise<string[]>;
  /** Set once the run must end early (Ctrl-C). */
  readonly aborted?: () => boolean;
  /** Faults that may hold at once (default 1). */
  readonly concurrency?: number;
}

export interface NemesisResult {
  readonly faults: readonly Fault[];
  /** Steps whose injector found nothing to hit (or failed to inject). */
  readonly skipped: number;
  /** The most faults that held at once. */
  readonly maxConcurrent: number;
}

/**
 * Plays `steps` until `seconds` of wall time have passed. Before each fault, what exited by itself is started
 * again; a step whose injector still holds a fault waits for its heal. Every fault still holding when the time is
 * up is healed at once on the way out.
 */
export async function playSchedule(steps: readonly Step[], seconds: number, deps: NemesisDeps): Promise<NemesisResult> {
  const start = Date.now();
  const concurrency = Math.max(1, deps.concurrency ?? 1);
  const faults: Fault[] = [];
  const holding = new Map<string, Promise<void>>(); // By injector name: the fault's hold and heal.
  const endHolds = new AbortController();
  let skipped = 0;
  let maxConcurrent = 0;
  const elapsed = () => ((Date.now() - start) / 1000).toFixed(1);
  const over = () => Date.now() - start > seconds * 1000 || deps.aborted?.() === true;
  const held = () => new Set(deps.injectors.flatMap((i) => [...i.holding()]));

  const holdThenHeal = async (n: number, injector: Injector, fault: Fault, holdMs: number) => {
    await sleep(holdMs, undefined, { signal: endHolds.signal }).catch(() => {});
    // A heal that fails (a restart that timed out under load) is logged; the next revive starts what is still down.
    await injector.heal().catch((err: unknown) => deps.log(`[nemesis] healing ${fault.kind} (${fault.target}) failed: ${String(err).split('\n')[0]}`));
    deps.history.record({ type: 'fault', phase: 'heal', ...fault });
    deps.log(`[nemesis] t+${elapsed()}s #${n} healed ${fault.kind} (${fault.target})`);
  };

  try {
    for (const [n, step] of steps.entries()) {
      await sleep(step.gapMs);
      if (over()) break;
      await holding.get(step.injector); // One fault per injector at a time.
      // A restart that times out on a loaded machine is logged; the next step tries again.
      const revived = await deps.revive(held()).catch((err: unknown) => (deps.log(`[nemesis] starting again what had exited failed: ${String(err).split('\n')[0]}`), []));
      if (revived.length > 0) deps.log(`[nemesis] t+${elapsed()}s started again what had exited: ${revived.join(', ')}`);
      if (over()) break; // Starting them took the rest of the time.
      const injector = deps.injectors.find((i) => i.name === step.injector)!;
      const fault = await injector.inject(seededRandom(step.choiceSeed)).catch((err: unknown) => {
        deps.log(`[nemesis] t+${elapsed()}s #${n} ${step.injector} failed to inject: ${String(err).split('\n')[0]}`);
        return null;
      });
      if (!fault) {
        skipped++;
        deps.log(`[nemesis] t+${elapsed()}s #${n} ${step.injector}: nothing to hit`);
        continue;
      }
      faults.push(fault);
      deps.history.record({ type: 'fault', phase: 'inject', ...fault });
      deps.log(`[nemesis] t+${elapsed()}s #${n} ${fault.description}, healed in ${(step.holdMs / 1000).toFixed(1)}s${holding.size > 0 ? ` (${holding.size} other fault${holding.size > 1 ? 's' : ''} holding)` : ''}`);
      const done = holdThenHeal(n, injector, fault, step.holdMs).finally(() => holding.delete(injector.name));
      holding.set(injector.name, done);
      maxConcurrent = Math.max(maxConcurrent, holding.size);
      while (holding.size >= concurrency) await Promise.race(holding.values());
    }
  } finally {
    endHolds.abort();
    await Promise.all(holding.values());
  }
  return { faults, skipped, maxConcurrent };
}

/** The schedule as lines, printed at the start of a run (with faults overlapping, the times are the earliest they may come). */
export function describeSchedule(steps: readonly Step[], concurrency = 1): string {
  let at = 0;
  return steps.map((s, n) => {
    at += s.gapMs;
    const line = `  #${n} at ~${(at / 1000).toFixed(1)}s ${s.injector} (choice seed ${s.choiceSeed}) for ${(s.holdMs / 1000).toFixed(1)}s`;
    if (concurrency === 1) at += s.holdMs;
    return line;
  }).join('\n');
}
