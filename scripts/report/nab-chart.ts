/** The NAB bench's picture: the standard profile's score per category, one bar per detector. */
import type { CategoryScore } from "../nab/nab-scorer.ts";
import { writeChart } from "./chart-image.ts";

export async function nabChart(
  detectors: Record<string, { categories: readonly CategoryScore[] }>,
  basePath: string,
): Promise<{ svg: string; png: string }> {
  const values = Object.entries(detectors).flatMap(([detector, r]) =>
    r.categories
      .filter((c) => c.score !== null)
      .map((c) => ({ detector, category: `${c.category} (${c.windows} windows)`, score: c.score })),
  );
  return writeChart(
    {
      title: "NAB score per category, standard profile (100 = every window found at its start, 0 = no alarm at all)",
      width: 190,
      height: 240,
      data: { values },
      mark: "bar",
      encoding: {
        column: { field: "category", type: "nominal", title: null, header: { labelFontSize: 11, labelLimit: 0 } },
        x: { field: "detector", type: "nominal", axis: null },
        y: { field: "score", type: "quantitative", title: "NAB score" },
        color: { field: "detector", type: "nominal", legend: { orient: "bottom", columns: 1, labelLimit: 0 } },
        tooltip: [{ field: "detector" }, { field: "score" }],
      },
    },
    basePath,
  );
}
