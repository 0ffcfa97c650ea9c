/**
 * The events' wire format, version 1: compact, fixed-layout binary (29 bytes + the two names), because at
 * hundreds of thousands of events a second the bytes on the wire and the decode cost are the budget.
 *
 *   offset  size  field
 *   0       1     version (1)
 *   1       1     label: 0 none, 1 spike, 2 shift (the generator's ground truth; the detector never reads it)
 *   2       8     time: event time, ms since the epoch, an integer (float64 big-endian; exact below 2^53)
 *   10      8     seq: the producer's sequence number, an integer >= 0 (float64 big-endian)
 *   18      8     value: float64 big-endian, finite, |value| <= maxEventValueMagnitude
 *   26      1     P = length of producer
 *   27      P     producer id, UTF-8, non-empty, no U+FEFF
 *   27+P    2     I = length of id (uint16 big-endian)
 *   29+P    I     entity id, UTF-8, non-empty, no U+FEFF; must equal the record key (the key decides the
 *                 partition, and per-key order holds only if every event of an id goes to the same partition)
 *
 * Why no U+FEFF (a byte-order mark): a UTF-8 decoder drops a leading one by default, so the bytes EF BB BF "ab"
 * would be the id "ab" in Cassandra while their key sends them to another partition than the real "ab": two
 * consumers would then read and write one key's rows at once. Decoded strictly and with the mark kept, an id's
 * string and its bytes are one-to-one, so the key's bytes equal the id's exactly when they name the same key.
 *
 * Version 2, an event with a location: version 1's layout with version byte 2, then after the id
 *
 *   E = 29+P+I
 *   E       1     location flags: bit 0 set = an altitude follows; the other bits must be 0
 *   E+1     8     latitude, degrees, float64 big-endian, finite, in [-90, 90]
 *   E+9     8     longitude, degrees, float64 big-endian, finite, in [-180, 180]
 *   E+17    8     altitude (only with bit 0), metres above sea level, in app/spatial/location.ts altitudeRange
 *
 * An event without a location is still encoded as version 1, byte for byte as before, so detectors that read
 * only version 1 keep working until a generator sends locations.
 *
 * (id, time, producer, seq) names an event; it is the Cassandra primary key, so a replay writes the same row.
 * Validation at the edge returns a reason instead of throwing, so the pipeline can dead-letter and go on.
 */
import { locationProblem, type Location } from "../spatial/location.ts";

export const eventFormatVersion = 1;
/** The version of an event that carries a location (see above). */
export const locatedEventFormatVersion = 2;

export const labels = ["none", "spike", "shift"] as const;
export type Label = (typeof labels)[number];

export interface Event {
  readonly id: string;
  readonly time: number;
  readonly producer: string;
  readonly seq: number;
  readonly value: number;
  readonly label: Label;
  /** Where it happened (version 2 records only); absent on an event without a position. */
  readonly location?: Location;
}

/** Why a record was refused: the dead-letter header carries this. */
export const rejectReasons = [
  "empty",
  "oversize",
  "unknown-version",
  "truncated",
  "trailing-bytes",
  "bad-utf8",
  "bad-label",
  "bad-time",
  "bad-sequence",
  "non-finite-value",
  "value-out-of-range",
  "empty-producer",
  "empty-id",
  "missing-key",
  "key-mismatch",
  /** U+FEFF in the producer or entity id (see the format above). */
  "byte-order-mark",
  /** Version 2's location block: out of range, not finite, or unknown flag bits. */
  "bad-location",
] as const;
export type RejectReason = (typeof rejectReasons)[number];

export type Decoded =
  { readonly ok: true; readonly event: Event } | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

const fixedBytes = 29;
/** The location block: flags, latitude, longitude; and the altitude when flagged. */
const locationBytes = 17;
const altitudeBytes = 8;
const hasAltitude = 0x01;

/**
 * The largest |value| accepted. The check squares differences of up to `historyWindow` + 1 values (Welford's
 * sum of squares, the CUSUM's sums): with |x| <= 1e150 a difference is <= 2e150, its square <= 4e300, and a
 * sum of 51 of them stays ~1e306 under Number.MAX_VALUE (1.8e308). A finite value above ~1.3e154 would square
 * to Infinity, turn the key's stored baseline non-finite and poison every later check of that key.
 */
