/**
 * Renders a Vega-Lite chart to image files (SVG, and PNG for viewers that do not show SVG), offline:
 * vega renders to SVG without a browser and resvg rasterises it.
 */
import { writeFileSync } from "node:fs";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Writes `<basePath>.svg` and `<basePath>.png`; returns the two paths. */
export async function writeChart(spec: TopLevelSpec, basePath: string): Promise<{ svg: string; png: string }> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { background: "white", font: { loadSystemFonts: true }, fitTo: { mode: "zoom", value: 2 } }).render().asPng();
  writeFileSync(`${basePath}.svg`, svg);
  writeFileSync(`${basePath}.png`, png);
  return { svg: `${basePath}.svg`, png: `${basePath}.png` };
}
