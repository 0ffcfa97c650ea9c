/**
 * How many checks may be in flight: fixed, or found by the detector itself from the latency it measures
 * The reference tuned its pools by hand for each cluster size; a limit that follows latency needs no
 * tuning when Cassandra grows or shrinks.
 *
 * The adaptive limit probes, as TCP Vegas and BBR do, and judges each probe by Little's law: with L checks in
 * flight and a mean latency R, the throughput is L / R. Raising L by a factor and seeing R grow by a factor g
 * means the throughput changed by that factor / g; the latency's elasticity e = log(R₂ / R₁) / log(L₂ / L₁) is 0
 * where more in flight is all gain (the server had idle room) and 1 where it is all queueing (the throughput
 * stayed put). L here is the checks in flight measured when the window's checks started, not the limit: with
 * few keys ready the detector cannot fill a raised limit, and a doubling that moved 1,024 in flight to 1,300
 * looked like a bargain when judged as 1,024 → 2,048. So:
 * - a window closes after windowMs and at least minSamples checks; it counts only checks that started after the
 *   limit last changed (the ones still in flight from before ran under the old limit: counting them made a
 *   doubling look cheaper and a halving costlier, and a first run settled at 512 where 256 was 5 % faster);
 * - a probe changes the limit by ×2 (or ×½) for one window and compares it with its base;
 * - an upward probe is kept when the checks in flight rose by at least a quarter, e < saturation (it bought at
 *   least 2^(1 − saturation) − 1 more throughput per doubling: 3.5 % at 0.95) and the latency stays under the
 *   target; then the next doubling is tried. Kept probes from the start are the slow start: 64 → 2,048 in five
 *   windows where the server has the room;
 * - a probe that is not kept returns to the limit it started from, and its base's latency becomes the reference;
 * - a latency past tolerance × the reference, or past the target, two steady windows running, is confirmed on a
 *   third, which is the base of a downward probe (a window chosen for being high makes any halving look good; a
 *   single one is a GC pause). The halving is kept when the base was over the target, or when it cost little
 *   throughput (e ≥ saturation: the queueing was ours); then the next halving is tried. A rise that halving
 *   does not take away (the server slowed for everyone) is not ours: the limit returns, the reference moves up;
 * - an upward probe looks again for room (Cassandra grown, or a probe misjudged on a noisy window) against the
 *   last two steady windows: firstProbeAfterWindows after a sequence of probes that moved the limit, then twice
 *   as long after each one that did not, up to probeEveryWindows. A wrong turn costs seconds; a steady limit, a
 *   probe window every half minute;
 * - a window in which fewer than half the limit's checks were in flight is not judged: the traffic did not use
 *   the limit, so its latency says nothing about it.
 * Why not a latency target alone (Gradient2, this file's first version): Cassandra's latency rises with the
 * checks in flight long before its throughput stops growing, and past the peak the throughput falls again (on one
 * core, quadrupling the checks in flight cost throughput and quadrupled the latency), so any fixed target is
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
  /** Steady windows before an upward probe after one that moved the limit, doubling up to probeEveryWindows. */
  readonly firstProbeAfterWindows: number;
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
  firstProbeAfterWindows: 2,
  probeEveryWindows: 30,
} as const satisfies Partial<AdaptiveLimitOptions>;

/** A closed window: its checks' mean latency and mean in flight at their start. */
interface Window {
  readonly latencyMs: number;
  readonly inFlight: number;
}

/** The window now running tries `factor` × `from`, against `base` measured at `from`. */
interface Probe {
  readonly from: number;
  readonly base: Window;
  readonly factor: 2 | 0.5;
}

/** A probe that moved the checks in flight by less than this factor tells nothing. */
const leastInFlightChange = 1.25;

const meanOf = (ws: readonly Window[]): Window => ({
  latencyMs: ws.reduce((a, w) => a + w.latencyMs, 0) / ws.length,
  inFlight: ws.reduce((a, w) => a + w.inFlight, 0) / ws.length,
});

