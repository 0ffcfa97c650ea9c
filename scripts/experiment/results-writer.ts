/**
 * The experiment folder `<results root>/<id>/`: `stage-<n>.json` per finished stage, and — rewritten after every
 * stage, so an interrupted experiment still has them — `results.csv`, the charts (`throughput.{svg,png}`,
 * `efficiency.{svg,png}`) and `report.md`. The results root is a parameter (tests write to a temp dir).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeChart } from "../report/chart-image.ts";
import { efficiencyChart, throughputChart } from "../report/result-charts.ts";
import { experimentReport } from "./report.ts";
import { resultsCsv } from "../report/results-table.ts";
import type { StageResult } from "./stage-result.ts";

export const experimentDir = (resultsRoot: string, id: string) => join(resultsRoot, id);
export const stageFileName = (stage: number) => `stage-${stage}.json`;

export function writeStageResult(dir: string, stage: number, result: StageResult): string {
  mkdirSync(dir, { recursive: true });
  const name = stageFileName(stage);
  writeFileSync(join(dir, name), `${JSON.stringify(result, null, 2)}\n`);
  return name;
}

/** Every stage result in a folder, sorted by size. */
export function readStageResults(dir: string): StageResult[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^stage-\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as StageResult)
    .sort((a, b) => a.stage.size - b.stage.size);
}

export interface SummaryFiles {
  readonly csv: string;
  readonly report: string;
  readonly charts: readonly string[];
}

export async function writeSummary(
  dir: string,
  id: string,
  options: { pending?: readonly string[]; compare?: { id: string; dir: string } | undefined } = {},
): Promise<SummaryFiles> {
  const results = readStageResults(dir);
  const csv = join(dir, "results.csv");
  writeFileSync(csv, resultsCsv(results));
  const charts: { title: string; file: string }[] = [];
  const written: string[] = [];
  if (results.length > 0) {
    const t = await writeChart(throughputChart(results, id), join(dir, "throughput"));
    const e = await writeChart(efficiencyChart(results, id), join(dir, "efficiency"));
    charts.push(
      { title: "checks/s and p99 by stage", file: "throughput.png" },
      { title: "checks/s per core and scaling efficiency", file: "efficiency.png" },
    );
    written.push(t.svg, t.png, e.svg, e.png);
  }
  const compare = options.compare === undefined ? undefined : { id: options.compare.id, results: readStageResults(options.compare.dir) };
  const report = join(dir, "report.md");
  writeFileSync(report, `${experimentReport({ experimentId: id, results, pending: options.pending ?? [], charts, compare })}\n`);
  return { csv, report, charts: written };
}
