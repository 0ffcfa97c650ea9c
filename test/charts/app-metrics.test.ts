/** The metric names the alert rules and the dashboard query are the ones the app registers, with those labels. */
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { detectorMetrics, loadgenMetrics } from "../../app/metrics.ts";
import { appMetricLabelNames, appMetrics } from "../../charts/app-metrics.ts";

describe("app metrics used by the charts", () => {
  const registry = new Registry();
  detectorMetrics(registry);
  loadgenMetrics(registry);
  const registered = new Map(
    registry.getMetricsAsArray().map((m) => [m.name, (m as unknown as { labelNames?: string[] }).labelNames ?? []]),
  );

  it.each(Object.entries(appMetrics))("%s (%s) is registered by the app", (key, name) => {
    expect([...registered.keys()]).toContain(name);
    const labels = appMetricLabelNames[key as keyof typeof appMetrics];
    if (labels !== undefined) expect([...registered.get(name)!].sort()).toEqual([...labels].sort());
  });
});
