/** The header copy and the dead-letter record: what the detector re-publishes of a hostile record. */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { deadLetterBounds, deadLetterHeaders, deadLetterMessage, type DeadLetterSource } from "../../app/events/dead-letter.ts";
import { copyHeaders, headersBytes } from "../../app/events/record-headers.ts";

// kafkajs's own record encoder: the one that threw a TypeError on a header holding a function.
const encodeRecord = createRequire(import.meta.url)("kafkajs/src/protocol/recordBatch/record/v0") as (r: object) => { buffer: Buffer };

/** What unpatched kafkajs decodes a "constructor" and a "toString" header into: arrays holding the prototype's functions. */
const unpatchedDecoding = () => {
  const h: Record<string, unknown> = {};
  h["constructor"] = [Object, Buffer.from("c")];
  h["toString"] = [Object.getOwnPropertyDescriptor(Object.prototype, "toString")!.value, Buffer.from("t")];
  h["good"] = Buffer.from("g");
  return h;
};

describe("copyHeaders", () => {
  it("keeps own string and Buffer values, drops functions and other types, in a null-prototype map", () => {
    const copy = copyHeaders({ ...unpatchedDecoding(), n: 7, o: { a: 1 }, s: "x", list: ["a", 1, Buffer.from("b")] });
    expect(Object.getPrototypeOf(copy)).toBeNull();
    expect({ ...copy }).toEqual({
      constructor: [Buffer.from("c")],
      toString: [Buffer.from("t")],
      good: Buffer.from("g"),
      s: "x",
      list: ["a", Buffer.from("b")],
    });
  });

  it("makes headers that kafkajs's encoder takes (the raw ones it throws on)", () => {
    expect(() => encodeRecord({ key: "k", value: "v", headers: unpatchedDecoding() })).toThrow(TypeError);
    expect(() => encodeRecord({ key: "k", value: "v", headers: copyHeaders(unpatchedDecoding()) })).not.toThrow();
  });

  it("gives an empty map for no headers, and inherits nothing from a prototype", () => {
    expect(Object.keys(copyHeaders(undefined))).toEqual([]);
    const inherited = Object.create({ inheritedHeader: "x" }) as object;
    expect(Object.keys(copyHeaders(inherited))).toEqual([]);
  });
});

describe("deadLetterMessage", () => {
  const source = (over: Partial<DeadLetterSource> = {}): DeadLetterSource => ({
    topic: "events",
    partition: 3,
    offset: 41,
    key: Buffer.from("sensor-7"),
    value: Buffer.from("bytes"),
    headers: copyHeaders({ "test-case": "1" }),
    ...over,
  });

  it("carries the reason, the source topic/partition/offset and the original bytes", () => {
    const m = deadLetterMessage(source(), "bad-label", "label code 7");
    expect(m.value).toEqual(Buffer.from("bytes"));
    expect(m.key).toEqual(Buffer.from("sensor-7"));
    expect({ ...m.headers }).toEqual({
      "test-case": "1",
      [deadLetterHeaders.reason]: "bad-label",
      [deadLetterHeaders.detail]: "label code 7",
      [deadLetterHeaders.topic]: "events",
      [deadLetterHeaders.partition]: "3",
      [deadLetterHeaders.offset]: "41",
    });
  });

  it("cuts the value, key, detail and source headers to their bounds and says what was cut", () => {
    const bigValue = Buffer.alloc(deadLetterBounds.valueBytes * 10, 1);
    const bigKey = Buffer.alloc(deadLetterBounds.keyBytes * 3, 2);
    const flood: Record<string, string> = {};
    for (let i = 0; i < 5000; i++) flood[`h${i}`] = "x";
    const m = deadLetterMessage(
      source({ key: bigKey, value: bigValue, headers: copyHeaders(flood) }),
      "oversize",
      "d".repeat(deadLetterBounds.detailChars * 4),
    );
    expect(m.value).toEqual(bigValue.subarray(0, deadLetterBounds.valueBytes));
    expect(m.key).toEqual(bigKey.subarray(0, deadLetterBounds.keyBytes));
    const h = copyHeaders(m.headers);
    expect(h[deadLetterHeaders.originalValueBytes]).toBe(String(bigValue.length));
    expect(h[deadLetterHeaders.originalKeyBytes]).toBe(String(bigKey.length));
    expect(String(h[deadLetterHeaders.detail])).toHaveLength(deadLetterBounds.detailChars);
    const kept = Object.keys(h).filter((k) => k.startsWith("h")).length;
    expect(kept + Number(h[deadLetterHeaders.droppedHeaders])).toBe(5000);
    const ours = Object.values(deadLetterHeaders).reduce((n, name) => n + name.length, 0);
    expect(headersBytes(h)).toBeLessThanOrEqual(deadLetterBounds.sourceHeaderBytes + ours + deadLetterBounds.detailChars + 64);
  });

  it("cuts the detail on a code-point boundary: never half of a surrogate pair", () => {
    const max = deadLetterBounds.detailChars;
    const detailOf = (detail: string) =>
      String(copyHeaders(deadLetterMessage(source(), "bad-label", detail).headers)[deadLetterHeaders.detail]);
    // An astral character (two UTF-16 units) across the bound: left out whole, one unit short of it.
    const across = detailOf(`${"d".repeat(max - 1)}😀 and more`);
    expect(across).toBe("d".repeat(max - 1));
    expect(across.isWellFormed()).toBe(true);
    // One that ends exactly at the bound is kept whole; a detail of astral characters only stays well formed.
    expect(detailOf(`${"d".repeat(max - 2)}😀 and more`)).toBe(`${"d".repeat(max - 2)}😀`);
    const astral = detailOf("😀".repeat(max));
    expect(astral.isWellFormed()).toBe(true);
    expect(astral).toHaveLength(max);
    // As the header goes on the wire: the UTF-8 bytes decode back to the same text (no U+FFFD).
    expect(Buffer.from(across).toString("utf8")).toBe(across);
  });

  it("lets no source header pass for the detector's own", () => {
    const forged = copyHeaders({ [deadLetterHeaders.reason]: "forged", [deadLetterHeaders.offset]: "0" });
    const m = copyHeaders(deadLetterMessage(source({ headers: forged }), "check-failed", "write: boom").headers);
    expect(m[deadLetterHeaders.reason]).toBe("check-failed");
    expect(m[deadLetterHeaders.offset]).toBe("41");
  });

  it("names the range of an undecodable batch", () => {
    const m = copyHeaders(deadLetterMessage(source({ offset: 100, lastOffset: 102 }), "undecodable-batch", "ZSTD").headers);
    expect([m[deadLetterHeaders.offset], m[deadLetterHeaders.lastOffset]]).toEqual(["100", "102"]);
  });
});
