/**
 * The two spatial neighbour strategies on the real local Cassandra 5.0: each run writes the same
 * points (clusters, one across the antimeridian and one at the North Pole, drones with altitude, a sparse
 * scatter over the globe) into its own keyspace, dropped at the end, and checks for each strategy that
 * - every written point is in every table, in its cell, and a search at its position finds it first (no loss);
 * - a search returns k previous events, nearest first, and they are the exact k nearest (brute force), with the
 *   recall, widening rounds and rows read measured on a sample (printed: the figures of the report);
 * - a candidate limit too small for a dense cluster is reported as truncated, and only then is recall below 1;
 * - the spatial check flags a value far from its neighbours' and passes an ordinary one.
 * Talks to the servers directly (no scripts/ imports): the contact point and data centre are the config's defaults.
 */
import cassandra from "cassandra-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDetectorConfig } from "../../app/config.ts";
import { createCassandraClient, consistencyOf } from "../../app/detector/cassandra-store.ts";
import { Rng } from "../../app/loadgen/random.ts";
import { distanceMetres } from "../../app/spatial/geo.ts";
import { encode } from "../../app/spatial/geohash.ts";
import { encode3d } from "../../app/spatial/geohash3d.ts";
import { geohashPrecisions, geohashTable } from "../../app/spatial/geohash-store.ts";
import { compareEvents, eventKey, pointOf, type NeighbourStrategy, type StoredPoint } from "../../app/spatial/neighbours.ts";
import { exactNearest, measureRecall, type RecallReport } from "../../app/spatial/recall.ts";
import { saiTable } from "../../app/spatial/sai-store.ts";
import { checkSpatially, spatialNeighbours } from "../../app/spatial/spatial-check.ts";
import type { SpatialStoreOptions } from "../../app/spatial/spatial-schema.ts";
import { createSpatialSchema, createStrategy } from "../../app/spatial/spatial-strategies.ts";

const config = parseDetectorConfig({ env: { CASSANDRA_KEYSPACE: `it_spatial_${Date.now().toString(36)}` } });
const keyspace = config.keyspace;
const k = spatialNeighbours;
const t0 = 1_764_000_000_000;

/** Deterministic points: a fixed seed, so the figures are the strategies', not the draw's. */
function points(): StoredPoint[] {
  const rng = new Rng(16_2026);
  const out: StoredPoint[] = [];
  const add = (id: string, lat: number, lon: number, alt: number | undefined, value: number) => {
    const location = alt === undefined ? { lat, lon } : { lat, lon, alt };
    out.push({ id, time: t0 + out.length * 10, producer: "it", seq: out.length, value, location });
  };
  const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
  const wrap = (lon: number) => (lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon);
  // Clusters, σ in degrees: a city, a dense square (~100 m), across the antimeridian (Fiji).
  const clusters = [
    { lat: 48.8566, lon: 2.3522, sd: 0.05, n: 600 },
    { lat: -33.8688, lon: 151.2093, sd: 0.001, n: 400 },
    { lat: -16.5, lon: 179.995, sd: 0.02, n: 300 },
  ];
  for (const [c, cluster] of clusters.entries())
    for (let i = 0; i < cluster.n; i++)
      add(
        `c${c}-${i % 40}`,
        clamp(cluster.lat + cluster.sd * rng.normal(), -90, 90),
        wrap(cluster.lon + cluster.sd * rng.normal()),
        undefined,
        10 + rng.normal(),
      );
  // Around the North Pole, every longitude, within ~10 km of it.
  for (let i = 0; i < 150; i++)
    add(`c4-${i % 40}`, 90 - 0.05 * Math.abs(rng.normal()), rng.uniform(-180, 180), undefined, 10 + rng.normal());
  // Drones over Copenhagen: 3D, altitudes 0-400 m.
  for (let i = 0; i < 400; i++)
    add(`d-${i % 20}`, 55.6761 + 0.02 * rng.normal(), 12.5683 + 0.03 * rng.normal(), rng.uniform(0, 400), 50 + rng.normal());
  // A sparse scatter over the globe (uniform on the sphere).
  for (let i = 0; i < 150; i++)
    add(`s-${i}`, (Math.asin(rng.uniform(-1, 1)) * 180) / Math.PI, rng.uniform(-180, 180), undefined, rng.normal());
  return out;
}

