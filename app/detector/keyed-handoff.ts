/**
 * Pool 1 → pool 2: the bounded hand-off between the Kafka consumers and the checks: the consumers fetch while checks run, and a full
 * hand-off pauses the fetching instead of growing memory.
 *
 * - Per-key order: items of one key run one at a time, in the order pushed. The check of an event reads the
 *   key's previous events, so two of a key in flight at once would each miss the other (the reference's fault).
 * - Concurrency: items of different keys run in parallel, up to `concurrency` at once (a number, or a limit
 *   read each time an item could start: app/detector/concurrency-limit.ts).
 * - Bounded: `size` counts items waiting plus running; the consumers pause their partitions when `full` and
 *   resume on `onBelowLowWater`. Nothing busy-waits.
 * - Fairness: a key with a backlog goes to the back of the ready line after each item, so a hot key cannot
 *   starve the others.
 * - Overload policy (off unless `isPriority` is given): a key that `isPriority` names when it becomes
 *   ready waits in a second ready line. Normally keys start in the order they became ready, whichever line they
 *   are in; while `overloaded`, the priority line goes first. Nothing is dropped or reordered within a key: a
 *   check of another key is only started later. Such a check is counted as deferred (once, `onDeferred`) when a
 *   priority check that became ready after it started before it: each ready entry carries a sequence number, and
 *   a normal one is deferred when it is below the highest sequence number a priority check started with.
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
  /** Overload policy: is this key a priority key? Asked when the key becomes ready (none when absent). */
  readonly isPriority?: (key: string) => boolean;
  /** A check deferred by the overload policy is starting now (called once per deferred check). */
  readonly onDeferred?: (item: T) => void;
}

/** Keys ready to start, in the order they became ready, each with the sequence number it got then. */
class ReadyLine {
  readonly #keys: string[] = [];
  readonly #seqs: number[] = [];
  #head = 0;

  get length(): number {
    return this.#keys.length - this.#head;
  }
  /** The head's sequence number (Infinity when empty). */
  get headSeq(): number {
    return this.#head < this.#seqs.length ? this.#seqs[this.#head]! : Number.POSITIVE_INFINITY;
  }
  push(key: string, seq: number): void {
    this.#keys.push(key);
    this.#seqs.push(seq);
  }
  /** Removes the head (the line must not be empty). */
  shift(): { key: string; seq: number } {
    const at = this.#head++;
    const head = { key: this.#keys[at]!, seq: this.#seqs[at]! };
    if (this.#head > 1024 && this.#head * 2 > this.#keys.length) {
      this.#keys.splice(0, this.#head); // compact the line now and then instead of shift() per item
      this.#seqs.splice(0, this.#head);
      this.#head = 0;
    }
    return head;
  }
}

export class KeyedHandoff<T> {
  readonly #o: HandoffOptions<T>;
  readonly #limit: { readonly limit: number };
  readonly #lowWater: number;
  /** Waiting items per key; a key is present while it has waiting or running items. */
  readonly #waiting = new Map<string, T[]>();
  /** Keys with waiting items and nothing running: priority keys (overload policy) and the rest. */
  readonly #ready = new ReadyLine();
  readonly #priority = new ReadyLine();
  /** The next ready entry's sequence number. */
  #seq = 0;
  /** The highest sequence number a priority check started with (-1: none yet). */
  #priorityStartedSeq = -1;
  #overloaded = false;
  #deferred = 0;
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
  /** Keys waiting in the priority line now. */
  get priorityReady(): number {
    return this.#priority.length;
  }
  /** Checks deferred so far (see the overload policy above). */
  get deferred(): number {
    return this.#deferred;
  }
  get overloaded(): boolean {
    return this.#overloaded;
  }
  /** Overload policy: while true, priority keys start before the others. */
  set overloaded(on: boolean) {
    this.#overloaded = on;
  }

  /** Accept an item. Never refuses: the caller stops fetching when `full` (the bound is soft by one fetch). */
  push(item: T): void {
    const key = this.#o.keyOf(item);
    this.#size++;
    const queue = this.#waiting.get(key);
    if (queue) {
      queue.push(item); // the key is running or already in a ready line
    } else {
      this.#waiting.set(key, [item]);
      this.#becameReady(key);
    }
    this.#pump();
  }

  /** Resolves when nothing is waiting or running (at once if so now). */
  idle(): Promise<void> {
    if (this.#size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #becameReady(key: string): void {
    const line = this.#o.isPriority?.(key) === true ? this.#priority : this.#ready;
    line.push(key, this.#seq++);
  }

  /** The line the next check starts from: the one whose head became ready first, or priority while overloaded. */
  #nextLine(): ReadyLine | null {
    const p = this.#priority;
    const n = this.#ready;
    if (p.length === 0) return n.length === 0 ? null : n;
    if (n.length === 0) return p;
    return this.#overloaded || p.headSeq < n.headSeq ? p : n;
  }

  #pump(): void {
    while (!this.#failed && this.#running < this.#limit.limit) {
      const line = this.#nextLine();
      if (line === null) break;
      const { key, seq } = line.shift();
      const item = this.#waiting.get(key)!.shift()!;
      if (line === this.#priority) this.#priorityStartedSeq = Math.max(this.#priorityStartedSeq, seq);
      else if (seq < this.#priorityStartedSeq) {
        this.#deferred++; // a priority check that became ready after this one has started before it
        this.#o.onDeferred?.(item);
      }
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
    if (queue.length > 0) this.#becameReady(key);
    else this.#waiting.delete(key);
    this.#o.onDone?.(item);
    if (this.#size === this.#lowWater) this.#o.onBelowLowWater?.();
    if (this.#size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    this.#pump();
  }
}
