/** The pure parts of the spatial throughput bench (scripts/bench/spatial-throughput.ts). */
import { describe, expect, it } from "vitest";
import type { VerdictRecord } from "../../../app/events/verdict-codec.ts";
import type { SpatialInjection } from "../../../app/loadgen/spatial-model.ts";
import {
  drainRate,
  interleavedModes,
  scoreSpatial,
  spatialModes,
  summarise,
  type SpatialTrial,
} from "../../../scripts/bench/spatial-throughput.ts";

const verdict = (
  seq: number,
  spatial?: { anomaly: boolean; nearestMetres?: number; rounds?: number; truncated?: boolean },
): VerdictRecord =>
  ({
    seq,
    checkedAt: 1000 + seq,
    ...(spatial === undefined
      ? {}
      : {
          spatial: {
            anomaly: spatial.anomaly,
            nearestMetres: spatial.nearestMetres ?? 10,
            rounds: spatial.rounds ?? 1,
            truncated: spatial.truncated ?? false,
          },
        }),
  }) as unknown as VerdictRecord;
const injection = (seq: number, kind: SpatialInjection["kind"]): SpatialInjection => ({ seq, kind, hotSpot: 0, size: 20 });

describe("interleavedModes", () => {
  it("runs every mode once per repeat, rotating the order by one each repeat", () => {
    expect(interleavedModes(spatialModes, 2).map((x) => `${x.repeat}:${x.mode}`)).toEqual([
      "0:off",
      "0:geohash",
      "0:sai",
      "1:geohash",
      "1:sai",
      "1:off",
    ]);
  });
});

describe("scoreSpatial", () => {
  const truth = [injection(2000, "value"), injection(2001, "value"), injection(2002, "misplaced"), injection(5, "value")];
  const verdicts = [
    verdict(5, { anomaly: true }), // warm-up: counts for recall, not for precision
    verdict(1500, { anomaly: false, nearestMetres: 40, rounds: 3 }),
    verdict(1501, { anomaly: true, nearestMetres: 60, truncated: true }), // a false alarm
    verdict(2000, { anomaly: true }),
    verdict(2001, { anomaly: false }),
    verdict(2002, { anomaly: false, nearestMetres: 3_000_000 }),
    verdict(2003), // unlocated: no spatial verdict
  ];
  const s = scoreSpatial(verdicts, truth, 1000);

  it("recall over the injected value outliers, precision over the flags after the warm-up", () => {
    expect(s).toMatchObject({
      checked: 7,
      spatiallyChecked: 6,
      valueOutliers: 3,
      valueOutliersFlagged: 2,
      truePositives: 1,
      falsePositives: 1,
    });
    expect(s.recall).toBeCloseTo(2 / 3);
    expect(s.precision).toBe(0.5);
  });

  it("misplaced points' nearest distance, the search rounds and the truncated share", () => {
    expect(s.misplaced).toBe(1);
    expect(s.misplacedNearestMedianMetres).toBe(3_000_000);
    expect(s.ordinaryNearestMedianMetres).toBe(50); // the middle pair (40, 60)
    expect(s.rounds).toEqual({ mean: 8 / 6, max: 3 });
    expect(s.truncated).toBe(1);
    expect(s.untruncatedShare).toBeCloseTo(5 / 6);
  });

  it("no flags, no truth: null, not NaN", () => {
    const empty = scoreSpatial([verdict(1)], [], 0);
    expect(empty.precision).toBeNull();
    expect(empty.recall).toBeNull();
    expect(empty.untruncatedShare).toBeNull();
  });
});

describe("drainRate and summarise", () => {
  it("checks over the time from the detector's start to the last verdict", () => {
    expect(drainRate([{ checkedAt: 3000 }, { checkedAt: 5000 }], 1000)).toEqual({ checks: 2, seconds: 4, checksPerSecond: 0.5 });
  });

  it("relative to off within the same repeat, median over repeats", () => {
    const t = (repeat: number, mode: SpatialTrial["mode"], checksPerSecond: number): SpatialTrial => ({
      repeat,
      mode,
      backlog: 100,
      checks: 100,
      seconds: 1,
      checksPerSecond,
      score: null,
    });
    const s = summarise([t(0, "off", 1000), t(0, "sai", 500), t(1, "sai", 300), t(1, "off", 1000), t(2, "off", 2000), t(2, "sai", 1400)]);
    const sai = s.find((m) => m.mode === "sai")!;
    expect(sai.relativeToOff).toBe(0.5);
    expect(sai.checksPerSecond).toEqual({ min: 300, median: 500, max: 1400, n: 3 });
    // Two repeats: the median is the middle pair's mean, not the larger.
    const two = summarise([t(0, "off", 1000), t(0, "sai", 100), t(1, "off", 1000), t(1, "sai", 300)]).find((m) => m.mode === "sai")!;
    expect(two.checksPerSecond.median).toBe(200);
    expect(two.relativeToOff).toBeCloseTo(0.2);
    expect(s.find((m) => m.mode === "off")!.relativeToOff).toBe(1);
  });
});
