// What an allocation pass may spend (--allocation_pass_budget) covers the
// whole turn the pass takes: deciding, and making and sending the offers it
// decided, which run in the same turn (Master.offer). Sending cost as much as
// deciding at N=1,000 (round 7 in docs/scale/README.md), so a budget on the
// deciding alone let a turn run twice its length. The pass cannot time
// offers it has not made yet, so it charges each decision what one offer
// cost in the passes before (a moving average; a first guess before any
// was timed): a pass stops once its time
// so far plus the offers it owes would pass the budget.

/** Weight of the newest pass in the per-offer average. */
const SMOOTHING = 0.25;

/**
 * What an offer is taken to cost before any was timed: the first pass of a
 * master's life would otherwise count its offers as free, and it is the
 * longest (every agent free, code not yet optimized). bench/first-offer at
 * N=2,000 measured about 0.08 ms of CPU per offer made and sent.
 */
export const FIRST_GUESS_OFFER_MS = 0.1;

export class PassBudget {
  /** Milliseconds one offer took to make and send, averaged over the passes that made any. */
  private perOfferMs: number;
  private timed = false;

  constructor(
    /** The budget in ms; 0: no bound. */
    private readonly budgetMs: number,
    private readonly elapsedMs: () => number,
    firstGuessMs = FIRST_GUESS_OFFER_MS,
  ) {
    this.perOfferMs = firstGuessMs;
  }

  /** For a pass starting now: whether it is out of time with `decided` offers still to make (undefined without a budget). */
  pass(): ((decided: number) => boolean) | undefined {
    if (this.budgetMs <= 0) return undefined;
    const started = this.elapsedMs();
    return (decided) => this.elapsedMs() - started + decided * this.perOfferMs > this.budgetMs;
  }

  /** Offers made and sent in `ms`: the estimate for the next passes. */
  offered(count: number, ms: number): void {
    if (count <= 0) return;
    const each = Math.max(0, ms) / count;
    this.perOfferMs = this.timed ? this.perOfferMs + SMOOTHING * (each - this.perOfferMs) : each;
    this.timed = true;
  }

  /** The current estimate (for tests and the docs' figures). */
  get offerMs(): number {
    return this.perOfferMs;
  }
}
