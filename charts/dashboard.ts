/**
 * The experiment dashboard, built as Grafana dashboard JSON: throughput, anomalies, end-to-end latency,
 * consumer lag, per-stage latency, pods and errors, with the size plan's targets drawn as thresholds.
 */
import type { SizePlan } from "../cdk/size/size-plan.ts";
import { endToEndP99ObjectiveSeconds } from "./alert-rules.ts";
import { appMetricLabels as L, appMetrics as M } from "./app-metrics.ts";
import { components } from "./names.ts";

/** The Prometheus data source's uid, fixed by the provisioning file so the dashboard can name it. */
export const prometheusDatasourceUid = "prometheus";
export const dashboardUid = "anomaly-pipeline";

interface Target {
  readonly expr: string;
  readonly legend: string;
}
interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly targets: readonly Target[];
  readonly width: number;
  /** A dashed line at this value (a plan target or an objective). */
  readonly threshold?: number;
}

const detector = `job="${components.detector}"`;
const loadGenerator = `job="${components.loadGenerator}"`;
const window = "$__rate_interval";
const quantile = (q: number, by: string) =>
  `histogram_quantile(${q}, sum by (${by}) (rate(${M.endToEndSeconds}_bucket{${detector}}[${window}])))`;

/** The detector's stage label of the spatial check (app/detector/record-check.ts: read neighbours, CUSUM step, write). */
export const spatialStage = "spatial";

/**
 * With the spatial check on: its stage's latency. The stage is the neighbour search (every widening
 * round), the CUSUM step on the neighbours and the write to the strategy's tables; the search dominates it.
 */
function spatialPanels(plan: SizePlan): PanelSpec[] {
  if (plan.detector.spatialStrategy === "off") return [];
  const q = (x: number) =>
    `histogram_quantile(${x}, sum by (le) (rate(${M.stageSeconds}_bucket{${detector},${L.stage}="${spatialStage}"}[${window}])))`;
  return [
    {
      title: `Spatial check latency (${plan.detector.spatialStrategy})`,
      description:
        "The spatial stage of a check: the search for the 50 nearest previous events (all its widening rounds), the CUSUM step on them and the write to the strategy's tables.",
      unit: "s",
      width: 12,
      targets: [
        { expr: q(0.5), legend: "p50" },
        { expr: q(0.99), legend: "p99" },
      ],
    },
    {
      title: "Spatial check rate and retries",
      description: "Spatial checks per second (the stage's count) and its transient-failure retries and failures.",
      unit: "ops",
      width: 12,
      targets: [
        { expr: `sum(rate(${M.stageSeconds}_count{${detector},${L.stage}="${spatialStage}"}[${window}]))`, legend: "spatial checks" },
        { expr: `sum(rate(${M.retries}{${detector},${L.stage}="${spatialStage}"}[${window}]))`, legend: "retries" },
        { expr: `sum(rate(${M.errors}{${detector},${L.stage}="${spatialStage}"}[${window}]))`, legend: "failures" },
      ],
    },
  ];
}

