/**
 * kafkajs's own record and batch encoders and the fetch decoder as patched (CommonJS internals, hence require),
 * to craft the bytes of a fetch response's record set: good batches, and batches with a field overwritten.
 */
import { createRequire } from "node:module";
import kafkajs from "kafkajs";

const require = createRequire(import.meta.url);
const internal = (path: string): unknown => require(`kafkajs/src/protocol/${path}`);

interface EncoderT {
  buffer: Buffer;
  writeInt32: (n: number) => EncoderT;
  writeBuffer: (b: Buffer) => EncoderT;
}
export interface DecoderT {
  readVarInt: () => number;
  readBytes: (n: number) => Buffer;
}
export interface DecodedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, unknown>;
  undecodable?: { firstOffset: string; lastOffset: string; error: string };
}
const Encoder = internal("encoder") as new () => EncoderT;
export const Decoder = internal("decoder") as new (b: Buffer) => DecoderT;
export const encodeRecord = internal("recordBatch/record/v0") as (r: object) => EncoderT;
export const decodeRecord = internal("recordBatch/record/v0/decoder") as (d: DecoderT, ctx: object) => DecodedRecord;
const encodeBatch = (internal("recordBatch/v0") as { RecordBatch: (b: object) => Promise<EncoderT> }).RecordBatch;
/** The patched decoder of one partition's record set in a fetch response. */
export const decodeMessages = internal("requests/fetch/v4/decodeMessages") as (d: DecoderT) => Promise<DecodedRecord[]>;
export const { CompressionTypes } = kafkajs;

/** Offsets in a record batch: FirstOffset int64, Length int32, Epoch int32, Magic int8, CRC int32, Attributes int16, LastOffsetDelta int32. */
export const batchField = { length: 8, attributes: 21, lastOffsetDelta: 23 } as const;

const records = (n: number, value: (i: number) => Buffer = (i) => Buffer.from(`v${i}`)) =>
  Array.from({ length: n }, (_, i) => encodeRecord({ offsetDelta: i, timestampDelta: 0, key: Buffer.from("k"), value: value(i) }));

/** A batch of `n` records from `firstOffset`, as a producer would send it. */
export const batch = async (firstOffset: number, n: number, compression = CompressionTypes.None, value?: (i: number) => Buffer) =>
  (await encodeBatch({ compression, firstOffset, lastOffsetDelta: n - 1, records: records(n, value) })).buffer;

/** A copy of `b` with its Length field overwritten. */
export const withLength = (b: Buffer, length: number): Buffer => {
  const copy = Buffer.from(b);
  copy.writeInt32BE(length, batchField.length);
  return copy;
};

/** What a fetch response holds for one partition: the size, then the batches. */
export const fetchedMessages = (...batches: Buffer[]): DecoderT => {
  const bytes = Buffer.concat(batches);
  return new Decoder(new Encoder().writeInt32(bytes.length).writeBuffer(bytes).buffer);
};
