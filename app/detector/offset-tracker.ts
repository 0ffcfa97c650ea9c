/**
 * Which offset of one partition may be committed: the one after the longest run of finished records from the
 * start (Kafka's committed offset is the next to read). Records finish out of order across keys; committing past
 * an unfinished one would lose it on a crash, so the commit point only moves over finished offsets.
 */
export class OffsetTracker {
  /** Offsets handed out and not yet passed by the commit point, in increasing order (a deque). */
  readonly #pending: number[] = [];
  #head = 0;
  readonly #finished = new Set<number>();
  #lastTracked = -1;
  #commitPoint: number | null = null;

  /** Record that `offset` was handed out; offsets of a partition must arrive in increasing order. */
  track(offset: number): void {
    if (offset <= this.#lastTracked) throw new RangeError(`offset ${offset} tracked after ${this.#lastTracked}`);
    this.#lastTracked = offset;
    this.#pending.push(offset);
  }

  finish(offset: number): void {
    this.#finished.add(offset);
    while (this.#head < this.#pending.length && this.#finished.has(this.#pending[this.#head]!)) {
      const done = this.#pending[this.#head++]!;
      this.#finished.delete(done);
      this.#commitPoint = done + 1;
    }
    if (this.#head > 4096 && this.#head * 2 > this.#pending.length) {
      this.#pending.splice(0, this.#head); // compact now and then instead of shift() per record
      this.#head = 0;
    }
  }

  /** The offset to commit (the next to read), or null while no record from the start has finished. */
  get committable(): number | null {
    return this.#commitPoint;
  }

  /** Records handed out and not finished. */
  get unfinished(): number {
    return this.#pending.length - this.#head;
  }
}
