/**
 * Events with a location: version 2 of the wire format round-trips it, version 1 is unchanged, and a
 * malformed location is refused with the reason bad-location and a detail naming the field, the value and what
 * is allowed — what the detector puts on the dead-letter record.
 */
import { describe, expect, it } from "vitest";
import { deadLetterHeaders, deadLetterMessage, deadLetterReasons } from "../../app/events/dead-letter.ts";
import { decodeEvent, encodeEvent, eventFormatVersion, locatedEventFormatVersion, type Event } from "../../app/events/event-codec.ts";
import { altitudeRange, type Location } from "../../app/spatial/location.ts";

const base: Event = { id: "drone-7", time: 1_764_000_000_000, producer: "lg-1", seq: 42, value: 3.25, label: "none" };
const at = (location: Location): Event => ({ ...base, location });
const decode = (bytes: Buffer) => decodeEvent(Buffer.from(base.id), bytes, 1024);
const idEnd = 29 + Buffer.byteLength(base.producer) + Buffer.byteLength(base.id);

/** A located record with one of its location's doubles overwritten, as a hostile or buggy sender would. */
function poked(location: Location, field: "lat" | "lon" | "alt", value: number): Buffer {
  const bytes = encodeEvent(at(location));
  bytes.writeDoubleBE(value, idEnd + { lat: 1, lon: 9, alt: 17 }[field]);
  return bytes;
}

describe("event location on the wire", () => {
  it("leaves an event without a location as version 1, byte for byte", () => {
    const bytes = encodeEvent(base);
    expect(bytes.readUInt8(0)).toBe(eventFormatVersion);
    expect(bytes.length).toBe(idEnd);
    const d = decode(bytes);
    expect(d).toEqual({ ok: true, event: base });
    expect(d.ok && "location" in d.event).toBe(false);
  });

  it("round-trips a 2D and a 3D location as version 2", () => {
    for (const location of [
      { lat: 57.64911, lon: 10.40744 },
      { lat: -33.8688, lon: 151.2093, alt: 120.5 },
    ]) {
      const bytes = encodeEvent(at(location));
      expect(bytes.readUInt8(0)).toBe(locatedEventFormatVersion);
      expect(bytes.length).toBe(idEnd + 17 + (location.alt === undefined ? 0 : 8));
      expect(decode(bytes)).toEqual({ ok: true, event: at(location) });
    }
  });

  it("accepts the edges of every range", () => {
    for (const location of [
      { lat: 90, lon: 180 },
      { lat: -90, lon: -180 },
      { lat: 0, lon: 0, alt: altitudeRange.min },
      { lat: 0, lon: 0, alt: altitudeRange.max },
    ])
      expect(decode(encodeEvent(at(location)))).toEqual({ ok: true, event: at(location) });
  });

  it.each([
    ["lat", 90.000001, "location.lat 90.000001 is outside [-90, 90]"],
    ["lat", -91, "location.lat -91 is outside [-90, 90]"],
    ["lat", Number.NaN, "location.lat NaN is not a finite number; allowed: [-90, 90]"],
    ["lon", 180.5, "location.lon 180.5 is outside [-180, 180]"],
    ["lon", -Infinity, "location.lon -Infinity is not a finite number; allowed: [-180, 180]"],
    ["alt", 100_001, "location.alt 100001 is outside [-12000, 100000] m"],
    ["alt", -12_000.5, "location.alt -12000.5 is outside [-12000, 100000] m"],
    ["alt", Number.POSITIVE_INFINITY, "location.alt Infinity is not a finite number; allowed: [-12000, 100000] m"],
  ] as const)("refuses %s = %s with bad-location, naming field and value", (field, value, detail) => {
    expect(decode(poked({ lat: 1, lon: 2, alt: 3 }, field, value))).toEqual({ ok: false, reason: "bad-location", detail });
  });

  it("refuses unknown location flags, a cut location and bytes after it", () => {
    const flags = encodeEvent(at({ lat: 1, lon: 2 }));
    flags.writeUInt8(0x03, idEnd);
    expect(decode(flags)).toEqual({
      ok: false,
      reason: "bad-location",
      detail: "location flags 0x03 has unknown bits; allowed: 0x00, or 0x01 (an altitude follows)",
    });
    const full = encodeEvent(at({ lat: 1, lon: 2, alt: 3 }));
    expect(decode(full.subarray(0, full.length - 1))).toMatchObject({
      ok: false,
      reason: "truncated",
      detail: "location of 25 bytes runs past the end",
    });
    expect(decode(full.subarray(0, idEnd))).toMatchObject({
      ok: false,
      reason: "truncated",
      detail: "version 2 record ends before its location",
    });
    expect(decode(Buffer.concat([full, Buffer.from([0])]))).toMatchObject({
      ok: false,
      reason: "trailing-bytes",
      detail: "1 bytes after the location",
    });
    // A version-1 record followed by location-looking bytes is still one with trailing bytes: the version decides.
    const v1 = Buffer.concat([encodeEvent(base), full.subarray(idEnd)]);
    expect(decode(v1)).toMatchObject({ ok: false, reason: "trailing-bytes", detail: "25 bytes after the entity id" });
  });

  it("refuses to encode a location it would refuse to decode", () => {
    expect(() => encodeEvent(at({ lat: 95, lon: 0 }))).toThrow("cannot encode event: bad-location: location.lat 95 is outside [-90, 90]");
    expect(() => encodeEvent(at({ lat: 0, lon: 0, alt: Number.NaN }))).toThrow(/location\.alt NaN is not a finite number/);
  });

  it("dead-letters a bad location with the reason and the codec's detail in the headers", () => {
    expect(deadLetterReasons).toContain("bad-location");
    const value = poked({ lat: 1, lon: 2 }, "lon", 200);
    const d = decode(value);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    const m = deadLetterMessage(
      { topic: "events", partition: 3, offset: 17, key: Buffer.from(base.id), value, headers: {} },
      d.reason,
      d.detail,
    );
    expect(m.headers?.[deadLetterHeaders.reason]).toBe("bad-location");
    expect(m.headers?.[deadLetterHeaders.detail]).toBe("location.lon 200 is outside [-180, 180]");
    expect(m.value).toEqual(value);
  });
});
