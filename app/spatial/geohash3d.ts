/**
 * A 3D geohash: altitude as a third coordinate, bits dealt longitude, latitude, altitude in turn. Same base-32
 * alphabet and prefix property as the 2D hash (geohash.ts); a 3D hash is not comparable with a 2D one.
 *
 * The altitude range, and why it is so large: [-πR/2, +πR/2] ≈ ±10,007.5 km (R the mean Earth radius), which
 * is the length of the latitude range (πR) in metres. So an altitude bit halves as many metres as a latitude
 * bit and the cells are about cubic (as tall as they are high in latitude). With a range fitted to real
 * altitudes instead (say −12 km to 100 km) a cell would be ~180× thinner than it is tall in latitude: a search
 * that must hold a circle of radius r in each direction would need to go ~7 levels coarser horizontally than
 * the horizontal spread of the points asks for, reading cells of hundreds of km. The price is that the first
 * ~10 altitude bits (cells of > 20 km) put all real altitudes (app/spatial/location.ts) in one or two cells.
 */
import { earthRadiusMetres, inscribedRadius, metresPerDegree } from "./geo.ts";
import {
  checkCoordinate,
  deinterleave,
  interleave,
  latitudeRange,
  longitudeRange,
  wrapLongitude,
  type Interval,
  bitsOf,
  maxPrecision,
} from "./geohash.ts";

/** The altitude range the 3D hash divides (metres): as long as the latitude range (see above). */
export const altitudeDomain: Interval = { min: (-Math.PI * earthRadiusMetres) / 2, max: (Math.PI * earthRadiusMetres) / 2 };
const ranges3d = [longitudeRange, latitudeRange, altitudeDomain];

export interface Bounds3d {
  readonly minLat: number;
  readonly maxLat: number;
  readonly minLon: number;
  readonly maxLon: number;
  readonly minAlt: number;
  readonly maxAlt: number;
}

export function encode3d(lat: number, lon: number, alt: number, precision: number): string {
  checkCoordinate("latitude", lat, latitudeRange);
  checkCoordinate("longitude", lon, longitudeRange);
  checkCoordinate("altitude", alt, altitudeDomain);
  return interleave([lon, lat, alt], ranges3d, precision);
}

export function bounds3d(hash: string): Bounds3d {
  const [lon, lat, alt] = deinterleave(hash, ranges3d);
  return { minLat: lat!.min, maxLat: lat!.max, minLon: lon!.min, maxLon: lon!.max, minAlt: alt!.min, maxAlt: alt!.max };
}

export function decode3d(hash: string): { lat: number; lon: number; alt: number } {
  const b = bounds3d(hash);
  return { lat: (b.minLat + b.maxLat) / 2, lon: (b.minLon + b.maxLon) / 2, alt: (b.minAlt + b.maxAlt) / 2 };
}

/** The cell `dLat`, `dLon`, `dAlt` cells away; null past a pole or outside the altitude range. Longitude wraps. */
export function adjacent3d(hash: string, dLat: number, dLon: number, dAlt: number): string | null {
  const b = bounds3d(hash);
  const lat = (b.minLat + b.maxLat) / 2 + dLat * (b.maxLat - b.minLat);
  const alt = (b.minAlt + b.maxAlt) / 2 + dAlt * (b.maxAlt - b.minAlt);
  if (lat < -90 || lat > 90 || alt < altitudeDomain.min || alt > altitudeDomain.max) return null;
  const lon = wrapLongitude((b.minLon + b.maxLon) / 2 + dLon * (b.maxLon - b.minLon));
  return encode3d(lat, lon, alt, hash.length);
}

/** The 26 cells around `hash` (fewer at a pole or the altitude range's ends). */
export function neighbours3d(hash: string): string[] {
  const out = new Set<string>();
  for (const dLat of [-1, 0, 1])
    for (const dLon of [-1, 0, 1])
      for (const dAlt of [-1, 0, 1]) {
        if (dLat === 0 && dLon === 0 && dAlt === 0) continue;
        const cell = adjacent3d(hash, dLat, dLon, dAlt);
        if (cell !== null && cell !== hash) out.add(cell);
      }
  return [...out];
}

/** The cell and its neighbours: the 3×3×3 block a search at this precision reads. */
export const block3d = (hash: string): string[] => [hash, ...neighbours3d(hash)];

/**
 * The radius (metres) of the largest ball around the point inside the 3×3×3 block of its cell at `precision`:
 * horizontally as blockRadius (geohash.ts), vertically the margin to the block's top and bottom.
 */
export function blockRadius3d(lat: number, lon: number, alt: number, precision: number): number {
  const b = bounds3d(encode3d(lat, lon, alt, precision));
  const h = b.maxLat - b.minLat;
  const w = b.maxLon - b.minLon;
  const z = b.maxAlt - b.minAlt;
  const horizontal = inscribedRadius(lat, lon, Math.max(-90, b.minLat - h), Math.min(90, b.maxLat + h), b.minLon - w, b.maxLon + w);
  const vertical = Math.min(alt - Math.max(altitudeDomain.min, b.minAlt - z), Math.min(altitudeDomain.max, b.maxAlt + z) - alt);
  return Math.min(horizontal, vertical);
}

/** A 3D cell's height in latitude, width at the equator and thickness in altitude (metres) at a precision. */
export function cellSizeMetres3d(precision: number): { height: number; width: number; thickness: number } {
  // In the dimension's own unit: degrees for longitude and latitude, metres for altitude.
  const span = (range: Interval, d: number) => (range.max - range.min) / 2 ** bitsOf(precision, d, 3);
  return {
    width: span(longitudeRange, 0) * metresPerDegree,
    height: span(latitudeRange, 1) * metresPerDegree,
    thickness: span(altitudeDomain, 2),
  };
}

/** As precisionForRadius (geohash.ts), for the 3D cells: the longest precision whose cells are ≥ r every way. */
export function precisionForRadius3d(radiusMetres: number, lat = 0, max = maxPrecision): number {
  if (!(radiusMetres >= 0)) throw new RangeError(`radius ${radiusMetres} is not a number >= 0`);
  const shrink = Math.cos((Math.min(Math.abs(lat), 90) * Math.PI) / 180);
  for (let p = Math.min(max, maxPrecision); p >= 1; p--) {
    const s = cellSizeMetres3d(p);
    if (Math.min(s.height, s.width * shrink, s.thickness) >= radiusMetres) return p;
  }
  return 0;
}
