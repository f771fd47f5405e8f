// The nemesis: a seeded schedule of faults (the same seed and injectors give
// the same schedule: gaps, which injector, its random choices, how long the
// fault holds) and the loop that plays it, one fault at a time, recording
// each injection and heal in the history. What a choice hits can still
// differ between runs with one seed (which master leads is the cluster's
// doing), and the times drift by how long injecting and healing take.
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
}

/** Enough steps to fill `seconds` of nominal time; pure. */
export function planSchedule(o: ScheduleOptions): Step[] {
  const random = seededRandom(o.seed);
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  const steps: Step[] = [];
  for (let elapsed = 0; elapsed < o.seconds * 1000;) {
    const step: Step = {
      gapMs: between(o.minGapMs ?? 2000, o.maxGapMs ?? 6000),
      injector: o.injectors[Math.floor(random() * o.injectors.length)]!,
      choiceSeed: Math.floor(random() * 2 ** 31),
      holdMs: between(o.minHoldMs ?? 1000, o.maxHoldMs ?? 7000),
    };
    steps.push(step);
    elapsed += step.gapMs + step.holdMs;
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
}

export interface NemesisResult {
  readonly faults: readonly Fault[];
  /** Steps whose injector found nothing to hit. */
  readonly skipped: number;
}

/** Plays `steps` until `seconds` of wall time have passed; heals the fault in force on the way out. */
export async function playSchedule(steps: readonly Step[], seconds: number, deps: NemesisDeps): Promise<NemesisResult> {
  const start = Date.now();
  const faults: Fault[] = [];
  let skipped = 0;
  const elapsed = () => ((Date.now() - start) / 1000).toFixed(1);
  const held = () => new Set(deps.injectors.flatMap((i) => [...i.holding()]));
  for (const [n, step] of steps.entries()) {
    await sleep(step.gapMs);
    if (Date.now() - start > seconds * 1000 || deps.aborted?.()) break;
    // A restart that times out on a loaded machine is logged; the next step tries again.
    const revived = await deps.revive(held()).catch((err: unknown) => (deps.log(`[nemesis] starting again what had exited failed: ${String(err).split('\n')[0]}`), []));
    if (revived.length > 0) deps.log(`[nemesis] t+${elapsed()}s started again what had exited: ${revived.join(', ')}`);
    if (Date.now() - start > seconds * 1000 || deps.aborted?.()) break; // Starting them took the rest of the time.
    const injector = deps.injectors.find((i) => i.name === step.injector)!;
    const fault = await injector.inject(seededRandom(step.choiceSeed));
    if (!fault) {
      skipped++;
      deps.log(`[nemesis] t+${elapsed()}s #${n} ${step.injector}: nothing to hit`);
      continue;
    }
    faults.push(fault);
    deps.history.record({ type: 'fault', phase: 'inject', ...fault });
    deps.log(`[nemesis] t+${elapsed()}s #${n} ${fault.description}, healed in ${(step.holdMs / 1000).toFixed(1)}s`);
    await sleep(step.holdMs);
    // A heal that fails (a restart that timed out under load) is logged; the next revive starts what is still down.
    await injector.heal().catch((err: unknown) => deps.log(`[nemesis] healing ${fault.kind} (${fault.target}) failed: ${String(err).split('\n')[0]}`));
    deps.history.record({ type: 'fault', phase: 'heal', ...fault });
    deps.log(`[nemesis] t+${elapsed()}s #${n} healed ${fault.kind} (${fault.target})`);
  }
  return { faults, skipped };
}

/** The schedule as lines, printed at the start of a run. */
export function describeSchedule(steps: readonly Step[]): string {
  let at = 0;
  return steps.map((s, n) => {
    at += s.gapMs;
    const line = `  #${n} at ~${(at / 1000).toFixed(1)}s ${s.injector} (choice seed ${s.choiceSeed}) for ${(s.holdMs / 1000).toFixed(1)}s`;
    at += s.holdMs;
    return line;
  }).join('\n');
}
