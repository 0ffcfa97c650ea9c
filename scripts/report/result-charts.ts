/**
 * The experiment's charts as Vega-Lite specs (rendered to SVG + PNG by scripts/report/chart-image.ts):
 * 1. throughput: checks/s (bars) and p99 latency (line, own axis) against the stage size;
 * 2. efficiency: checks/s per core and scaling efficiency against the stage size, side by side.
 * The x axis is Cassandra nodes on AWS and detector processes locally (the stage's size unit).
 */
import type { TopLevelSpec } from "vega-lite";
import { deriveRows, p99BoundMs, type StageResult } from "../experiment/stage-result.ts";

const axisTitle = (results: readonly StageResult[]) => results[0]?.stage.sizeUnit ?? "stage size";

export function throughputChart(results: readonly StageResult[], experimentId: string): TopLevelSpec {
  const values = deriveRows(results).map(({ result: r }) => ({
    size: r.stage.size,
    checks: Math.round(r.metrics.checksPerSecond * 10) / 10,
    p99: r.metrics.latencyMs.p99,
  }));
  const x = { field: "size", type: "ordinal" as const, title: axisTitle(results), axis: { labelAngle: 0 } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `${experimentId}: checks/s and p99 latency by stage`,
    width: 420,
    height: 260,
    data: { values },
    layer: [
      {
        mark: { type: "bar", color: "#4c78a8", opacity: 0.8 },
        encoding: { x, y: { field: "checks", type: "quantitative", title: "checks/s" } },
      },
      {
        layer: [
          {
            mark: { type: "line", color: "#e45756", point: true },
            encoding: { x, y: { field: "p99", type: "quantitative", title: "p99 end-to-end latency (ms)" } },
          },
          {
            data: { values: [{ bound: p99BoundMs }] },
            mark: { type: "rule", color: "#e45756", strokeDash: [4, 4] },
            encoding: { y: { field: "bound", type: "quantitative" } },
          },
        ],
      },
    ],
    resolve: { scale: { y: "independent" } },
  };
}

export function efficiencyChart(results: readonly StageResult[], experimentId: string): TopLevelSpec {
  const values = deriveRows(results).map((row) => ({
    size: row.result.stage.size,
    perCore: Math.round(row.result.checksPerSecondPerCore * 100) / 100,
    efficiency: row.scalingEfficiency === null ? null : Math.round(row.scalingEfficiency * 1000) / 1000,
  }));
  const x = { field: "size", type: "ordinal" as const, title: axisTitle(results), axis: { labelAngle: 0 } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `${experimentId}: checks/s per core and scaling efficiency`,
    data: { values },
    hconcat: [
      {
        width: 260,
        height: 220,
        mark: { type: "bar", color: "#54a24b" },
        encoding: { x, y: { field: "perCore", type: "quantitative", title: "checks/s per core" } },
      },
      {
        width: 260,
        height: 220,
        layer: [
          {
            mark: { type: "line", color: "#f58518", point: true },
            encoding: {
              x,
              y: { field: "efficiency", type: "quantitative", title: "scaling efficiency (1 = linear)", scale: { domainMin: 0 } },
            },
          },
          {
            data: { values: [{ linear: 1 }] },
            mark: { type: "rule", color: "#888", strokeDash: [4, 4] },
            encoding: { y: { field: "linear", type: "quantitative" } },
          },
        ],
      },
    ],
  };
}
