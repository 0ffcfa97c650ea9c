/**
 * The overload policy (DETECTOR_OVERLOAD_POLICY=priority; off by default). While the backlog's age
 * (now − the Kafka timestamp of the most recently taken record) is past DETECTOR_OVERLOAD_AGE_BOUND_MS, the
 * checks of priority keys start before the others' (keyed-handoff.ts); the others are deferred, never dropped.
 *
 * Priority keys are keys whose check flagged an anomaly recently (RecentAnomalies), because what an operator
 * needs first after an alert is its follow-up: is the shift sustained, has the key come back.
 *
 * Bounded: at most `maxKeys` keys (the oldest flag is forgotten first), and a flag expires after `windowMs`.
 * Every operation is O(1) amortised: a Map keeps the keys in the order they were last flagged (a new flag of a
 * key moves it to the end), so the oldest are always at the front.
 */

/**
 * How long a flag keeps its key a priority key: 10 minutes, the time an alert is typically being looked at
 * (triage) and longer than the generator's episodes (a shift's first 50 events) at a few events per key and
 * second. A key flagged again stays one for another 10 minutes.
 */
export const recentAnomalyWindowMs = 10 * 60_000;

/** At most this many priority keys are remembered (~10 MB at ~100 bytes per entry); the oldest flag goes first. */
export const recentAnomalyMaxKeys = 100_000;

export interface RecentAnomaliesOptions {
  readonly windowMs?: number;
  readonly maxKeys?: number;
  /** A monotonic clock in ms (default performance.now). */
  readonly now?: () => number;
}

export class RecentAnomalies {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** Key → when it was last flagged; in that order (oldest first). */
  readonly #flaggedAt = new Map<string, number>();

  constructor(o: RecentAnomaliesOptions = {}) {
    this.#windowMs = o.windowMs ?? recentAnomalyWindowMs;
    this.#maxKeys = o.maxKeys ?? recentAnomalyMaxKeys;
    this.#now = o.now ?? (() => performance.now());
    if (!(this.#windowMs > 0) || !(this.#maxKeys >= 1)) throw new RangeError("windowMs must be > 0 and maxKeys >= 1");
  }

  /** Keys remembered now (expired ones included until `prune` or a look-up removes them). */
  get size(): number {
    return this.#flaggedAt.size;
  }

  /** The key's check flagged an anomaly now. */
  flag(key: string): void {
    const map = this.#flaggedAt;
    if (!map.delete(key) && map.size >= this.#maxKeys) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(key, this.#now());
  }

  /** Was the key flagged within the window? */
  has(key: string): boolean {
    const at = this.#flaggedAt.get(key);
    if (at === undefined) return false;
    if (this.#now() - at <= this.#windowMs) return true;
    this.#flaggedAt.delete(key);
    return false;
  }

  /** Forgets the expired flags (from the oldest on); returns how many keys are left. */
  prune(): number {
    const cutoff = this.#now() - this.#windowMs;
    for (const [key, at] of this.#flaggedAt) {
      if (at >= cutoff) break;
      this.#flaggedAt.delete(key);
    }
    return this.#flaggedAt.size;
  }
}

/**
 * Overload ends below this share of the bound, so that an age hovering at the bound does not switch the state
 * (and log it) on every look.
 */
export const overloadEndShare = 0.8;

/**
 * Is the detector overloaded now, given whether it was: on when the age passes the bound, off below
 * overloadEndShare of it, and never while the hand-off is empty (an idle detector is not behind, however old
 * the last record it took).
 */
export function overloadedNow(was: boolean, ageMs: number, boundMs: number, handoffSize: number): boolean {
  if (handoffSize === 0) return false;
  return was ? ageMs >= overloadEndShare * boundMs : ageMs > boundMs;
}

/** How often the pipeline looks at the backlog's age (it grows while no record arrives): a quarter of the bound, 25–250 ms. */
export const overloadTickMs = (boundMs: number): number => Math.max(25, Math.min(250, Math.floor(boundMs / 4)));
