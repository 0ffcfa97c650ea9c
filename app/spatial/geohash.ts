/**
 * Geohash (Niemeyer, 2008): a point as a string whose every prefix is a cell containing it. Bits alternate
 * longitude, latitude (longitude first), each halving its interval; five bits make one base-32 character. A
 * table partitioned by a prefix of fixed length therefore holds one cell per partition, and a neighbour search
 * reads a cell and the 8 around it.
 *
 * The interleaving core here is shared with the 3D variant (geohash3d.ts), which adds altitude as a third
 * coordinate in the cycle.
 */
import { inscribedRadius, metresPerDegree } from "./geo.ts";

export const base32 = "0123456789bcdefghjkmnpqrstuvwxyz";
const charValue: Readonly<Record<string, number>> = Object.fromEntries([...base32].map((c, i) => [c, i]));

/** The longest hash accepted: 12 characters are ~3.7 cm × 1.9 cm, past the precision of a float64 degree. */
export const maxPrecision = 12;

/** An interval [min, max] of one coordinate. */
export interface Interval {
  readonly min: number;
  readonly max: number;
}

/** Throws a RangeError naming the coordinate, its value and its range: a caller's bug, not a data error. */
export function checkCoordinate(name: string, value: number, range: Interval): void {
  if (!Number.isFinite(value) || value < range.min || value > range.max)
    throw new RangeError(`${name} ${value} is not a finite number in [${range.min}, ${range.max}]`);
}

function checkPrecision(precision: number): void {
  if (!Number.isInteger(precision) || precision < 1 || precision > maxPrecision)
    throw new RangeError(`precision ${precision} is not an integer from 1 to ${maxPrecision}`);
}

/**
 * Interleaves the coordinates' bits (dimension 0 first, cycling) into `precision` base-32 characters. Each bit
 * halves its dimension's interval; a value on a midpoint goes to the upper half, so the upper edge of the range
 * (longitude 180, latitude 90) lands in the last cell rather than outside.
 */
export function interleave(values: readonly number[], ranges: readonly Interval[], precision: number): string {
  checkPrecision(precision);
  const lo = ranges.map((r) => r.min);
  const hi = ranges.map((r) => r.max);
  let out = "";
  let bit = 0;
  for (let c = 0; c < precision; c++) {
    let v = 0;
    for (let b = 0; b < 5; b++, bit++) {
      const d = bit % values.length;
      const mid = (lo[d]! + hi[d]!) / 2;
      v <<= 1;
      if (values[d]! >= mid) {
        v |= 1;
        lo[d] = mid;
      } else hi[d] = mid;
    }
    out += base32[v];
  }
  return out;
}

/** The intervals of each dimension a hash stands for (the inverse of interleave). Throws on a bad character. */
export function deinterleave(hash: string, ranges: readonly Interval[]): Interval[] {
  if (hash.length > maxPrecision) throw new RangeError(`geohash ${JSON.stringify(hash)} is longer than ${maxPrecision} characters`);
  const lo = ranges.map((r) => r.min);
  const hi = ranges.map((r) => r.max);
  let bit = 0;
  for (const ch of hash) {
    const v = charValue[ch];
    if (v === undefined) throw new RangeError(`geohash ${JSON.stringify(hash)} has ${JSON.stringify(ch)}, not one of ${base32}`);
    for (let b = 4; b >= 0; b--, bit++) {
      const d = bit % ranges.length;
      const mid = (lo[d]! + hi[d]!) / 2;
      if ((v >> b) & 1) lo[d] = mid;
      else hi[d] = mid;
    }
  }
  return lo.map((min, d) => ({ min, max: hi[d]! }));
}

/** How many of a hash's 5·precision bits go to dimension d of n (bits are dealt round-robin, dimension 0 first). */
export const bitsOf = (precision: number, d: number, n: number): number => Math.floor((5 * precision - d + n - 1) / n);

export const latitudeRange: Interval = { min: -90, max: 90 };
export const longitudeRange: Interval = { min: -180, max: 180 };
const ranges2d = [longitudeRange, latitudeRange];

export interface Bounds {
  readonly minLat: number;
  readonly maxLat: number;
  readonly minLon: number;
  readonly maxLon: number;
}

export function encode(lat: number, lon: number, precision: number): string {
  checkCoordinate("latitude", lat, latitudeRange);
  checkCoordinate("longitude", lon, longitudeRange);
  return interleave([lon, lat], ranges2d, precision);
}

