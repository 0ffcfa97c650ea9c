/**
 * Distances and bounding boxes on a spherical Earth, in metres. A sphere (the IUGG mean radius), not the WGS-84
 * ellipsoid: the neighbour search ranks points by distance and sizes its search areas with the same formulas,
 * so the two agree exactly; the ellipsoid's ≤ 0.5 % error changes which point is 50th only at near-ties.
 */

/** Mean Earth radius R₁ (IUGG), metres. */
export const earthRadiusMetres = 6_371_008.8;
/** One degree of latitude (of a great circle), metres: ~111.2 km. */
export const metresPerDegree = (Math.PI * earthRadiusMetres) / 180;

const rad = (deg: number) => (deg * Math.PI) / 180;
const deg = (r: number) => (r * 180) / Math.PI;

/** Great-circle distance (haversine), metres. Longitudes may differ by more than 180° (across ±180). */
export function haversineMetres(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = rad(lat2 - lat1);
  const dLon = rad(lon2 - lon1);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * earthRadiusMetres * Math.asin(Math.min(1, Math.sqrt(a)));
}

export interface Point {
  readonly lat: number;
  readonly lon: number;
  /** Metres above sea level; absent for a 2D point. */
  readonly alt?: number | undefined;
}

/**
 * Distance between two points, metres: the great-circle distance, combined with the altitude difference
 * (Pythagoras) when both have an altitude. Why not the chord through the Earth: at the scale of a neighbour search
 * (metres to a few hundred km) the two differ by < 0.1 %, and the horizontal part must be the one the search
 * areas are sized with (haversine) for the coverage checks to be exact.
 */
export function distanceMetres(a: Point, b: Point): number {
  const h = haversineMetres(a.lat, a.lon, b.lat, b.lon);
  if (a.alt === undefined || b.alt === undefined) return h;
  return Math.hypot(h, a.alt - b.alt);
}

/** A latitude/longitude box: one longitude range, or two when it crosses the antimeridian. */
export interface LatLonBox {
  readonly minLat: number;
  readonly maxLat: number;
  /** Each [min, max], inclusive, within [-180, 180]. */
  readonly lonRanges: readonly (readonly [number, number])[];
}

/**
 * The smallest latitude/longitude box holding every point within `radiusMetres` (horizontally) of (lat, lon).
 * A circle reaching a pole holds every longitude near it, so its box is a polar cap; otherwise its longitude
 * half-width is asin(sin δ / cos φ) (δ the angular radius), which is wider than δ / cos φ suggests near the poles.
 */
export function boundingBox(lat: number, lon: number, radiusMetres: number): LatLonBox {
  const dLat = radiusMetres / metresPerDegree;
  const minLat = Math.max(-90, lat - dLat);
  const maxLat = Math.min(90, lat + dLat);
  const delta = radiusMetres / earthRadiusMetres;
  if (lat + dLat >= 90 || lat - dLat <= -90 || delta >= Math.PI / 2) return { minLat, maxLat, lonRanges: [[-180, 180]] };
  const dLon = deg(Math.asin(Math.min(1, Math.sin(delta) / Math.cos(rad(lat)))));
  if (dLon >= 180) return { minLat, maxLat, lonRanges: [[-180, 180]] };
  const lo = lon - dLon;
  const hi = lon + dLon;
  if (lo < -180)
    return {
      minLat,
      maxLat,
      lonRanges: [
        [lo + 360, 180],
        [-180, hi],
      ],
    };
  if (hi > 180)
    return {
      minLat,
      maxLat,
      lonRanges: [
        [lo, 180],
        [-180, hi - 360],
      ],
    };
  return { minLat, maxLat, lonRanges: [[lo, hi]] };
}

/**
 * The largest horizontal radius (metres) of a circle around (lat, lon) that lies inside the box
 * [minLat, maxLat] × [minLon, maxLon] (the longitudes unwrapped, so minLon may be below -180 for a box across the
 * antimeridian): the inverse of boundingBox. 0 when the point is outside it.
 */
export function inscribedRadius(lat: number, lon: number, minLat: number, maxLat: number, minLon: number, maxLon: number): number {
  const latMargin = Math.min(lat - minLat, maxLat - lat);
  const lonMargin = Math.min(lon - minLon, maxLon - lon);
  if (latMargin < 0 || lonMargin < 0) return 0;
  // A circle must not reach a pole: past it, it would hold every longitude.
  const toPole = 90 - Math.abs(lat);
  const byLat = Math.min(latMargin, toPole) * metresPerDegree;
  if (lonMargin >= 180) return byLat;
  const byLon = lonMargin >= 90 ? Infinity : earthRadiusMetres * Math.asin(Math.sin(rad(lonMargin)) * Math.cos(rad(lat)));
  return Math.min(byLat, byLon);
}
