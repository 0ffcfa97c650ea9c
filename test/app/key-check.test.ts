/**
 * The pipeline's check (key-check.ts): what real data needs beside the CUSUM, and that no single value can blind a
 * key. Each run goes through the state's codec between checks, as the detector does (it reads the state back from
 * the key's newest row).
 */
import { describe, expect, it } from "vitest";
import {
  checkKey,
  keyCheckDefaults,
  surpriseDigits,
  type KeyCheckOptions,
  type KeyState,
  type KeyVerdict,
} from "../../app/detector/key-check.ts";
import { cusumStep, type CusumSums } from "../../app/detector/cusum.ts";
import { parseDetectorConfig } from "../../app/config.ts";
import { decodeKeyState, encodeKeyState, keyStateBytes, storedKeyState } from "../../app/detector/key-state-codec.ts";
import { historyWindow } from "../../app/topology.ts";
import { Rng } from "../../app/loadgen/random.ts";

/** Checks `values` one after the other as one key; returns every verdict and the last state. */
function run(values: readonly number[], start?: { history: number[]; state: KeyState | undefined }, options: KeyCheckOptions = {}) {
  const history = [...(start?.history ?? [])];
  let state = start?.state;
  const verdicts: KeyVerdict[] = [];
  for (const v of values) {
    const out = checkKey(history.slice(-historyWindow), v, state, options);
    state = storedKeyState(out.state);
    verdicts.push(out.verdict);
    history.push(v);
  }
  return { verdicts, state, history };
}

const noise = (n: number, seed = 7) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => 100 + rng.normal());
};

describe("checkKey", () => {
  it("stays quiet while the key learns, then scores a value far outside the key's range as an anomaly", () => {
    const warm = run(noise(400));
    expect(warm.verdicts.slice(0, keyCheckDefaults.learnEvents).every((v) => v.anomalyScore === 0)).toBe(true);
    const spike = run([130], warm).verdicts[0]!;
    expect(spike).toMatchObject({ anomaly: true, direction: "up", cause: "range" });
    expect(spike.anomalyScore).toBeGreaterThanOrEqual(keyCheckDefaults.alarmScore);
    expect(spike.anomalyScore).toBeGreaterThan(0.9);
    expect(spike.anomalyScore).toBeLessThanOrEqual(1);
  });

  it("after one hostile value (1e150) in the history, a +100σ spike is still flagged within the key's next 50 events", () => {
    const warm = run(noise(400));
    const hostile = run([1e150], warm);
    const after = run([...noise(20, 8), 200, ...noise(29, 9)], hostile);
    expect(after.verdicts[20]).toMatchObject({ anomaly: true, direction: "up" });
    expect(after.verdicts[20]!.anomalyScore).toBeGreaterThanOrEqual(keyCheckDefaults.alarmScore);
  });

  it("after a 30σ spike in the history, a 20σ spike is still an anomaly (the baseline leaves the first out)", () => {
    const warm = run(noise(400));
    const first = run([130], warm);
    const later = run([...noise(10, 11), 120], first);
    const v = later.verdicts.at(-1)!;
    expect(v.anomaly).toBe(true);
    expect(v.anomalyScore).toBeGreaterThanOrEqual(keyCheckDefaults.alarmScore);
    expect(v.score).toBeGreaterThan(15); // the CUSUM statistic, σ not inflated by the 30σ value
  });

  it("a history of one extreme value among constants: the baseline is the constant, and a change is flagged", () => {
    const constants = Array.from({ length: 200 }, () => 5);
    const warm = run(constants);
    const withExtreme = run([5000, 5, 5, 5], warm);
    const change = run([5.5], withExtreme).verdicts[0]!;
    expect(change.mean).toBe(5);
    expect(change.anomaly).toBe(true);
  });

  it("alarms an autocorrelated key about as rarely as an independent one, where the CUSUM's own signal does not", () => {
    // AR(1) with φ = 0.5: the level model's residuals are correlated, so the sums add the correlation up.
    const rng = new Rng(21);
    let x = 0;
    const correlated = Array.from({ length: 6000 }, () => (x = 0.5 * x + rng.normal()));
    const after = (vs: KeyVerdict[]) => vs.slice(1000);
    const checked = after(run(correlated).verdicts);
    const alarming = (v: KeyVerdict) => v.anomalyScore >= keyCheckDefaults.alarmScore;
    const alarms = checked.filter(alarming).length;
    const cusumSignals = checked.filter((v) => v.anomaly).length;
    const independentAlarms = after(run(noise(6000, 22)).verdicts).filter(alarming).length;
    expect(cusumSignals).toBeGreaterThan(2 * alarms);
    expect(alarms).toBeLessThanOrEqual(independentAlarms + 5);
  });

  it("is pure: the same history, value and state give the same verdict and state (replay)", () => {
    const warm = run(noise(300));
    const history = warm.history.slice(-historyWindow);
    const a = checkKey(history, 104, warm.state);
    const b = checkKey([...history], 104, storedKeyState(warm.state!));
    expect(b).toEqual(a);
  });

  it("passes a non-finite value by without changing the key's range or likelihood", () => {
    const warm = run(noise(300));
    const out = checkKey(warm.history.slice(-historyWindow), Number.NaN, warm.state);
    expect(out.verdict).toMatchObject({ anomaly: false, anomalyScore: 0, cause: null, reason: "non-finite-value" });
    expect({ ...out.state, sums: undefined }).toEqual({ ...warm.state, sums: undefined });
  });
});

