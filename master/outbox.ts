// Effects waiting for the registry. Each operation's effects join the queue
// with the promise of its registry write (none when it wrote nothing); the
// queue runs strictly in order, so an effect never overtakes one of an
// earlier operation, and an operation that wrote nothing still waits behind
// one whose write is in flight (a framework hears OFFERS only after the
// SUBSCRIBED that the registry had to hold first). With nothing waiting,
// effects run at once. After a failed write nothing more runs. runNow() is
// the one way past the queue, for effects the caller knows depend on
// nothing in it (an allocation pass's offers, Master.offer).
//
// A drain spends at most `budgetMs` of one turn of the event loop: one write
// can release effects for hundreds of operations (a DECLINE of hundreds of
// offers gives each back to the allocator), which took up to 71-174 ms in one
// turn at N=1,000 (round 7 in docs/scale/README.md). What is left, from the
// very effect where the budget ran out, runs on the next turn (`defer`), in
// order: the entry stays at the head of the queue, so later operations still
// queue behind it.
import type { Effect } from './operations/effects.js';
import { Fifo } from '../common/fifo.js';

/** How much of a turn a drain may take, and how it asks for the next one. */
export interface DrainBudget {
  /** Milliseconds of one turn; 0: no bound. */
  readonly budgetMs: number;
  /** Milliseconds on a monotonic clock. */
  readonly elapsedMs: () => number;
  /** Runs `fn` on a later turn. */
  readonly defer: (fn: () => void) => void;
}

/** 10 ms a turn: a fifth of the 50 ms loop-delay target (issue 15). */
export const DRAIN_BUDGET: DrainBudget = { budgetMs: 10, elapsedMs: () => performance.now(), defer: (fn) => void setImmediate(fn) };

interface Entry {
  readonly effects: readonly Effect[];
  /** How many of `effects` ran (a drain out of budget stops inside an entry). */
  done: number;
  ready: boolean;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class Outbox {
  /** A Fifo, not an array: tens of thousands of entries wait here under load, and Array.shift would copy them all. */
  private readonly queue = new Fifo<Entry>();
  /** Agents and frameworks an allocator fact waiting here adds or removes, with how many such facts. */
  private readonly laggingAgents = new Map<string, number>();
  private readonly laggingFrameworks = new Map<string, number>();
  private draining = false;
  /** A drain is asked for on a later turn. */
  private deferred = false;
  private stopped: Error | null = null;

  constructor(
    private readonly run: (effects: readonly Effect[]) => void,
    /** A bug in `run`: reported, and the queue goes on. */
    private readonly onError: (err: unknown) => void,
    private readonly budget: DrainBudget = DRAIN_BUDGET,
  ) {}

  /** Queues `effects` behind `stored`; settles once they ran (rejects if a write failed or the master stopped). */
  push(stored: Promise<void> | null, effects: readonly Effect[]): Promise<void> {
    if (this.stopped) return rejected(this.stopped);
    if (stored === null && this.queue.length === 0 && !this.draining) {
      this.draining = true; // Operations these effects apply (a dispatch) queue behind them.
      try {
        this.run(effects);
      } finally {
        this.draining = false;
      }
      this.drain();
      return RESOLVED;
    }
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    done.catch(() => {}); // Callers that do not wait must not see an unhandled rejection.
    const entry: Entry = { effects, done: 0, ready: stored === null, resolve, reject };
    this.queue.push(entry);
    this.countLagging(effects, 1);
    stored?.then(
      () => {
        entry.ready = true;
        this.drain();
      },
      (err: unknown) => this.stop(err instanceof Error ? err : new Error(String(err))),
    );
    this.drain();
    return done;
  }

  /**
   * Runs `effects` now, ahead of what waits for the registry: for effects
   * that depend on nothing waiting (the caller's judgement: offers made from
   * facts the allocator already acted on). False, running nothing, when the
   * outbox stopped, is running effects right now or has effects a write
   * released still to run on a later turn (the caller then pushes).
   */
  runNow(effects: readonly Effect[]): boolean {
    if (this.stopped || this.draining || this.deferred) return false;
    this.draining = true;
    try {
      this.run(effects);
    } catch (err) {
      this.onError(err);
    } finally {
      this.draining = false;
    }
    this.drain();
    return true;
  }

  /** Drops everything waiting: the master no longer acts. */
  stop(why: Error): void {
    if (!this.stopped) this.stopped = why;
    for (const entry of this.queue.drain()) entry.reject(this.stopped);
    this.laggingAgents.clear();
    this.laggingFrameworks.clear();
  }

  /**
   * Whether the allocator's view of this agent or this framework lags
   * state/: a fact adding or removing it waits here for a registry write.
   * Until it is carried out the allocator still holds the earlier
   * incarnation, and an offer made from that would outlive it.
   */
  lags(agentId: string, frameworkId: string): boolean {
    return this.laggingAgents.has(agentId) || this.laggingFrameworks.has(frameworkId);
  }

  get waiting(): number {
    return this.queue.length;
  }

  private countLagging(effects: readonly Effect[], by: 1 | -1): void {
    for (const effect of effects) {
      if (effect.type !== 'allocator') continue;
      const fact = effect.fact;
      if (fact.call === 'addAgent' || fact.call === 'removeAgent') bump(this.laggingAgents, fact.agentId, by);
      else if (fact.call === 'addFramework' || fact.call === 'removeFramework') bump(this.laggingFrameworks, fact.frameworkId, by);
    }
  }

  /** Runs the ready head of the queue, in order, until it is empty, waits for a write, or this turn's budget is spent. */
  private drain(): void {
    if (this.draining || this.deferred) return;
    this.draining = true;
    const started = this.budget.elapsedMs();
    let ran = false;
    try {
      for (let head = this.queue.peek(); !this.stopped && head?.ready; head = this.queue.peek()) {
        if (head.done < head.effects.length) {
          if (ran && this.outOfTime(started)) return this.later();
          this.runOne(head.effects[head.done++]!);
          ran = true;
          continue;
        }
        this.queue.shift();
        this.countLagging(head.effects, -1);
        head.resolve();
      }
    } finally {
      this.draining = false;
    }
  }

  private runOne(effect: Effect): void {
    try {
      this.run([effect]);
    } catch (err) {
      this.onError(err);
    }
  }

  private outOfTime(started: number): boolean {
    return this.budget.budgetMs > 0 && this.budget.elapsedMs() - started >= this.budget.budgetMs;
  }

  /** The rest on a later turn: nothing else runs from the queue meanwhile, and runNow() refuses (its effects then queue behind). */
  private later(): void {
    this.deferred = true;
    this.budget.defer(() => {
      this.deferred = false;
      this.drain();
    });
  }
}

const RESOLVED = Promise.resolve();

function bump(counts: Map<string, number>, key: string, by: 1 | -1): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

function rejected(err: Error): Promise<void> {
  const p = Promise.reject(err);
  p.catch(() => {});
  return p;
}
