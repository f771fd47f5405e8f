// At most `limit` calls running at once; the others wait their turn, first
// come first served. For work that slows down when too much of it runs
// together (container starts contend for the kernel's cgroup lock and the
// cpus): a burst then finishes its first items early instead of all at the end.
// A waiting call whose signal aborts leaves the queue at once, never started.
export class Limiter {
  private running = 0;
  private readonly waiting: { readonly start: () => void }[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a limiter needs a limit of at least 1, got ${limit}`);
  }

  /** Calls waiting for a place (not yet started). */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `work` once a place is free; rejects with the signal's reason, without running it, if it aborts first. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.running >= this.limit) await this.turn(signal);
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running--;
    }
  }

  /** Resolves when a finishing call hands its place over; rejects (out of the queue) when `signal` aborts first. */
  private turn(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        reject(signal!.reason);
      };
      const entry = { start: () => (signal?.removeEventListener('abort', onAbort), resolve()) };
      this.waiting.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
