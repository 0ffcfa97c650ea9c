/**
 * The check the pipeline runs on each event of a key: the CUSUM step (cusum.ts) plus what real series need, all
 * carried from one check to the next in one compact state (key-state-codec.ts stores it with the event's row).
 *
 * Why more than the CUSUM: real series (server metrics, prices, sensor readings) are autocorrelated, seasonal and
 * heavy-tailed. Against a 50-value window small moves look large and the sums add the autocorrelation up into
 * alarms, so a fixed decision interval h alarms all the time on some keys and never on others. Two parts, each a
 * score that reaches 0.5 at its alarm point, and the verdict's anomaly score is the larger:
 * - Range: how far the value lies outside everything the key has shown (its long-memory range), in widths of
 *   that range. A value past every earlier one is the strongest evidence a single value can give, whatever the
 *   key's noise, autocorrelation or season.
 * - Likelihood: how unusual the key's CUSUM statistic is against that key's own recent distribution of it (an
 *   exponentially weighted mean and variance of log(1 + S)), as decimal digits of a normal tail probability. A
 *   noisy key whose sums often run high and a quiet key alarm at the same rate; a sustained shift still drives the
 *   sums, and so the likelihood, up.
 * The constants were chosen on the Numenta Anomaly Benchmark (`npm run bench:nab`, results/bench/nab.json, which
 * also holds the score with each part left out); the CUSUM keeps its textbook behaviour on independent data.
 *
 * Pure and deterministic: the same history, value and previous state give the same verdict and state (replay).
 */
import { cusumStep, sigmaFloor, zeroSums, type CusumSums, type DetectOptions, type StepVerdict } from "./cusum.ts";

export interface KeyState {
  /** Finite values of the key checked so far, counted up to keyCheckDefaults.learnEvents (all the check asks). */
  readonly n: number;
  /** The key's long-memory range: every value it has shown, except how far lone spikes may stretch it. */
  readonly low: number;
  readonly high: number;
  /** Exponentially weighted mean and variance of log(1 + S), S the CUSUM statistic after each check. */
  readonly likMean: number;
  readonly likVar: number;
  readonly sums: CusumSums;
}

export const initialKeyState: KeyState = Object.freeze({ n: 0, low: 0, high: 0, likMean: 0, likVar: 0, sums: zeroSums });

/** The design's constants, one place; `npm run bench:nab` measures what each part buys (it leaves each out in turn). */
export const keyCheckDefaults = {
  /** Checks of a key before either part may alarm: its range and the likelihood's statistics are still forming. */
  learnEvents: 100,
  /** Range excess (in widths of the range) at which the range part's score is 0.5. */
  rangeExcessAtAlarm: 0.004,
  /** Surprise (decimal digits of tail probability) at which the likelihood part's score is 0.5. */
  surpriseAtAlarm: 24,
  /** Half-life, in checks, of the likelihood's mean and variance. */
  likelihoodHalfLife: 500,
  /** Floor of the likelihood's standard deviation (log(1 + S) units): a key whose sums were always 0. */
  likelihoodMinSd: 0.05,
  /** The score of every part at its alarm point: where to alert on the anomaly score. */
  alarmScore: 0.5,
} as const;

/** What makes a verdict an anomaly (the detector's --anomaly-rule). */
export const anomalyRules = ["cusum", "score"] as const;
export type AnomalyRule = (typeof anomalyRules)[number];

export type KeyCheckOptions = DetectOptions & {
  /**
   * cusum (default): `anomaly` is the CUSUM's signal, exact on independent data. score: `anomaly` is the anomaly
   * score at or above alarmScore, for real series; the direction is the side the value left the range on, or the
   * larger sum's, and the change began where that sum last was 0 (Page's estimate), or at this value for the range.
   */
  readonly anomalyRule?: AnomalyRule;
  /** Leave a part out (the NAB bench's ablation): its score is 0. */
  readonly without?: readonly ("range" | "likelihood")[];
  /** Other values of the design's constants (the NAB bench's sweep); the defaults otherwise. */
  readonly tuning?: Partial<KeyCheckTuning>;
};

/** The constants the NAB bench sweeps. */
export const tunedConstants = ["learnEvents", "rangeExcessAtAlarm", "surpriseAtAlarm", "likelihoodHalfLife"] as const;
export type KeyCheckTuning = { readonly [K in (typeof tunedConstants)[number]]: number };
type Constants = { readonly [K in keyof typeof keyCheckDefaults]: number };

/**
 * The CUSUM step's verdict (`anomaly`: its signal, the textbook check on independent data, with the direction and
 * Page's change point), and the real-data score beside it.
 */
export interface KeyVerdict extends StepVerdict {
  /** The anomaly score in [0, 1]: the larger of the parts' scores; alert on it at or above `alarmScore`. */
  readonly anomalyScore: number;
  /** Which part gave the anomaly score (null before the key has learned, or when both are 0). */
  readonly cause: "range" | "likelihood" | null;
}

const halfLifeAlpha = (halfLife: number) => 1 - Math.pow(0.5, 1 / halfLife);