export function dashboardPanels(plan: SizePlan): PanelSpec[] {
  return [
    {
      title: "Checks per second",
      description: `Events checked by all detectors, and events sent by the load generators; the dashed line is the planned ${plan.load.ratePerSecond}/s.`,
      unit: "ops",
      width: 12,
      threshold: plan.load.ratePerSecond,
      targets: [
        { expr: `sum(rate(${M.checks}{${detector}}[${window}]))`, legend: "checked" },
        { expr: `sum(rate(${M.eventsSent}{${loadGenerator}}[${window}]))`, legend: "sent" },
      ],
    },
    {
      title: "Anomalies per second",
      description: "Verdicts that flagged an anomaly, beside the anomalies the load generators injected (by kind).",
      unit: "ops",
      width: 12,
      targets: [
        { expr: `sum(rate(${M.anomalies}{${detector}}[${window}]))`, legend: "flagged" },
        { expr: `sum by (${L.kind}) (rate(${M.anomaliesInjected}{${loadGenerator}}[${window}]))`, legend: `injected: {{${L.kind}}}` },
      ],
    },
    {
      title: "End-to-end latency",
      description: `From event creation to published verdict; the dashed line is the ${endToEndP99ObjectiveSeconds} s p99 objective.`,
      unit: "s",
      width: 12,
      threshold: endToEndP99ObjectiveSeconds,
      targets: [
        { expr: quantile(0.5, "le"), legend: "p50" },
        { expr: quantile(0.99, "le"), legend: "p99" },
      ],
    },
    {
      title: "Consumer lag",
      description: `Records the detectors are behind the end of the events topic (${plan.kafka.partitions} partitions), per pod.`,
      unit: "short",
      width: 12,
      targets: [
        { expr: `sum(${M.consumerLag}{${detector}})`, legend: "total" },
        { expr: `sum by (pod) (${M.consumerLag}{${detector}})`, legend: "{{pod}}" },
      ],
    },
    {
      title: "Per-stage latency (p99)",
      description: "Cassandra write, history read, CUSUM detect, verdict publish, dead-letter send.",
      unit: "s",
      width: 12,
      targets: [
        {
          expr: `histogram_quantile(0.99, sum by (le, ${L.stage}) (rate(${M.stageSeconds}_bucket{${detector}}[${window}])))`,
          legend: `{{${L.stage}}}`,
        },
      ],
    },
    {
      title: "Backpressure",
      description:
        `Checks in flight against the limit (the fixed concurrency, ${plan.detector.concurrency} per pod, or the adaptive limit that starts there), ` +
        "records waiting in the hand-off, partitions paused.",
      unit: "short",
      width: 12,
      targets: [
        { expr: `sum(${M.inFlight}{${detector}})`, legend: "in flight" },
        { expr: `sum(${M.concurrencyLimit}{${detector}})`, legend: "limit" },
        { expr: `sum(${M.handoffDepth}{${detector}})`, legend: "hand-off" },
        { expr: `sum(${M.pausedPartitions}{${detector}})`, legend: "paused partitions" },
      ],
    },
    {
      title: "Backlog age and overload policy",
      description:
        "How far behind the detectors are (seconds since the newest record they took was written), pods checking " +
        "recently flagged keys first (overload policy on, past its age bound), and checks deferred behind them per second. " +
        "Deferred checks still run; none is dropped.",
      unit: "short",
      width: 12,
      targets: [
        { expr: `max(${M.backlogAgeSeconds}{${detector}})`, legend: "backlog age, s (worst pod)" },
        { expr: `sum(${M.overloadActive}{${detector}})`, legend: "pods in overload" },
        { expr: `sum(rate(${M.checksDeferred}{${detector}}[${window}]))`, legend: "deferred checks/s" },
      ],
    },
    {
      title: "Held history: hit ratio and reads per check",
      description:
        "With DETECTOR_HISTORY=held the detector holds its keys' last 50 values and state and reads Cassandra only on a miss: " +
        "the share of checks it held, and Cassandra history reads per check (1 in the read mode). A rebalance empties what a pod " +
        "holds; the hit ratio dips, then recovers.",
      unit: "percentunit",
      width: 12,
      targets: [
        {
          expr: `sum(rate(${M.heldHits}{${detector}}[${window}])) / (sum(rate(${M.heldHits}{${detector}}[${window}])) + sum(rate(${M.heldMisses}{${detector}}[${window}])))`,
          legend: "hit ratio",
        },
        {
          expr: `sum(rate(${M.historyReads}{${detector}}[${window}])) / sum(rate(${M.checks}{${detector}}[${window}]))`,
          legend: "checks that read Cassandra",
        },
      ],
    },
    {
      title: "Held history: keys and evictions",
      description:
        "Keys whose history the detectors hold (all pods), and keys evicted per second for the key budget (DETECTOR_HELD_KEYS per pod).",
      unit: "short",
      width: 12,
      targets: [
        { expr: `sum(${M.heldKeys}{${detector}})`, legend: "keys held" },
        { expr: `sum(rate(${M.heldEvictions}{${detector}}[${window}]))`, legend: "evictions/s" },
      ],
    },
    {
      title: "Pods up",
      description: `Scraped pods per workload; the plan runs ${plan.detector.pods} detectors and ${plan.load.pods} load generators.`,
      unit: "short",
      width: 8,
      threshold: plan.detector.pods,
      targets: [
        { expr: `count(up{${detector}} == 1)`, legend: components.detector },
        { expr: `count(up{${loadGenerator}} == 1)`, legend: components.loadGenerator },
      ],
    },
    {
      title: "Errors and dead letters",
      description: "Failed checks by stage, malformed events dead-lettered by reason, and sends Kafka did not acknowledge, per second.",
      unit: "ops",
      width: 8,
      targets: [
        { expr: `sum by (${L.stage}) (rate(${M.errors}{${detector}}[${window}]))`, legend: `error: {{${L.stage}}}` },
        { expr: `sum by (${L.reason}) (rate(${M.deadLetters}{${detector}}[${window}]))`, legend: `dead letter: {{${L.reason}}}` },
        { expr: `sum by (${L.reason}) (rate(${M.recordsSkipped}{${detector}}[${window}]))`, legend: `skipped: {{${L.reason}}}` },
        { expr: `sum(rate(${M.undecodableBatches}{${detector}}[${window}]))`, legend: "undecodable batch" },
        { expr: `sum(rate(${M.sendFailures}{${loadGenerator}}[${window}]))`, legend: "send failed" },
      ],
    },
    {
      title: "Load generator lateness (p99)",
      description:
        "How far behind its schedule the open-loop generator hands events to Kafka; growth means the load is not the planned load.",
      unit: "s",
      width: 8,
      targets: [
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(${M.sendLatenessSeconds}_bucket{${loadGenerator}}[${window}])))`,
          legend: "p99",
        },
      ],
    },
    ...spatialPanels(plan),
  ];
}

const planSummary = (plan: SizePlan): string =>
  [
    `**Experiment** \`${plan.experimentId}\` in ${plan.region}`,
    "",
    "| Cassandra | Kafka | Partitions | Detectors | Load |",
    "|---|---|---|---|---|",
    `| ${plan.cassandra.nodes} × ${plan.cassandra.instanceType} | ${plan.kafka.brokers} × ${plan.kafka.instanceType} | ${plan.kafka.partitions} | ${plan.detector.pods} pods × ${plan.detector.concurrency} in flight | ${plan.load.ratePerSecond}/s from ${plan.load.pods} pods |`,
  ].join("\n");

/** The dashboard JSON Grafana's file provisioning loads. */
export function dashboard(plan: SizePlan): Record<string, unknown> {
  const datasource = { type: "prometheus", uid: prometheusDatasourceUid };
  const panels: Record<string, unknown>[] = [
    {
      id: 1,
      type: "text",
      title: "Size plan",
      gridPos: { x: 0, y: 0, w: 24, h: 4 },
      options: { mode: "markdown", content: planSummary(plan) },
    },
  ];
  let x = 0;
  let y = 4;
  const height = 8;
  for (const [i, p] of dashboardPanels(plan).entries()) {
    if (x + p.width > 24) {
      x = 0;
      y += height;
    }
    panels.push({
      id: i + 2,
      type: "timeseries",
      title: p.title,
      description: p.description,
      datasource,
      gridPos: { x, y, w: p.width, h: height },
      fieldConfig: {
        defaults: {
          unit: p.unit,
          min: 0,
          custom: { lineWidth: 1, fillOpacity: 10, thresholdsStyle: { mode: p.threshold === undefined ? "off" : "dashed" } },
          thresholds: {
            mode: "absolute",
            steps: [{ color: "green", value: null }, ...(p.threshold === undefined ? [] : [{ color: "red", value: p.threshold }])],
          },
        },
        overrides: [],
      },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi", sort: "desc" } },
      targets: p.targets.map((t, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource,
        expr: t.expr,
        legendFormat: t.legend,
      })),
    });
    x += p.width;
  }
  return {
    uid: dashboardUid,
    title: `Anomaly detection: ${plan.experimentId}`,
    tags: ["anomaly-kit"],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: "10s",
    time: { from: "now-30m", to: "now" },
    panels,
  };
}
