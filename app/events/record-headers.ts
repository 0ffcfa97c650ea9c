/**
 * A record's headers as the rest of the detector may use them. What the Kafka client hands over is not trusted:
 * an unpatched kafkajs decodes headers into a plain object, so a header named "constructor" or "toString"
 * becomes an array holding Object.prototype's function, which the producer's encoder then throws on (and fails
 * every record of the publish batch with it). Here only own string keys with string/Buffer values (or arrays of
 * them, a repeated header) are kept, in a null-prototype map, so no header name can reach a prototype member.
 */
export type HeaderValue = Buffer | string | (Buffer | string)[];
/** Null-prototype: `in`, lookups and spreads see own keys only. */
export type RecordHeaders = Record<string, HeaderValue>;

const isHeaderScalar = (v: unknown): v is Buffer | string => typeof v === "string" || Buffer.isBuffer(v);

/** The safe copy of `headers`; values of any other type (functions, objects, numbers) are dropped. */
export function copyHeaders(headers: unknown): RecordHeaders {
  const copy = Object.create(null) as RecordHeaders;
  if (typeof headers !== "object" || headers === null) return copy;
  for (const key of Object.keys(headers)) {
    const value: unknown = (headers as Record<string, unknown>)[key];
    if (isHeaderScalar(value)) copy[key] = value;
    else if (Array.isArray(value)) {
      const kept = value.filter(isHeaderScalar);
      if (kept.length > 0) copy[key] = kept;
    }
  }
  return copy;
}

/** Bytes the headers take on the wire (names and values; the few varint length bytes aside). */
export function headerBytes(headers: RecordHeaders): number {
  let bytes = 0;
  for (const key of Object.keys(headers)) {
    const value = headers[key]!;
    for (const v of Array.isArray(value) ? value : [value]) bytes += Buffer.byteLength(key) + Buffer.byteLength(v);
  }
  return bytes;
}
