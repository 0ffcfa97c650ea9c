/**
 * The anomaly check: a two-sided tabular CUSUM (Page 1954; Montgomery, "Introduction to Statistical Quality
 * Control", ch. 9), pure functions, no I/O.
 *
 * Why this file exists: the reference system's CUSUM could never fire. It used sqrt(M2) as the
 * standard deviation (never divided by n), so k and h were ~7× too large and a spike of any size stayed under h;
 * its lower side had a sign bug. Here k and h are in units of a real standard deviation, both sides are
 * non-negative sums, and tests hold the reference's own vectors that it missed.
 */

export interface CusumParams {
  /** In-control mean μ0. */
  readonly target: number;
  /** In-control standard deviation σ (≥ 0). */
  readonly sigma: number;
  /** Allowance (slack) K = k·σ: deviations smaller than this do not accumulate. Usually 0.5. */
  readonly k: number;
  /** Decision interval H = h·σ: a sum above it is a signal. Usually 4 or 5. */
  readonly h: number;
}

export interface CusumResult {
  /** C⁺ᵢ = max(0, xᵢ − (μ0 + kσ) + C⁺ᵢ₋₁), in the units of x. */
  readonly upper: number[];
  /** C⁻ᵢ = max(0, (μ0 − kσ) − xᵢ + C⁻ᵢ₋₁), in the units of x. */
  readonly lower: number[];
  /** Index of the first observation where C⁺ or C⁻ exceeds hσ; null when none does. */
  readonly signal: number | null;
}

const assertFinite = (name: string, v: number, min = -Infinity) => {
  if (!Number.isFinite(v) || v < min) throw new RangeError(`${name} must be a finite number >= ${min}, got ${v}`);
};

/** The textbook two-sided tabular CUSUM of `xs`, both sums starting at zero. Throws on non-finite input. */
export function tabularCusum(xs: readonly number[], p: CusumParams): CusumResult {
  assertFinite("target", p.target);
  assertFinite("sigma", p.sigma, 0);
  assertFinite("k", p.k, 0);
  assertFinite("h", p.h, 0);
  const allowance = p.k * p.sigma;
  const limit = p.h * p.sigma;
  const upper: number[] = [];
  const lower: number[] = [];
  let cPlus = 0;
  let cMinus = 0;
  let signal: number | null = null;
  xs.forEach((x, i) => {
    assertFinite(`xs[${i}]`, x);
    cPlus = Math.max(0, x - (p.target + allowance) + cPlus);
    cMinus = Math.max(0, p.target - allowance - x + cMinus);
    upper.push(cPlus);
    lower.push(cMinus);
    if (signal === null && (cPlus > limit || cMinus > limit)) signal = i;
  });
  return { upper, lower, signal };
}

export interface DetectOptions {
  /** Allowance in standard deviations (default 0.5). */
  readonly k?: number;
  /** Decision interval in standard deviations (detect(): 5; cusumStep, the pipeline's check: cusumDefaults.h). */
  readonly h?: number;
  /** Fewer finite history values than this: no verdict of anomaly (default 10). */
  readonly minHistory?: number;
  /**
   * detect() only: most recent history values the sums also run over before the new value (default 0). detect()
   * keeps no state between events, so its sums start at zero for each check (the pipeline's cusumStep carries
   * them in the key's rows instead). With 0
   * the check flags a value more than (k + h)·σ from the baseline: every injected spike and every level shift of
   * that size, at its first value. A lookback of a few values also accumulates smaller sustained shifts, at the
   * price of false alarms on drifting series (a random walk always sits above or below its recent mean).
   */
  readonly lookback?: number;
  /**
   * Floor of σ relative to |mean| (default 1e-3). A history with (near) zero variance would make any change,
   * even in the last digit, infinitely many σ away; below 0.1% of the level is treated as noise.
   */
  readonly minRelativeSigma?: number;
  /** Absolute floor of σ, for a history of zeros (default 1e-9). */
  readonly minSigma?: number;
}

export interface Verdict {
  readonly anomaly: boolean;
  /** Which side signalled. */
  readonly direction: "up" | "down" | null;
  /** The larger of the two sums at the new value, in σ (compare with h). */
  readonly score: number;
  /** Baseline from the history (earlier outliers left out): mean, σ used (after the floor), values it came from. */
  readonly mean: number;
  readonly sigma: number;
  readonly n: number;
  /** Why no verdict could be reached, when that is so. */
  readonly reason?: "non-finite-value" | "short-history" | "non-finite-baseline";
}

