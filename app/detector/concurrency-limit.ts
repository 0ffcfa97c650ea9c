/**
 * How many checks may be in flight: fixed, or found by the detector itself from the latency it measures
 * (issue 15). The reference tuned its pools by hand for each cluster size; a limit that follows latency needs no
 * tuning when Cassandra grows or shrinks.
 *
 * The adaptive limit is the gradient algorithm of Netflix's concurrency-limits (Gradient2Limit), on windows of
 * samples as its WindowedLimit does it:
 * - a window's latency (its mean) is compared with the long-run latency (an exponential average of windows);
 * - gradient = clamp(tolerance × long / short, 0.5, 1): 1 while latency stays near its long-run level, below 1
 *   when queueing shows (short > tolerance × long);
 * - new = limit × gradient + queue (√limit: room to probe upwards), smoothed, clamped to [min, max];
 * - a limit the traffic does not use (in flight < limit / 2) does not grow: it would tell nothing;
 * - when the long-run latency is far above the window's (the system recovered), it decays towards it, so the
 *   limit can regrow;
 * - slow start (as TCP's), an addition: until the first window whose mean latency passes the target, the limit
 *   doubles each window instead of growing by √limit × smoothing (about +1.6 a second from 64), so a start far
 *   below the server's room costs a few seconds, not minutes. Cassandra's latency rises with the checks in flight
 *   long before its throughput stops growing (here 16 → 64 → 256 in flight: 989 → 1,614 → 1,817 checks/s at 16 →
 *   40 → 141 ms), so the relative rule would end the probe early; the target bounds it. The first window over
 *   the target ends slow start for good and the gradient rule takes over;
 * - one addition: the gradient is at most target / short. The long-run average follows a latency that creeps
 *   up slowly (it would let the limit grow to its maximum on a saturated Cassandra, where more in flight only
 *   queues); an absolute target keeps the window's mean latency near or below it.
 * No npm package implements this (the library is Java); the algorithm is short and its rules are unit-tested.
 */
import type { DetectorConfig } from "../config.ts";

export interface ConcurrencyLimit {
  /** Checks that may be in flight now. */
  readonly limit: number;
  /** One finished check: how long it took and how many were in flight when it started. */
  sample(latencyMs: number, inFlight: number): void;
}

export const fixedLimit = (limit: number): ConcurrencyLimit => ({ limit, sample: () => undefined });

export interface AdaptiveLimitOptions {
  readonly initial: number;
  readonly min: number;
  readonly max: number;
  /** A window closes after this long and at least minSamples samples. */
  readonly windowMs: number;
  readonly minSamples: number;
  /** Short latency may be this many times the long-run before the limit shrinks (Gradient2: 1.5). */
  readonly tolerance: number;
  /** Weight of a new estimate (Gradient2: 0.2). */
  readonly smoothing: number;
  /** The window's mean latency the limit steers below (ms). */
  readonly latencyTargetMs: number;
  /** Windows the long-run average spans (Gradient2: 600 samples; here windows). */
  readonly longWindows: number;
  readonly now?: () => number;
  /** Told each time the limit changes (for the metric). */
  readonly onChange?: (limit: number) => void;
}

export const adaptiveLimitDefaults = {
  min: 4,
  windowMs: 1000,
  minSamples: 20,
  tolerance: 1.5,
  smoothing: 0.2,
  longWindows: 60,
} as const satisfies Partial<AdaptiveLimitOptions>;

export class AdaptiveLimit implements ConcurrencyLimit {
  readonly #o: AdaptiveLimitOptions;
  readonly #now: () => number;
  #estimate: number;
  #longMs: number | null = null;
  #windows = 0;
  #windowStart: number;
  #sumMs = 0;
  #count = 0;
  #maxInFlight = 0;
  #slowStart = true;

  constructor(options: AdaptiveLimitOptions) {
    if (!(options.min >= 1 && options.min <= options.initial && options.initial <= options.max)) {
      throw new RangeError(`adaptive limit: need 1 <= min (${options.min}) <= initial (${options.initial}) <= max (${options.max})`);
    }
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#estimate = options.initial;
    this.#windowStart = this.#now();
  }

  get limit(): number {
    return Math.floor(this.#estimate);
  }

  /** The long-run latency (ms) the windows are compared with; null before the first window closed. */
  get longLatencyMs(): number | null {
    return this.#longMs;
  }

  sample(latencyMs: number, inFlight: number): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
    this.#sumMs += latencyMs;
    this.#count++;
    this.#maxInFlight = Math.max(this.#maxInFlight, inFlight);
    const now = this.#now();
    if (this.#count < this.#o.minSamples || now - this.#windowStart < this.#o.windowMs) return;
    const shortMs = Math.max(this.#sumMs / this.#count, 1e-3);
    const maxInFlight = this.#maxInFlight;
    this.#windowStart = now;
    this.#sumMs = 0;
    this.#count = 0;
    this.#maxInFlight = 0;
    this.#update(shortMs, maxInFlight);
  }

  #update(shortMs: number, maxInFlight: number): void {
    const o = this.#o;
    this.#windows++;
    // A plain mean while the average warms up, then exponential.
    const weight = this.#windows <= 10 ? 1 / this.#windows : 2 / (o.longWindows + 1);
    this.#longMs = this.#longMs === null ? shortMs : this.#longMs + (shortMs - this.#longMs) * weight;
    if (this.#longMs / shortMs > 2) this.#longMs *= 0.95;
    if (maxInFlight < this.#estimate / 2) return;
    const gradient = Math.max(0.5, Math.min(1, (o.tolerance * this.#longMs) / shortMs, o.latencyTargetMs / shortMs));
    if (shortMs > o.latencyTargetMs) this.#slowStart = false;
    const proposed = this.#estimate * gradient + Math.sqrt(this.#estimate);
    const next = this.#slowStart
      ? Math.min(o.max, this.#estimate * 2)
      : Math.min(o.max, Math.max(o.min, this.#estimate * (1 - o.smoothing) + proposed * o.smoothing));
    const before = this.limit;
    this.#estimate = next;
    if (this.limit !== before) o.onChange?.(this.limit);
  }
}

/** The detector's limit as its settings choose: fixed at detectorConcurrency, or adaptive starting there. */
export function concurrencyLimitOf(
  c: Pick<DetectorConfig, "detectorConcurrencyMode" | "detectorConcurrency" | "detectorConcurrencyMax" | "detectorLatencyTargetMs">,
  onChange?: (limit: number) => void,
): ConcurrencyLimit {
  if (c.detectorConcurrencyMode === "fixed") return fixedLimit(c.detectorConcurrency);
  return new AdaptiveLimit({
    ...adaptiveLimitDefaults,
    min: Math.min(adaptiveLimitDefaults.min, c.detectorConcurrency),
    initial: c.detectorConcurrency,
    max: c.detectorConcurrencyMax,
    latencyTargetMs: c.detectorLatencyTargetMs,
    ...(onChange ? { onChange } : {}),
  });
}
