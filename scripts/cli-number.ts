/**
 * The CLIs' number parser: plain decimal text only. Number() would also read "0x10" as 16, "1e3" as 1000,
 * " 5 " as 5, "" as 0 and "1e308" as a number no run or cost can have, so a typo would run silently.
 */
import { InvalidArgumentError } from "commander";
import type { z } from "zod";
import { usageErrorExitCode } from "../app/cli-exit.ts";

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

/** A number setting of the app's table (app/config.ts): its words for what it allows, and its schema. */
export interface NumberSetting<T> {
  readonly allowed: string;
  readonly schema: z.ZodType<T, string>;
}

/**
 * A setting of the app's table given on a tool's command line: plain decimal text, then the setting's own schema
 * and range, so the tool takes exactly what the app would. Throws naming the flag, the value and what is allowed.
 */
export function settingNumber<T>(flag: string, raw: string, s: NumberSetting<T>): T {
  const parsed = s.schema.safeParse(raw);
  if (!plainDecimal.test(raw) || !parsed.success) {
    throw new InvalidArgumentError(
      `${flag} ${JSON.stringify(raw)}: allowed: ${s.allowed}, in plain decimal digits (no sign, hex, exponent or blanks)`,
    );
  }
  return parsed.data;
}

/**
 * Reads a plain tool's arguments (node:util parseArgs and the parsers above): a flag it cannot read is one line on
 * stderr and the usage exit code, not a stack trace; undefined then.
 */
export function readToolArgs<T>(tool: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    // Ours name the flag; parseArgs' (unknown flag, missing value) carry an ERR_PARSE_ARGS_* code.
    const parseArgsError = error instanceof TypeError && String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS_");
    if (!(error instanceof InvalidArgumentError) && !parseArgsError) throw error;
    process.stderr.write(`${tool}: ${error.message}\n`);
    process.exitCode = usageErrorExitCode;
    return undefined;
  }
}