export const maxEventValueMagnitude = 1e150;
const maxTime = 8_640_000_000_000_000; // the largest valid JavaScript Date

const utf8 = new TextEncoder();
/** Invalid UTF-8 refused, and a leading U+FEFF kept (the default drops it, and its bytes with it, from the string). */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const byteOrderMark = "\uFEFF";

/** Encode an event. Throws on an event that `decodeEvent` would refuse, so the generator cannot send one. */
export function encodeEvent(e: Event): Buffer {
  const producer = utf8.encode(e.producer);
  const id = utf8.encode(e.id);
  const problem = checkFields(e, producer.length, id.length) ?? checkNames(e.producer, e.id);
  if (problem) throw new RangeError(`cannot encode event: ${problem.reason}: ${problem.detail}`);
  const where = e.location;
  const locationProblemText = where === undefined ? null : locationProblem(where);
  if (locationProblemText !== null) throw new RangeError(`cannot encode event: bad-location: ${locationProblemText}`);
  const end = fixedBytes + producer.length + id.length;
  const extra = where === undefined ? 0 : locationBytes + (where.alt === undefined ? 0 : altitudeBytes);
  const buf = Buffer.allocUnsafe(end + extra);
  buf.writeUInt8(where === undefined ? eventFormatVersion : locatedEventFormatVersion, 0);
  buf.writeUInt8(labels.indexOf(e.label), 1);
  buf.writeDoubleBE(e.time, 2);
  buf.writeDoubleBE(e.seq, 10);
  buf.writeDoubleBE(e.value, 18);
  buf.writeUInt8(producer.length, 26);
  buf.set(producer, 27);
  buf.writeUInt16BE(id.length, 27 + producer.length);
  buf.set(id, 29 + producer.length);
  if (where !== undefined) {
    buf.writeUInt8(where.alt === undefined ? 0 : hasAltitude, end);
    buf.writeDoubleBE(where.lat, end + 1);
    buf.writeDoubleBE(where.lon, end + 9);
    if (where.alt !== undefined) buf.writeDoubleBE(where.alt, end + 17);
  }
  return buf;
}

function checkFields(
  e: Pick<Event, "time" | "seq" | "value">,
  producerBytes: number,
  idBytes: number,
): { reason: RejectReason; detail: string } | null {
  if (!Number.isSafeInteger(e.time) || e.time < 0 || e.time > maxTime)
    return { reason: "bad-time", detail: `time ${e.time} is not an integer ms in the Date range` };
  if (!Number.isSafeInteger(e.seq) || e.seq < 0)
    return { reason: "bad-sequence", detail: `seq ${e.seq} is not a non-negative safe integer` };
  if (!Number.isFinite(e.value)) return { reason: "non-finite-value", detail: `value ${e.value}` };
  if (Math.abs(e.value) > maxEventValueMagnitude)
    return { reason: "value-out-of-range", detail: `value ${e.value} is outside ±${maxEventValueMagnitude}` };
  if (producerBytes > 255) return { reason: "oversize", detail: `producer id is ${producerBytes} bytes (max 255)` };
  if (idBytes > 65_535) return { reason: "oversize", detail: `entity id is ${idBytes} bytes (max 65535)` };
  return null;
}

/** The names as decoded (or as given to the encoder): non-empty, and no U+FEFF anywhere. */
function checkNames(producer: string, id: string): { reason: RejectReason; detail: string } | null {
  if (producer.length === 0) return { reason: "empty-producer", detail: "producer id is empty" };
  if (id.length === 0) return { reason: "empty-id", detail: "entity id is empty" };
  for (const [field, name] of [
    ["producer id", producer],
    ["entity id", id],
  ] as const) {
    const at = name.indexOf(byteOrderMark);
    if (at >= 0)
      return {
        reason: "byte-order-mark",
        detail: `${field} ${JSON.stringify(name.slice(0, 64))} holds U+FEFF (byte-order mark) at UTF-16 index ${at}; allowed: ids without U+FEFF`,
      };
  }
  return null;
}

const reject = (reason: RejectReason, detail: string): Decoded => ({ ok: false, reason, detail });

