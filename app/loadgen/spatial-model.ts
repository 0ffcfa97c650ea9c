/**
 * The spatial workload: where events happen and what they read, with injected spatial anomalies
 * and their ground truth. Off by default (loadgen setting spatialWorkload); when on, it replaces the per-key value
 * models (value-models.ts) for every event.
 *
 * - Hot spots: `hotSpots` centres (between ±60° latitude) that move at 5-30 m/s on a fixed heading, each with a
 *   spread σ of 200 m-2 km and a level of its own (10-100, noise 2 % of it). Key i belongs to hot spot
 *   i mod hotSpots; each of its events is placed afresh around the spot's centre at the event's time, and reads
 *   the spot's level plus noise. So an event's 50 nearest neighbours are mostly its spot's recent events.
 * - Drones: a share of the keys (`droneShare`) also report an altitude: their spot's flying height (50-400 m)
 *   plus σ 30 m, never below 0. The others are 2D ground sensors.
 * - Injected anomalies (only once the spot has sent `historyWindow` events and none injected in its last
 *   `historyWindow`, so every one has a full neighbourhood of ordinary events):
 *   - value: at an ordinary position, a value 10-30 σ off the spot's level (up or down). Labelled "spike" on the
 *     wire, since the key's own series (its spot's level) has a spike there too.
 *   - misplaced: an ordinary value at a point where none should be: uniformly on the globe, at least 50 km from
 *     every hot spot's centre. Labelled "none" on the wire (the key's value is normal; the per-key check must not
 *     flag it); a spatial check sees it by its neighbours' distances, not their values.
 *   Both are listed, with the event's sequence number, in the ground truth (`SpatialInjection`).
 */
import type { Label } from "../events/event-codec.ts";
import { haversineMetres, metresPerDegree } from "../spatial/geo.ts";
import type { Location } from "../spatial/location.ts";
import { historyWindow } from "../topology.ts";
import type { Rng } from "./random.ts";

export interface SpatialWorkloadOptions {
  readonly hotSpots: number;
  readonly droneShare: number;
  readonly valueOutlierProbability: number;
  readonly misplacedProbability: number;
}

export interface HotSpot {
  readonly startLat: number;
  readonly startLon: number;
  /** Heading, radians clockwise from north, and speed in m/s. */
  readonly heading: number;
  readonly speed: number;
  /** Spread of the positions around the centre (σ, metres, each axis). */
  readonly spreadMetres: number;
  readonly level: number;
  readonly noise: number;
  /** Drones' flying height, metres. */
  readonly altitude: number;
  /** Events of this spot so far, and since its last injection. */
  events: number;
  sinceInjection: number;
}

export type SpatialInjectionKind = "value" | "misplaced";

export interface SpatialInjection {
  readonly seq: number;
  readonly kind: SpatialInjectionKind;
  readonly hotSpot: number;
  /** value: how far off the spot's level, in its noise σ; misplaced: metres to the nearest hot spot's centre. */
  readonly size: number;
}

export interface PlacedEvent {
  readonly value: number;
  readonly label: Label;
  readonly location: Location;
  readonly injection?: Omit<SpatialInjection, "seq">;
}

/** Kept away from the poles so the spots' straight-line motion stays simple. */
const maxStartLatitude = 60;
const droneSigmaMetres = 30;
const misplacedMinMetres = 50_000;

const clampLat = (lat: number) => Math.max(-89.999, Math.min(89.999, lat));
const wrapLon = (lon: number) => ((((lon + 180) % 360) + 360) % 360) - 180;

/** A point `north`, `east` metres from (lat, lon): flat-Earth offsets, fine at the spots' few km. */
function offset(lat: number, lon: number, north: number, east: number): { lat: number; lon: number } {
  const newLat = clampLat(lat + north / metresPerDegree);
  const cos = Math.max(1e-6, Math.cos((newLat * Math.PI) / 180));
  return { lat: newLat, lon: wrapLon(lon + east / (metresPerDegree * cos)) };
}

export class SpatialWorkload {
  readonly spots: HotSpot[];
  readonly #rng: Rng;
  readonly #o: SpatialWorkloadOptions;
  readonly #drones = new Map<number, boolean>();
  readonly #startMs: number;

