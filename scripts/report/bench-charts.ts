/** Charts of a benchmark run: the interleaved trials (ceiling and drain per pair), the p99-bounded rate search and, with --spike, the spike's backlog. */
import { join } from "node:path";
import { writeChart } from "./chart-image.ts";
import type { BenchResult } from "../bench/bench-result.ts";

export async function benchCharts(r: BenchResult, dir: string): Promise<void> {
  const trials = r.trials.map((t) => {
    const v = t.value as { opsPerSecond?: number; checksPerSecond?: number };
    return {
      pair: t.pair + 1,
      series: t.kind === "ceiling" ? "ceiling, ops/s" : "drain, checks/s",
      perSecond: t.kind === "ceiling" ? (v.opsPerSecond ?? 0) : (v.checksPerSecond ?? 0),
    };
  });
  await writeChart(
    {
      title: "Interleaved trials: ceiling and pipeline drain, per pair",
      data: { values: trials },
      width: 420,
      height: 260,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "pair", type: "ordinal", title: "pair" },
        y: { field: "perSecond", type: "quantitative", title: "per second" },
        color: { field: "series", type: "nominal", title: null },
      },
    },
    join(dir, "trials"),
  );
  const search = [...r.rateSearch]
    .sort((a, b) => a.rate - b.rate)
    .map((t) => ({
      rate: t.rate,
      checksPerSecond: t.checksPerSecond,
      p99: t.latencyMs.p99,
      passed: t.passed ? "p99 < 1 s" : "p99 ≥ 1 s or behind",
    }));
  await writeChart(
    {
      title: "p99-bounded rate search (from the drain rate down): offered rate vs checks/s and p99",
      data: { values: search },
      width: 420,
      height: 260,
      layer: [
        {
          mark: { type: "point", filled: true, size: 80 },
          encoding: {
            x: { field: "rate", type: "quantitative", title: "offered events/s" },
            y: { field: "checksPerSecond", type: "quantitative", title: "checks/s" },
            color: { field: "passed", type: "nominal", title: null },
          },
        },
        {
          mark: { type: "line", strokeDash: [4, 3], color: "#888" },
          encoding: {
            x: { field: "rate", type: "quantitative" },
            y: { field: "p99", type: "quantitative", title: "p99 ms" },
          },
        },
      ],
      resolve: { scale: { y: "independent" } },
    },
    join(dir, "rate-search"),
  );
  if (r.spike === null) return;
  await writeChart(
    {
      title: `Spike ${r.spike.factor}× for ${r.spike.spikeSeconds} s: backlog in Kafka over time`,
      data: {
        values: r.spike.samples.map((s) => ({
          t: s.elapsedSeconds,
          backlog: s.backlog,
          checked: s.checkedPerSecond,
          sent: s.sentPerSecond,
        })),
      },
      width: 480,
      height: 260,
      layer: [
        {
          mark: { type: "area", opacity: 0.35 },
          encoding: {
            x: { field: "t", type: "quantitative", title: "seconds" },
            y: { field: "backlog", type: "quantitative", title: "backlog (events)" },
          },
        },
        {
          transform: [{ fold: ["sent", "checked"], as: ["series", "perSecond"] }],
          mark: { type: "line" },
          encoding: {
            x: { field: "t", type: "quantitative" },
            y: { field: "perSecond", type: "quantitative", title: "events/s" },
            color: { field: "series", type: "nominal", title: null },
          },
        },
      ],
      resolve: { scale: { y: "independent" } },
    },
    join(dir, "spike-lag"),
  );
}
