import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent, maxEventValueMagnitude, rejectReasons } from "../../app/events/event-codec.ts";
import { decodeVerdict, encodeVerdict, verdictRecord } from "../../app/events/verdict-codec.ts";
import { baseline, detect } from "../../app/detector/cusum.ts";
import { historyWindow } from "../../app/topology.ts";
import { goodEvent, malformedRecords } from "../../scripts/chaos/malformed-records.ts";

describe("event codec", () => {
  it("round-trips an event compactly", () => {
    const e = goodEvent({ label: "spike", value: -0.000123, id: "ключ-1" });
    const bytes = encodeEvent(e);
    expect(bytes.length).toBe(29 + 4 + Buffer.byteLength("ключ-1"));
    expect(decodeEvent(Buffer.from(e.id), bytes, 1024)).toEqual({ ok: true, event: e });
  });

  it.each(malformedRecords().map((c) => [c.reason, c] as const))("refuses %s with that reason", (reason, c) => {
    const d = decodeEvent(c.key, c.value, 1024);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.reason).toBe(reason);
      expect(d.detail.length).toBeGreaterThan(0);
    }
  });

  it("has a malformed sample for every reason", () => {
    const covered = new Set(malformedRecords().map((c) => c.reason));
    expect(rejectReasons.filter((r) => !covered.has(r))).toEqual([]);
  });

  it("accepts values up to the safe magnitude and refuses finite values beyond it", () => {
    const decodeValue = (value: number) => {
      const bytes = encodeEvent(goodEvent({ value: 1 }));
      bytes.writeDoubleBE(value, 18); // as a hostile sender would, past the encoder's check
      return decodeEvent(Buffer.from(goodEvent().id), bytes, 1024);
    };
    for (const edge of [maxEventValueMagnitude, -maxEventValueMagnitude]) expect(decodeValue(edge).ok).toBe(true);
    const beyond = [maxEventValueMagnitude * (1 + Number.EPSILON), -Number.MAX_VALUE, Math.sqrt(Number.MAX_VALUE) * 2];
    for (const v of beyond) expect(decodeValue(v)).toMatchObject({ ok: false, reason: "value-out-of-range" });
    expect(() => encodeEvent(goodEvent({ value: Number.MAX_VALUE }))).toThrow(/value-out-of-range/);
  });

  it("bounds values so that a full window of the most distant ones keeps a finite baseline and score", () => {
    // The worst window the bound allows: alternating ±max, then a value at the far side.
    const history = Array.from({ length: historyWindow }, (_, i) => (i % 2 === 0 ? 1 : -1) * maxEventValueMagnitude);
    const b = baseline(history);
    expect(Number.isFinite(b.sd)).toBe(true);
    const v = detect(history, -maxEventValueMagnitude, { lookback: historyWindow });
    expect(v.reason).toBeUndefined();
    expect(Number.isFinite(v.score)).toBe(true);
  });

  it("refuses to encode what it would refuse to decode", () => {
    expect(() => encodeEvent(goodEvent({ value: Number.NaN }))).toThrow(/non-finite-value/);
    expect(() => encodeEvent(goodEvent({ time: 1.5 }))).toThrow(/bad-time/);
    expect(() => encodeEvent(goodEvent({ seq: -1 }))).toThrow(/bad-sequence/);
    expect(() => encodeEvent(goodEvent({ id: "" }))).toThrow(/empty-id/);
    expect(() => encodeEvent(goodEvent({ producer: "" }))).toThrow(/empty-producer/);
  });
});

describe("verdict codec", () => {
  it("round-trips and carries identity and label", () => {
    const e = goodEvent({ label: "shift" });
    const r = verdictRecord(e, detect(Array(50).fill(1) as number[], 1000), 1_700_000_000_200);
    const back = decodeVerdict(encodeVerdict(r));
    expect(back).toEqual(r);
    expect(back).toMatchObject({ id: e.id, seq: e.seq, producer: e.producer, label: "shift", anomaly: true });
  });
  it("encodes a verdict without a finite baseline as one its readers can parse, with the reason", () => {
    const history = Array.from({ length: historyWindow }, (_, i) => (i % 2 === 0 ? 1 : -1) * Number.MAX_VALUE);
    const r = verdictRecord(goodEvent(), detect(history, 1), 1_700_000_000_200);
    expect(decodeVerdict(encodeVerdict(r))).toMatchObject({ anomaly: false, reason: "non-finite-baseline", sigma: null });
  });
  it("refuses a record that is not a verdict", () => {
    expect(() => decodeVerdict(Buffer.from("{}"))).toThrow();
  });
});
