/**
 * The spatial check's pure parts: the settings (default off), the ranking of candidates (previous
 * only, nearest first, 3D among 3D), and the verdict: the key's CUSUM step run on the neighbours' values.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseDetectorConfig } from "../../app/config.ts";
import { cusumStep } from "../../app/detector/cusum.ts";
import { decodeVerdict, encodeVerdict, verdictRecord } from "../../app/events/verdict-codec.ts";
import { compareEvents, nearestOf, type NeighbourSearch, type StoredPoint } from "../../app/spatial/neighbours.ts";
import { spatialVerdict, spatialVerdictRecord } from "../../app/spatial/spatial-check.ts";

const point = (seq: number, lat: number, lon: number, value = 1, alt?: number): StoredPoint => ({
  id: `k${seq % 3}`,
  time: 1_000 + seq,
  producer: "p",
  seq,
  value,
  location: alt === undefined ? { lat, lon } : { lat, lon, alt },
});

describe("spatial settings", () => {
  it("are off by default, so a detector without them checks as before", () => {
    const c = parseDetectorConfig({ env: {} });
    expect(c).toMatchObject({ spatialStrategy: "off", spatialCandidateLimit: 2000, spatialInitialRadiusMetres: 1000 });
  });

  it("take a strategy by name and refuse an unknown one, naming the setting, the value and what is allowed", () => {
    expect(parseDetectorConfig({ env: { DETECTOR_SPATIAL_STRATEGY: "sai" } }).spatialStrategy).toBe("sai");
    expect(parseDetectorConfig({ env: {}, flags: { spatialStrategy: "geohash" } }).spatialStrategy).toBe("geohash");
    const refused = () => parseDetectorConfig({ env: { DETECTOR_SPATIAL_STRATEGY: "kd-tree", DETECTOR_SPATIAL_CANDIDATE_LIMIT: "10" } });
    expect(refused).toThrow(ConfigError);
    expect(refused).toThrow(
      /setting spatialStrategy \(env DETECTOR_SPATIAL_STRATEGY\): value "kd-tree" is not allowed .*; allowed: one of off, geohash, sai/,
    );
    expect(refused).toThrow(
      /setting spatialCandidateLimit \(env DETECTOR_SPATIAL_CANDIDATE_LIMIT\): value "10" .*allowed: an integer from 100 to 100000/,
    );
  });
});

describe("ranking candidates", () => {
  it("keeps only events before the query, nearest first, ties by event order", () => {
    const q = point(10, 0, 0);
    const candidates = [point(3, 0, 0.002), point(1, 0, 0.001), point(2, 0, -0.001), point(11, 0, 0), point(10, 0, 0)];
    const ranked = nearestOf(q, candidates, 10);
    expect(ranked.map((n) => n.seq)).toEqual([1, 2, 3]); // 11 is later and 10 is the query itself
    expect(ranked[0]!.distance).toBeCloseTo(111.2, 0);
    expect(compareEvents(ranked[0]!, ranked[1]!)).toBeLessThan(0); // equal distances: the earlier first
    expect(nearestOf(q, candidates, 2)).toHaveLength(2);
  });

  it("searches in 3D among events with an altitude only, and in 2D among all", () => {
    const flat = point(1, 0, 0);
    const high = point(2, 0, 0.001, 1, 500);
    const low = point(3, 0, 0.003, 1, 10);
    expect(nearestOf(point(9, 0, 0, 1, 0), [flat, high, low], 5).map((n) => n.seq)).toEqual([3, 2]);
    expect(nearestOf(point(9, 0, 0), [flat, high, low], 5).map((n) => n.seq)).toEqual([1, 2, 3]);
  });

  it("orders text by its UTF-8 bytes, as Cassandra does, not by UTF-16 units", () => {
    // U+FF5E (3 bytes, 0xEF…) sorts before U+1F600 (4 bytes, 0xF0…) in UTF-8; in UTF-16 the surrogate 0xD83D is smaller.
    const a = { id: "\uFF5E", time: 1, producer: "p", seq: 0 };
    const b = { id: "\u{1F600}", time: 1, producer: "p", seq: 0 };
    expect(compareEvents(a, b)).toBeLessThan(0);
    expect(a.id < b.id).toBe(false);
  });
});

describe("spatial verdict", () => {
  const around = (values: number[]): NeighbourSearch => ({
    neighbours: values.map((v, i) => ({ ...point(i, 0, 0, v), distance: i })),
    rounds: 2,
    rowsRead: 70,
    truncated: false,
  });
  const noise = Array.from({ length: 50 }, (_, i) => 10 + Math.sin(i * 1.7) * 0.5);

  it("is the key's CUSUM step on the neighbours' values in time order, from zero sums", () => {
    const shuffled = around(noise);
    shuffled.neighbours.reverse();
    expect(spatialVerdict(25, shuffled)).toEqual(cusumStep(noise, 25, undefined).verdict);
    expect(spatialVerdict(25, around(noise))).toMatchObject({ anomaly: true, direction: "up" });
    expect(spatialVerdict(10.2, around(noise))).toMatchObject({ anomaly: false });
    expect(spatialVerdict(25, around(noise.slice(0, 5)))).toMatchObject({ anomaly: false, reason: "short-history" });
  });

  it("travels on the verdict record, and a verdict without it is unchanged", () => {
    const e = { ...point(60, 0, 0, 25), label: "spike" as const };
    const s = { verdict: spatialVerdict(25, around(noise)), search: around(noise) };
    const plain = verdictRecord(e, cusumStep(noise, 25, undefined).verdict, 2_000);
    const withSpatial = { ...plain, spatial: spatialVerdictRecord("geohash", s) };
    const back = decodeVerdict(encodeVerdict(withSpatial));
    expect(back.spatial).toMatchObject({
      strategy: "geohash",
      anomaly: true,
      neighbours: 50,
      nearestMetres: 0,
      farthestMetres: 49,
      rounds: 2,
      rowsRead: 70,
      truncated: false,
    });
    expect(decodeVerdict(encodeVerdict(plain))).toEqual(plain);
    expect("spatial" in decodeVerdict(encodeVerdict(plain))).toBe(false);
  });
});
