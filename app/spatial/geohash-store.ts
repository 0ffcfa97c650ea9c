/**
 * Strategy "geohash": denormalised geohash tables. Every located event is written to one table per precision,
 * partitioned by its cell at that precision (2D tables for every located event; 3D tables, geohash3d.ts, as well
 * for one with an altitude). A search reads the event's cell and its neighbours (3×3, or 3×3×3) at the finest
 * precision, and widens to a coarser one until the block holds at least k previous events AND the k-th nearest
 * of them lies within the block's inscribed radius (blockRadius): only then is no nearer event outside the block,
 * so the k are the true nearest. With k found but the k-th too far, it jumps straight to the precision whose
 * cells hold that distance (precisionForRadius) instead of one level at a time. Past the coarsest block it reads
 * the whole world (every precision-1 cell).
 *
 * Why one table per precision, not one table queried by prefix: a partition is one cell, so a cell's read is a
 * single-partition slice, newest first; the price is the write amplification (one row per precision).
 */
import type cassandra from "cassandra-driver";
import { base32, block, blockRadius, encode, precisionForRadius } from "./geohash.ts";
import { block3d, blockRadius3d, encode3d, precisionForRadius3d } from "./geohash3d.ts";
import { nearestOf, type NeighbourSearch, type NeighbourStrategy, type StoredPoint } from "./neighbours.ts";
import { SpatialStore, spatialTableOptions } from "./spatial-schema.ts";

/**
 * The precisions with a table, finest last. 2D: every one from 1 (~5,000 km) to 7 (~153 m); each step shrinks a
 * cell 4-8×. 3D: every other one, 10 (~153 m × 153 m × 305 m) down to 2, and 1: a 3D character adds only ~1.7
 * bits per dimension, so consecutive 3D precisions differ by ~3× and every other keeps the steps like 2D's at
 * 6 tables instead of 10. Precision 1 must be there: the world scan reads its 32 cells.
 */
export const geohashPrecisions = { "2d": [1, 2, 3, 4, 5, 6, 7], "3d": [1, 2, 4, 6, 8, 10] } as const;
type Dim = keyof typeof geohashPrecisions;

export const geohashTable = (dim: Dim, precision: number): string => `spatial_gh${dim === "2d" ? 2 : 3}_p${precision}`;

const columns = "time, id, producer, seq, lat, lon, alt, value";

interface Geometry {
  readonly dim: Dim;
  cell(p: StoredPoint, precision: number): string;
  block(cell: string): string[];
  radius(p: StoredPoint, precision: number): number;
  precisionFor(radius: number, lat: number): number;
}

const geometry2d: Geometry = {
  dim: "2d",
  cell: (p, precision) => encode(p.location.lat, p.location.lon, precision),
  block,
  radius: (p, precision) => blockRadius(p.location.lat, p.location.lon, precision),
  precisionFor: (r, lat) => precisionForRadius(r, lat),
};
const geometry3d: Geometry = {
  dim: "3d",
  cell: (p, precision) => encode3d(p.location.lat, p.location.lon, p.location.alt!, precision),
  block: block3d,
  radius: (p, precision) => blockRadius3d(p.location.lat, p.location.lon, p.location.alt!, precision),
  precisionFor: (r, lat) => precisionForRadius3d(r, lat),
};

export class GeohashStrategy extends SpatialStore implements NeighbourStrategy {
  readonly name = "geohash";
  schemaStatements(): string[] {
    return (Object.keys(geohashPrecisions) as Dim[]).flatMap((dim) =>
      geohashPrecisions[dim].map(
        (p) =>
          `CREATE TABLE IF NOT EXISTS ${this.o.keyspace}.${geohashTable(dim, p)} (
      cell text, time timestamp, id text, producer text, seq bigint, lat double, lon double, alt double, value double,
      PRIMARY KEY ((cell), time, id, producer, seq)
    ) WITH CLUSTERING ORDER BY (time DESC, id DESC, producer DESC, seq DESC)
      ${spatialTableOptions(this.o)}`,
      ),
    );
  }