export function bounds(hash: string): Bounds {
  const [lon, lat] = deinterleave(hash, ranges2d);
  return { minLat: lat!.min, maxLat: lat!.max, minLon: lon!.min, maxLon: lon!.max };
}

/** The cell's centre and half its size in each direction (the position's error). */
export function decode(hash: string): { lat: number; lon: number; latError: number; lonError: number } {
  const b = bounds(hash);
  return {
    lat: (b.minLat + b.maxLat) / 2,
    lon: (b.minLon + b.maxLon) / 2,
    latError: (b.maxLat - b.minLat) / 2,
    lonError: (b.maxLon - b.minLon) / 2,
  };
}

/** Longitude brought back into [-180, 180). */
export const wrapLongitude = (lon: number): number => ((((lon + 180) % 360) + 360) % 360) - 180;

/**
 * The cell `dLat` rows north and `dLon` columns east of `hash`, at the same precision; null past a pole (there is
 * no cell north of the northernmost row: the cells across the pole are those at longitude + 180, which a circle
 * reaching the pole needs, and which the coverage check (blockRadius) sends the search to a coarser level for).
 * Columns wrap across the antimeridian: east of longitude 180 is -180.
 */
export function adjacent(hash: string, dLat: number, dLon: number): string | null {
  const b = bounds(hash);
  const lat = (b.minLat + b.maxLat) / 2 + dLat * (b.maxLat - b.minLat);
  if (lat < -90 || lat > 90) return null;
  const lon = wrapLongitude((b.minLon + b.maxLon) / 2 + dLon * (b.maxLon - b.minLon));
  return encode(lat, lon, hash.length);
}

export type Direction = "n" | "ne" | "e" | "se" | "s" | "sw" | "w" | "nw";
const directions: Readonly<Record<Direction, readonly [number, number]>> = {
  n: [1, 0],
  ne: [1, 1],
  e: [0, 1],
  se: [-1, 1],
  s: [-1, 0],
  sw: [-1, -1],
  w: [0, -1],
  nw: [1, -1],
};

/** The 8 cells around `hash` by direction; a direction past a pole is absent. */
export function neighbours(hash: string): Partial<Record<Direction, string>> {
  const out: Partial<Record<Direction, string>> = {};
  for (const [dir, [dLat, dLon]] of Object.entries(directions) as [Direction, readonly [number, number]][]) {
    const cell = adjacent(hash, dLat, dLon);
    if (cell !== null) out[dir] = cell;
  }
  return out;
}

/** The cell and its neighbours: the 3×3 block a search at this precision reads (fewer cells at a pole). */
export function block(hash: string): string[] {
  return [...new Set([hash, ...Object.values(neighbours(hash))])];
}

/**
 * The radius (metres) of the largest circle around the point that lies inside the 3×3 block of its cell at
 * `precision`: every point nearer than this is in one of the block's cells. A search that finds its k nearest
 * within this radius has found the true k nearest.
 */
export function blockRadius(lat: number, lon: number, precision: number): number {
  const b = bounds(encode(lat, lon, precision));
  const h = b.maxLat - b.minLat;
  const w = b.maxLon - b.minLon;
  // The block stops at a pole; inscribedRadius also stops a circle there.
  return inscribedRadius(lat, lon, Math.max(-90, b.minLat - h), Math.min(90, b.maxLat + h), b.minLon - w, b.maxLon + w);
}

/** A cell's height and width at the equator (metres) at a precision. */
export function cellSizeMetres(precision: number): { height: number; width: number } {
  checkPrecision(precision);
  return {
    height: (180 / 2 ** bitsOf(precision, 1, 2)) * metresPerDegree,
    width: (360 / 2 ** bitsOf(precision, 0, 2)) * metresPerDegree,
  };
}

/**
 * The longest precision (up to `max`) whose cells are at least `radiusMetres` on their shorter side at latitude
 * `lat`, so the 3×3 block around any point holds the whole circle of that radius (away from the poles); 0 when
 * even a precision-1 cell is smaller: only the whole world holds it.
 */
export function precisionForRadius(radiusMetres: number, lat = 0, max = maxPrecision): number {
  if (!(radiusMetres >= 0)) throw new RangeError(`radius ${radiusMetres} is not a number >= 0`);
  const shrink = Math.cos((Math.min(Math.abs(lat), 90) * Math.PI) / 180);
  for (let p = Math.min(max, maxPrecision); p >= 1; p--) {
    const { height, width } = cellSizeMetres(p);
    if (Math.min(height, width * shrink) >= radiusMetres) return p;
  }
  return 0;
}
