/**
 * The alert rules, run by Prometheus' own rule tester (`promtool test rules`) on synthetic series of the app's
 * metrics: each alert fires on the failure it is for and stays quiet on a healthy pipeline.
 * Needs promtool (scripts/local/prerequisites.ts): the test command refuses to start without it, and run alone this
 * file fails with the same line rather than skipping.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { sizePlanFrom } from "../../cdk/size/size-plan.ts";
import { appMetrics as M } from "../../charts/app-metrics.ts";
import { dashboardPanels } from "../../charts/dashboard.ts";
import { components } from "../../charts/names.ts";
import { isInstalled, missingLine, promtool as promtoolTool } from "../../scripts/local/prerequisites.ts";
import { find, presetManifests } from "./fixtures.ts";

if (!isInstalled(promtoolTool)) throw new Error(missingLine(promtoolTool));
const promtool = promtoolTool.command;

const preset = "stage-3";
const plan = sizePlanFrom({ preset });
const detector = `job="${components.detector}"`;
const loadgen = `job="${components.loadGenerator}"`;
/** Per-minute increments of a counter running at `perSecond`. */
const perMinute = (perSecond: number) => perSecond * 60;
const minutes = 30;
const counter = (perSecond: number) => `0+${perMinute(perSecond)}x${minutes}`;
const flat = (value: number) => `${value}x${minutes}`;

/** A healthy pipeline at the planned rate, every pod up. */
const healthy = (overrides: Record<string, string> = {}) => {
  const series: Record<string, string> = {
    [`${M.checks}{${detector}, pod="d-0"}`]: counter(plan.load.ratePerSecond),
    [`${M.eventsSent}{${loadgen}, pod="l-0"}`]: counter(plan.load.ratePerSecond),
    [`${M.deadLetters}{${detector}, pod="d-0", reason="decode"}`]: counter(0),
    [`${M.errors}{${detector}, pod="d-0", stage="write"}`]: counter(0),
    [`${M.consumerLag}{${detector}, pod="d-0", topic="events", partition="0"}`]: flat(100),
    [`${M.endToEndSeconds}_bucket{${detector}, pod="d-0", le="0.1"}`]: counter(plan.load.ratePerSecond),
    [`${M.endToEndSeconds}_bucket{${detector}, pod="d-0", le="1"}`]: counter(plan.load.ratePerSecond),
    [`${M.endToEndSeconds}_bucket{${detector}, pod="d-0", le="2.5"}`]: counter(plan.load.ratePerSecond),
    [`${M.endToEndSeconds}_bucket{${detector}, pod="d-0", le="+Inf"}`]: counter(plan.load.ratePerSecond),
  };
  for (let i = 0; i < plan.detector.pods; i++) series[`up{${detector}, pod="d-${i}"}`] = flat(1);
  return Object.entries({ ...series, ...overrides }).map(([s, values]) => ({ series: s, values }));
};

const at = "25m";
const scenarios: { name: string; series: ReturnType<typeof healthy>; fires: string[] }[] = [
  { name: "healthy", series: healthy(), fires: [] },
  {
    name: "a detector down",
    series: healthy({ [`up{${detector}, pod="d-0"}`]: `1x5 0x${minutes - 5}` }),
    fires: ["DetectorDown", "DetectorsMissing"],
  },
  {
    name: "lag growing",
    series: healthy({
      [`${M.consumerLag}{${detector}, pod="d-0", topic="events", partition="0"}`]: `0+${plan.load.ratePerSecond * 10}x${minutes}`,
    }),
    fires: ["ConsumerLagGrowing"],
  },
  {
    name: "slow verdicts",
    series: healthy({
      [`${M.endToEndSeconds}_bucket{${detector}, pod="d-0", le="0.1"}`]: counter(0),
      [`${M.endToEndSeconds}_bucket{${detector}, pod="d-0", le="1"}`]: counter(0),
    }),
    fires: ["EndToEndLatencyHigh"],
  },
  {
    name: "dead letters",
    series: healthy({ [`${M.deadLetters}{${detector}, pod="d-0", reason="decode"}`]: counter(plan.load.ratePerSecond / 100) }),
    fires: ["DeadLetterRateHigh"],
  },
  {
    name: "records skipped",
    series: healthy({ [`${M.recordsSkipped}{${detector}, pod="d-0", reason="oversize"}`]: counter(1) }),
    fires: ["RecordsSkipped"],
  },
  {
    name: "undecodable batches",
    series: healthy({ [`${M.undecodableBatches}{${detector}, pod="d-0", topic="events"}`]: counter(1) }),
    fires: ["UndecodableBatches"],
  },
  {
    name: "errors",
    series: healthy({ [`${M.errors}{${detector}, pod="d-0", stage="write"}`]: counter(plan.load.ratePerSecond / 10) }),
    fires: ["ErrorRateHigh"],
  },
  {
    name: "load below plan",
    series: healthy({ [`${M.eventsSent}{${loadgen}, pod="l-0"}`]: counter(plan.load.ratePerSecond / 2) }),
    fires: ["LoadBelowPlan"],
  },
];

describe("alert rules under promtool", () => {
  const dir = mkdtempSync(join(tmpdir(), "alert-rules-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const rule = find(presetManifests(preset).objects, "PrometheusRule", "anomaly-pipeline");
  const groups = (rule.spec as { groups: { rules: { alert: string }[] }[] }).groups;
  const rulesFile = join(dir, "rules.yaml");
  writeFileSync(rulesFile, stringify({ groups }));
  const alerts = groups.flatMap((g) => g.rules.map((r) => r.alert));

  it("the rules parse", () => {
    expect(() => execFileSync(promtool, ["check", "rules", rulesFile], { encoding: "utf8" })).not.toThrow();
  });

  it("every dashboard query parses (as recording rules, with Grafana's $__rate_interval set)", () => {
    const rules = dashboardPanels(plan).flatMap((p, i) =>
      p.targets.map((t, j) => ({ record: `dashboard:panel_${i}_${j}`, expr: t.expr.replaceAll("$__rate_interval", "1m") })),
    );
    const file = join(dir, "dashboard.yaml");
    writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules }] }));
    expect(() => execFileSync(promtool, ["check", "rules", file], { encoding: "utf8" })).not.toThrow();
  });

  it.each(scenarios)("$name: fires exactly $fires", ({ series, fires }) => {
    const testFile = join(dir, "test.yaml");
    writeFileSync(
      testFile,
      stringify({
        rule_files: [rulesFile],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: series,
            alert_rule_test: alerts.map((alertname) => ({
              eval_time: at,
              alertname,
              // promtool compares label sets exactly; an expected alert is matched by name and severity only.
              exp_alerts: [],
            })),
          },
        ],
      }),
    );
    const result = spawnSync(promtool, ["test", "rules", testFile], { encoding: "utf8" });
    const output = `${result.stdout}${result.stderr}`;
    expect(output, "promtool ran the tests").not.toMatch(/could not|parse error|error loading/i);
    expect(result.status, output).toBe(fires.length === 0 ? 0 : 1);
    const firing = alerts.filter((a) => output.includes(`alertname: ${a},`));
    expect(firing.sort(), output).toEqual([...fires].sort());
  });
});
