/** Checks/s over a scaling trial's drain, with its scale-out and scale-in steps marked. */
import type { ScalingTrial } from "../bench/scaling-steps.ts";
import { rateBetween } from "../bench/scaling-steps.ts";
import { writeChart } from "./chart-image.ts";

export async function scalingChart(t: ScalingTrial, basePath: string): Promise<void> {
  // Checks/s per half second, from the polled totals.
  const end = t.timeline.at(-1)?.seconds ?? 0;
  const rates = Array.from({ length: Math.floor(end * 2) }, (_, i) => ({
    seconds: (i + 1) / 2,
    rate: rateBetween(t.timeline, i / 2, (i + 1) / 2),
  }));
  const steps = t.steps.map((s) => ({ seconds: s.atSeconds, step: `scale ${s.kind} (stall ${s.stallSeconds} s)` }));
  await writeChart(
    {
      title: `Checks/s while a second detector joins, then leaves (${t.replayedChecks} of ${t.events} checks replayed)`,
      width: 480,
      height: 240,
      layer: [
        {
          data: { values: rates },
          mark: { type: "line", interpolate: "step-before" },
          encoding: {
            x: { field: "seconds", type: "quantitative", title: "seconds since the first detector was ready" },
            y: { field: "rate", type: "quantitative", title: "checks/s (per 0.5 s)" },
          },
        },
        {
          data: { values: steps },
          mark: { type: "rule", strokeDash: [4, 3], color: "firebrick" },
          encoding: { x: { field: "seconds", type: "quantitative" }, tooltip: { field: "step" } },
        },
        {
          data: { values: steps },
          mark: { type: "text", align: "left", dx: 3, dy: -4, color: "firebrick" },
          encoding: { x: { field: "seconds", type: "quantitative" }, y: { value: 8 }, text: { field: "step" } },
        },
      ],
    },
    basePath,
  );
}
