/**
 * A key's carried check state (key-check.ts KeyState) as one compact cell of the event's row, 38 bytes: a version,
 * the count (saturated at 255: the check only asks whether the key has learned), the range as two doubles, the
 * likelihood's mean and variance and the two CUSUM sums as floats, the two run lengths saturated at 65,535.
 * Small because the history read fetches the cell with each of the 50 rows, and a read decompresses the table's
 * 1 KB chunks that the rows span. The pipeline always passes the state through this codec between two checks of
 * a key (it reads it back from Cassandra), so the floats' rounding is part of the deterministic replay.
 */
import { maxRunLength, zeroSums } from "./cusum.ts";
import type { KeyState } from "./key-check.ts";

const version = 1;
export const keyStateBytes = 1 + 1 + 2 * 8 + 4 * 4 + 2 * 2;
const maxCount = 255;
/** Two bytes hold every run cusumStep counts (it saturates there); the literal type makes a larger bound fail to compile. */
const maxRun: 65_535 = maxRunLength;

export function encodeKeyState(s: KeyState): Buffer {
  const b = Buffer.alloc(keyStateBytes);
  let o = b.writeUInt8(version, 0);
  o = b.writeUInt8(Math.min(s.n, maxCount), o);
  o = b.writeDoubleBE(s.low, o);
  o = b.writeDoubleBE(s.high, o);
  for (const x of [s.likMean, s.likVar, s.sums.upper, s.sums.lower]) o = b.writeFloatBE(Math.min(x, 3.4e38), o);
  o = b.writeUInt16BE(Math.min(s.sums.upperRun, maxRun), o);
  b.writeUInt16BE(Math.min(s.sums.lowerRun, maxRun), o);
  return b;
}

/**
 * The state a cell holds; undefined for no cell (a row written outside the pipeline, or before the cell existed)
 * and for one that is not a valid state (another version, a cut cell, non-finite or negative fields): the key then
 * starts afresh rather than throwing on every later event of the key.
 */
export function decodeKeyState(cell: Buffer | null | undefined): KeyState | undefined {
  if (!cell || cell.length !== keyStateBytes || cell.readUInt8(0) !== version) return undefined;
  const n = cell.readUInt8(1);
  const low = cell.readDoubleBE(2);
  const high = cell.readDoubleBE(10);
  const [likMean, likVar, upper, lower] = [18, 22, 26, 30].map((o) => cell.readFloatBE(o)) as [number, number, number, number];
  const upperRun = cell.readUInt16BE(34);
  const lowerRun = cell.readUInt16BE(36);
  const fields = [low, high, likMean, likVar, upper, lower];
  if (!fields.every(Number.isFinite) || low > high || likVar < 0 || upper < 0 || lower < 0) return undefined;
  return { n, low, high, likMean, likVar, sums: n === 0 ? zeroSums : { upper, lower, upperRun, lowerRun } };
}

/** The state as the next check of the key will read it back (what the pipeline's round trip through a row does). */
export const storedKeyState = (s: KeyState): KeyState => decodeKeyState(encodeKeyState(s)) ?? s;
