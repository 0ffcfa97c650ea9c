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

/** Bytes one header takes on the wire (its name once per value, and the values; varint lengths aside). */
export function headerBytes(name: string, value: HeaderValue): number {
  const values = Array.isArray(value) ? value : [value];
  let bytes = Buffer.byteLength(name) * values.length;
  for (const v of values) bytes += Buffer.byteLength(v);
  return bytes;
}

/** Bytes all the headers take on the wire. */
export const headersBytes = (headers: RecordHeaders): number =>
  Object.keys(headers).reduce((sum, name) => sum + headerBytes(name, headers[name]!), 0);
