/**
 * The tools' one number parser (scripts/cli-number.ts) and the tools that read numbers through it: plain decimal
 * text only, the app's own settings read with the app's own schemas, and a flag it cannot read named in one line.
 */
import { InvalidArgumentError } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { usageErrorExitCode } from "../../app/cli-exit.ts";
import { loadgenSettings } from "../../app/config.ts";
import { rowFormatSettings } from "../../scripts/bench/row-format-cost.ts";
import { parsePlainNumber, readToolArgs, settingNumber } from "../../scripts/cli-number.ts";
import { tuningRuns } from "../../scripts/cusum-tuning.ts";
import { StackError } from "../../scripts/local/stack-messages.ts";
import { parseNodes } from "../../scripts/stack.ts";

/** Number() reads every one of these as a number; none is what a person means by typing a count. */
const lenient = ["0x10", "1e3", " 5", "5 ", "", "016", "+5", "-0", "Infinity", "5n"];

describe("parsePlainNumber", () => {
  it("reads plain decimal text within the range", () => {
    expect(parsePlainNumber("3", { min: 1, max: 6, integer: true })).toBe(3);
    expect(parsePlainNumber("0.5", { min: 0, max: 1 })).toBe(0.5);
    expect(parsePlainNumber(".5", { min: 0, max: 1 })).toBe(0.5);
  });

  it.each(lenient)("refuses %j", (raw) => {
    expect(parsePlainNumber(raw, { min: -100, max: 100_000 })).toBeUndefined();
  });

  it("refuses what is out of range or not whole where a whole number is asked", () => {
    expect(parsePlainNumber("7", { min: 1, max: 6 })).toBeUndefined();
    expect(parsePlainNumber("0", { min: 0, aboveMin: true, max: 6 })).toBeUndefined();
    expect(parsePlainNumber("2.5", { min: 1, max: 6, integer: true })).toBeUndefined();
  });
});

describe("settingNumber", () => {
  it("reads an app setting as the app does, and refuses what the app's schema refuses", () => {
    expect(settingNumber("--keys", "300", loadgenSettings.keys)).toBe(300);
    expect(() => settingNumber("--keys", "0", loadgenSettings.keys)).toThrow(/--keys "0": allowed: an integer from 1 to/);
  });

  it.each(lenient)("refuses %j (blanks too, which the app's own schema trims)", (raw) => {
    expect(() => settingNumber("--keys", raw, loadgenSettings.keys)).toThrow(InvalidArgumentError);
  });
});

describe("the tools that read numbers", () => {
  it("cusum-tuning: one run per k × h × seed, with the defaults of the local run", () => {
    const runs = tuningRuns(["--k", "0.5,0.75", "--h", "8", "--seeds", "1,2", "--keys", "40"]);
    expect(runs.map(({ k, h, seed }) => [k, h, seed])).toEqual([
      [0.5, 8, 1],
      [0.5, 8, 2],
      [0.75, 8, 1],
      [0.75, 8, 2],
    ]);
    expect(new Set(runs.map((r) => r.keys))).toEqual(new Set([40]));
    expect(tuningRuns([]).map((r) => r.h)).toEqual([5, 6, 8, 10]);
  });

  it.each([
    [["--keys", "0x10"], /--keys "0x10"/],
    [["--h", "8,1e1"], /--h "1e1"/],
    [["--seeds", "1.5"], /--seeds "1.5"/],
    [["--spike-probability", "0.9"], /--spike-probability "0.9": allowed: a number from 0 to 0.5/],
  ])("cusum-tuning refuses %j", (argv, message) => {
    expect(() => tuningRuns(argv)).toThrow(message);
  });

  it("row-format-cost: its defaults, and the detector's own range for --concurrency", () => {
    expect(rowFormatSettings([])).toEqual({ rounds: 4, seconds: 10, concurrency: 64, keys: 300 });
    expect(() => rowFormatSettings(["--concurrency", "64.5"])).toThrow(/--concurrency "64.5"/);
    expect(() => rowFormatSettings(["--seconds", "0"])).toThrow(/--seconds "0"/);
  });

  it("stack --nodes: 1 or a cluster's count, in plain digits", () => {
    expect(parseNodes("1")).toBe(1);
    expect(parseNodes("3")).toBe(3);
    for (const raw of ["0x3", " 3", "3e0", "7"]) expect(() => parseNodes(raw), raw).toThrow(InvalidArgumentError);
    expect(() => parseNodes("2")).toThrow(StackError);
  });
});

describe("readToolArgs", () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it("turns a flag it cannot read into one line and the usage exit code", () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (written.push(String(chunk)), true));
    expect(readToolArgs("cusum-tuning", () => tuningRuns(["--keys", "0x10"]))).toBeUndefined();
    expect(readToolArgs("cusum-tuning", () => tuningRuns(["--no-such-flag"]))).toBeUndefined();
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(/^cusum-tuning: --keys "0x10": allowed: .*\n$/);
    expect(written[1]).toMatch(/^cusum-tuning: .*--no-such-flag/);
    expect(process.exitCode).toBe(usageErrorExitCode);
  });

  it("passes a fault through", () => {
    expect(() =>
      readToolArgs("t", () => {
        throw new RangeError("a bug");
      }),
    ).toThrow(RangeError);
  });
});