const all = points();
const after = all.length * 10 + t0 + 1; // a time after every written point
let client: cassandra.Client;
const reports: RecallReport[] = [];

const options = (candidateLimit: number): SpatialStoreOptions => ({
  keyspace,
  candidateLimit,
  initialRadiusMetres: config.spatialInitialRadiusMetres,
  readConsistency: consistencyOf(config.readConsistency),
  writeConsistency: consistencyOf(config.writeConsistency),
  ttlSeconds: config.ttlSeconds,
  compactionWindowMinutes: config.compactionWindowMinutes,
});

/** Runs fn over items, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

beforeAll(async () => {
  client = createCassandraClient(config);
  await client.connect();
  await client.execute(
    `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', '${config.cassandraLocalDataCenter}': 1}`,
  );
  for (const name of ["geohash", "sai"] as const) {
    const strategy = createStrategy(name, client, options(5_000));
    await createSpatialSchema(client, strategy);
    await inParallel(all, 32, (p) => strategy.write(p));
  }
});

afterAll(async () => {
  for (const r of reports) console.log(`spatial recall ${JSON.stringify(r)}`);
  await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  await client?.shutdown();
});

/** Query events: random positions drawn like the points, at random times within the run (so "previous" varies). */
function sample(n: number, seed: number): StoredPoint[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const like = all[rng.int(all.length)]!;
    const jitter = like.id.startsWith("s-") ? 2 : like.id.startsWith("c1") ? 0.0005 : 0.01;
    const lat = Math.min(90, Math.max(-90, like.location.lat + jitter * rng.normal()));
    let lon = like.location.lon + jitter * rng.normal();
    if (lon > 180) lon -= 360;
    if (lon < -180) lon += 360;
    const location = like.location.alt === undefined ? { lat, lon } : { lat, lon, alt: Math.max(0, like.location.alt + 30 * rng.normal()) };
    return { id: `q-${i}`, time: t0 + rng.int(all.length * 10), producer: "query", seq: i, value: 0, location };
  });
}