  schemaObjects(): { tables: string[]; indexes: string[] } {
    return {
      tables: (Object.keys(geohashPrecisions) as Dim[]).flatMap((dim) => geohashPrecisions[dim].map((p) => geohashTable(dim, p))),
      indexes: [],
    };
  }

  /** One row per precision (and per 3D precision when the event has an altitude), written in parallel. */
  async write(e: StoredPoint): Promise<void> {
    const dims: Geometry[] = e.location.alt === undefined ? [geometry2d] : [geometry2d, geometry3d];
    const values = (cell: string) => [
      cell,
      new Date(e.time),
      e.id,
      e.producer,
      e.seq,
      e.location.lat,
      e.location.lon,
      e.location.alt ?? null,
      e.value,
    ];
    await Promise.all(
      dims.flatMap((g) =>
        geohashPrecisions[g.dim].map((p) =>
          this.client.execute(
            `INSERT INTO ${this.o.keyspace}.${geohashTable(g.dim, p)} (cell, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            values(g.cell(e, p)),
            this.writeOptions,
          ),
        ),
      ),
    );
  }

  async nearest(e: StoredPoint, k: number): Promise<NeighbourSearch> {
    const g = e.location.alt === undefined ? geometry2d : geometry3d;
    const levels = geohashPrecisions[g.dim];
    let rounds = 0;
    let rowsRead = 0;
    let truncated = false;
    const read = async (precision: number, cells: readonly string[]) => {
      rounds += 1;
      const found: StoredPoint[] = [];
      await Promise.all(
        cells.map(async (cell) => {
          const rows = await this.#cell(g.dim, precision, cell, e);
          rowsRead += rows.length;
          if (rows.length >= this.o.candidateLimit) truncated = true;
          found.push(...rows);
        }),
      );
      return nearestOf(e, found, k);
    };

    let level = levels.length - 1;
    for (;;) {
      const precision = levels[level]!;
      const best = await read(precision, g.block(g.cell(e, precision)));
      const kth = best.length >= k ? best[k - 1]!.distance : Infinity;
      if (kth <= g.radius(e, precision)) return { neighbours: best, rounds, rowsRead, truncated };
      // Coarser: where the cells hold the k-th's distance if k were found, else the next level.
      const wanted = Number.isFinite(kth) ? g.precisionFor(kth, e.location.lat) : (levels[level - 1] ?? 0);
      let next = level - 1;
      while (next >= 0 && levels[next]! > wanted) next -= 1;
      if (next < 0) break;
      level = next;
    }
    // No block holds the k nearest: the whole world, every precision-1 cell.
    const world = await read(1, [...base32]);
    return { neighbours: world, rounds, rowsRead, truncated };
  }

  /** The cell's events before `e`, newest first, at most the candidate limit. */
  async #cell(dim: Dim, precision: number, cell: string, e: StoredPoint): Promise<StoredPoint[]> {
    const rs = await this.client.execute(
      `SELECT ${columns} FROM ${this.o.keyspace}.${geohashTable(dim, precision)} ` +
        `WHERE cell = ? AND (time, id, producer, seq) < (?, ?, ?, ?) LIMIT ?`,
      [cell, new Date(e.time), e.id, e.producer, e.seq, this.o.candidateLimit],
      this.readOptions,
    );
    return rs.rows.map(pointOfRow);
  }
}

/** A spatial table's row as a stored point (an altitude column of null: a 2D point). */
export function pointOfRow(row: cassandra.types.Row): StoredPoint {
  const alt = row.get("alt") as number | null;
  const seq = row.get("seq") as cassandra.types.Long | number;
  return {
    id: row.get("id") as string,
    time: (row.get("time") as Date).getTime(),
    producer: row.get("producer") as string,
    seq: typeof seq === "number" ? seq : seq.toNumber(),
    value: row.get("value") as number,
    location:
      alt === null
        ? { lat: row.get("lat") as number, lon: row.get("lon") as number }
        : { lat: row.get("lat") as number, lon: row.get("lon") as number, alt },
  };
}