describe("the anomaly rule", () => {
  // An autocorrelated key with a spike and a level shift: the two rules disagree on it.
  const rng = new Rng(31);
  let x = 0;
  const series = Array.from({ length: 3000 }, (_, i) => (x = 0.5 * x + rng.normal()) + (i === 1500 ? 40 : 0) + (i >= 2200 ? 20 : 0));

  it("cusum (the default): anomaly, direction and change point are the CUSUM step's own", () => {
    let sums: CusumSums | undefined;
    const expected = series.map((v, i) => {
      const out = cusumStep(series.slice(Math.max(0, i - historyWindow), i), v, sums);
      sums = out.sums;
      return out.verdict;
    });
    const verdicts = run(series).verdicts;
    expect(verdicts.map((v) => [v.anomaly, v.direction, v.changeEventsAgo])).toEqual(
      expected.map((v) => [v.anomaly, v.direction, v.changeEventsAgo]),
    );
  });

  it("score: anomaly is the score at or above the alarm, with a direction and a change point on each", () => {
    const verdicts = run(series, undefined, { anomalyRule: "score" }).verdicts;
    const anomalies = verdicts.flatMap((v, i) => (v.anomaly ? [{ i, v }] : []));
    expect(verdicts.every((v) => v.anomaly === v.anomalyScore >= keyCheckDefaults.alarmScore)).toBe(true);
    expect(anomalies.map((a) => a.i)).toContain(1500);
    expect(anomalies.map((a) => a.i)).toContain(2200);
    for (const { v } of anomalies) {
      expect(v.direction).not.toBeNull();
      expect(v.changeEventsAgo).toBeGreaterThanOrEqual(1);
    }
    expect(verdicts[1500]).toMatchObject({ direction: "up", cause: "range", changeEventsAgo: 1 });
    expect(verdicts[2200]).toMatchObject({ direction: "up", cause: "range", changeEventsAgo: 1 });
    // Fewer alarms than the CUSUM's own signal on this key (its sums add the autocorrelation up).
    expect(anomalies.length).toBeLessThan(run(series).verdicts.filter((v) => v.anomaly).length);
  });

  it("is a detector setting that refuses anything else, naming it", () => {
    expect(parseDetectorConfig({ env: {} }).anomalyRule).toBe("cusum");
    expect(parseDetectorConfig({ env: { DETECTOR_ANOMALY_RULE: "score" } }).anomalyRule).toBe("score");
    expect(() => parseDetectorConfig({ env: { DETECTOR_ANOMALY_RULE: "zscore" } })).toThrow(
      /setting anomalyRule \(env DETECTOR_ANOMALY_RULE\): value "zscore" is not allowed .*; allowed: one of cusum, score/,
    );
  });
});

describe("key state codec", () => {
  it("round-trips a state in one small cell, and refuses cells that are not a state", () => {
    const s: KeyState = {
      n: 100,
      low: -3.5,
      high: 1e12,
      likMean: 0.25,
      likVar: 0.125,
      sums: { upper: 1.5, lower: 0, upperRun: 3, lowerRun: 0 },
    };
    const cell = encodeKeyState(s);
    expect(cell.length).toBe(keyStateBytes);
    expect(decodeKeyState(cell)).toEqual(s);
    expect(decodeKeyState(null)).toBeUndefined();
    expect(decodeKeyState(cell.subarray(0, keyStateBytes - 1))).toBeUndefined();
    const otherVersion = Buffer.from(cell);
    otherVersion[0] = 99;
    expect(decodeKeyState(otherVersion)).toBeUndefined();
    const inverted = encodeKeyState({ ...s, low: 2, high: 1 });
    expect(decodeKeyState(inverted)).toBeUndefined();
  });

  it("saturates the run lengths and the count instead of wrapping", () => {
    const s: KeyState = { n: 100, low: 0, high: 1, likMean: 0, likVar: 0, sums: { upper: 1, lower: 1, upperRun: 1e9, lowerRun: 70_000 } };
    expect(decodeKeyState(encodeKeyState(s))!.sums).toMatchObject({ upperRun: 65_535, lowerRun: 65_535 });
  });
});

describe("surpriseDigits", () => {
  it("is −log10 of the normal tail, continuous where the asymptotic form takes over, and 0 at or below the mean", () => {
    expect(surpriseDigits(0)).toBe(0);
    expect(surpriseDigits(-3)).toBe(0);
    expect(surpriseDigits(1.6448536)).toBeCloseTo(Math.log10(20), 4); // Q = 0.05
    expect(surpriseDigits(3.7190165)).toBeCloseTo(4, 3); // Q = 1e-4
    expect(Math.abs(surpriseDigits(8 - 1e-9) - surpriseDigits(8 + 1e-9))).toBeLessThan(1e-3);
    expect(surpriseDigits(40)).toBeGreaterThan(surpriseDigits(20));
    expect(Number.isFinite(surpriseDigits(1e6))).toBe(true);
  });
});
