/**
 * The dashboard's queries name only metrics (and labels) the app registers, for every preset and with the
 * spatial check on; the spatial panels appear only when it is on, on the stage the detector records.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { detectorMetrics, loadgenMetrics } from "../../app/metrics.ts";
import { sizePlanFrom } from "../../cdk/size/size-plan.ts";
import { dashboardPanels, spatialStage } from "../../charts/dashboard.ts";
import { presetNames } from "./fixtures.ts";

const registry = new Registry();
detectorMetrics(registry);
loadgenMetrics(registry);
const registered = new Map(registry.getMetricsAsArray().map((m) => [m.name, (m as unknown as { labelNames?: string[] }).labelNames ?? []]));
/** A histogram's series: its name with _bucket, _count or _sum. */
const baseName = (series: string) => series.replace(/_(bucket|count|sum)$/, "");

/** The metric names in a PromQL expression: identifiers directly before a `{` selector. */
const metricsOf = (expr: string) => [...expr.matchAll(/([a-z_:][a-z0-9_:]*)\{/g)].map((m) => m[1]!);
/** Prometheus's own series (scrape health), not the app's. */
const prometheusOwn = new Set(["up"]);
/** label="value" matchers and by (...) labels, per metric selector. */
const labelsOf = (expr: string) => [...expr.matchAll(/([a-z_]+)=~?"/g)].map((m) => m[1]!).filter((l) => l !== "job");

const plans = [
  ...presetNames.map((preset) => sizePlanFrom({ preset })),
  sizePlanFrom({ preset: "stage-3", spatialStrategy: "geohash" }),
  sizePlanFrom({ preset: "stage-3", spatialStrategy: "sai" }),
];

describe.each(plans.map((p) => [`${p.cassandra.nodes} nodes, spatial ${p.detector.spatialStrategy}`, p] as const))(
  "dashboard (%s)",
  (_name, plan) => {
    const panels = dashboardPanels(plan);

    it("every panel's metric is registered by the app, with the labels it selects on", () => {
      for (const panel of panels) {
        for (const t of panel.targets) {
          const names = metricsOf(t.expr);
          expect(names.length, `${panel.title}: ${t.expr}`).toBeGreaterThan(0);
          for (const series of names.filter((n) => !prometheusOwn.has(n))) {
            const labels = registered.get(baseName(series));
            expect(labels, `${panel.title}: ${series}`).toBeDefined();
            for (const l of labelsOf(t.expr)) expect(labels, `${panel.title}: ${series} label ${l}`).toContain(l);
          }
        }
      }
    });

    it("has the spatial panels exactly when the spatial check is on", () => {
      const spatial = panels.filter((p) => p.targets.some((t) => t.expr.includes(`stage="${spatialStage}"`)));
      expect(spatial.length).toBe(plan.detector.spatialStrategy === "off" ? 0 : 2);
    });
  },
);

it(`the detector records its spatial check under stage "${spatialStage}"`, () => {
  const check = readFileSync(join(import.meta.dirname, "../../app/detector/record-check.ts"), "utf8");
  expect(check).toContain(`step("${spatialStage}"`);
});
