/** The concurrency grid's pure parts: histogram buckets from /metrics text, their quantiles, and the criterion. */
import { describe, expect, it } from "vitest";
import { summarizeGrid, type GridSetting, type GridTrial } from "../../../scripts/bench/concurrency-grid.ts";
import { addBuckets, bucketsBetween, parseBuckets, quantileUpperBound } from "../../../scripts/bench/histogram-buckets.ts";

/** prom-client's text for a labelled histogram with the registry's default labels (le first, as it writes it). */
const text = (read: number[], write: number[]) =>
  [
    "# HELP detector_stage_duration_seconds Duration of each stage of a check",
    "# TYPE detector_stage_duration_seconds histogram",
    ...[
      ["read", read],
      ["write", write],
    ].flatMap(([stage, counts]) =>
      ["0.01", "0.1", "1", "+Inf"].map(
        (le, i) =>
          `detector_stage_duration_seconds_bucket{le="${le}",service="detector",stage="${stage as string}"} ${(counts as number[])[i]}`,
      ),
    ),
    'detector_stage_duration_seconds_sum{service="detector",stage="read"} 12.5',
    'detector_stage_duration_seconds_count{service="detector",stage="read"} 100',
    'detector_concurrency_limit{service="detector"} 64',
  ].join("\n");

describe("histogram buckets", () => {
  it("parses one stage's cumulative buckets, ascending with +Inf last, ignoring other stages and series", () => {
    const b = parseBuckets(text([10, 90, 99, 100], [1, 2, 3, 4]), "detector_stage_duration_seconds", { stage: "read" });
    expect([...b]).toEqual([
      [0.01, 10],
      [0.1, 90],
      [1, 99],
      [Infinity, 100],
    ]);
  });

  it("takes the quantile of what happened between two scrapes, as the upper bound of its bucket", () => {
    const before = parseBuckets(text([10, 90, 99, 100], [0, 0, 0, 0]), "detector_stage_duration_seconds", { stage: "read" });
    const after = parseBuckets(text([10, 190, 1099, 1100], [0, 0, 0, 0]), "detector_stage_duration_seconds", { stage: "read" });
    const between = bucketsBetween(before, after);
    // 1,000 new observations: 100 under 0.1 s, 900 between 0.1 and 1 s.
    expect(quantileUpperBound(between, 0.99)).toBe(1);
    expect(quantileUpperBound(between, 0.1)).toBe(0.1);
    expect(quantileUpperBound(before, 0.5)).toBe(0.1);
    expect(quantileUpperBound(new Map([[Infinity, 0]]), 0.99)).toBeNaN();
    expect(
      quantileUpperBound(
        new Map([
          [1, 0],
          [Infinity, 5],
        ]),
        0.99,
      ),
    ).toBe(Infinity);
    expect([...addBuckets([before, before])].map(([, n]) => n)).toEqual([20, 180, 198, 200]);
  });
});

describe("the grid's criterion", () => {
  const grid: GridSetting[] = [
    { name: "fixed 64", mode: "fixed", concurrency: 64 },
    { name: "fixed 1024", mode: "fixed", concurrency: 1024 },
    { name: "adaptive", mode: "adaptive", concurrency: 64 },
  ];
  const trial = (setting: string, checksPerSecond: number, p99: number | null, repeat = 0): GridTrial => ({
    capacity: "c",
    setting,
    repeat,
    checksPerSecond,
    stageP99Ms: { read: p99, write: p99 === null ? null : p99 / 2 },
    limit: [],
    interference: null,
  });
  const o = { shareNeeded: 0.95, p99BoundMs: 1000 };
  const capacity = { name: "c", cpus: "0", calibration: { setting: "fixed 1024", checksPerSecond: 1000, events: 30_000 } };

  it("compares adaptive with the best fixed setting whose p99 is under the bound", () => {
    // fixed 1024 is fastest but its p99 passes the bound: the best admissible fixed setting is 64.
    const [r] = summarizeGrid(
      [trial("fixed 64", 1000, 100), trial("fixed 1024", 1200, 2500), trial("adaptive", 960, 250)],
      grid,
      [capacity],
      o,
    );
    expect(r).toMatchObject({ bestFixed: "fixed 64", adaptiveShareOfBest: 0.96, met: true });
  });

  it("misses below the share, or when adaptive's own p99 passes the bound", () => {
    const slow = summarizeGrid(
      [trial("fixed 64", 1000, 100), trial("fixed 1024", 900, 100), trial("adaptive", 940, 100)],
      grid,
      [capacity],
      o,
    )[0]!;
    expect(slow).toMatchObject({ bestFixed: "fixed 64", adaptiveShareOfBest: 0.94, met: false });
    const late = summarizeGrid(
      [trial("fixed 64", 1000, 100), trial("fixed 1024", 900, 100), trial("adaptive", 1100, 1500)],
      grid,
      [capacity],
      o,
    )[0]!;
    expect(late).toMatchObject({ adaptiveShareOfBest: 1.1, met: false });
  });

  it("leaves a setting's p99 null when no trial of it knows one, and keeps it out of the criterion", () => {
    const [r] = summarizeGrid(
      [trial("fixed 64", 1000, 100), trial("fixed 1024", 1200, null), trial("adaptive", 960, 100), trial("adaptive", 900, null, 1)],
      grid,
      [capacity],
      o,
    );
    expect(r!.settings.find((x) => x.setting === "fixed 1024")!.p99Ms).toBeNull();
    // The unknown trial counts for the rate, not for the p99.
    expect(r!.settings.find((x) => x.setting === "adaptive")).toMatchObject({ checksPerSecond: { n: 2 }, p99Ms: { median: 100, n: 1 } });
    expect(r).toMatchObject({ bestFixed: "fixed 64" });
  });

  it("gives adaptive ÷ the best fixed setting per repeat, pairing trials of the same repeat", () => {
    const trials = [
      trial("fixed 64", 1000, 100, 0),
      trial("adaptive", 950, 100, 0),
      trial("fixed 64", 800, 100, 1),
      trial("adaptive", 880, 100, 1),
      trial("fixed 64", 1200, 100, 2),
      trial("adaptive", 1080, 100, 2),
      trial("fixed 1024", 900, 100, 0),
    ];
    const [r] = summarizeGrid(trials, grid, [capacity], o);
    // Medians 1000 vs 950; per repeat 0.95, 1.1, 0.9.
    expect(r).toMatchObject({ bestFixed: "fixed 64", adaptiveShareOfBest: 0.95, met: true, calibration: capacity.calibration });
    expect(r!.adaptivePairRatios).toEqual({ min: 0.9, median: 0.95, max: 1.1, n: 3 });
  });
});
