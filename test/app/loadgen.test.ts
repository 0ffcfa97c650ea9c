import { describe, expect, it } from "vitest";
import { cusumStep, type CusumSums } from "../../app/detector/cusum.ts";
import { Rng, ZipfSampler } from "../../app/loadgen/random.ts";
import { dueTime, eventsDueBy, rateAt } from "../../app/loadgen/schedule.ts";
import { newKeyState, nextValue, smallShifts } from "../../app/loadgen/value-models.ts";
import { historyWindow } from "../../app/topology.ts";
import { verdictRecord, type VerdictRecord } from "../../app/events/verdict-codec.ts";
import { eventName, scoreVerdicts, type InjectionRecord } from "../../scripts/local/verify.ts";

describe("open-loop schedule", () => {
  const p = { rate: 100, burstFactor: 3, burstStart: 10, burstDuration: 5 };
  it("is the integral of the rate, with the burst", () => {
    expect(eventsDueBy(p, 1)).toBe(100);
    expect(eventsDueBy(p, 10)).toBe(1000);
    expect(eventsDueBy(p, 15)).toBe(1000 + 1500);
    expect(eventsDueBy(p, 20)).toBe(2500 + 500);
    expect(rateAt(p, 12)).toBe(300);
    expect(rateAt(p, 16)).toBe(100);
  });
  it("gives each event a due time consistent with the count", () => {
    for (const i of [0, 99, 999, 1000, 2499, 2500, 2999]) {
      const t = dueTime(p, i);
      expect(eventsDueBy(p, t + 1e-9)).toBeGreaterThanOrEqual(i + 1);
      expect(eventsDueBy(p, t - 1e-6)).toBeLessThanOrEqual(i);
    }
  });
});

