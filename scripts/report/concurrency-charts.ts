/** Charts of the concurrency grid: drain rate per setting at each Cassandra capacity, and the adaptive limit over time. */
import { join } from "node:path";
import type { ConcurrencyGridResult } from "../bench/concurrency-grid.ts";
import { writeChart } from "./chart-image.ts";

export async function concurrencyCharts(r: ConcurrencyGridResult, dir: string): Promise<void> {
  const rates = r.capacities.flatMap((c) =>
    c.settings.map((s) => ({
      capacity: c.capacity,
      setting: s.setting,
      checksPerSecond: s.checksPerSecond.median,
      min: s.checksPerSecond.min,
      max: s.checksPerSecond.max,
    })),
  );
  await writeChart(
    {
      title: "Drain rate per concurrency setting (median, min–max) at two Cassandra capacities",
      data: { values: rates },
      width: 420,
      height: 260,
      layer: [
        {
          mark: { type: "rule" },
          encoding: {
            x: { field: "setting", type: "nominal", sort: null, title: null },
            y: { field: "min", type: "quantitative" },
            y2: { field: "max" },
            color: { field: "capacity", type: "nominal" },
          },
        },
        {
          mark: { type: "point", filled: true, size: 70 },
          encoding: {
            x: { field: "setting", type: "nominal", sort: null, title: null },
            y: { field: "checksPerSecond", type: "quantitative", title: "checks/s" },
            color: { field: "capacity", type: "nominal", title: null },
          },
        },
      ],
    },
    join(dir, "concurrency-grid"),
  );
  const limits = r.trials.flatMap((t) => t.limit.map((p) => ({ ...p, run: `${t.capacity} #${t.repeat + 1}` })));
  await writeChart(
    {
      title: "Adaptive concurrency: the limit over each drain",
      data: { values: limits },
      width: 420,
      height: 260,
      mark: { type: "line" },
      encoding: {
        x: { field: "seconds", type: "quantitative", title: "seconds since the detector was ready" },
        y: { field: "limit", type: "quantitative", title: "checks in flight allowed" },
        color: { field: "run", type: "nominal", title: null, legend: { labelLimit: 300 } },
      },
    },
    join(dir, "concurrency-limit"),
  );
}
