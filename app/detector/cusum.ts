/**
 * The anomaly check: a two-sided tabular CUSUM (Page 1954; Montgomery, "Introduction to Statistical Quality
 * Control", ch. 9), pure functions, no I/O.
 *
 * Why this file exists (DESIGN.md §3): the reference system's CUSUM could never fire. It used sqrt(M2) as the
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
  /** Decision interval in standard deviations (default 5). */
  readonly h?: number;
  /** Fewer finite history values than this: no verdict of anomaly (default 10). */
  readonly minHistory?: number;
  /**
   * Most recent history values the sums also run over before the new value (default 0). The detector keeps no
   * state between events (the history comes from Cassandra), so the sums start at zero for each check. With 0
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

/**
 * The baseline of a history that may hold earlier anomalies: a spike of 1000× in the last 50 values would
 * inflate σ so much that the next spike hides under it. Values that would themselves have been flagged
 * (more than `cutoff`·σ from the mean) are left out and the baseline recomputed, a few rounds at most.
 */
function cleanBaseline(
  history: readonly number[],
  cutoff: number,
  floor: (b: { mean: number; sd: number }) => number,
): { mean: number; sigma: number; n: number } {
  let values = history.filter(Number.isFinite);
  let b = baseline(values);
  for (let round = 0; round < 3; round++) {
    const sigma = floor(b);
    const kept = values.filter((v) => Math.abs(v - b.mean) <= cutoff * sigma);
    if (kept.length === values.length || kept.length < 2) break;
    values = kept;
    b = baseline(values);
  }
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
  const floor = (b: { mean: number; sd: number }) =>
    Math.max(b.sd, Math.abs(b.mean) * (options.minRelativeSigma ?? 1e-3), options.minSigma ?? 1e-9);
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