/** σ as the checks use it: at least the relative and the absolute floor of `options` (see DetectOptions). */
export function sigmaFloor(options: DetectOptions): (b: { mean: number; sd: number }) => number {
  return (b) => Math.max(b.sd, Math.abs(b.mean) * (options.minRelativeSigma ?? 1e-3), options.minSigma ?? 1e-9);
}

/** Mean and sample standard deviation (n − 1) in one pass (Welford), finite values only. */
export function baseline(values: readonly number[]): { mean: number; sd: number; n: number } {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    n += 1;
    const delta = v - mean;
    mean += delta / n;
    m2 += delta * (v - mean);
  }
  // The reference's bug was sqrt(m2): the sum of squares, not the variance.
  return { mean, sd: n > 1 ? Math.sqrt(m2 / (n - 1)) : 0, n };
}

/** The median of finite numbers (a sorted typed copy: numeric without a comparator, several times faster). */
function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The baseline of a history that may hold earlier anomalies: a spike of 1000× in the last 50 values would
 * inflate σ so much that the next spike hides under it. Values that would themselves have been flagged (more
 * than `cutoff` robust σ from the median) are left out, and the mean and σ computed from the rest.
 * Why robust: against the mean and sample σ of the same values, no value among n can lie more than
 * (n − 1)/√n σ out (6.93 for 50), so a cut at k + h = 8.5 σ never left anything out. The median and the MAD
 * (× 1.4826, σ for normal data) do not move with one extreme value. When more than half the values are equal
 * the MAD is 0, and the mean absolute deviation from the median (× 1.2533) stands in: one extreme value among
 * constants is still left out, while a key of 0s and 1s keeps its 1s.
 */
function cleanBaseline(
  history: readonly number[],
  cutoff: number,
  floor: (b: { mean: number; sd: number }) => number,
): { mean: number; sigma: number; n: number } {
  const values = history.filter(Number.isFinite);
  if (values.length < 3) {
    const b = baseline(values);
    return { mean: b.mean, sigma: floor(b), n: b.n };
  }
  const centre = median(values);
  const deviations = values.map((v) => Math.abs(v - centre));
  const mad = median(deviations);
  const spread = mad > 0 ? 1.4826 * mad : (1.2533 * deviations.reduce((a, d) => a + d, 0)) / deviations.length;
  const scale = floor({ mean: centre, sd: spread });
  const kept = values.filter((v) => Math.abs(v - centre) <= cutoff * scale);
  const b = baseline(kept.length >= 2 ? kept : values);
  return { mean: b.mean, sigma: floor(b), n: b.n };
}

/**
 * The check the pipeline runs on each event: is `value` anomalous given the key's previous values?
 * `history` is in time order, oldest first (the detector reverses what it reads, newest first, from Cassandra);
 * it must not contain `value` itself. The baseline (mean, σ) comes from the history only.
 */
export function detect(history: readonly number[], value: number, options: DetectOptions = {}): Verdict {
  const k = options.k ?? 0.5;
  const h = options.h ?? 5;
  const minHistory = Math.max(2, options.minHistory ?? 10);
  const lookback = options.lookback ?? 0;
  const floor = sigmaFloor(options);
  const { mean, n, sigma } = cleanBaseline(history, k + h, floor);
  const quiet = { anomaly: false, direction: null, score: 0, mean, sigma, n } as const;
  if (!Number.isFinite(value)) return { ...quiet, reason: "non-finite-value" };
  if (n < minHistory) return { ...quiet, reason: "short-history" };
  // Finite values far apart (stored before the codec bounded them) can overflow the sums of squares: no
  // baseline, so no verdict, rather than a throw that would stop the detector on every event of the key.
  if (!Number.isFinite(mean) || !Number.isFinite(sigma)) return { ...quiet, reason: "non-finite-baseline" };

  const recent = lookback > 0 ? history.filter(Number.isFinite).slice(-lookback) : [];
  const { upper, lower, signal } = tabularCusum([...recent, value], { target: mean, sigma, k, h });
  const last = recent.length;
  const up = upper[last] ?? 0;
  const down = lower[last] ?? 0;
  // The new value is the anomaly only if the sums first cross h at it; a crossing earlier in the lookback was
  // that earlier event's verdict.
  const anomaly = signal === last;
  return {
    anomaly,
    direction: anomaly ? (up >= down ? "up" : "down") : null,
    score: Math.max(up, down) / sigma,
    mean,
    sigma,
    n,
  };
}

