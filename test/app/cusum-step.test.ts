/**
 * cusumStep: Page's sequential CUSUM with the sums carried from one check to the next. Statistical
 * properties are checked against Montgomery's published table, not against figures measured here.
 */
import { describe, expect, it } from "vitest";
import { cusumDefaults, cusumStep, maxRunLength, tabularCusum, zeroSums, type CusumSums } from "../../app/detector/cusum.ts";
import { storedKeyState } from "../../app/detector/key-state-codec.ts";
import { decodeVerdict, encodeVerdict, verdictRecord } from "../../app/events/verdict-codec.ts";
import { Rng } from "../../app/loadgen/random.ts";
import { newKeyState, nextValue } from "../../app/loadgen/value-models.ts";
import { historyWindow } from "../../app/topology.ts";

// Montgomery, Introduction to Statistical Quality Control, Example 9.1 (same data as cusum.test.ts).
const montgomery = [
  9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.2, 10.34, 9.03, 11.47, 10.51, 9.4, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84, 10.9,
  9.33, 12.29, 11.5, 10.6, 11.08, 10.38, 11.62, 11.31, 10.52,
];

/** A history whose baseline is μ = 10, σ = 1 (to 1e-5) whatever few values a running sum leaves out of it. */
const textbookHistory = (() => {
  const n = 100_000;
  const c = Math.sqrt((n - 1) / n);
  return Array.from({ length: n }, (_, i) => 10 + (i % 2 === 0 ? c : -c));
})();

/** Runs cusumStep over `values` with a rolling history, as the pipeline does; returns each step's output. */
function run(initial: readonly number[], values: readonly number[], h = 5) {
  const xs = [...initial];
  let sums: CusumSums | undefined;
  return values.map((v) => {
    const out = cusumStep(xs.slice(-historyWindow), v, sums, { h });
    sums = out.sums;
    xs.push(v);
    return out;
  });
}