/** Decode and validate a record. `maxBytes` bounds the value's size (an oversize payload is refused unread). */
export function decodeEvent(key: Buffer | null, value: Buffer | null, maxBytes: number): Decoded {
  if (value === null || value.length === 0) return reject("empty", "record has no value");
  if (value.length > maxBytes) return reject("oversize", `value is ${value.length} bytes (max ${maxBytes})`);
  const version = value.readUInt8(0);
  if (version !== eventFormatVersion && version !== locatedEventFormatVersion)
    return reject(
      "unknown-version",
      `format version ${version} (this detector reads ${eventFormatVersion} and ${locatedEventFormatVersion})`,
    );
  if (value.length < fixedBytes) return reject("truncated", `value is ${value.length} bytes, shorter than ${fixedBytes}`);
  const labelCode = value.readUInt8(1);
  const label = labels[labelCode];
  if (label === undefined) return reject("bad-label", `label code ${labelCode}`);
  const time = value.readDoubleBE(2);
  const seq = value.readDoubleBE(10);
  const num = value.readDoubleBE(18);
  const producerLength = value.readUInt8(26);
  if (value.length < fixedBytes + producerLength) return reject("truncated", `producer id of ${producerLength} bytes runs past the end`);
  const idLength = value.readUInt16BE(27 + producerLength);
  const idEnd = fixedBytes + producerLength + idLength;
  if (value.length < idEnd) return reject("truncated", `entity id of ${idLength} bytes runs past the end`);
  const located = version === locatedEventFormatVersion ? readLocation(value, idEnd) : null;
  if (located !== null && !located.ok) return located.refusal;
  const end = located === null ? idEnd : located.end;
  if (value.length > end)
    return reject("trailing-bytes", `${value.length - end} bytes after the ${located === null ? "entity id" : "location"}`);
  const problem = checkFields({ time, seq, value: num }, producerLength, idLength);
  if (problem) return reject(problem.reason, problem.detail);
  let producer: string;
  let id: string;
  try {
    producer = strictUtf8.decode(value.subarray(27, 27 + producerLength));
    id = strictUtf8.decode(value.subarray(29 + producerLength, idEnd));
  } catch {
    return reject("bad-utf8", "producer or entity id is not valid UTF-8");
  }
  const nameProblem = checkNames(producer, id);
  if (nameProblem) return reject(nameProblem.reason, nameProblem.detail);
  if (key === null || key.length === 0) return reject("missing-key", "record has no key");
  // Compare bytes, not strings: cheaper, and an invalid-UTF-8 key cannot compare equal by replacement chars.
  // The id decoded strictly, its mark kept and refused above, so equal bytes mean the key decodes to this id.
  if (!key.equals(value.subarray(29 + producerLength, idEnd)))
    return reject("key-mismatch", `record key does not equal the entity id ${JSON.stringify(id)}`);
  if (located !== null) {
    const problem = locationProblem(located.location);
    if (problem !== null) return reject("bad-location", problem);
    return { ok: true, event: { id, time, producer, seq, value: num, label, location: located.location } };
  }
  return { ok: true, event: { id, time, producer, seq, value: num, label } };
}

/** Version 2's location block at `at` (its values unchecked: decodeEvent checks them after the other fields). */
function readLocation(value: Buffer, at: number): { ok: true; location: Location; end: number } | { ok: false; refusal: Decoded } {
  if (value.length < at + 1) return { ok: false, refusal: reject("truncated", "version 2 record ends before its location") };
  const flags = value.readUInt8(at);
  if ((flags & ~hasAltitude) !== 0)
    return {
      ok: false,
      refusal: reject(
        "bad-location",
        `location flags 0x${flags.toString(16).padStart(2, "0")} has unknown bits; allowed: 0x00, or 0x01 (an altitude follows)`,
      ),
    };
  const end = at + locationBytes + (flags & hasAltitude ? altitudeBytes : 0);
  if (value.length < end) return { ok: false, refusal: reject("truncated", `location of ${end - at} bytes runs past the end`) };
  const lat = value.readDoubleBE(at + 1);
  const lon = value.readDoubleBE(at + 9);
  const location: Location = flags & hasAltitude ? { lat, lon, alt: value.readDoubleBE(at + 17) } : { lat, lon };
  return { ok: true, location, end };
}
