/**
 * kafkajs inflates a whole gzip record batch in memory before anyone sees a record, so a batch of zeros that
 * compresses ~1,000× (a decompression bomb) costs the consumer a thousand times its wire size, far past a pod's
 * memory limit, before MAX_EVENT_BYTES is ever checked. This replaces kafkajs's gzip codec (process-wide: the
 * registry is kafkajs's own) by one that refuses to inflate past a bound; the refused batch fails to decode,
 * and the patched kafkajs hands it over as one `undecodable` placeholder (patches/kafkajs+2.2.4.patch) that the
 * pipeline dead-letters. The events topic is uncompressed at the broker (topicConfigEntries), so this is the
 * second line, for a topic made before that setting or a broker that ignores it.
 */
import { promisify } from "node:util";
import { gzip, unzip, type ZlibOptions } from "node:zlib";
import kafkajs from "kafkajs";

// kafkajs is CommonJS: its codec registry and compression types are properties of the default export.
const { CompressionCodecs, CompressionTypes } = kafkajs;

const gzipAsync = promisify(gzip);
const unzipAsync = promisify<Buffer, ZlibOptions, Buffer>(unzip);

/** From now on, kafkajs in this process inflates no gzip batch beyond `maxBytes` (it throws RangeError instead). */
export function boundGzipDecompression(maxBytes: number): void {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new RangeError(`gzip decompression bound must be a positive integer of bytes, got ${maxBytes}`);
  const codec = {
    compress: (encoder: { buffer: Buffer }) => gzipAsync(encoder.buffer),
    decompress: (buffer: Buffer) => unzipAsync(buffer, { maxOutputLength: maxBytes }),
  };
  CompressionCodecs[CompressionTypes.GZIP] = () => codec;
}
