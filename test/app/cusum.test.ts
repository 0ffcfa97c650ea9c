import { describe, expect, it } from "vitest";
import { baseline, detect, tabularCusum } from "../../app/detector/cusum.ts";

// Montgomery, Introduction to Statistical Quality Control, Example 9.1 / Table 9.1: 20 observations from
// N(10, 1), then 10 from N(11, 1); μ0 = 10, σ = 1, k = 0.5, h = 5. The book's tabular CUSUM signals at
// observation 29 (C⁺ = 5.28), the shift having started after observation 22 (N⁺ = 7).
const montgomery = [
  9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.2, 10.34, 9.03, 11.47, 10.51, 9.4, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84, 10.9,
  9.33, 12.29, 11.5, 10.6, 11.08, 10.38, 11.62, 11.31, 10.52,
];

describe("tabularCusum (textbook)", () => {
  it("reproduces Montgomery's Example 9.1", () => {
    const r = tabularCusum(montgomery, { target: 10, sigma: 1, k: 0.5, h: 5 });
    expect(r.signal).toBe(28); // observation 29, zero-based
    expect(r.upper[28]).toBeCloseTo(5.28, 2);
    expect(r.upper[21]).toBe(0); // the run that signals starts after observation 22
    expect(r.upper.slice(22, 29).every((c) => c > 0)).toBe(true);
    expect(r.upper[0]).toBe(0);
    expect(r.lower[1]).toBeCloseTo(1.56, 10); // C⁻₁ = 0.05, C⁻₂ = 0.05 + 9.5 − 7.99
  });

  it("keeps both sums non-negative and signals on the lower side too", () => {
    const xs = [10, 10, 7, 7, 7, 7];
    const r = tabularCusum(xs, { target: 10, sigma: 1, k: 0.5, h: 4 });
    expect([...r.upper, ...r.lower].every((c) => c >= 0)).toBe(true);
    expect(r.upper.every((c) => c === 0)).toBe(true);
    expect(r.lower).toEqual([0, 0, 2.5, 5, 7.5, 10]);
    expect(r.signal).toBe(3); // 5 > h·σ = 4
  });

  it("does not signal when a sum equals h exactly (exceeds means >)", () => {
    expect(tabularCusum([15.5], { target: 10, sigma: 1, k: 0.5, h: 5 }).signal).toBeNull();
    expect(tabularCusum([15.51], { target: 10, sigma: 1, k: 0.5, h: 5 }).signal).toBe(0);
  });

  it("returns empty sums and no signal for no observations", () => {
    expect(tabularCusum([], { target: 0, sigma: 1, k: 0.5, h: 5 })).toEqual({ upper: [], lower: [], signal: null });
  });

  it("rejects non-finite input and negative parameters", () => {
    const p = { target: 0, sigma: 1, k: 0.5, h: 5 };
    expect(() => tabularCusum([1, Number.NaN], p)).toThrow(RangeError);
    expect(() => tabularCusum([Infinity], p)).toThrow(RangeError);
    expect(() => tabularCusum([1], { ...p, sigma: -1 })).toThrow(RangeError);
    expect(() => tabularCusum([1], { ...p, target: Number.NaN })).toThrow(RangeError);
  });

  it("with σ = 0 any deviation beyond the target signals", () => {
    expect(tabularCusum([3, 3, 3.0001], { target: 3, sigma: 0, k: 0.5, h: 5 }).signal).toBe(2);
  });
});

