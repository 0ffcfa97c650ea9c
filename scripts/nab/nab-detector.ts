/**
 * Runs NAB series through the pipeline's own check (key-check.ts checkKey) exactly as the detector does: each
 * series is one key, its values in order, each checked against the key's previous `historyWindow` values with
 * the state the previous check left. Writes NAB's results layout, `results/<detector>/<category>/<detector>_<name>`
 * with the columns NAB's scorer reads (timestamp, value, anomaly_score, label).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { checkKey, type KeyCheckOptions, type KeyState } from "../../app/detector/key-check.ts";
import { storedKeyState } from "../../app/detector/key-state-codec.ts";
import { historyWindow } from "../../app/topology.ts";
import type { NabSeries } from "./nab-corpus.ts";

/** The check's anomaly score for each value of a series, in order. */
export function scoreSeries(values: readonly number[], options: KeyCheckOptions = {}): number[] {
  let state: KeyState | undefined;
  const scores: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const { verdict, state: next } = checkKey(values.slice(Math.max(0, i - historyWindow), i), values[i]!, state, options);
    state = storedKeyState(next); // as the detector reads it back from the key's newest row
    scores.push(verdict.anomalyScore);
  }
  return scores;
}

/** 1 for a timestamp inside one of the series' labelled windows (NAB's `label` column), else 0. */
export function windowLabels(series: NabSeries): number[] {
  const key = (t: string) => t.slice(0, 19); // the labels write microseconds, the data files do not
  const windows = series.windows.map(([a, b]) => [key(a), key(b)] as const);
  return series.timestamps.map((t) => (windows.some(([a, b]) => key(t) >= a && key(t) <= b) ? 1 : 0));
}

/** One series' results file as NAB's scorer reads it. */
export function resultsCsv(series: NabSeries, scores: readonly number[]): string {
  const labels = windowLabels(series);
  const rows = series.timestamps.map((t, i) => `${t},${series.values[i]},${scores[i]!.toFixed(9)},${labels[i]}`);
  return ["timestamp,value,anomaly_score,label", ...rows].join("\n") + "\n";
}

export const resultsPath = (resultsRoot: string, detector: string, series: NabSeries): string => {
  const name = series.relativePath.slice(series.category.length + 1);
  return join(resultsRoot, detector, series.category, `${detector}_${name}`);
};

/** Scores every series and writes its results file under `resultsRoot`; returns the number of values checked. */
export function writeDetectorResults(
  corpus: readonly NabSeries[],
  resultsRoot: string,
  detector: string,
  options: KeyCheckOptions = {},
): number {
  let checked = 0;
  for (const series of corpus) {
    const path = resultsPath(resultsRoot, detector, series);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, resultsCsv(series, scoreSeries(series.values, options)));
    checked += series.values.length;
  }
  return checked;
}
