/**
 * A Numenta Anomaly Benchmark (NAB) clone as data: its series (data/<category>/<name>.csv, columns timestamp and
 * value) and their labelled anomaly windows (labels/combined_windows.json). Read only; the scorer's own copy is
 * made elsewhere (nab-scorer.ts), since NAB's scorer writes into its tree.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface NabSeries {
  /** `category/name.csv`, as NAB's labels and results name it. */
  readonly relativePath: string;
  readonly category: string;
  /** Timestamps exactly as the data file writes them (NAB matches results to labels by them). */
  readonly timestamps: readonly string[];
  readonly values: readonly number[];
  /** Labelled anomaly windows, [first, last] timestamp, in the labels file's own format. */
  readonly windows: readonly (readonly [string, string])[];
}

export class NabCorpusError extends Error {}

const windowsFile = join("labels", "combined_windows.json");

/** What a path must hold to be read as a NAB clone; the error names what is missing. */
export function assertNabRoot(root: string): void {
  for (const part of ["data", windowsFile]) {
    if (!existsSync(join(root, part))) {
      throw new NabCorpusError(
        `--nab ${root}: no ${part} there; give the path of a clone of NAB (the Numenta Anomaly Benchmark, github.com/numenta/NAB)`,
      );
    }
  }
}

/** Every series of the clone that the labels file names, in the labels file's order. */
export function readNabCorpus(root: string): NabSeries[] {
  assertNabRoot(root);
  const labelled = JSON.parse(readFileSync(join(root, windowsFile), "utf8")) as Record<string, [string, string][]>;
  const present = new Set(
    readdirSync(join(root, "data"))
      .filter((c) => statSync(join(root, "data", c)).isDirectory())
      .flatMap((c) =>
        readdirSync(join(root, "data", c))
          .filter((f) => f.endsWith(".csv"))
          .map((f) => `${c}/${f}`),
      ),
  );
  return Object.keys(labelled)
    .filter((p) => present.has(p))
    .map((relativePath) => ({
      relativePath,
      category: relativePath.split("/")[0]!,
      ...parseSeries(join(root, "data", relativePath)),
      windows: labelled[relativePath]!,
    }));
}

/** A NAB data file: a header line `timestamp,value`, then one row per point. */
export function parseSeries(path: string): { timestamps: string[]; values: number[] } {
  const lines = readFileSync(path, "utf8")
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const header = lines.shift()?.split(",");
  if (header?.[0] !== "timestamp" || header[1] !== "value")
    throw new NabCorpusError(`${path}: expected the header "timestamp,value", got "${header?.join(",")}"`);
  const timestamps: string[] = [];
  const values: number[] = [];
  lines.forEach((line, i) => {
    const [timestamp, raw] = line.split(",");
    const value = Number(raw);
    if (timestamp === undefined || raw === undefined || raw.trim() === "" || !Number.isFinite(value)) {
      throw new NabCorpusError(`${path}:${i + 2}: expected "timestamp,value" with a finite value, got "${line}"`);
    }
    timestamps.push(timestamp);
    values.push(value);
  });
  return { timestamps, values };
}
