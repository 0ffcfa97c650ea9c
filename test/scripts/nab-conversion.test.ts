/**
 * bench:nab's conversion, on a small labelled corpus the test writes in NAB's layout: the series read as NAB lays
 * them out, every value checked by the pipeline's own step in order, and the results written where and as NAB's
 * scorer reads them. NAB itself (and its Python scorer) is not needed.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NabCorpusError, readNabCorpus } from "../../scripts/nab/nab-corpus.ts";
import { resultsPath, scoreSeries, writeDetectorResults } from "../../scripts/nab/nab-detector.ts";
import { Rng } from "../../app/loadgen/random.ts";

const stamp = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 5 * i)).toISOString().replace("T", " ").slice(0, 19);

/** Two series: a level shift inside a labelled window, and noise with no window. */
function writeCorpus(): string {
  const root = mkdtempSync(join(tmpdir(), "nab-corpus-"));
  const rng = new Rng(5);
  const shifted = Array.from({ length: 600 }, (_, i) => (i >= 400 ? 60 : 50) + rng.normal());
  const quiet = Array.from({ length: 300 }, () => 10 + rng.normal());
  const write = (path: string, values: number[]) => {
    mkdirSync(join(root, "data", path.split("/")[0]!), { recursive: true });
    writeFileSync(join(root, "data", path), ["timestamp,value", ...values.map((v, i) => `${stamp(i)},${v}`)].join("\n") + "\n");
  };
  write("realShift/shifted.csv", shifted);
  write("artificialQuiet/quiet.csv", quiet);
  mkdirSync(join(root, "labels"));
  const windows = { "realShift/shifted.csv": [[`${stamp(390)}.000000`, `${stamp(420)}.000000`]], "artificialQuiet/quiet.csv": [] };
  writeFileSync(join(root, "labels", "combined_windows.json"), JSON.stringify(windows));
  return root;
}

describe("bench:nab conversion", () => {
  it("reads the labelled series, checks every value in order and writes NAB's results layout", () => {
    const root = writeCorpus();
    const corpus = readNabCorpus(root);
    expect(corpus.map((s) => [s.relativePath, s.category, s.values.length, s.windows.length])).toEqual([
      ["realShift/shifted.csv", "realShift", 600, 1],
      ["artificialQuiet/quiet.csv", "artificialQuiet", 300, 0],
    ]);
    const out = join(root, "results");
    expect(writeDetectorResults(corpus, out, "anomalyKit")).toBe(900);

    const path = resultsPath(out, "anomalyKit", corpus[0]!);
    expect(path).toBe(join(out, "anomalyKit", "realShift", "anomalyKit_shifted.csv"));
    const [header, ...rows] = readFileSync(path, "utf8").trim().split("\n");
    expect(header).toBe("timestamp,value,anomaly_score,label");
    expect(rows).toHaveLength(600);
    const cells = rows.map((r) => r.split(","));
    expect(cells.map((c) => c[0])).toEqual(corpus[0]!.timestamps);
    expect(cells.filter((c) => c[3] === "1").map((c) => c[0])).toEqual(corpus[0]!.timestamps.slice(390, 421));
    const scores = cells.map((c) => Number(c[2]));
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    expect(scores).toEqual(scoreSeries(corpus[0]!.values).map((s) => Number(s.toFixed(9))));
    // The shift's first value is the series' highest score, and it lies inside the window.
    expect(scores.indexOf(Math.max(...scores))).toBe(400);
  });

  it("says where NAB lives when the path is not a clone of it", () => {
    const empty = mkdtempSync(join(tmpdir(), "not-nab-"));
    expect(() => readNabCorpus(empty)).toThrow(NabCorpusError);
    expect(() => readNabCorpus(empty)).toThrow(/--nab .*no data there.*github\.com\/numenta\/NAB/);
  });

  it("names the file and line of a row that is not a timestamp and a finite value", () => {
    const root = writeCorpus();
    writeFileSync(join(root, "data", "artificialQuiet", "quiet.csv"), "timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:05:00,x\n");
    expect(() => readNabCorpus(root)).toThrow(/quiet\.csv:3: expected "timestamp,value" with a finite value, got "2026-01-01 00:05:00,x"/);
  });
});