/** One check: the CUSUM step, then the range and the likelihood against the key's state. */
export function checkKey(
  history: readonly number[],
  value: number,
  previous: KeyState | undefined,
  options: KeyCheckOptions = {},
): { verdict: KeyVerdict; state: KeyState } {
  const c: Constants = { ...keyCheckDefaults, ...options.tuning };
  const state = previous ?? initialKeyState;
  const step = cusumStep(history, value, state.sums, options);
  if (!Number.isFinite(value)) return { verdict: { ...step.verdict, anomalyScore: 0, cause: null }, state: { ...state, sums: step.sums } };

  const learned = state.n >= c.learnEvents;
  const left = new Set(options.without ?? []);
  const width = sigmaFloor(options)({ mean: (state.low + state.high) / 2, sd: state.high - state.low });
  const excess = Math.max(0, value - state.high, state.low - value) / width;
  const rangeScore = learned && !left.has("range") ? excess / (excess + c.rangeExcessAtAlarm) : 0;

  // The CUSUM statistic of a short history or a non-finite baseline is 0: no evidence, so no surprise either.
  const statistic = Math.log1p(Math.min(step.verdict.score, 1e300));
  const sd = Math.max(Math.sqrt(state.likVar), c.likelihoodMinSd);
  const surprise = surpriseDigits((statistic - state.likMean) / sd);
  const likelihoodScore = learned && !left.has("likelihood") ? surprise / (surprise + c.surpriseAtAlarm) : 0;

  const anomalyScore = Math.max(rangeScore, likelihoodScore);
  const cause = anomalyScore === 0 ? null : rangeScore >= likelihoodScore ? "range" : "likelihood";
  const cusumVerdict: KeyVerdict = { ...step.verdict, anomalyScore, cause };
  const verdict = options.anomalyRule === "score" ? scoreVerdict(cusumVerdict, value, state, step.sums, history.length) : cusumVerdict;
  return { verdict, state: nextState(c, state, value, history[history.length - 1], statistic, step.sums) };
}

/** The verdict under the score rule: an anomaly when the score reaches the alarm, with a direction and a change point. */
function scoreVerdict(v: KeyVerdict, value: number, s: KeyState, sums: CusumSums, historyLength: number): KeyVerdict {
  const { changeEventsAgo: _cusums, ...rest } = v;
  if (v.anomalyScore < keyCheckDefaults.alarmScore) return { ...rest, anomaly: false, direction: null };
  if (v.cause === "range") return { ...rest, anomaly: true, direction: value > s.high ? "up" : "down", changeEventsAgo: 1 };
  // The likelihood: the CUSUM's own signal when it signalled here (its sums restart), else the larger running sum.
  if (v.anomaly && v.direction !== null) return { ...v, anomaly: true };
  const up = sums.upper >= sums.lower;
  const run = up ? sums.upperRun : sums.lowerRun;
  return {
    ...rest,
    anomaly: true,
    direction: up ? "up" : "down",
    ...(run >= 1 && run <= historyLength + 1 ? { changeEventsAgo: run } : {}),
  };
}

/**
 * The state after a finite value. The range takes the value whole while the key learns; after that, a value
 * outside it stretches it by at most one width, unless the previous value was out there too (a level that moved
 * stays, a lone spike does not): one hostile value (1e150) cannot widen the range so far that nothing is ever
 * outside it again. The likelihood's statistics take the new statistic with a half-life.
 */
function nextState(
  c: Constants,
  s: KeyState,
  value: number,
  previousValue: number | undefined,
  statistic: number,
  sums: CusumSums,
): KeyState {
  let low = value;
  let high = value;
  if (s.n > 0) {
    const width = s.high - s.low;
    const free = s.n < c.learnEvents;
    const prev = previousValue !== undefined && Number.isFinite(previousValue) ? previousValue : value;
    high = Math.max(s.high, free ? value : Math.min(value, Math.max(s.high + width, prev)));
    low = Math.min(s.low, free ? value : Math.max(value, Math.min(s.low - width, prev)));
  }
  const alpha = halfLifeAlpha(c.likelihoodHalfLife);
  const first = s.n === 0;
  const delta = statistic - s.likMean;
  return {
    n: Math.min(s.n + 1, c.learnEvents),
    low,
    high,
    likMean: first ? statistic : s.likMean + alpha * delta,
    likVar: first ? 0 : (1 - alpha) * (s.likVar + alpha * delta * delta),
    sums,
  };
}

/** −log₁₀ of the upper normal tail probability Q(z): 0 for z ≤ 0, about z²/(2 ln 10) far out (no underflow). */
export function surpriseDigits(z: number): number {
  if (!(z > 0)) return 0;
  if (z < 8) return -Math.log10(0.5 * erfc(z / Math.SQRT2));
  // Mills' ratio: Q(z) ≈ φ(z)/z · (1 − 1/z²), accurate to 1e-4 relative past z = 8.
  return ((z * z) / 2 + Math.log(z * Math.sqrt(2 * Math.PI)) - Math.log1p(-1 / (z * z))) / Math.LN10;
}

/** The complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}
