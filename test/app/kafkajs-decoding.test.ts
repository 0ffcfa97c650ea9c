/**
 * kafkajs's record decoding as patched (patches/kafkajs+2.2.4.patch) and as bounded by app/kafka/bounded-gzip.ts:
 * header names cannot reach Object.prototype, a batch it cannot decode becomes one placeholder instead of a
 * failed fetch, and a gzip batch cannot inflate past the bound. These drive kafkajs's own encoders and
 * decoders (kafkajs-batches.ts).
 */
import { describe, expect, it } from "vitest";
import { boundGzipDecompression } from "../../app/kafka/bounded-gzip.ts";
import {
  batch,
  batchField,
  CompressionTypes,
  decodeMessages,
  decodeRecord,
  Decoder,
  encodeRecord,
  fetchedMessages,
  withLength,
  type DecodedRecord,
} from "./kafkajs-batches.ts";

const attributesOffset = batchField.attributes;

describe("kafkajs record headers (patched)", () => {
  it("decodes header names like Object.prototype members as ordinary own keys of a null-prototype map", () => {
    const headers = Object.create(null) as Record<string, unknown>;
    headers["constructor"] = "c";
    headers["toString"] = "t";
    headers["__proto__"] = "p";
    headers["repeated"] = ["a", "b"];
    const wire = new Decoder(encodeRecord({ key: Buffer.from("k"), value: Buffer.from("v"), headers }).buffer);
    const record = decodeRecord(new Decoder(wire.readBytes(wire.readVarInt())), { firstOffset: "0", firstTimestamp: "0" });
    expect(Object.getPrototypeOf(record.headers)).toBeNull();
    const own = new Map(Object.entries(record.headers));
    expect(own.get("constructor")).toEqual(Buffer.from("c"));
    expect(own.get("toString")).toEqual(Buffer.from("t"));
    expect(own.get("__proto__")).toEqual(Buffer.from("p"));
    expect(own.get("repeated")).toEqual([Buffer.from("a"), Buffer.from("b")]);
  });
});