export class AdaptiveLimit implements ConcurrencyLimit {
  readonly #o: AdaptiveLimitOptions;
  readonly #now: () => number;
  #limit: number;
  #probe: Probe | null = null;
  #referenceMs: number | null = null;
  /** The limit a sequence of probes started from, and the steady windows before the next upward one. */
  #sequenceFrom: number;
  #probeAfter: number;
  #steadyWindows = 0;
  /** The last steady windows, and the windows running over the threshold. */
  #recent: Window[] = [];
  #over = 0;
  #windowStart: number;
  #sumMs = 0;
  #sumInFlight = 0;
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
    this.#sequenceFrom = options.initial;
    this.#probeAfter = options.firstProbeAfterWindows;
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
    this.#sumInFlight += inFlight;
    this.#count++;
    this.#maxInFlight = Math.max(this.#maxInFlight, inFlight);
    if (this.#count < this.#o.minSamples || now - this.#windowStart < this.#o.windowMs) return;
    const w = { latencyMs: Math.max(this.#sumMs / this.#count, 1e-3), inFlight: Math.max(this.#sumInFlight / this.#count, 1) };
    const used = this.#maxInFlight >= this.#limit / 2;
    this.#newWindow(now);
    if (used) this.#window(w);
  }

  #newWindow(now: number): void {
    this.#windowStart = now;
    this.#sumMs = 0;
    this.#sumInFlight = 0;
    this.#count = 0;
    this.#maxInFlight = 0;
  }

  #window(w: Window): void {
    const o = this.#o;
    if (this.#probe !== null) return this.#judge(this.#probe, w);
    if (this.#referenceMs === null) return this.#startSequence(w.latencyMs > o.latencyTargetMs ? 0.5 : 2, w);
    if (w.latencyMs > Math.min(o.latencyTargetMs, o.tolerance * this.#referenceMs)) {
      // Two windows over, then a third (not chosen for being high) as the base.
      if (++this.#over >= 3) this.#startSequence(0.5, w);
      return;
    }
    this.#over = 0;
    this.#recent = [...this.#recent, w].slice(-2);
    if (++this.#steadyWindows >= this.#probeAfter) this.#startSequence(2, meanOf(this.#recent));
  }

  #judge(p: Probe, w: Window): void {
    const o = this.#o;
    this.#probe = null;
    const moved = w.inFlight / p.base.inFlight;
    const elasticity = Math.log(w.latencyMs / p.base.latencyMs) / Math.log(moved);
    const informative = Math.abs(Math.log(moved)) >= Math.log(leastInFlightChange);
    const kept =
      p.factor > 1
        ? informative && elasticity < o.saturation && w.latencyMs <= o.latencyTargetMs
        : p.base.latencyMs > o.latencyTargetMs || (informative && elasticity >= o.saturation);
    if (kept) return this.#startProbe(p.factor, w);
    this.#settle(p.from, p.base.latencyMs);
  }

  #startSequence(factor: Probe["factor"], base: Window): void {
    this.#sequenceFrom = this.#limit;
    this.#startProbe(factor, base);
  }

  #startProbe(factor: Probe["factor"], base: Window): void {
    const to = Math.min(this.#o.max, Math.max(this.#o.min, Math.round(this.#limit * factor)));
    if (to === this.#limit) return this.#settle(to, base.latencyMs);
    this.#probe = { from: this.#limit, base, factor };
    this.#set(to);
  }

  #settle(limit: number, latencyMs: number): void {
    const o = this.#o;
    this.#referenceMs = latencyMs;
    this.#steadyWindows = 0;
    this.#recent = [];
    this.#over = 0;
    this.#probeAfter = limit === this.#sequenceFrom ? Math.min(o.probeEveryWindows, this.#probeAfter * 2) : o.firstProbeAfterWindows;
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