describe("cusumStep", () => {
  it("reproduces Montgomery's tabular example step by step, with the change point of the book", () => {
    let sums: CusumSums | undefined;
    const book = tabularCusum(montgomery, { target: 10, sigma: 1, k: 0.5, h: 5 });
    const flagged: number[] = [];
    montgomery.forEach((x, i) => {
      const out = cusumStep(textbookHistory, x, sums, { k: 0.5, h: 5 });
      if (out.verdict.anomaly) {
        flagged.push(i);
        expect(out.verdict.score).toBeCloseTo(book.upper[i]!, 3);
        expect(out.verdict.direction).toBe("up");
        // N⁺ = 7 at observation 29: the sum was last 0 at observation 22, the shift began after it.
        expect(out.verdict.changeEventsAgo).toBe(7);
      } else if (i < book.signal!) {
        // (After the signal the book's sums go on; ours restart at 0.)
        expect(out.sums.upper).toBeCloseTo(book.upper[i]!, 3);
        expect(out.sums.lower).toBeCloseTo(book.lower[i]!, 3);
      }
      sums = out.sums;
    });
    expect(flagged).toEqual([book.signal]);
  });

  it("keeps both sums non-negative and restarts them at 0 after a signal", () => {
    const rng = new Rng(1);
    const values = Array.from({ length: 3000 }, (_, i) => 100 + rng.normal() + (i % 400 > 300 ? 3 : 0));
    const outs = run(values.slice(0, historyWindow), values.slice(historyWindow));
    expect(outs.some((o) => o.verdict.anomaly)).toBe(true);
    for (const o of outs) {
      expect(o.sums.upper).toBeGreaterThanOrEqual(0);
      expect(o.sums.lower).toBeGreaterThanOrEqual(0);
      if (o.verdict.anomaly) expect(o.sums).toEqual(zeroSums);
    }
  });

  it("at its defaults catches sustained 2σ and 3σ shifts within 50 events, near Siegmund's delay, and rarely alarms in control", () => {
    const { k, h } = cusumDefaults;
    // Siegmund's approximation of the one-sided ARL for μ and σ known (Montgomery §9.1.4), Δ = δ − k, b = h + 1.166.
    const siegmund = (delta: number) => {
      const d = delta - k;
      const b = h + 1.166;
      return (Math.exp(-2 * d * b) + 2 * d * b - 1) / (2 * d * d);
    };
    const rng = new Rng(2);
    const delays = (delta: number, reps: number) =>
      Array.from({ length: reps }, () => {
        const xs = Array.from({ length: historyWindow }, () => rng.normal());
        let sums: CusumSums | undefined;
        for (let n = 1; n <= 1000; n++) {
          const v = delta + rng.normal();
          const out = cusumStep(xs.slice(-historyWindow), v, sums);
          sums = out.sums;
          xs.push(v);
          if (out.verdict.anomaly && out.verdict.direction === "up") return n;
        }
        return Infinity;
      }).sort((a, b) => a - b);
    for (const delta of [2, 3]) {
      const d = delays(delta, 400);
      expect(d.filter((n) => n <= historyWindow).length / d.length).toBeGreaterThanOrEqual(0.98);
      // The baseline is estimated from 50 values and takes in part of the shift: slower than Siegmund's, not much.
      const median = d[d.length >> 1]!;
      expect(median / siegmund(delta)).toBeGreaterThan(1 / 1.5);
      expect(median / siegmund(delta)).toBeLessThan(1.5);
    }
    // In control: N(0, 1) with a rolling 50-value history; Siegmund's two-sided ARL for μ, σ known is ≈ 9,560.
    const xs = Array.from({ length: historyWindow }, () => rng.normal());
    let sums: CusumSums | undefined;
    let alarms = 0;
    const checks = 100_000;
    for (let i = 0; i < checks; i++) {
      const v = rng.normal();
      const out = cusumStep(xs.slice(-historyWindow), v, sums);
      sums = out.sums;
      xs.push(v);
      if (xs.length > 4 * historyWindow) xs.splice(0, xs.length - historyWindow);
      if (out.verdict.anomaly) alarms++;
    }
    expect((alarms / checks) * 1000).toBeLessThan(0.5);
  });

  it("estimates the change point within a few events of the true one", () => {
    const rng = new Rng(3);
    const errors: number[] = [];
    for (let r = 0; r < 200; r++) {
      const before = Array.from({ length: historyWindow + 20 }, () => 500 + 5 * rng.normal());
      const after = Array.from({ length: 40 }, () => 500 + 2 * 5 + 5 * rng.normal());
      const outs = run(before.slice(0, historyWindow), [...before.slice(historyWindow), ...after]);
      const at = outs.findIndex((o, i) => i >= 20 && o.verdict.anomaly && o.verdict.direction === "up");
      if (at < 0) continue;
      const started = at - (outs[at]!.verdict.changeEventsAgo! - 1); // index of the first event of the run
      errors.push(Math.abs(started - 20));
    }
    expect(errors.length).toBeGreaterThan(180);
    errors.sort((a, b) => a - b);
    expect(errors[errors.length >> 1]).toBeLessThanOrEqual(2); // median
  });

  it("does not alarm on the generator's random-walk keys more than on in-control noise", () => {
    const rate = (walkShare: number) => {
      const rng = new Rng(4);
      let checks = 0;
      let alarms = 0;
      for (let key = 0; key < 20; key++) {
        const state = newKeyState(rng, walkShare);
        const values = Array.from({ length: 3000 }, () => nextValue(state, rng, { spikeProbability: 0, shiftProbability: 0 }).value);
        const outs = run(values.slice(0, historyWindow), values.slice(historyWindow));
        checks += outs.length;
        alarms += outs.filter((o) => o.verdict.anomaly).length;
      }
      return alarms / checks;
    };
    const walks = rate(1);
    const stable = rate(0);
    expect(stable).toBeGreaterThan(0); // the comparison means something
    expect(walks).toBeLessThanOrEqual(stable);
  });

  it("gives the same verdicts and sums on replay", () => {
    const rng = new Rng(5);
    const values = Array.from({ length: 500 }, (_, i) => 100 + rng.normal() + (i > 300 ? 1.5 : 0));
    const first = run(values.slice(0, historyWindow), values.slice(historyWindow));
    const again = run(values.slice(0, historyWindow), values.slice(historyWindow));
    expect(again).toEqual(first);
  });

  it("carries the sums past a non-finite value and restarts on a short history or stored sums that are not sums", () => {
    const history = Array.from({ length: historyWindow }, (_, i) => 10 + (i % 2 === 0 ? 1 : -1));
    const previous = { upper: 2, lower: 0, upperRun: 3, lowerRun: 0 };
    expect(cusumStep(history, Number.NaN, previous)).toMatchObject({
      verdict: { anomaly: false, reason: "non-finite-value" },
      sums: previous,
    });
    expect(cusumStep([1, 2], 1e9, previous)).toMatchObject({ verdict: { reason: "short-history" }, sums: zeroSums });
    for (const bad of [
      { ...previous, upper: -1 },
      { ...previous, lower: Number.NaN },
      { ...previous, upperRun: 1.5 },
    ]) {
      expect(cusumStep(history, 10, bad).sums).toEqual(cusumStep(history, 10, undefined).sums);
    }
  });

  it("saturates the run counts at what the stored state holds, and names no change point from a saturated run", () => {
    const history = Array.from({ length: historyWindow }, (_, i) => 10 + (i % 2 === 0 ? 1 : -1));
    // A value a little above the allowance: the upper sum grows and its run counts on.
    const rising = 10 + 0.6 * cusumStep(history, 10, undefined).verdict.sigma;
    for (const upperRun of [maxRunLength - 1, maxRunLength, Number.MAX_SAFE_INTEGER]) {
      const { sums } = cusumStep(history, rising, { upper: 0.5, lower: 0, upperRun, lowerRun: 0 });
      expect(sums.upperRun).toBe(maxRunLength);
      // What the next check reads back from the row is the same count.
      const state = { n: 255, low: 9, high: 11, likMean: 0, likVar: 1, sums };
      expect(storedKeyState(state).sums.upperRun).toBe(maxRunLength);
    }
    // A signal at a saturated run: the change began at least that long ago, so no count is given.
    const far = cusumStep(history, 10 + 20, { upper: 7, lower: 0, upperRun: maxRunLength, lowerRun: 0 }).verdict;
    expect(far).toMatchObject({ anomaly: true, direction: "up" });
    expect(far).not.toHaveProperty("changeEventsAgo");
    const near = cusumStep(history, 10 + 20, { upper: 7, lower: 0, upperRun: 5, lowerRun: 0 }).verdict;
    expect(near).toMatchObject({ anomaly: true, changeEventsAgo: 6 });
  });

  it("gives a quiet verdict with its reason when finite history values overflow the baseline", () => {
    const huge = Array.from({ length: historyWindow }, (_, i) => (i % 2 === 0 ? 1 : -1) * Number.MAX_VALUE);
    for (const value of [0, 1e300, -Number.MAX_VALUE]) {
      expect(cusumStep(huge, value, undefined).verdict).toMatchObject({ anomaly: false, direction: null, reason: "non-finite-baseline" });
    }
  });
});

