/**
 * How many checks may be in flight: fixed, or found by the detector itself from the latency it measures
 * (issue 15). The reference tuned its pools by hand for each cluster size; a limit that follows latency needs no
 * tuning when Cassandra grows or shrinks.
 *
 * The adaptive limit probes, as TCP Vegas and BBR do, and judges each probe by Little's law: with L checks in
 * flight and a mean latency R, the throughput is L / R. Doubling L and seeing R grow by a factor g means the
 * throughput grew by 2 / g; the latency's elasticity e = log(R₂ / R₁) / log(L₂ / L₁) is 0 where more in flight is
 * all gain (the server had idle room) and 1 where it is all queueing (the throughput stayed put). So:
 * - a probe changes the limit by ×2 (or ×½) for one window (windowMs, at least minSamples checks) and compares
 *   its mean latency with the window before. A window counts only checks that started after the limit last
 *   changed: the checks still in flight from before ran under the old limit, and counting them biased both
 *   ways upwards (a doubling looked cheaper, a halving looked costlier: a first run settled at 512 where 256
 *   was 5 % faster);
 * - an upward probe is kept when e < saturation (the doubling bought at least 2^(1 − saturation) − 1 more
 *   throughput: 3.5 % at 0.95) and the latency stays under the target; then the next doubling is tried. Kept
 *   probes from the start are the slow start: 64 → 2,048 in five windows where the server has the room;
 * - a probe that is not kept returns to the limit it started from, and that window's latency becomes the
 *   reference;
 * - in steady windows, a latency past tolerance × the reference, or past the target, starts a downward probe:
 *   kept when the window before was over the target, or when halving the limit cost little throughput
 *   (e ≥ saturation, the queueing was ours); then the next halving is tried. A rise that halving does not take
 *   away (the server slowed for everyone) is not ours: the limit returns and the reference moves up to it;
 * - every probeEveryWindows steady windows an upward probe looks again for room (Cassandra grown);
 * - a window in which fewer than half the limit's checks were in flight is not judged: the traffic did not use
 *   the limit, so its latency says nothing about it.
 * Why not a latency target alone (Gradient2, this file's first version): Cassandra's latency rises with the
 * checks in flight long before its throughput stops growing, and past the peak the throughput falls again (one
 * core, 2,000 keys: 256 → 1,024 in flight gave 4,783 → 4,503 checks/s at ~53 → ~227 ms), so any fixed target is
 * too low on one machine and past the peak on another. The target stays as a bound: no probe is kept above it.
 * Measured against fixed settings by `npm run bench:concurrency` (scripts/bench/concurrency-grid.ts).
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
  /** The latency elasticity from which more in flight counts as queueing only (0..1). */
  readonly saturation: number;
  /** A steady window's latency may be this many times the reference before a downward probe. */
  readonly tolerance: number;
  /** Steady windows between two upward probes. */
  readonly probeEveryWindows: number;
  /** No probe is kept whose window's mean latency passes this (ms). */
  readonly latencyTargetMs: number;
  readonly now?: () => number;
  /** Told each time the limit changes (for the metric). */
  readonly onChange?: (limit: number) => void;
}

export const adaptiveLimitDefaults = {
  min: 4,
  windowMs: 1000,
  minSamples: 20,
  saturation: 0.95,
  tolerance: 1.5,
  probeEveryWindows: 30,
} as const satisfies Partial<AdaptiveLimitOptions>;

/** The window now running tries `factor` × `from`, against `latencyMs` measured at `from`. */
interface Probe {
  readonly from: number;
  readonly latencyMs: number;
  readonly factor: 2 | 0.5;
}

export class AdaptiveLimit implements ConcurrencyLimit {
  readonly #o: AdaptiveLimitOptions;
  readonly #now: () => number;
  #limit: number;
  #probe: Probe | null = null;
  #referenceMs: number | null = null;
  #steadyWindows = 0;
  #windowStart: number;
  #sumMs = 0;
  #count = 0;
  #maxInFlight = 0;
  #changedAt: number;

  constructor(options: AdaptiveLimitOptions) {
    if (!(options.min >= 1 && options.min <= options.initial && options.initial <= options.max)) {
      throw new RangeError(`adaptive limit: need 1 <= min (${options.min}) <= initial (${options.initial}) <= max (${options.max})`);
    }
    if (!(options.saturation > 0 && options.saturation <= 1 && options.tolerance > 1)) {
      throw new RangeError(`adaptive limit: need 0 < saturation (${options.saturation}) <= 1 and tolerance (${options.tolerance}) > 1`);
    }
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#limit = options.initial;
    this.#windowStart = this.#now();
    this.#changedAt = this.#windowStart;
  }

  get limit(): number {
    return this.#limit;
  }

  /** The latency (ms) at the limit the last probe settled on; null before one settled. */
  get referenceLatencyMs(): number | null {
    return this.#referenceMs;
  }

  sample(latencyMs: number, inFlight: number): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
    const now = this.#now();
    if (now - latencyMs < this.#changedAt) return;
    this.#sumMs += latencyMs;
    this.#count++;
    this.#maxInFlight = Math.max(this.#maxInFlight, inFlight);
    if (this.#count < this.#o.minSamples || now - this.#windowStart < this.#o.windowMs) return;
    const meanMs = Math.max(this.#sumMs / this.#count, 1e-3);
    const used = this.#maxInFlight >= this.#limit / 2;
    this.#newWindow(now);
    if (used) this.#window(meanMs);
  }

  #newWindow(now: number): void {
    this.#windowStart = now;
    this.#sumMs = 0;
    this.#count = 0;
    this.#maxInFlight = 0;
  }

  #window(meanMs: number): void {
    const o = this.#o;
    if (this.#probe !== null) return this.#judge(this.#probe, meanMs);
    if (this.#referenceMs === null) return this.#startProbe(meanMs > o.latencyTargetMs ? 0.5 : 2, meanMs);
    if (meanMs > o.latencyTargetMs || meanMs > o.tolerance * this.#referenceMs) return this.#startProbe(0.5, meanMs);
    if (++this.#steadyWindows >= o.probeEveryWindows) this.#startProbe(2, meanMs);
  }

  #judge(p: Probe, meanMs: number): void {
    const o = this.#o;
    this.#probe = null;
    const elasticity = Math.log(meanMs / p.latencyMs) / Math.log(this.#limit / p.from);
    const kept = p.factor > 1 ? elasticity < o.saturation && meanMs <= o.latencyTargetMs : p.latencyMs > o.latencyTargetMs || elasticity >= o.saturation;
    if (kept) return this.#startProbe(p.factor, meanMs);
    this.#settle(p.from, p.latencyMs);
  }

  #startProbe(factor: Probe["factor"], latencyMs: number): void {
    const to = Math.min(this.#o.max, Math.max(this.#o.min, Math.round(this.#limit * factor)));
    if (to === this.#limit) return this.#settle(to, latencyMs);
    this.#probe = { from: this.#limit, latencyMs, factor };
    this.#set(to);
  }

  #settle(limit: number, latencyMs: number): void {
    this.#referenceMs = latencyMs;
    this.#steadyWindows = 0;
    this.#set(limit);
  }

  #set(limit: number): void {
    if (limit === this.#limit) return;
    this.#limit = limit;
    this.#changedAt = this.#now();
    this.#newWindow(this.#changedAt);
    this.#o.onChange?.(limit);
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