describe.each(["geohash", "sai"] as const)("spatial strategy %s", (name) => {
  const strategy = (limit = 5_000): NeighbourStrategy => createStrategy(name, client, options(limit));

  it("has every written point stored where it belongs, and finds each first at its own position", async () => {
    if (name === "geohash") {
      for (const dim of ["2d", "3d"] as const)
        for (const p of geohashPrecisions[dim]) {
          const rows = (
            await client.execute(`SELECT cell, id, time, producer, seq FROM ${keyspace}.${geohashTable(dim, p)}`, [], { fetchSize: 10_000 })
          ).rows;
          const expected = all.filter((x) => dim === "2d" || x.location.alt !== undefined);
          const cellOf = new Map(
            expected.map((x) => [
              eventKey(x),
              dim === "2d" ? encode(x.location.lat, x.location.lon, p) : encode3d(x.location.lat, x.location.lon, x.location.alt!, p),
            ]),
          );
          const stored = new Map(
            rows.map((r) => [
              eventKey({
                id: r.get("id") as string,
                time: (r.get("time") as Date).getTime(),
                producer: r.get("producer") as string,
                seq: Number(r.get("seq")),
              }),
              r.get("cell") as string,
            ]),
          );
          expect(stored.size, `${geohashTable(dim, p)} rows`).toBe(expected.length);
          expect(stored, geohashTable(dim, p)).toEqual(cellOf);
        }
    } else {
      const rs = await client.execute(`SELECT id FROM ${keyspace}.${saiTable}`, [], { fetchSize: 10_000 });
      expect(rs.rowLength).toBe(all.length);
    }
    const s = strategy();
    const missing: string[] = [];
    await inParallel(all, 16, async (p) => {
      const found = await s.nearest({ ...p, id: "probe", time: after, seq: 0 }, 1);
      if (found.neighbours[0] === undefined || eventKey(found.neighbours[0]) !== eventKey(p)) missing.push(eventKey(p));
    });
    expect(missing).toEqual([]);
  });

  it("returns the k nearest previous events, nearest first: the exact ones (brute force) on a sample, with its recall", async () => {
    const queries = sample(120, 7);
    const s = strategy();
    for (const q of queries.slice(0, 20)) {
      const found = await s.nearest(q, k);
      const d = found.neighbours.map((n) => n.distance);
      expect(d).toEqual([...d].sort((a, b) => a - b));
      expect(found.neighbours.every((n) => compareEvents(n, q) < 0)).toBe(true);
      expect(new Set(found.neighbours.map(eventKey)).size).toBe(found.neighbours.length);
      for (const n of found.neighbours) expect(n.distance).toBeCloseTo(distanceMetres(pointOf(q.location), pointOf(n.location)), 6);
      expect(found.neighbours.map(eventKey)).toEqual(exactNearest(q, all, k).map(eventKey));
    }
    const report = await measureRecall(s, queries, all, k);
    reports.push(report);
    expect(report.truncatedQueries).toBe(0);
    expect(report.meanRecall).toBe(1);
    expect(report.exactQueries).toBe(queries.length);
    expect(report.rounds.max).toBeGreaterThan(1); // some searches had to widen: the sample has sparse points
  });

  it("finds neighbours across the antimeridian and at the pole", async () => {
    const s = strategy();
    const east = await s.nearest({ id: "q", time: after, producer: "q", seq: 0, value: 0, location: { lat: -16.5, lon: 179.9999 } }, k);
    expect(east.neighbours).toHaveLength(k);
    expect(east.neighbours.some((n) => n.location.lon < 0)).toBe(true);
    expect(east.neighbours.some((n) => n.location.lon > 0)).toBe(true);
    const pole = await s.nearest({ id: "q", time: after, producer: "q", seq: 0, value: 0, location: { lat: 90, lon: 123 } }, k);
    expect(pole.neighbours.map(eventKey)).toEqual(
      exactNearest({ id: "q", time: after, producer: "q", seq: 0, value: 0, location: { lat: 90, lon: 123 } }, all, k).map(eventKey),
    );
    expect(new Set(pole.neighbours.map((n) => Math.sign(n.location.lon))).size).toBe(2); // from both sides of the pole
  });

  it("says so when the candidate limit cut a read, and recall falls below 1 only then", async () => {
    const queries = sample(60, 11).filter((q) => q.location.alt === undefined && Math.abs(q.location.lat + 33.8688) < 0.01); // the dense square
    expect(queries.length).toBeGreaterThan(3);
    const report = await measureRecall(strategy(100), queries, all, k);
    reports.push({ ...report, strategy: `${name} (limit 100, dense cluster)` });
    expect(report.truncatedQueries).toBeGreaterThan(0);
    expect(report.queries - report.exactQueries).toBeLessThanOrEqual(report.truncatedQueries);
  });

  it("flags a value far from its neighbours' and passes an ordinary one (the CUSUM step on the neighbours)", async () => {
    const s = strategy();
    const at = { lat: 48.8566, lon: 2.3522 };
    const far = await checkSpatially(s, { id: "far", time: after, producer: "check", seq: 1, value: 30, location: at });
    expect(far.verdict).toMatchObject({ anomaly: true, direction: "up" });
    expect(far.search.neighbours).toHaveLength(k);
    const ordinary = await checkSpatially(s, { id: "ordinary", time: after + 1, producer: "check", seq: 2, value: 10.3, location: at });
    expect(ordinary.verdict.anomaly).toBe(false);
    expect(ordinary.verdict.n).toBeGreaterThanOrEqual(10);
    // The first check's event was written: the second found it, at distance 0.
    expect(ordinary.search.neighbours[0]).toMatchObject({ id: "far", distance: 0 });
  });
});