describe("kafkajs batch decoding (patched)", () => {
  it("hands over a batch in a codec it lacks as one placeholder at its last offset, and decodes the batches after it", async () => {
    const zstd = await batch(100, 3);
    zstd.writeInt16BE(CompressionTypes.ZSTD, attributesOffset); // as Kafka's Java producer would mark it
    const decoded = await decodeMessages(fetchedMessages(zstd, await batch(103, 2)));
    expect(decoded.map((r) => r.offset)).toEqual(["102", "103", "104"]);
    const [placeholder, ...good] = decoded;
    expect(placeholder!.undecodable).toEqual({ firstOffset: "100", lastOffset: "102", error: expect.stringMatching(/ZSTD/) as unknown });
    expect(placeholder!.value).toEqual(zstd); // the raw batch, for the dead letter
    expect(good.map((r) => r.value?.toString())).toEqual(["v0", "v1"]);
    expect(good.every((r) => r.undecodable === undefined)).toBe(true);
  });

  it("inflates no gzip batch past the bound: a bomb becomes a placeholder, a normal batch decodes", async () => {
    const bound = 64 * 1024;
    boundGzipDecompression(bound);
    const bomb = await batch(0, 4, CompressionTypes.GZIP, () => Buffer.alloc(bound)); // zeros: compresses ~1000x
    expect(bomb.length).toBeLessThan(bound / 8);
    const normal = await batch(4, 3, CompressionTypes.GZIP);
    const decoded = await decodeMessages(fetchedMessages(bomb, normal));
    expect(decoded[0]!.undecodable).toMatchObject({ firstOffset: "0", lastOffset: "3" });
    expect(decoded.slice(1).map((r) => r.value?.toString())).toEqual(["v0", "v1", "v2"]);
  });

  const offsets = (decoded: DecodedRecord[]) => decoded.map((r) => BigInt(r.offset));
  const increasing = (xs: bigint[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

  // Each impossible length once: before the bound, -12 moved the decoder back to the batch's start (a loop until
  // memory ran out), -2^31 threw out of the fetch, 0, -1 and 48 framed a bogus batch inside this one.
  it.each([-12, -(2 ** 31), 0, -1, 48])(
    "makes one placeholder for the rest of the fetched bytes of a batch of length %i, after the batches before it",
    async (length) => {
      const before = await batch(0, 3);
      const corrupt = withLength(await batch(3, 2), length);
      const after = await batch(5, 2);
      const decoded = await decodeMessages(fetchedMessages(before, corrupt, after));
      expect(decoded.map((r) => r.offset)).toEqual(["0", "1", "2", "4"]);
      const placeholder = decoded[3]!;
      expect(placeholder.undecodable).toEqual({
        firstOffset: "3",
        lastOffset: "4",
        error: expect.stringContaining(`record batch length ${length} is impossible`) as unknown,
      });
      expect(placeholder.value).toEqual(Buffer.concat([corrupt, after])); // where this batch ends is unknown
    },
  );

  it("keeps a placeholder's offsets above every offset before it, whatever its header says", async () => {
    const before = await batch(10, 3);
    const low = withLength(await batch(0, 2), 0); // header offsets 0..1, below the 10..12 already handed out
    const decoded = await decodeMessages(fetchedMessages(before, low));
    expect(decoded.map((r) => r.offset)).toEqual(["10", "11", "12", "13"]);
    expect(decoded[3]!.undecodable).toMatchObject({ firstOffset: "13", lastOffset: "13" });

    const zstd = await batch(20, 3);
    zstd.writeInt16BE(CompressionTypes.ZSTD, attributesOffset);
    zstd.writeInt32BE(-5, batchField.lastOffsetDelta); // a last offset before the first
    const [placeholder, next] = await decodeMessages(fetchedMessages(zstd, await batch(23, 1)));
    expect(placeholder!.undecodable).toMatchObject({ firstOffset: "20", lastOffset: "20" });
    expect(next!.offset).toBe("23");
  });

  it("hands out strictly increasing offsets across undecodable batches of every kind in one fetch", async () => {
    const zstd = await batch(3, 2);
    zstd.writeInt16BE(CompressionTypes.ZSTD, attributesOffset);
    const decoded = await decodeMessages(fetchedMessages(await batch(0, 3), zstd, await batch(5, 1), withLength(await batch(6, 3), -1)));
    expect(decoded.map((r) => r.undecodable !== undefined)).toEqual([false, false, false, true, false, true]);
    expect(increasing(offsets(decoded))).toBe(true);
  });

  it("treats a length past the fetched bytes as the batch cut by the fetch size: the batches before it, no placeholder", async () => {
    const before = await batch(0, 2);
    const cut = withLength(await batch(2, 2), 2 ** 31 - 1);
    const decoded = await decodeMessages(fetchedMessages(before, cut));
    expect(decoded.map((r) => [r.offset, r.undecodable])).toEqual([
      ["0", undefined],
      ["1", undefined],
    ]);
    // A real cut tail: the second batch's last bytes missing.
    const tail = await batch(2, 2);
    expect((await decodeMessages(fetchedMessages(before, tail.subarray(0, tail.length - 3)))).map((r) => r.offset)).toEqual(["0", "1"]);
  });

  it("decodes nothing, without a throw, from fetched bytes too few to reach a batch's magic byte", async () => {
    const start = (await batch(0, 1)).subarray(0, 16);
    expect(await decodeMessages(fetchedMessages(start))).toEqual([]);
  });

  it("refuses a bound that is not a positive integer, naming the value", () => {
    expect(() => boundGzipDecompression(0)).toThrow(/positive integer.*got 0/);
    expect(() => boundGzipDecompression(Number.NaN)).toThrow(/got NaN/);
  });
});
