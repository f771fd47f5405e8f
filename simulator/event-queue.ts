// The simulator's future events, earliest first: a binary min-heap keyed by
// (time, rank, insertion order), so events at the same time happen in a
// fixed order (e.g. a finishing task frees its resources before the
// allocation pass of that instant) and the run is deterministic.

interface Entry<T> {
  readonly time: number;
  readonly rank: number;
  readonly seq: number;
  readonly event: T;
}

export class EventQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: number, rank: number, event: T): void {
    this.heap.push({ time, rank, seq: this.seq++, event });
    this.up(this.heap.length - 1);
  }

  /** Time of the earliest event, Infinity when there is none. */
  peekTime(): number {
    return this.heap[0]?.time ?? Infinity;
  }

  pop(): T | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top.event;
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) return;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < h.length && before(h[l]!, h[min]!)) min = l;
      if (r < h.length && before(h[r]!, h[min]!)) min = r;
      if (min === i) return;
      [h[i], h[min]] = [h[min]!, h[i]!];
      i = min;
    }
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.time !== b.time ? a.time < b.time : a.rank !== b.rank ? a.rank < b.rank : a.seq < b.seq;
}
