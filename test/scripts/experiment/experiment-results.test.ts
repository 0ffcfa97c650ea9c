/** Results of an experiment: config hashing, efficiency math, CSV, report, charts and the whole folder. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { experimentReport } from "../../../scripts/experiment/report.ts";
import { efficiencyChart, throughputChart } from "../../../scripts/report/result-charts.ts";
import { csvColumns, csvField, resultsCsv } from "../../../scripts/report/results-table.ts";
import { readStageResults, writeStageResult, writeSummary } from "../../../scripts/experiment/results-writer.ts";
import { canonicalJson, configHash, deriveRows, passes, type StageResult } from "../../../scripts/experiment/stage-result.ts";

export function stageResult(size: number, checksPerSecond: number, p99: number | null, extra: Partial<StageResult> = {}): StageResult {
  const cores = size * 8 + 24;
  return {
    schema: 1,
    experimentId: "exp-a",
    target: "aws",
    stage: { name: `stage-${size}`, index: 1, size, sizeUnit: "Cassandra nodes" },
    startedAt: "2026-11-01T00:00:00.000Z",
    finishedAt: "2026-11-01T00:30:00.000Z",
    git: { revision: "abc123", dirty: false },
    config: { target: "aws", size },
    configHash: configHash({ target: "aws", size }),
    sizes: { cassandraNodes: size, kafkaBrokers: 3, partitions: 6, detectorProcesses: 3, loadgenProcesses: 1, eksWorkers: 2 },
    cores: { cassandra: size * 8, kafka: 24, workers: 32, total: cores, shared: false },
    rate: { mode: "plan", target: checksPerSecond, trials: [] },
    window: { warmupSeconds: 60, seconds: 1800, endedAt: "2026-11-01T00:30:00.000Z" },
    metrics: {
      checksPerSecond,
      sentPerSecond: checksPerSecond,
      latencyMs: { p50: 5, p99, p999: p99 === null ? null : p99 * 2 },
      consumerLag: { max: 100, end: 0 },
      anomalies: 7,
      checks: checksPerSecond * 1800,
      errors: { detector: 0, deadLetters: 0, sendFailures: 0 },
      detectorCpuCores: 1.5,
    },
    checksPerSecondPerCore: checksPerSecond / cores,
    passed: passes({ checksPerSecond, latencyMs: { p50: 5, p99, p999: null } }),
    cost: { perHour: 10, hours: 0.5, total: 5, partial: false, priceListAsOf: "2026-10", note: "" },
    ...extra,
  };
}

describe("config hash", () => {
  it("does not depend on key order and changes with any value", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(configHash({ a: 1, b: 2 })).toBe(configHash({ b: 2, a: 1 }));
    expect(configHash({ a: 1, b: 2 })).not.toBe(configHash({ a: 1, b: 3 }));
    expect(configHash({ a: 1 })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe("efficiency", () => {
  it("is speed-up over size growth against the smallest stage, whatever order the stages come in", () => {
    const rows = deriveRows([stageResult(12, 40_000, 200), stageResult(3, 12_000, 100), stageResult(6, 20_000, 150)]);
    expect(rows.map((r) => r.result.stage.size)).toEqual([3, 6, 12]);
    expect(rows[0]!.scalingEfficiency).toBe(1);
    expect(rows[1]!.scalingEfficiency).toBeCloseTo(20_000 / 12_000 / 2, 10);
    expect(rows[2]!.scalingEfficiency).toBeCloseTo(40_000 / 12_000 / 4, 10);
    const perCore = (r: StageResult) => r.checksPerSecondPerCore;
    expect(rows[2]!.perCoreEfficiency).toBeCloseTo(perCore(rows[2]!.result) / perCore(rows[0]!.result), 10);
  });

  it("is unknown when the smallest stage checked nothing", () => {
    expect(deriveRows([stageResult(3, 0, null), stageResult(6, 100, 10)]).map((r) => r.scalingEfficiency)).toEqual([null, null]);
  });

  it("passes only with checks and a p99 under one second", () => {
    expect(passes({ checksPerSecond: 10, latencyMs: { p50: 1, p99: 999, p999: null } })).toBe(true);
    expect(passes({ checksPerSecond: 10, latencyMs: { p50: 1, p99: 1000, p999: null } })).toBe(false);
    expect(passes({ checksPerSecond: 10, latencyMs: { p50: 1, p99: null, p999: null } })).toBe(false);
    expect(passes({ checksPerSecond: 0, latencyMs: { p50: 1, p99: 5, p999: null } })).toBe(false);
  });
});

describe("CSV", () => {
  it("has a header and one row per stage, sorted by size, with the derived figures", () => {
    const csv = resultsCsv([stageResult(6, 20_000, 150), stageResult(3, 12_000, 100)]);
    const lines = csv.trimEnd().split("\n");
    expect(lines[0]).toBe(csvColumns.join(","));
    expect(lines).toHaveLength(3);
    const row = (i: number) => Object.fromEntries(csvColumns.map((c, j) => [c, lines[i]!.split(",")[j]]));
    expect(row(1)).toMatchObject({
      stage: "stage-3",
      checks_per_s: "12000",
      p99_ms: "100",
      scaling_efficiency: "1",
      passed: "true",
      cost_usd: "5",
    });
    expect(row(2)).toMatchObject({ stage: "stage-6", scaling_efficiency: "0.833", git_revision: "abc123" });
  });

  it("quotes fields the way RFC 4180 says", () => {
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField(null)).toBe("");
    expect(csvField(1.5)).toBe("1.5");
  });
});

describe("report", () => {
  it("tables the stages, names failed stages and compares with an earlier experiment by size", () => {
    const now = [stageResult(3, 12_000, 100), stageResult(6, 20_000, 1500)];
    const earlier = [stageResult(3, 10_000, 90, { experimentId: "exp-0" }), stageResult(48, 200_000, 500, { experimentId: "exp-0" })];
    const md = experimentReport({
      experimentId: "exp-a",
      results: now,
      pending: ["stage-12"],
      charts: [{ title: "t", file: "throughput.png" }],
      compare: { id: "exp-0", results: earlier },
    });
    expect(md).toContain("| stage-3 | 3 | 12,000 | 12,000.0 |");
    expect(md).toContain("Not finished: stage-12.");
    expect(md).toContain("p99 was 1000 ms or more (or unknown) in: stage-6.");
    expect(md).toContain("scaling efficiency 0.83");
    expect(md).toContain("## Compared with exp-0");
    expect(md).toContain("| stage-3 | 12,000.0 | 10,000.0 | +20.0 % |");
    expect(md).toContain("stages only in exp-0: stage-48");
    expect(md).toContain("![t](throughput.png)");
  });
});

describe("experiment folder", () => {
  const dir = mkdtempSync(join(tmpdir(), "experiment-results-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes stage JSONs, the CSV, both charts as SVG and PNG, and the report, consistently", async () => {
    writeStageResult(dir, 6, stageResult(6, 20_000, 150));
    writeStageResult(dir, 3, stageResult(3, 12_000, 100));
    expect(readStageResults(dir).map((r) => r.stage.size)).toEqual([3, 6]);
    const files = await writeSummary(dir, "exp-a", { pending: [] });
    for (const f of [files.csv, files.report, ...files.charts]) expect(existsSync(f)).toBe(true);
    expect(files.charts.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      "efficiency.png",
      "efficiency.svg",
      "throughput.png",
      "throughput.svg",
    ]);
    expect(readFileSync(join(dir, "throughput.png")).subarray(1, 4).toString()).toBe("PNG");
    expect(readFileSync(join(dir, "throughput.svg"), "utf8")).toContain("checks/s");
    expect(readFileSync(files.csv, "utf8").trimEnd().split("\n")).toHaveLength(3);
    expect(readFileSync(files.report, "utf8")).toContain("![checks/s and p99 by stage](throughput.png)");
  });

  it("chart specs carry one point per stage and the 1 s bound and linear line", () => {
    const results = [stageResult(3, 12_000, 100), stageResult(6, 20_000, 150)];
    const t = JSON.stringify(throughputChart(results, "x"));
    expect(t).toContain('"bound":1000');
    expect(t).toContain('"title":"Cassandra nodes"');
    const e = JSON.stringify(efficiencyChart(results, "x"));
    expect(e).toContain('"linear":1');
    expect(e).toContain('"efficiency":0.833');
  });
});
