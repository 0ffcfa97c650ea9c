/** One record of each malformed kind the detector must dead-letter: the tests and the fault campaign send them. */
import { encodeEvent, type Event, type RejectReason } from "../../app/events/event-codec.ts";

export const goodEvent = (over: Partial<Event> = {}): Event => ({
  id: "sensor-7",
  time: 1_700_000_000_123,
  producer: "lg-1",
  seq: 42,
  value: 12.5,
  label: "none",
  ...over,
});

/** Encode, then poke bytes: the producer-side encoder refuses bad fields, a hostile or buggy sender does not. */
function poke(e: Event, edit: (b: Buffer) => Buffer | void): Buffer {
  const b = encodeEvent(e);
  return edit(b) ?? b;
}

export interface MalformedCase {
  readonly reason: RejectReason;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/**
 * A located event with one field of its location block overwritten (the encoder refuses a bad location): the
 * block ends the record, lat and lon its last 16 bytes without an altitude, the altitude its last 8 with one.
 */
function pokeLocation(e: Event, field: "flags" | "lat" | "lon" | "alt", value: number): Buffer {
  const withAlt = field === "alt";
  return poke({ ...e, location: withAlt ? { lat: 52.5, lon: 13.4, alt: 120 } : { lat: 52.5, lon: 13.4 } }, (b) => {
    const end = b.length;
    if (field === "flags") b.writeUInt8(value, end - 17);
    else b.writeDoubleBE(value, field === "alt" ? end - 8 : field === "lat" ? end - 16 : end - 8);
  });
}

const byteOrderMark = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * A record whose entity id or producer id is `before`, U+FEFF, `after` (the encoder refuses the mark: it is
 * spliced in as bytes). The key is the id's bytes, mark and all, as a producer that sends the same bytes as key
 * and id would: a leading mark used to decode away and merge this key with the id without it.
 */
export function withMark(e: Event, field: "id" | "producer", before: string, after: string): { key: Buffer; value: Buffer } {
  const name = Buffer.concat([Buffer.from(before), byteOrderMark, Buffer.from(after)]);
  const stand = "x".repeat(name.length); // same byte length, overwritten below
  const value = poke({ ...e, [field]: stand }, (b) => {
    const at = field === "producer" ? 27 : 29 + Buffer.byteLength(e.producer);
    name.copy(b, at);
  });
  return { key: field === "id" ? name : Buffer.from(e.id), value };
}

export function malformedRecords(id = "sensor-7"): MalformedCase[] {
  const e = goodEvent({ id });
  const key = Buffer.from(id);
  return [
    { reason: "empty", key, value: Buffer.alloc(0) },
    { reason: "oversize", key, value: Buffer.concat([encodeEvent(e), Buffer.alloc(4096)]) },
    { reason: "unknown-version", key, value: poke(e, (b) => void b.writeUInt8(9, 0)) },
    { reason: "truncated", key, value: encodeEvent(e).subarray(0, 20) },
    { reason: "truncated", key, value: encodeEvent(e).subarray(0, encodeEvent(e).length - 2) },
    { reason: "trailing-bytes", key, value: Buffer.concat([encodeEvent(e), Buffer.from([0])]) },
    { reason: "bad-label", key, value: poke(e, (b) => void b.writeUInt8(7, 1)) },
    { reason: "bad-time", key, value: poke(e, (b) => void b.writeDoubleBE(1.5, 2)) },
    { reason: "bad-time", key, value: poke(e, (b) => void b.writeDoubleBE(-1, 2)) },
    { reason: "bad-sequence", key, value: poke(e, (b) => void b.writeDoubleBE(Number.NaN, 10)) },
    { reason: "non-finite-value", key, value: poke(e, (b) => void b.writeDoubleBE(Number.NaN, 18)) },
    { reason: "non-finite-value", key, value: poke(e, (b) => void b.writeDoubleBE(Infinity, 18)) },
    { reason: "non-finite-value", key, value: poke(e, (b) => void b.writeDoubleBE(-Infinity, 18)) },
    { reason: "value-out-of-range", key, value: poke(e, (b) => void b.writeDoubleBE(-Number.MAX_VALUE, 18)) },
    {
      reason: "bad-utf8",
      key,
      value: poke(e, (b) => {
        b[27] = 0xff; // first byte of the producer id
      }),
    },
    { reason: "missing-key", key: null, value: encodeEvent(e) },
    { reason: "key-mismatch", key: Buffer.from(`${id}-other`), value: encodeEvent(e) },
    {
      reason: "empty-id",
      key,
      value: poke(e, (b) => Buffer.concat([b.subarray(0, 27 + 4), Buffer.from([0, 0])])),
    },
    {
      reason: "empty-producer",
      key,
      value: poke(e, (b) => Buffer.concat([b.subarray(0, 26), Buffer.from([0]), b.subarray(27 + 4)])),
    },
    { reason: "empty", key, value: null },
    { reason: "byte-order-mark", ...withMark(e, "id", "", id) },
    { reason: "byte-order-mark", ...withMark(e, "id", "", "") },
    { reason: "byte-order-mark", ...withMark(e, "id", id, "") },
    { reason: "byte-order-mark", ...withMark(e, "producer", "lg", "-1") },
    { reason: "byte-order-mark", ...withMark(e, "producer", "", "") },
    { reason: "bad-location", key, value: pokeLocation(e, "lat", 91) },
    { reason: "bad-location", key, value: pokeLocation(e, "lat", -90.000001) },
    { reason: "bad-location", key, value: pokeLocation(e, "lat", Number.NaN) },
    { reason: "bad-location", key, value: pokeLocation(e, "lon", 180.5) },
    { reason: "bad-location", key, value: pokeLocation(e, "lon", -Infinity) },
    { reason: "bad-location", key, value: pokeLocation(e, "alt", 1e6) },
    { reason: "bad-location", key, value: pokeLocation(e, "alt", Number.NaN) },
    { reason: "bad-location", key, value: pokeLocation(e, "flags", 0x02) },
  ];
}
