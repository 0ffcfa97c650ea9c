/**
 * Pool 1 → pool 2: the bounded hand-off between the Kafka consumers and the checks (DESIGN.md §1).
 *
 * - Per-key order: items of one key run one at a time, in the order pushed. The check of an event reads the
 *   key's previous events, so two of a key in flight at once would each miss the other (the reference's fault).
 * - Concurrency: items of different keys run in parallel, up to `concurrency` at once (a number, or a limit
 *   read each time an item could start: app/detector/concurrency-limit.ts).
 * - Bounded: `size` counts items waiting plus running; the consumers pause their partitions when `full` and
 *   resume on `onBelowLowWater`. Nothing busy-waits.
 * - Fairness: a key with a backlog goes to the back of the ready line after each item, so a hot key cannot
 *   starve the others.
 *
 * `process` is expected to handle its own retries. If it rejects, the item is not finished: its offset is never
 * committed, and `onFatal` tells the owner to stop (a restart replays it).
 */
export interface HandoffOptions<T> {
  readonly concurrency: number | { readonly limit: number };
  readonly capacity: number;
  /** Resume below this many (default capacity / 2). */
  readonly lowWater?: number;
  readonly keyOf: (item: T) => string;
  readonly process: (item: T) => Promise<void>;
  readonly onDone?: (item: T) => void;
  readonly onBelowLowWater?: () => void;
  readonly onFatal?: (error: unknown, item: T) => void;
}

export class KeyedHandoff<T> {
  readonly #o: HandoffOptions<T>;
  readonly #limit: { readonly limit: number };
  readonly #lowWater: number;
  /** Waiting items per key; a key is present while it has waiting or running items. */
  readonly #waiting = new Map<string, T[]>();
  /** Keys with waiting items and nothing running, in the order they became ready. */
  readonly #ready: string[] = [];
  #readyHead = 0;
  #size = 0;
  #running = 0;
  #failed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: HandoffOptions<T>) {
    const c = options.concurrency;
    this.#limit = typeof c === "number" ? { limit: c } : c;
    if (this.#limit.limit < 1 || options.capacity < 1) throw new RangeError("concurrency and capacity must be >= 1");
    this.#o = options;
    this.#lowWater = Math.min(options.capacity - 1, options.lowWater ?? Math.floor(options.capacity / 2));
  }

  /** Items waiting or running. */
  get size(): number {
    return this.#size;
  }
  get running(): number {
    return this.#running;
  }
  get full(): boolean {
    return this.#size >= this.#o.capacity;
  }
  get failed(): boolean {
    return this.#failed;
  }

  /** Accept an item. Never refuses: the caller stops fetching when `full` (the bound is soft by one fetch). */
  push(item: T): void {
    const key = this.#o.keyOf(item);
    this.#size++;
    const queue = this.#waiting.get(key);
    if (queue) {
      queue.push(item); // the key is running or already in the ready line
    } else {
      this.#waiting.set(key, [item]);
      this.#ready.push(key);
    }
    this.#pump();
  }

  /** Resolves when nothing is waiting or running (at once if so now). */
  idle(): Promise<void> {
    if (this.#size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (!this.#failed && this.#running < this.#limit.limit && this.#readyHead < this.#ready.length) {
      const key = this.#ready[this.#readyHead++]!;
      if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
        this.#ready.splice(0, this.#readyHead); // compact the line now and then instead of shift() per item
        this.#readyHead = 0;
      }
      const item = this.#waiting.get(key)!.shift()!;
      this.#running++;
      this.#o.process(item).then(
        () => this.#finish(key, item),
        (error: unknown) => {
          this.#failed = true; // the key stays blocked: nothing after this item may run before it
          this.#running--;
          this.#o.onFatal?.(error, item);
        },
      );
    }
  }

  #finish(key: string, item: T): void {
    this.#running--;
    this.#size--;
    const queue = this.#waiting.get(key)!;
    if (queue.length > 0) this.#ready.push(key);
    else this.#waiting.delete(key);
    this.#o.onDone?.(item);
    if (this.#size === this.#lowWater) this.#o.onBelowLowWater?.();
    if (this.#size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    this.#pump();
  }
}
