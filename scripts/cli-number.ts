/**
 * The CLIs' number parser: plain decimal text only. Number() would also read "0x10" as 16, "1e3" as 1000,
 * " 5 " as 5, "" as 0 and "1e308" as a number no run or cost can have, so a typo would run silently.
 */
import { InvalidArgumentError } from "commander";

/** Digits with an optional fraction; no sign, hex, exponent, blanks or leading zero ("016": octal or 16?). */
export const plainDecimal = /^(0|[1-9][0-9]*)(\.[0-9]+)?$|^\.[0-9]+$/;

export interface NumberRange {
  readonly min: number;
  readonly max: number;
  /** The minimum itself is not allowed (a duration that must be more than 0). */
  readonly aboveMin?: boolean;
  readonly integer?: boolean;
}

/** "a number above 0 and at most 8760" */
export const describeRange = (r: NumberRange): string =>
  `${r.integer === true ? "an integer" : "a number"} ${r.aboveMin === true ? "above" : "from"} ${String(r.min)} ${r.aboveMin === true ? "and at most" : "to"} ${String(r.max)}, in plain decimal digits (no sign, hex, exponent or blanks)`;

/** The number `raw` writes, or undefined when it is not plain decimal text within the range. */
export function parsePlainNumber(raw: string, r: NumberRange): number | undefined {
  if (!plainDecimal.test(raw)) return undefined;
  const n = Number(raw);
  const inRange = (r.aboveMin === true ? n > r.min : n >= r.min) && n <= r.max;
  return inRange && (r.integer !== true || Number.isInteger(n)) ? n : undefined;
}

/** A commander argParser; its message names the flag, the value and what is allowed. */
export const plainNumberOption =
  (flag: string, r: NumberRange) =>
  (raw: string): number => {
    const n = parsePlainNumber(raw, r);
    if (n === undefined) throw new InvalidArgumentError(`${flag} ${JSON.stringify(raw)}: allowed: ${describeRange(r)}`);
    return n;
  };