describe("the verdict of a step on the checks topic", () => {
  const event = { id: "k", time: 10_000, producer: "p", seq: 9, value: 30, label: "shift" as const };
  const times = [1_000, 2_000, 3_000, 4_000, 5_000]; // the history's event times, oldest first

  it("says where the change began: N events ago, at that event's time", () => {
    const signal = (changeEventsAgo: number) =>
      ({ anomaly: true, direction: "up", score: 9, mean: 0, sigma: 1, n: 50, model: "level", changeEventsAgo }) as const;
    // 1: the run began with this event; 3: two events before it, the history's second newest.
    expect(verdictRecord(event, signal(1), 11_000, times)).toMatchObject({ changeEventsAgo: 1, changeStartedAt: 10_000 });
    expect(verdictRecord(event, signal(3), 11_000, times)).toMatchObject({ changeEventsAgo: 3, changeStartedAt: 4_000 });
    // Older than the history read: the count stays, the time is not known.
    const old = verdictRecord(event, signal(9), 11_000, times);
    expect(old.changeEventsAgo).toBe(9);
    expect(old).not.toHaveProperty("changeStartedAt");
    expect(decodeVerdict(encodeVerdict(old))).toEqual(old);
  });

  it("carries no change point on a quiet verdict, and decodes", () => {
    const history = Array.from({ length: historyWindow }, (_, i) => 10 + (i % 2 === 0 ? 1 : -1));
    const { verdict } = cusumStep(history, 10.2, undefined);
    const record = verdictRecord(event, verdict, 11_000, times);
    expect(record).toMatchObject({ anomaly: false, model: "level" });
    expect(record).not.toHaveProperty("changeEventsAgo");
    expect(decodeVerdict(encodeVerdict(record))).toEqual(record);
  });
});
