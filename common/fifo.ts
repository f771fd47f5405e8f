// A first-in, first-out queue whose shift() costs the same however long the
// queue grows. Array.prototype.shift moves every element once V8 can no
// longer trim the array's backing store in place (a store of more than
// about 16,000 elements lives in the large-object space): at N=1,000 agents
// and M=100 frameworks the master's outbox spent 17.5% of its CPU in that
// one call. Here the head moves instead, and the array is cut down only once
// the consumed part is at least half of it, so each element is copied at
// most once more on average.

/** Consumed slots kept before the array may be cut down (small queues never pay for the copy). */
const COMPACT_AFTER = 1024;

export class Fifo<T> implements Iterable<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Takes the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined; // Collectable from now on.
    if (this.head === this.items.length) this.clear();
    else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Empties the queue and returns what it held, oldest first. */
  drain(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.clear();
    return rest;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }

  private clear(): void {
    this.items = [];
    this.head = 0;
  }
}