/**
 * The sums a key carries from one check to the next (stored with the event's row), in units of σ.
 * `upperRun`/`lowerRun`: events since that sum last was 0 (Montgomery's N⁺, N⁻); 0 while the sum is 0; at most
 * `maxRunLength` (see there).
 */
export interface CusumSums {
  readonly upper: number;
  readonly lower: number;
  readonly upperRun: number;
  readonly lowerRun: number;
}

/**
 * Where a run count stops: it saturates there instead of growing past what the stored state holds (two bytes,
 * key-state-codec.ts). A sum that stays above 0 for that long without a signal is a slow drift; its change
 * point is then only known to be at least this many events back, so a signal at a saturated run names none.
 */
export const maxRunLength = 65_535;

/** A key's first check, and the restart after a signal. */
export const zeroSums: CusumSums = Object.freeze({ upper: 0, lower: 0, upperRun: 0, lowerRun: 0 });

/**
 * A stored value that is not a valid sum (negative, non-finite, a run that is not a count) restarts the key at
 * zero rather than throwing: a throw would dead-letter every later event of the key, forever.
 */
function validSums(s: CusumSums | undefined): CusumSums {
  if (s === undefined) return zeroSums;
  const sum = (x: number) => Number.isFinite(x) && x >= 0;
  const run = (x: number) => Number.isSafeInteger(x) && x >= 0;
  return sum(s.upper) && sum(s.lower) && run(s.upperRun) && run(s.lowerRun) ? s : zeroSums;
}

/** How many times smaller the steps' σ must be than the level's for the walk model (see predict). */
const walkEvidence = 1;

/** What the value is compared with: a prediction from the history and the σ of its error. */
interface Prediction {
  readonly mean: number;
  readonly sigma: number;
  readonly n: number;
  readonly model: "level" | "walk";
}

/**
 * The baseline of a history, from two one-step predictors, whichever errs less on the history itself:
 * - level: the (cleaned) mean, σ its standard deviation — the textbook in-control process;
 * - walk: the previous value plus the mean step, σ the steps' standard deviation.
 * Why not a least-squares line: the generator's trending keys are random walks, not a line plus noise; a line
 * through a random walk leaves long runs of same-signed residuals, which a carried sum adds up into an alarm.
 * The walk's steps are independent, so the sums on them behave as the textbook's. For independent noise the
 * steps' σ is √2 times the level's, so a stationary key keeps the level model (measured: no stable key of the
 * generator ever got the walk model in 200,000 checks); a persistent one (trend, random walk, a level that moved
 * inside the history) has steps several times smaller than its spread and gets the walk model. A stricter
 * threshold (2×) sent slow walks to the level model and multiplied their false alarms by five.
 * Both leave earlier outliers out (values, or steps, beyond `cutoff`·σ), as detect() does. A walk has no level
 * to shift, its steps are what must stay in control. `xs`: the finite history values, oldest first.
 */
function predict(xs: readonly number[], value: number, cutoff: number, floor: (b: { mean: number; sd: number }) => number): Prediction {
  const level = cleanBaseline(xs, cutoff, floor);
  if (xs.length < 3) return { ...level, model: "level" };
  const steps: number[] = [];
  for (let i = 1; i < xs.length; i++) steps.push(xs[i]! - xs[i - 1]!);
  const step = cleanBaseline(steps, cutoff, (b) => Math.max(floor({ mean: level.mean, sd: b.sd }), 0));
  if (!(step.sigma * walkEvidence < level.sigma)) return { ...level, model: "level" };
  // Anchor on the previous value, unless it was a spike: its step in is an outlier and the new value is in
  // line with the one before it. Otherwise the value after a spike would alarm the other way.
  const last = xs[xs.length - 1]!;
  const before = xs[xs.length - 2]!;
  const spikeBefore =
    Math.abs(last - before - step.mean) > cutoff * step.sigma &&
    Math.abs(value - before - 2 * step.mean) <= cutoff * step.sigma * Math.SQRT2;
  return spikeBefore
    ? { mean: before + 2 * step.mean, sigma: step.sigma * Math.SQRT2, n: step.n, model: "walk" }
    : { mean: last + step.mean, sigma: step.sigma, n: step.n, model: "walk" };
}

export interface StepVerdict extends Verdict {
  /**
   * On an anomaly, Page's change-point estimate: the signalling sum was last 0 this many events before this one,
   * so the change began with the event after that one (`changeEventsAgo − 1` events before this one; 1 = this one).
   */
  readonly changeEventsAgo?: number;
  /** Which baseline the value was compared with (see predict). */
  readonly model?: "level" | "walk";
}