describe("baseline", () => {
  it("is the mean and the sample standard deviation (not sqrt of the sum of squares)", () => {
    const b = baseline([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(b.mean).toBe(5);
    expect(b.sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(b.n).toBe(8);
  });
  it("skips non-finite values", () => {
    expect(baseline([1, Number.NaN, 3, Infinity])).toEqual({ mean: 2, sd: Math.SQRT2, n: 2 });
  });
});

const fifty = (v: number) => Array.from({ length: 50 }, () => v);

describe("detect: the reference system's vectors, which its own CUSUM missed", () => {
  it("flags fifty 1234.0 then 1234000 (theirs: S = 1,147,563.1 < h = 3,661,860.7, no anomaly)", () => {
    const v = detect(fifty(1234.0), 1234000);
    expect(v.anomaly).toBe(true);
    expect(v.direction).toBe("up");
    expect(v.mean).toBe(1234);
  });
  it("flags the downward spike their sign bug hid", () => {
    expect(detect(fifty(1234.0), 1.234)).toMatchObject({ anomaly: true, direction: "down" });
  });
  it("stays quiet on the same value again", () => {
    expect(detect(fifty(1234.0), 1234.0).anomaly).toBe(false);
  });
});

/** Deterministic normal noise (xorshift + Box-Muller), so the tests need no luck. */
function normals(seed: number, n: number): number[] {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe("detect: behaviour", () => {
  const noise = normals(42, 20_000).map((z) => 500 + 5 * z);

  it("stays quiet on normal noise", () => {
    let alarms = 0;
    for (let i = 50; i < noise.length; i++) if (detect(noise.slice(i - 50, i), noise[i]!).anomaly) alarms++;
    expect(alarms).toBe(0);
  });

  it("flags single spikes in noise, both ways, and not the values after them", () => {
    const series = noise.slice(0, 200);
    series[120] = 500 * 3;
    series[160] = 500 - 60;
    const flagged = [];
    for (let i = 50; i < series.length; i++) if (detect(series.slice(i - 50, i), series[i]!).anomaly) flagged.push(i);
    expect(flagged).toEqual([120, 160]);
  });

  it("is not blinded by an earlier spike in the history", () => {
    const history = noise.slice(0, 50);
    history[40] = 500_000;
    expect(detect(history, 440).anomaly).toBe(true);
    expect(detect(history, 501).anomaly).toBe(false);
  });

  it("flags a level shift at its first value", () => {
    const series = noise.slice(0, 200).map((x, i) => (i >= 100 ? x + 50 : x));
    const flagged = [];
    for (let i = 50; i < series.length; i++) if (detect(series.slice(i - 50, i), series[i]!).anomaly) flagged.push(i);
    expect(flagged[0]).toBe(100);
    // Later values of the new level may still alarm while the history mixes both levels, not after it has moved.
    expect(flagged.every((i) => i < 150)).toBe(true);
  });

  it("with a lookback accumulates a small sustained shift a point check misses", () => {
    const series = [...noise.slice(0, 50), ...noise.slice(50, 60).map((x) => x + 2.5 * 5)];
    const pointFlags = [];
    const runFlags = [];
    for (let i = 50; i < series.length; i++) {
      if (detect(series.slice(0, i).slice(-50), series[i]!).anomaly) pointFlags.push(i);
      if (detect(series.slice(0, i).slice(-50), series[i]!, { lookback: 5 }).anomaly) runFlags.push(i);
    }
    expect(pointFlags).toEqual([]);
    expect(runFlags.length).toBeGreaterThan(0);
  });

  it("gives no verdict on an empty or short history", () => {
    expect(detect([], 5)).toMatchObject({ anomaly: false, reason: "short-history", n: 0 });
    expect(detect([1, 2, 3], 1e9)).toMatchObject({ anomaly: false, reason: "short-history" });
    expect(detect([1, 2, 3], 1e9, { minHistory: 3 }).anomaly).toBe(true);
  });

  it("handles zero variance: flags a change beyond the floor, not one in the last digits", () => {
    expect(detect(fifty(1234), 1234.5).anomaly).toBe(false); // within 0.1% of the level
    expect(detect(fifty(1234), 1300).anomaly).toBe(true);
    expect(detect(fifty(0), 0).anomaly).toBe(false);
    expect(detect(fifty(0), 1).anomaly).toBe(true);
  });

  it("gives a quiet verdict with its reason, not a throw, when finite history values overflow the baseline", () => {
    // Finite values whose differences square to Infinity (stored before the codec bounded values).
    const huge = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 1 : -1) * Number.MAX_VALUE);
    for (const value of [0, 1e300, -Number.MAX_VALUE]) {
      expect(detect(huge, value)).toMatchObject({ anomaly: false, direction: null, reason: "non-finite-baseline" });
      expect(detect(huge, value, { lookback: 5 }).reason).toBe("non-finite-baseline");
    }
  });

  it("handles non-finite input without throwing", () => {
    expect(detect(fifty(1), Number.NaN)).toMatchObject({ anomaly: false, reason: "non-finite-value" });
    expect(detect(fifty(1), Infinity)).toMatchObject({ anomaly: false, reason: "non-finite-value" });
    const history = [...fifty(10), Number.NaN, Infinity];
    expect(detect(history, 10)).toMatchObject({ anomaly: false, n: 50 });
    expect(detect(history, 1000).anomaly).toBe(true);
  });
});
