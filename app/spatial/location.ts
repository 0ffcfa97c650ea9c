/**
 * Where an event happened: latitude and longitude in degrees (WGS-84 as GPS gives them), and optionally an
 * altitude in metres above mean sea level. Validated at the edge like every other field (event-codec.ts), so
 * the geohash code and the neighbour search never see a position they cannot place.
 */

export interface Location {
  readonly lat: number;
  readonly lon: number;
  /** Metres above mean sea level, within `altitudeRange`; absent for a 2D position. */
  readonly alt?: number;
}

/**
 * Altitudes accepted, metres: from below the deepest ocean floor (Challenger Deep, −10,935 m) to the Kármán line
 * (100 km), so sensors from the sea bed to balloons and drones fit, and an altitude in feet or millimetres sent
 * by mistake mostly does not. Well inside the 3D geohash's range (geohash3d.ts altitudeDomain, ±10,007 km).
 */
export const altitudeRange = { min: -12_000, max: 100_000 } as const;

const ranges = {
  lat: { min: -90, max: 90 },
  lon: { min: -180, max: 180 },
  alt: altitudeRange,
} as const;

/**
 * What is wrong with a location, or null: the field, its value and what is allowed
 * ("location.lat 91 is outside [-90, 90]"). A refusal, not a throw: the codec dead-letters the event with it.
 */
export function locationProblem(l: Location): string | null {
  for (const field of ["lat", "lon", "alt"] as const) {
    const v = l[field];
    if (v === undefined && field === "alt") continue;
    const r = ranges[field];
    const unit = field === "alt" ? " m" : "";
    if (typeof v !== "number" || !Number.isFinite(v))
      return `location.${field} ${String(v)} is not a finite number; allowed: [${r.min}, ${r.max}]${unit}`;
    if (v < r.min || v > r.max) return `location.${field} ${v} is outside [${r.min}, ${r.max}]${unit}`;
  }
  return null;
}
