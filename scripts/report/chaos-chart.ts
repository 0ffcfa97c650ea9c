/**
 * The fault campaign as a picture (Vega-Lite, rendered by chart-image.ts): the backlog (events produced but not
 * yet checked) and the verdicts per second over the run, with a rule at each fault labelled with its kind and
 * its recovery. A recovery is where the backlog falls back after a rule; a slow one shows as a long hump.
 */
import type { TopLevelSpec } from "vega-lite";

export interface TimelineSample {
  readonly elapsedSeconds: number;
  readonly backlog: number;
  readonly checkedPerSecond: number;
}

export interface TimelineFault {
  /** On the samples' clock (seconds since the load started). */
  readonly atSeconds: number;
  readonly kind: string;
  readonly recoverySeconds: number;
}

export function chaosTimelineChart(samples: readonly TimelineSample[], faults: readonly TimelineFault[], title: string): TopLevelSpec {
  const x = { field: "t", type: "quantitative" as const, title: "seconds since the load started" };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 760,
    height: 260,
    layer: [
      {
        data: { values: samples.map((s) => ({ t: s.elapsedSeconds, backlog: s.backlog })) },
        mark: { type: "area", color: "#4c78a8", opacity: 0.5 },
        encoding: { x, y: { field: "backlog", type: "quantitative", title: "backlog (events)" } },
      },
      {
        data: { values: samples.map((s) => ({ t: s.elapsedSeconds, perSecond: s.checkedPerSecond })) },
        mark: { type: "line", color: "#54a24b", strokeWidth: 1 },
        encoding: { x, y: { field: "perSecond", type: "quantitative", title: "verdicts/s", axis: { orient: "right" } } },
      },
      {
        data: { values: faults.map((f) => ({ t: f.atSeconds, label: `${f.kind} (${f.recoverySeconds} s)` })) },
        layer: [
          { mark: { type: "rule", color: "#e45756", strokeDash: [4, 3] }, encoding: { x } },
          {
            mark: { type: "text", color: "#e45756", angle: 270, align: "right", baseline: "bottom", dy: -2, dx: -4, fontSize: 9 },
            encoding: { x, y: { value: 0 }, text: { field: "label" } },
          },
        ],
      },
    ],
    resolve: { scale: { y: "independent" } },
  };
}
