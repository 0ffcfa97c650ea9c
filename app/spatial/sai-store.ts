/**
 * Strategy "sai": one table of located events with Cassandra 5.0 Storage-Attached Indexes on lat, lon, alt and
 * time, searched with range queries over a bounding box. The box is the smallest latitude/longitude box around
 * a circle of radius r (geo.ts boundingBox; two longitude ranges across the antimeridian, so two queries; ±r in
 * altitude for a 3D search). A box whose k-th nearest lies within r has found the true k nearest (the circle is
 * inside the box); otherwise the next box has the k-th's distance as radius, which then holds them. Too few
 * events: the radius grows 4× (up to the whole world). A box that hits the candidate limit was cut short at an
 * arbitrary row, so the radius shrinks again, bisecting between the last box with too few and the last one cut.
 *
 * Why an index per coordinate and not a geohash column: SAI intersects the three ranges' postings itself, and a
 * range over a double needs no precision choice. Why time too: "previous" (time <= the event's) then is one more
 * posting list instead of a filter over every row in the box; the exact previous-order is applied here.
 */
import { boundingBox, earthRadiusMetres } from "./geo.ts";
import { pointOfRow } from "./geohash-store.ts";
import { nearestOf, type NeighbourSearch, type NeighbourStrategy, type StoredPoint } from "./neighbours.ts";
import { SpatialStore, spatialTableOptions } from "./spatial-schema.ts";

export const saiTable = "spatial_points";
const indexed = ["lat", "lon", "alt", "time"] as const;
export const saiIndexName = (column: (typeof indexed)[number]): string => `${saiTable}_${column}_sai`;

/** A circle of this radius holds the whole Earth (half the circumference). */
const worldRadius = Math.PI * earthRadiusMetres;
/** Rounds before giving up finding a box that holds k and is not cut short (bisecting between the two). */
const maxRounds = 16;
/** A box this small that is still cut short is returned as it is (more than the limit within a metre). */
const minRadius = 1;

export class SaiStrategy extends SpatialStore implements NeighbourStrategy {
  readonly name = "sai";
  schemaStatements(): string[] {
    const ks = this.o.keyspace;
    return [
      `CREATE TABLE IF NOT EXISTS ${ks}.${saiTable} (
      id text, time timestamp, producer text, seq bigint, lat double, lon double, alt double, value double,
      PRIMARY KEY ((id), time, producer, seq)
    ) WITH CLUSTERING ORDER BY (time DESC, producer DESC, seq DESC)
      ${spatialTableOptions(this.o)}`,
      ...indexed.map((c) => `CREATE INDEX IF NOT EXISTS ${saiIndexName(c)} ON ${ks}.${saiTable} (${c}) USING 'sai'`),
    ];
  }

  schemaObjects(): { tables: string[]; indexes: string[] } {
    return { tables: [saiTable], indexes: indexed.map(saiIndexName) };
  }

  async write(e: StoredPoint): Promise<void> {
    await this.client.execute(
      `INSERT INTO ${this.o.keyspace}.${saiTable} (id, time, producer, seq, lat, lon, alt, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [e.id, new Date(e.time), e.producer, e.seq, e.location.lat, e.location.lon, e.location.alt ?? null, e.value],
      this.writeOptions,
    );
  }

  async nearest(e: StoredPoint, k: number): Promise<NeighbourSearch> {
    let radius = this.o.initialRadiusMetres;
    let tooFew = 0; // the largest radius whose circle is known to hold fewer than k
    let cut = Infinity; // the smallest radius whose box is known to be cut short
    let rounds = 0;
    let rowsRead = 0;
    let lastCut: ReturnType<typeof nearestOf> | null = null;
    let lastClean: ReturnType<typeof nearestOf> = [];
    const between = () => Math.sqrt(Math.max(tooFew, minRadius) * cut);
    while (rounds < maxRounds) {
      rounds += 1;
      const box = await this.#box(e, radius);
      rowsRead += box.rows.length;
      const best = nearestOf(e, box.rows, k);
      if (box.truncated) {
        lastCut = best;
        if (radius <= minRadius) break;
        cut = radius;
        radius = tooFew > 0 ? between() : radius / 4;
        continue;
      }
      lastClean = best;
      const kth = best.length >= k ? best[k - 1]!.distance : Infinity;
      if (kth <= radius) return { neighbours: best, rounds, rowsRead, truncated: false };
      // The circle holds fewer than k (the box may hold k in its corners): a box around the k-th holds them;
      // with too few in the whole box, a box 4× as wide. Either, unless known to be cut short: bisect.
      if (radius >= worldRadius) return { neighbours: best, rounds, rowsRead, truncated: false }; // fewer than k exist
      tooFew = radius;
      const target = Number.isFinite(kth) ? kth : Math.min(worldRadius, radius * 4);
      radius = target < cut ? target : between();
    }
    // No box both held k and was read whole: the nearest of the last one cut short, said to be so.
    return lastCut === null
      ? { neighbours: lastClean, rounds, rowsRead, truncated: false }
      : { neighbours: lastCut, rounds, rowsRead, truncated: true };
  }

  /** The previous-or-same-time events in the box of `radius` around e (one query per longitude range). */
  async #box(e: StoredPoint, radius: number): Promise<{ rows: StoredPoint[]; truncated: boolean }> {
    const { lat, lon, alt } = e.location;
    const b = boundingBox(lat, lon, radius);
    const altitude = alt === undefined ? "" : " AND alt >= ? AND alt <= ?";
    const cql =
      `SELECT id, time, producer, seq, lat, lon, alt, value FROM ${this.o.keyspace}.${saiTable} ` +
      `WHERE lat >= ? AND lat <= ? AND lon >= ? AND lon <= ? AND time <= ?${altitude} LIMIT ?`;
    const results = await Promise.all(
      b.lonRanges.map(([minLon, maxLon]) =>
        this.client.execute(
          cql,
          [
            b.minLat,
            b.maxLat,
            minLon,
            maxLon,
            new Date(e.time),
            ...(alt === undefined ? [] : [alt - radius, alt + radius]),
            this.o.candidateLimit,
          ],
          this.readOptions,
        ),
      ),
    );
    return {
      rows: results.flatMap((rs) => rs.rows.map(pointOfRow)),
      truncated: results.some((rs) => rs.rows.length >= this.o.candidateLimit),
    };
  }
}