  constructor(rng: Rng, options: SpatialWorkloadOptions, startMs: number) {
    if (!Number.isInteger(options.hotSpots) || options.hotSpots < 1)
      throw new RangeError(`hotSpots ${options.hotSpots}: allowed: an integer >= 1`);
    this.#rng = rng;
    this.#o = options;
    this.#startMs = startMs;
    this.spots = Array.from({ length: options.hotSpots }, () => {
      const level = rng.uniform(10, 100);
      return {
        startLat: (Math.asin(rng.uniform(-1, 1) * Math.sin((maxStartLatitude * Math.PI) / 180)) * 180) / Math.PI,
        startLon: rng.uniform(-180, 180),
        heading: rng.uniform(0, 2 * Math.PI),
        speed: rng.uniform(5, 30),
        spreadMetres: rng.uniform(200, 2_000),
        level,
        noise: level * 0.02,
        altitude: rng.uniform(50, 400),
        events: 0,
        sinceInjection: historyWindow,
      };
    });
  }

  /** The spot's centre at `timeMs`: where it started, moved on its heading for the time since the start. */
  centre(spot: HotSpot, timeMs: number): { lat: number; lon: number } {
    const travelled = (spot.speed * Math.max(0, timeMs - this.#startMs)) / 1000;
    return offset(spot.startLat, spot.startLon, travelled * Math.cos(spot.heading), travelled * Math.sin(spot.heading));
  }

  isDrone(key: number): boolean {
    let drone = this.#drones.get(key);
    if (drone === undefined) this.#drones.set(key, (drone = this.#rng.next() < this.#o.droneShare));
    return drone;
  }

  /** The next event of key `key` at `timeMs`: its position, value, wire label and any injection. */
  next(key: number, timeMs: number): PlacedEvent {
    const rng = this.#rng;
    const index = key % this.spots.length;
    const spot = this.spots[index]!;
    const drone = this.isDrone(key);
    const c = this.centre(spot, timeMs);
    const here = offset(c.lat, c.lon, spot.spreadMetres * rng.normal(), spot.spreadMetres * rng.normal());
    const alt = drone ? Math.max(0, spot.altitude + droneSigmaMetres * rng.normal()) : undefined;
    let value = spot.level + spot.noise * rng.normal();
    let location: Location = alt === undefined ? here : { ...here, alt };
    let label: Label = "none";
    let injection: PlacedEvent["injection"];

    const eligible = spot.events >= historyWindow && spot.sinceInjection >= historyWindow;
    const roll = rng.next();
    if (eligible && roll < this.#o.valueOutlierProbability) {
      const sigmas = rng.uniform(10, 30);
      value = spot.level + rng.sign() * sigmas * spot.noise;
      label = "spike";
      injection = { kind: "value", hotSpot: index, size: sigmas };
    } else if (eligible && roll < this.#o.valueOutlierProbability + this.#o.misplacedProbability) {
      const away = this.#nowhere(timeMs);
      location = alt === undefined ? away.point : { ...away.point, alt };
      injection = { kind: "misplaced", hotSpot: index, size: away.metres };
    }
    spot.events += 1;
    spot.sinceInjection = injection === undefined ? spot.sinceInjection + 1 : 0;
    return { value, label, location, ...(injection === undefined ? {} : { injection }) };
  }

  /** Metres from (lat, lon) to the nearest hot spot's centre at `timeMs`. */
  nearestCentreMetres(lat: number, lon: number, timeMs: number): number {
    return Math.min(
      ...this.spots.map((s) => {
        const c = this.centre(s, timeMs);
        return haversineMetres(lat, lon, c.lat, c.lon);
      }),
    );
  }

  /** A uniform point on the globe at least misplacedMinMetres from every centre (retried; the globe is large). */
  #nowhere(timeMs: number): { point: { lat: number; lon: number }; metres: number } {
    for (;;) {
      const lat = (Math.asin(this.#rng.uniform(-1, 1)) * 180) / Math.PI;
      const lon = this.#rng.uniform(-180, 180);
      const metres = this.nearestCentreMetres(lat, lon, timeMs);
      // At most 1,000 spots (the setting's bound) exclude π·(50 km)² each, < 2 % of the Earth's 5.1e14 m²: a retry is rare.
      if (metres >= misplacedMinMetres) return { point: { lat: clampLat(lat), lon }, metres };
    }
  }
}
