/**
 * What the spatial strategies share: a located event, a neighbour (a previous event of any key, with its
 * distance), the result of a search, the order "previous" means, and the ranking of candidates. Both strategies
 * (geohash-store.ts, sai-store.ts) only differ in how they fetch candidates; the 50 they return are always the
 * nearest of what they fetched, ranked here.
 */
import type { Event } from "../events/event-codec.ts";
import { distanceMetres, type Point } from "./geo.ts";
import type { Location } from "./location.ts";

/** An event that has a location: what the spatial check runs on. */
export type LocatedEvent = Event & { readonly location: Location };

export const isLocated = (e: Event): e is LocatedEvent => e.location !== undefined;

/** A stored event as the spatial tables hold it. */
export interface StoredPoint {
  readonly id: string;
  readonly time: number;
  readonly producer: string;
  readonly seq: number;
  readonly value: number;
  readonly location: Location;
}

export interface Neighbour extends StoredPoint {
  /** Metres from the query point (geo.ts distanceMetres: 3D when both have an altitude). */
  readonly distance: number;
}

export interface NeighbourSearch {
  /** The nearest previous events found, nearest first; at most k (fewer only if fewer exist, or see `truncated`). */
  readonly neighbours: Neighbour[];
  /** Rounds of reads: the first, plus one per widening (or narrowing, for SAI). */
  readonly rounds: number;
  /** Rows read from Cassandra over all rounds. */
  readonly rowsRead: number;
  /**
   * A read returned as many rows as it was allowed (the candidate limit): older events of that cell or box were
   * not seen, so the neighbours are the nearest among the most recent ones, not necessarily the true nearest.
   */
  readonly truncated: boolean;
}

/** One way of storing located events and finding an event's k nearest previous ones. */
export interface NeighbourStrategy {
  readonly name: SpatialStrategyName;
  /** CQL that creates its tables and indexes in the keyspace (idempotent). */
  schemaStatements(): string[];
  /** The names of those tables and indexes (what a detector waiting for the schema looks for). */
  schemaObjects(): { readonly tables: readonly string[]; readonly indexes: readonly string[] };
  write(e: StoredPoint): Promise<void>;
  nearest(e: StoredPoint, k: number): Promise<NeighbourSearch>;
}

/** The strategies a detector can be told to use (config: spatialStrategy; "off" runs none). */
export const spatialStrategyNames = ["geohash", "sai"] as const;
export type SpatialStrategyName = (typeof spatialStrategyNames)[number];

const utf8 = (s: string) => Buffer.from(s, "utf8");

/**
 * Total order of events by (time, id, producer, seq), strings by their UTF-8 bytes as Cassandra orders text:
 * "previous" is what comes before the event in it, so a replay of an event finds the same neighbours whatever
 * was written after it, and never itself. Negative when a is before b.
 */
export function compareEvents(a: Omit<StoredPoint, "value" | "location">, b: Omit<StoredPoint, "value" | "location">): number {
  if (a.time !== b.time) return a.time - b.time;
  if (a.id !== b.id) return Buffer.compare(utf8(a.id), utf8(b.id));
  if (a.producer !== b.producer) return Buffer.compare(utf8(a.producer), utf8(b.producer));
  return a.seq - b.seq;
}

/** The identity of an event, as a string (for sets). */
export const eventKey = (e: Omit<StoredPoint, "value" | "location">): string => JSON.stringify([e.id, e.time, e.producer, e.seq]);

export const pointOf = (l: Location): Point => ({ lat: l.lat, lon: l.lon, alt: l.alt });

/**
 * The k nearest of `candidates` to `query` that come before it (compareEvents), nearest first; ties in distance
 * broken by the event order, so the same candidates always give the same k. A query with an altitude is a 3D
 * search: only candidates with an altitude count (a 2D one's distance would leave the vertical out). A query
 * without one is 2D: every candidate counts, by horizontal distance.
 */
export function nearestOf(query: StoredPoint, candidates: Iterable<StoredPoint>, k: number): Neighbour[] {
  const q = pointOf(query.location);
  const ranked: Neighbour[] = [];
  for (const c of candidates) {
    if (compareEvents(c, query) >= 0) continue;
    if (q.alt !== undefined && c.location.alt === undefined) continue;
    ranked.push({ ...c, distance: distanceMetres(q, pointOf(c.location)) });
  }
  ranked.sort((a, b) => a.distance - b.distance || compareEvents(a, b));
  return ranked.slice(0, k);
}
