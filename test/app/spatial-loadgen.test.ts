/**
 * The load generator's spatial workload: moving hot spots, drones with altitude, injected spatial
 * anomalies with their ground truth; and that the injected ones are what the spatial check (brute-force
 * neighbours, the detector's CUSUM step) finds, with few false alarms. No Kafka, no Cassandra.
 */
import { describe, expect, it } from "vitest";
import { parseLoadgenConfig } from "../../app/config.ts";
import { SpatialWorkload, type SpatialInjection } from "../../app/loadgen/spatial-model.ts";
import { Rng } from "../../app/loadgen/random.ts";
import { haversineMetres } from "../../app/spatial/geo.ts";
import { locationProblem } from "../../app/spatial/location.ts";
import type { StoredPoint } from "../../app/spatial/neighbours.ts";
import { exactNearest } from "../../app/spatial/recall.ts";
import { spatialNeighbours, spatialVerdict } from "../../app/spatial/spatial-check.ts";

const start = 1_764_000_000_000;
const options = { hotSpots: 4, droneShare: 0.3, valueOutlierProbability: 0.01, misplacedProbability: 0.005 };

/** n events of `keys` keys, 100 ms apart, as the generator would make them. */
function run(n: number, keys = 40, seed = 5, rates: Partial<typeof options> = {}) {
  const rng = new Rng(seed);
  const w = new SpatialWorkload(rng, { ...options, ...rates }, start);
  const events: (StoredPoint & { label: string })[] = [];
  const truth: SpatialInjection[] = [];
  for (let seq = 0; seq < n; seq++) {
    const key = rng.int(keys);
    const time = start + seq * 100;
    const p = w.next(key, time);
    if (p.injection) truth.push({ seq, ...p.injection });
    events.push({ id: `k-${key}`, time, producer: "lg", seq, value: p.value, label: p.label, location: p.location });
  }
  return { w, events, truth };
}

describe("spatial workload settings", () => {
  it("are off by default, and refuse a share or count out of range by name", () => {
    expect(parseLoadgenConfig({ env: {} })).toMatchObject({
      spatialWorkload: "off",
      spatialHotSpots: 8,
      spatialDroneShare: 0.3,
      spatialValueOutlierProbability: 0.001,
      spatialMisplacedProbability: 0.0005,
    });
    expect(() => parseLoadgenConfig({ env: { LOADGEN_SPATIAL_WORKLOAD: "swarm" } })).toThrow(
      /setting spatialWorkload .*"swarm".*allowed: off or hotspots/,
    );
    expect(() => parseLoadgenConfig({ env: { LOADGEN_SPATIAL_HOT_SPOTS: "0" } })).toThrow(
      /setting spatialHotSpots .*allowed: an integer from 1 to 1000/,
    );
  });
});

describe("spatial workload", () => {
  it("is reproducible from the seed", () => {
    expect(run(300).events).toEqual(run(300).events);
  });

  it("places events around their hot spot's moving centre, valid locations, drones with an altitude", () => {
    const { w, events, truth } = run(4000);
    const misplaced = new Set(truth.filter((t) => t.kind === "misplaced").map((t) => t.seq));
    for (const e of events) expect(locationProblem(e.location)).toBeNull();
    const byKey = new Map<string, boolean>();
    for (const e of events) {
      const drone = e.location.alt !== undefined;
      expect(byKey.get(e.id) ?? drone).toBe(drone); // a key is a drone or not, for good
      byKey.set(e.id, drone);
      if (drone) expect(e.location.alt).toBeGreaterThanOrEqual(0);
      if (misplaced.has(e.seq)) continue;
      const spot = w.spots[Number(e.id.slice(2)) % w.spots.length]!;
      const c = w.centre(spot, e.time);
      expect(haversineMetres(e.location.lat, e.location.lon, c.lat, c.lon)).toBeLessThan(6 * spot.spreadMetres);
    }
    expect([...byKey.values()].some(Boolean) && [...byKey.values()].some((d) => !d)).toBe(true);
    // The centres move at the spots' speed: 400 s apart, 400 × speed metres (within the flat-Earth step's error).
    for (const spot of w.spots) {
      const a = w.centre(spot, start);
      const b = w.centre(spot, start + 400_000);
      expect(haversineMetres(a.lat, a.lon, b.lat, b.lon) / (400 * spot.speed)).toBeCloseTo(1, 1);
    }
  });

  it("injects value outliers (labelled spike) and misplaced points (labelled none, >= 50 km from every spot), listed as ground truth", () => {
    const { w, events, truth } = run(6000);
    const kinds = new Set(truth.map((t) => t.kind));
    expect(kinds).toEqual(new Set(["value", "misplaced"]));
    for (const t of truth) {
      const e = events[t.seq]!;
      const spot = w.spots[t.hotSpot]!;
      if (t.kind === "value") {
        expect(e.label).toBe("spike");
        expect(Math.abs(e.value - spot.level) / spot.noise).toBeCloseTo(t.size, 6);
        expect(t.size).toBeGreaterThanOrEqual(10);
      } else {
        expect(e.label).toBe("none");
        expect(w.nearestCentreMetres(e.location.lat, e.location.lon, e.time)).toBeGreaterThanOrEqual(50_000);
        expect(Math.abs(e.value - spot.level)).toBeLessThan(6 * spot.noise);
      }
    }
    expect(events.filter((e) => e.label === "spike").length).toBe(truth.filter((t) => t.kind === "value").length);
  });

  it("gives value outliers the spatial check finds, and ordinary events it leaves alone", () => {
    // Rates as the defaults, hot spots dense enough for full neighbourhoods: 20,000 events of 40 keys.
    const { events, truth } = run(20_000, 40, 9, { valueOutlierProbability: 0.001, misplacedProbability: 0.0005 });
    const outliers = new Set(truth.filter((t) => t.kind === "value").map((t) => t.seq));
    const misplaced = new Set(truth.filter((t) => t.kind === "misplaced").map((t) => t.seq));
    const flagged = (e: StoredPoint) => {
      const neighbours = exactNearest(e, events, spatialNeighbours);
      return spatialVerdict(e.value, { neighbours, rounds: 1, rowsRead: neighbours.length, truncated: false }).anomaly;
    };
    const checked = events.slice(2_000);
    const injected = checked.filter((e) => outliers.has(e.seq));
    const ordinary = checked.filter((e, i) => i % 24 === 0 && !outliers.has(e.seq) && !misplaced.has(e.seq));
    const found = injected.filter(flagged).length;
    const falseAlarms = ordinary.filter(flagged).length;
    console.log(`spatial workload check: found ${found}/${injected.length} value outliers, false alarms ${falseAlarms}/${ordinary.length}`);
    expect(injected.length).toBeGreaterThan(10);
    // Measured with this seed: 15 of 17. A miss is an outlier whose neighbours hold earlier outliers of its spot
    // (previous events are not bounded in time, so a place collects them): they inflate σ past the baseline's
    // outlier cut (k + h σ of the inflated σ), and the value stays under h.
    expect(found / injected.length).toBeGreaterThanOrEqual(0.8);
    expect(falseAlarms / ordinary.length).toBeLessThan(0.01);
  });
});