describe("randomness", () => {
  it("is reproducible from the seed", () => {
    const a = new Rng(7);
    const b = new Rng(7);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
  });
  it("draws zipf ranks with the expected skew", () => {
    const rng = new Rng(1);
    const z = new ZipfSampler(1000, 1);
    const counts = new Map<number, number>();
    for (let i = 0; i < 100_000; i++) {
      const k = z.sample(rng);
      expect(k).toBeGreaterThanOrEqual(1);
      expect(k).toBeLessThanOrEqual(1000);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    // P(1) / P(2) = 2 for exponent 1; H(1000) ≈ 7.485 so P(1) ≈ 0.1336
    expect((counts.get(1) ?? 0) / 100_000).toBeCloseTo(0.1336, 1);
    expect((counts.get(1) ?? 0) / (counts.get(2) ?? 1)).toBeCloseTo(2, 0);
  });
});

describe("value models with injected anomalies, checked by the detector's step (no Kafka, no Cassandra)", () => {
  it("gives detectable spikes and shifts, small ones sized in σ, and a quiet detector on normal values and walks", () => {
    const rng = new Rng(2024);
    const keys = Array.from({ length: 200 }, () => ({
      state: newKeyState(rng, 0.5),
      values: [] as number[],
      sums: undefined as CusumSums | undefined,
    }));
    expect(keys.some((k) => k.state.model === "walk") && keys.some((k) => k.state.model === "stable")).toBe(true);
    const verdicts: VerdictRecord[] = [];
    const injections: InjectionRecord[] = [];
    const injected = { spike: 0, shift: 0 };
    let t = 0;
    for (let round = 0; round < 500; round++) {
      keys.forEach((key, i) => {
        const { value, label, sigmas } = nextValue(key.state, rng, { spikeProbability: 0.004, shiftProbability: 0.004 });
        const event = { id: `k${i}`, time: t, producer: "p", seq: t, value, label };
        if (label !== "none") {
          injected[label]++;
          injections.push({ name: eventName("p", t), kind: label, sigmas });
        }
        // As the pipeline does: the previous 50 values and the sums the previous check left.
        const { verdict, sums } = cusumStep(key.values.slice(-historyWindow), value, key.sums);
        key.sums = sums;
        key.values.push(value);
        verdicts.push(verdictRecord(event, verdict, t));
        t++;
      });
    }
    const s = scoreVerdicts(verdicts, injected, injections);
    const small = injections.filter((i) => i.kind === "shift" && i.sigmas < 10);
    expect(small.length).toBeGreaterThan(20);
    for (const i of small) {
      expect(i.sigmas).toBeGreaterThanOrEqual(smallShifts.sigmas.min);
      expect(i.sigmas).toBeLessThanOrEqual(smallShifts.sigmas.max);
    }
    const recallOf = (kind: string, bucket: string) => s.bySize.find((b) => b.kind === kind && b.bucket === bucket)?.recall;
    expect(recallOf("shift", "2-3σ")).toBeGreaterThanOrEqual(0.9);
    expect(recallOf("shift", ">=10σ")).toBeGreaterThanOrEqual(0.99);
    expect(recallOf("spike", ">=10σ")).toBeGreaterThanOrEqual(0.99);
    expect(s.precision).toBeGreaterThanOrEqual(0.9);
  });

  it("sizes small shifts within the range the injection names", () => {
    const rng = new Rng(11);
    const range = { min: 2, max: 2.5 };
    const sizes: number[] = [];
    for (let k = 0; k < 200; k++) {
      const state = newKeyState(rng, 0);
      for (let i = 0; i < 200; i++) {
        const { label, sigmas } = nextValue(state, rng, { spikeProbability: 0, shiftProbability: 0.02, smallShiftSigmas: range });
        if (label === "shift" && sigmas < 10) sizes.push(sigmas);
      }
    }
    expect(sizes.length).toBeGreaterThan(50);
    for (const s of sizes) {
      expect(s).toBeGreaterThanOrEqual(range.min);
      expect(s).toBeLessThanOrEqual(range.max);
    }
  });

  it("injects only on keys with a full history and no recent anomaly", () => {
    const rng = new Rng(3);
    const state = newKeyState(rng, 0);
    const labels = Array.from({ length: 400 }, () => nextValue(state, rng, { spikeProbability: 0.2, shiftProbability: 0.1 }).label);
    const at = labels.flatMap((l, i) => (l === "none" ? [] : [i]));
    expect(at[0]).toBeGreaterThanOrEqual(historyWindow);
    for (let j = 1; j < at.length; j++) expect(at[j]! - at[j - 1]!).toBeGreaterThan(historyWindow);
  });
});

describe("scoring", () => {
  const v = (id: string, seq: number, label: "none" | "spike" | "shift", anomaly: boolean) => ({
    v: 1 as const,
    id,
    time: seq,
    producer: "p",
    seq,
    value: 0,
    label,
    anomaly,
    direction: null,
    score: 0,
    mean: 0,
    sigma: 1,
    n: 50,
    checkedAt: seq,
  });
  it("counts episodes once, repeat flags inside a shift as neither, and flags outside as false", () => {
    const list = [
      v("a", 1, "none", false),
      v("a", 2, "shift", true),
      v("a", 3, "none", true), // inside the shift episode
      v("a", 4, "spike", false), // missed spike
      v("b", 5, "none", true), // false positive
      v("b", 6, "spike", true),
    ];
    const s = scoreVerdicts(list, { spike: 2, shift: 1 });
    expect(s).toMatchObject({ truePositives: 2, falsePositives: 1, anomaliesInjected: 3 });
    expect(s.precision).toBeCloseTo(2 / 3);
    expect(s.recall).toBeCloseTo(2 / 3);
    expect(s).toMatchObject({ repeatFlags: 1, inControlChecks: 2, falseAlarmsPer1000Checks: 500 });
  });

  it("gives recall and median delay per kind and size bucket from the generator's list of injections", () => {
    const list = [
      ...Array.from({ length: 10 }, (_, i) => v("a", i, i === 2 ? "shift" : "none", i === 6)), // 2.5σ shift flagged at its 5th event
      ...Array.from({ length: 10 }, (_, i) => v("b", 100 + i, i === 1 ? "shift" : "none", i === 2 || i === 3)), // 1.5σ, 2nd event
      v("c", 200, "shift", false), // 2.8σ, missed
      v("c", 201, "spike", true), // 80σ, at once
    ];
    const injections = [
      { name: eventName("p", 2), kind: "shift" as const, sigmas: 2.5 },
      { name: eventName("p", 101), kind: "shift" as const, sigmas: 1.5 },
      { name: eventName("p", 200), kind: "shift" as const, sigmas: 2.8 },
      { name: eventName("p", 201), kind: "spike" as const, sigmas: 80 },
    ];
    const s = scoreVerdicts(list, { spike: 1, shift: 3 }, injections);
    expect(s.bySize).toEqual([
      { kind: "shift", bucket: "<2σ", fromSigmas: 0, injected: 1, detected: 1, recall: 1, medianDelayEvents: 2 },
      { kind: "shift", bucket: "2-3σ", fromSigmas: 2, injected: 2, detected: 1, recall: 0.5, medianDelayEvents: 5 },
      { kind: "spike", bucket: ">=10σ", fromSigmas: 10, injected: 1, detected: 1, recall: 1, medianDelayEvents: 1 },
    ]);
    expect(s).toMatchObject({ falsePositives: 0, repeatFlags: 1, censored: 0 });
  });

  it("leaves a shift whose key's checks end before its episode does, undetected so far, out of every recall", () => {
    const list = [
      ...Array.from({ length: 5 }, (_, i) => v("a", i, i === 2 ? "shift" : "none", false)), // 3 checks after it: censored
      ...Array.from({ length: 5 }, (_, i) => v("b", 10 + i, i === 2 ? "shift" : "none", i === 4)), // found in time: counts
    ];
    const injections = [
      { name: eventName("p", 2), kind: "shift" as const, sigmas: 2.5 },
      { name: eventName("p", 12), kind: "shift" as const, sigmas: 2.5 },
    ];
    const s = scoreVerdicts(list, { spike: 0, shift: 2 }, injections);
    expect(s).toMatchObject({ censored: 1, truePositives: 1, recall: 1 });
    expect(s.bySize).toEqual([{ kind: "shift", bucket: "2-3σ", fromSigmas: 2, injected: 1, detected: 1, recall: 1, medianDelayEvents: 3 }]);
  });
});
