/**
 * kafkajs's record decoding as patched (patches/kafkajs+2.2.4.patch) and as bounded by app/kafka/bounded-gzip.ts:
 * header names cannot reach Object.prototype, a batch it cannot decode becomes one placeholder instead of a
 * failed fetch, and a gzip batch cannot inflate past the bound. These drive kafkajs's own encoders and
 * decoders (CommonJS internals, hence require).
 */
import { createRequire } from "node:module";
import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { boundGzipDecompression } from "../../app/kafka/bounded-gzip.ts";

const require = createRequire(import.meta.url);
const internal = (path: string): unknown => require(`kafkajs/src/protocol/${path}`);

interface EncoderT {
  buffer: Buffer;
  writeInt32: (n: number) => EncoderT;
  writeBuffer: (b: Buffer) => EncoderT;
}
interface DecoderT {
  readVarInt: () => number;
  readBytes: (n: number) => Buffer;
}
interface DecodedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, unknown>;
  undecodable?: { firstOffset: string; lastOffset: string; error: string };
}
const Encoder = internal("encoder") as new () => EncoderT;
const Decoder = internal("decoder") as new (b: Buffer) => DecoderT;
const encodeRecord = internal("recordBatch/record/v0") as (r: object) => EncoderT;
const decodeRecord = internal("recordBatch/record/v0/decoder") as (d: DecoderT, ctx: object) => DecodedRecord;
const encodeBatch = (internal("recordBatch/v0") as { RecordBatch: (b: object) => Promise<EncoderT> }).RecordBatch;
const decodeMessages = internal("requests/fetch/v4/decodeMessages") as (d: DecoderT) => Promise<DecodedRecord[]>;
const { CompressionTypes } = kafkajs;

/** Offset of the attributes (int16) in a record batch: FirstOffset 8, Length 4, Epoch 4, Magic 1, CRC 4. */
const attributesOffset = 21;

const records = (n: number, value: (i: number) => Buffer = (i) => Buffer.from(`v${i}`)) =>
  Array.from({ length: n }, (_, i) => encodeRecord({ offsetDelta: i, timestampDelta: 0, key: Buffer.from("k"), value: value(i) }));

const batch = async (firstOffset: number, n: number, compression = CompressionTypes.None, value?: (i: number) => Buffer) =>
  (await encodeBatch({ compression, firstOffset, lastOffsetDelta: n - 1, records: records(n, value) })).buffer;

/** What a fetch response holds for one partition: the size, then the batches. */
const fetchedMessages = (...batches: Buffer[]) => {
  const bytes = Buffer.concat(batches);
  return new Decoder(new Encoder().writeInt32(bytes.length).writeBuffer(bytes).buffer);
};

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

  it("refuses a bound that is not a positive integer, naming the value", () => {
    expect(() => boundGzipDecompression(0)).toThrow(/positive integer.*got 0/);
    expect(() => boundGzipDecompression(Number.NaN)).toThrow(/got NaN/);
  });
});
