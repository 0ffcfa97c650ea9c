/**
 * The dead-letter record of a refused event: why (reason and detail), where it came from (topic, partition,
 * offset) and as much of the original as fits a bound. The bound matters: a record the broker took compressed
 * may be far larger re-published uncompressed, and a dead-letter record the broker refuses would leave the
 * detector no way to set the event aside. So the value and key are cut to a bound, the source's own headers
 * kept only within a byte budget, and what was cut is said in headers.
 */
import type { Message } from "kafkajs";
import { rejectReasons } from "./event-codec.ts";
import { headerBytes, type RecordHeaders } from "./record-headers.ts";

/** Dead-letter headers: why, and where the record came from. */
export const deadLetterHeaders = {
  reason: "dead-letter-reason",
  detail: "dead-letter-detail",
  topic: "dead-letter-source-topic",
  partition: "dead-letter-source-partition",
  offset: "dead-letter-source-offset",
  /** Set for an undecodable batch: the range first..last is set aside as one dead-letter record. */
  lastOffset: "dead-letter-source-last-offset",
  /** The original value's size, when the value was cut to `deadLetterBounds.valueBytes`. */
  originalValueBytes: "dead-letter-original-value-bytes",
  originalKeyBytes: "dead-letter-original-key-bytes",
  /** How many of the source's headers were left out (over `deadLetterBounds.sourceHeaderBytes`). */
  droppedHeaders: "dead-letter-dropped-headers",
} as const;

/**
 * Why a record was set aside: a codec refusal, a check that failed for a reason other than a server being
 * away (`check-failed`, the stage and error in the detail), or a batch the client could not decode.
 */
export const deadLetterReasons = [...rejectReasons, "check-failed", "undecodable-batch"] as const;
export type DeadLetterReason = (typeof deadLetterReasons)[number];

/** Bounds of one dead-letter record; with the header names it stays under ~15 KB, far below the topic's cap. */
export const deadLetterBounds = {
  valueBytes: 8 * 1024,
  keyBytes: 1024,
  sourceHeaderBytes: 4 * 1024,
  detailChars: 1024,
} as const;

export interface DeadLetterSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Last offset of an undecodable batch set aside as a whole. */
  readonly lastOffset?: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeaders;
}

const cut = (b: Buffer | null, max: number) => (b !== null && b.length > max ? b.subarray(0, max) : b);

/**
 * `text` cut to at most `max` UTF-16 units on a code-point boundary: a cut between the two halves of a
 * surrogate pair (an emoji, any character above U+FFFF) would leave a lone surrogate, which UTF-8 cannot hold
 * (the header would carry U+FFFD instead).
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  const splitsPair = last >= 0xd800 && last <= 0xdbff; // a high surrogate whose low half is past the cut
  return text.slice(0, splitsPair ? max - 1 : max);
}

export function deadLetterMessage(src: DeadLetterSource, reason: DeadLetterReason, detail: string): Message {
  const headers = Object.create(null) as RecordHeaders;
  // The source's headers in their order, up to the first that does not fit the budget (a flood of tens of
  // thousands is cut there, without looking at the rest).
  const names = Object.keys(src.headers);
  let budget = deadLetterBounds.sourceHeaderBytes;
  let kept = 0;
  for (; kept < names.length; kept++) {
    const name = names[kept]!;
    const bytes = headerBytes(name, src.headers[name]!);
    if (bytes > budget) break;
    budget -= bytes;
    headers[name] = src.headers[name]!;
  }
  const dropped = names.length - kept;
  // Ours last: a source header of the same name cannot pass for the detector's verdict on the record.
  headers[deadLetterHeaders.reason] = reason;
  headers[deadLetterHeaders.detail] = cutText(detail, deadLetterBounds.detailChars);
  headers[deadLetterHeaders.topic] = src.topic;
  headers[deadLetterHeaders.partition] = String(src.partition);
  headers[deadLetterHeaders.offset] = String(src.offset);
  if (src.lastOffset !== undefined) headers[deadLetterHeaders.lastOffset] = String(src.lastOffset);
  if (src.value !== null && src.value.length > deadLetterBounds.valueBytes)
    headers[deadLetterHeaders.originalValueBytes] = String(src.value.length);
  if (src.key !== null && src.key.length > deadLetterBounds.keyBytes) headers[deadLetterHeaders.originalKeyBytes] = String(src.key.length);
  if (dropped > 0) headers[deadLetterHeaders.droppedHeaders] = String(dropped);
  return { key: cut(src.key, deadLetterBounds.keyBytes), value: cut(src.value, deadLetterBounds.valueBytes), headers };
}