/**
 * The allowance and decision interval of the pipeline's check, in σ (the detector's defaults, app/config.ts).
 * k = 0.5 is the textbook choice for shifts of about 1σ; h = 8, not the textbook's 5, because μ and σ are
 * estimated from 50 values, which multiplies the false alarms of h = 5 by tens. Measured offline with the load
 * generator's own value models (scripts/cusum-tuning.ts, 300 keys × 2,000 events, seed 12): false alarms per
 * 1,000 in-control checks 3.85 at h = 6, 0.32 at h = 7, 0.11 at h = 8, 0.02 at h = 10; shifts of 2σ–3σ found
 * within 50 events 105/105, 105/105, 104/105, 102/105 (median delay 3, 4, 5, 6 events); of 1σ–2σ 86, 83, 82, 75
 * of 91 (median 6.5, 8, 9, 13). k = 0.75 at h = 7 had fewer false alarms (0.02) but found only 57 of the 91 1σ–2σ shifts.
 */
export const cusumDefaults = { k: 0.5, h: 8 } as const;

/**
 * One step of Page's two-sided CUSUM for a key: the new value standardised against the history's baseline,
 * `C⁺ = max(0, z − k + C⁺prev)`, `C⁻ = max(0, −z − k + C⁻prev)`; a sum above h is a signal and both sums
 * restart at 0. Pure: the same history, value and previous sums give the same verdict and sums (replay).
 *
 * `history` is oldest first and excludes `value`; `previous` is what the key's newest stored row carries
 * (undefined for a key's first check). The baseline is the whole history, the values of a running sum included.
 * Why: leaving them out (so the baseline cannot follow a shift before it is signalled) left the baseline to the
 * older values only, as few as 10, whose estimation error the sums then added up: measured on N(0, 1) with a
 * rolling 50-value history, k = 0.5, h = 8, the in-control ARL was 635 with them left out and 7,070 with them in
 * (Siegmund's approximation for μ and σ known: ≈ 9,560). The price is a baseline that absorbs part of a small
 * shift: a 1σ shift is found within 50 events in 58% of runs (94% with them left out), a 2σ shift in 99.75%
 * (median 7 events; Siegmund 5.9 with μ, σ known), a 3σ shift in 99% (median 4).
 */
export function cusumStep(
  history: readonly number[],
  value: number,
  previous: CusumSums | undefined,
  options: DetectOptions = {},
): { verdict: StepVerdict; sums: CusumSums } {
  const k = options.k ?? cusumDefaults.k;
  const h = options.h ?? cusumDefaults.h;
  const minHistory = Math.max(3, options.minHistory ?? 10);
  const floor = sigmaFloor(options);
  const prev = validSums(previous);
  const finite = history.filter(Number.isFinite);
  const p = predict(finite, value, k + h, floor);
  const quiet = { anomaly: false, direction: null, score: 0, mean: p.mean, sigma: p.sigma, n: p.n, model: p.model } as const;
  // A value that cannot be standardised is not part of the statistic: the sums go on unchanged past it.
  if (!Number.isFinite(value)) return { verdict: { ...quiet, reason: "non-finite-value" }, sums: prev };
  if (p.n < minHistory) return { verdict: { ...quiet, reason: "short-history" }, sums: zeroSums };
  if (!Number.isFinite(p.mean) || !Number.isFinite(p.sigma))
    return { verdict: { ...quiet, reason: "non-finite-baseline" }, sums: zeroSums };

  const z = (value - p.mean) / p.sigma;
  const upper = Math.max(0, z - k + prev.upper);
  const lower = Math.max(0, -z - k + prev.lower);
  const sums: CusumSums = {
    upper,
    lower,
    upperRun: upper > 0 ? Math.min(prev.upperRun + 1, maxRunLength) : 0,
    lowerRun: lower > 0 ? Math.min(prev.lowerRun + 1, maxRunLength) : 0,
  };
  const score = Math.max(upper, lower);
  if (!(score > h)) return { verdict: { ...quiet, score }, sums };
  const direction = upper >= lower ? "up" : "down";
  const run = direction === "up" ? sums.upperRun : sums.lowerRun;
  return {
    verdict: { ...quiet, anomaly: true, direction, score, ...(run < maxRunLength ? { changeEventsAgo: run } : {}) },
    sums: zeroSums,
  };
}
