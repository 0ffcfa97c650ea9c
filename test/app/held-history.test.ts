import { describe, expect, it } from "vitest";
import type { StoredHistory } from "../../app/detector/cassandra-store.ts";
import { HeldHistory, ttlMarginMs } from "../../app/detector/held-history.ts";
import { checkKey } from "../../app/detector/key-check.ts";
import type { Event } from "../../app/events/event-codec.ts";
import { historyWindow } from "../../app/topology.ts";

const now = Date.UTC(2026, 0, 1);
const day = 24 * 3600;

const event = (id: string, time: number, value = time % 7, producer = "p", seq = time): Event => ({
  id,
  time,
  producer,
  seq,
  value,
  label: "none",
});
const empty: StoredHistory = { values: [], times: [], state: undefined };

function held(keyBudget = 10, ttlSeconds = day) {
  let evictions = 0;
  const h = new HeldHistory({ keyBudget, ttlSeconds, onEvict: () => evictions++ });
  return { h, evictions: () => evictions };
}

/** Runs the key's events through the cache as the pipeline does: get, else the given read; then put. */
function feed(h: HeldHistory, events: Event[], read: (e: Event) => StoredHistory = () => empty) {
  const outcomes: string[] = [];
  for (const e of events) {
    const got = h.get(e, now);
    const history = typeof got === "string" ? read(e) : got;
    outcomes.push(typeof got === "string" ? got : "hit");
    const { state } = checkKey(history.values, e.value, history.state);
    if (got !== "not-after") h.put(e, history, state);
  }
  return outcomes;
}

describe("HeldHistory", () => {
  it("misses a key's first event, then holds its last values, times and state", () => {
    const { h } = held();
    const events = [1, 2, 3].map((i) => event("a", now - 1000 + i));
    expect(feed(h, events)).toEqual(["absent", "hit", "hit"]);
    const got = h.get(event("a", now), now);
    expect(got).toMatchObject({ values: events.map((e) => e.value), times: events.map((e) => e.time) });
    expect(typeof got !== "string" && got.state?.n).toBe(3);
  });

  it("holds at most the history window, oldest dropped first", () => {
    const { h } = held();
    const events = Array.from({ length: historyWindow + 7 }, (_, i) => event("a", now - 10_000 + i, i));
    feed(h, events);
    const got = h.get(event("a", now), now);
    if (typeof got === "string") throw new Error(`expected a hit, got ${got}`);
    expect(got.values).toEqual(events.slice(-historyWindow).map((e) => e.value));
    expect(got.times).toHaveLength(historyWindow);
  });

  it("never changes what a get handed out when the next put comes", () => {
    const { h } = held();
    feed(h, [event("a", now - 10)]);
    const first = h.get(event("a", now - 5), now);
    if (typeof first === "string") throw new Error(first);
    const copy = [...first.values];
    h.put(event("a", now - 5, 42), first, undefined);
    expect(first.values).toEqual(copy);
  });

  it("a replayed or late event is a miss and drops the key", () => {
    const { h } = held();
    feed(h, [event("a", now - 100), event("a", now - 50)]);
    expect(h.get(event("a", now - 50), now)).toBe("not-after");
    expect(h.get(event("a", now - 40), now)).toBe("absent");
  });

  it("orders equal times by the same producer's sequence, and reads on a tie with another producer", () => {
    const { h } = held();
    feed(h, [event("a", now - 100, 1, "p", 5)]);
    expect(typeof h.get(event("a", now - 100, 1, "p", 6), now)).not.toBe("string");
    expect(h.get(event("a", now - 100, 1, "q", 9), now)).toBe("not-after");
  });

  it("misses when the oldest held row is near its time to live", () => {
    const ttlSeconds = 3600;
    const { h } = held(10, ttlSeconds);
    const oldest = now - ttlSeconds * 1000 + ttlMarginMs + 1000;
    feed(h, [event("a", oldest)]);
    expect(typeof h.get(event("a", oldest + 1), now)).not.toBe("string");
    expect(h.get(event("a", oldest + 2), now + 1000)).toBe("expiring");
  });

  it("evicts the least recently checked key past the budget, and counts it", () => {
    const { h, evictions } = held(2);
    feed(h, [event("a", now - 10), event("b", now - 10)]);
    feed(h, [event("a", now - 9)]); // a is now more recent than b
    feed(h, [event("c", now - 10)]);
    expect(h.size).toBe(2);
    expect(evictions()).toBe(1);
    expect(h.get(event("b", now - 5), now)).toBe("absent");
    expect(typeof h.get(event("a", now - 5), now)).not.toBe("string");
  });

  it("drop and clear forget keys", () => {
    const { h } = held();
    feed(h, [event("a", now - 10), event("b", now - 10)]);
    h.drop("a");
    expect(h.get(event("a", now - 5), now)).toBe("absent");
    h.clear();
    expect(h.size).toBe(0);
    expect(h.get(event("b", now - 5), now)).toBe("absent");
  });
});
