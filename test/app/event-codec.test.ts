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

  it("decodes an id to the string whose bytes are the key: a byte-order mark cannot merge two keys", () => {
    const mark = Buffer.from([0xef, 0xbb, 0xbf]);
    const encodedWith = (id: Buffer, producer = Buffer.from("lg-1")) => {
      const stand = encodeEvent(goodEvent({ id: "x".repeat(id.length), producer: "y".repeat(producer.length) }));
      producer.copy(stand, 27);
      id.copy(stand, 29 + producer.length);
      return stand;
    };
    // Before: a leading mark decoded away, so key EF BB BF "ab" was checked as id "ab" on another partition than "ab".
    const ids = [
      Buffer.from("ab"),
      Buffer.concat([mark, Buffer.from("ab")]),
      Buffer.concat([Buffer.from("a"), mark, Buffer.from("b")]),
      Buffer.concat([mark, mark]),
      mark,
      Buffer.from("a\u200bb"), // zero-width space: bytes and string agree, so it is an id like any other
      Buffer.from("😀"),
      Buffer.from("e\u0301"), // a combining accent: not normalised, so not the same key as "é"
      Buffer.from("é"),
    ];
    const accepted = new Map<string, string>();
    for (const id of ids) {
      const d = decodeEvent(id, encodedWith(id), 1024);
      if (!d.ok) {
        expect(d.reason).toBe("byte-order-mark");
        expect(d.detail).toMatch(/entity id .* holds U\+FEFF .* at UTF-16 index \d+; allowed: ids without U\+FEFF/);
        continue;
      }
      expect(Buffer.from(d.event.id)).toEqual(id);
      // No two different keys decode to one id.
      expect(accepted.get(d.event.id)).toBeUndefined();
      accepted.set(d.event.id, id.toString("hex"));
    }
    expect([...accepted.keys()]).toEqual(["ab", "a\u200bb", "😀", "e\u0301", "é"]);
    // The producer the same way, and a name that is only a mark is not taken for an empty one.
    for (const producer of [Buffer.concat([mark, Buffer.from("lg")]), mark]) {
      expect(decodeEvent(Buffer.from("ab"), encodedWith(Buffer.from("ab"), producer), 1024)).toMatchObject({
        ok: false,
        reason: "byte-order-mark",
      });
    }
  });

  it("refuses to encode what it would refuse to decode", () => {
    expect(() => encodeEvent(goodEvent({ id: "\uFEFFsensor-7" }))).toThrow(/byte-order-mark: entity id/);
    expect(() => encodeEvent(goodEvent({ producer: "lg\uFEFF" }))).toThrow(/byte-order-mark: producer id/);
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
