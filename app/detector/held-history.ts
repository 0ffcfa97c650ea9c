/**
 * The history a check needs (a key's last `historyWindow` values with their times, and the state its newest row
 * carries), held by the detector that owns the key, so that a check reads Cassandra only when it does not hold it.
 *
 * Why it is safe: the events of a key arrive in order at the one detector that owns its partition, and that
 * detector wrote the key's rows itself. What it holds is exactly what the history read would return as long as
 * (1) no one else wrote the key since: the pipeline drops everything at a rebalance, and an entry is only put by
 * a check of the current assignment; (2) the event is strictly after the newest held one: a replayed or late event
 * is a miss, drops the entry and is not held after its write (its row lands inside a window, not after it: the
 * key's next event reads Cassandra too); (3) no held row has expired:
 * a row lives `ttl` from its write, and it was written at or after its event time, so an entry whose oldest event
 * is within `ttlMarginMs` of the TTL is a miss. Nothing changes in what is written, so a crash, a replay or a
 * rebalance recovers from Cassandra exactly as the read-every-time mode does. One case differs: a replay of a key
 * whose events came out of time order, where the read sees a late row written by the first pass after the
 * replayed event; a key's events in time order (what a producer sends) replay identically.
 *
 * Bounded by a key budget: the least recently checked key is evicted (a Map iterates in insertion order, and a
 * hit or a put re-inserts its key, so the first key is the least recently used). No library for that: the Map is
 * the whole of it.
 */
import type { Event } from "../events/event-codec.ts";
import { historyWindow } from "../topology.ts";
import type { StoredHistory } from "./cassandra-store.ts";

/** Producer clock skew a row's event time may have over the detector's clock (the write time's lower bound). */
export const ttlMarginMs = 60_000;

/** Why a check found nothing held: never held (or evicted or dropped), replayed or late, or near its TTL. */
export type MissReason = "absent" | "not-after" | "expiring";

interface Held extends StoredHistory {
  /** The newest held event's position in the table's clustering order (time, producer, seq). */
  readonly time: number;
  readonly producer: string;
  readonly seq: number;
}

export interface HeldHistoryOptions {
  /** Keys held at most; the least recently checked is evicted past it. */
  readonly keyBudget: number;
  /** The events table's time to live (seconds). */
  readonly ttlSeconds: number;
  readonly onEvict?: () => void;
}

export class HeldHistory {
  readonly #keys = new Map<string, Held>();
  readonly #budget: number;
  readonly #ttlMs: number;
  readonly #onEvict: () => void;

  constructor(o: HeldHistoryOptions) {
    this.#budget = o.keyBudget;
    this.#ttlMs = o.ttlSeconds * 1000;
    this.#onEvict = o.onEvict ?? (() => {});
  }

  get size(): number {
    return this.#keys.size;
  }

  /**
   * The event's history if held: the values and times (shared, never changed: a put makes new arrays) and the
   * state. Otherwise the reason it is a miss; a held entry that cannot serve this event is dropped.
   */
  get(e: Event, now: number = Date.now()): StoredHistory | MissReason {
    const held = this.#keys.get(e.id);
    if (held === undefined) return "absent";
    this.#keys.delete(e.id);
    if (!isAfter(e, held)) return "not-after";
    const oldest = held.times[0];
    if (oldest !== undefined && oldest + this.#ttlMs - ttlMarginMs <= now) return "expiring";
    this.#keys.set(e.id, held);
    return held;
  }

  /**
   * After the event's row was written: its history was `before` (what the check used) and its check left `state`
   * (as the row's cell decodes it). The new entry is `before` and the event, the last `historyWindow` of them.
   */
  put(e: Event, before: StoredHistory, state: StoredHistory["state"]): void {
    const from = Math.max(0, before.values.length + 1 - historyWindow);
    // concat makes arrays of the exact length (a push past a slice's length grows it by half again).
    const values = before.values.slice(from).concat(e.value);
    const times = before.times.slice(from).concat(e.time);
    this.#keys.delete(e.id);
    this.#keys.set(e.id, { values, times, state, time: e.time, producer: e.producer, seq: e.seq });
    if (this.#keys.size > this.#budget) {
      const eldest = this.#keys.keys().next().value as string;
      this.#keys.delete(eldest);
      this.#onEvict();
    }
  }

  /** The key's row may differ from what is held (its write failed or was not confirmed). */
  drop(id: string): void {
    this.#keys.delete(id);
  }

  /** A rebalance: another detector may write any of these keys before this one owns them again. */
  clear(): void {
    this.#keys.clear();
  }
}

/**
 * Whether the event comes strictly after the held one in the table's clustering order. Equal times with another
 * producer count as not after: Cassandra orders text by its UTF-8 bytes, and such a tie is rare enough to read.
 */
function isAfter(e: Event, h: Held): boolean {
  if (e.time !== h.time) return e.time > h.time;
  return e.producer === h.producer && e.seq > h.seq;
}
