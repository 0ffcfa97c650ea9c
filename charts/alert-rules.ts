/**
 * The alerts a user of the kit needs while an experiment runs. Thresholds that depend on the experiment's
 * size (how many detectors should be up, what rate the load generators should send) come from the size plan.
 */
import type { SizePlan } from "../cdk/size/size-plan.ts";
import { appMetricLabels as L, appMetrics as M } from "./app-metrics.ts";
import { components } from "./names.ts";

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: "critical" | "warning";
  readonly summary: string;
  readonly description: string;
}

const job = (component: string) => `job="${component}"`;
const detector = job(components.detector);
const loadGenerator = job(components.loadGenerator);
const rate = (metric: string, selector = "", window = "5m") => `sum(rate(${metric}{${selector}}[${window}]))`;

/** End-to-end p99 above this is an alert (the product's latency objective). */
export const endToEndP99ObjectiveSeconds = 1;
/** Lag worth an alert: this many seconds of the planned event rate. */
export const lagAlertSeconds = 30;

export function alertRules(plan: SizePlan): AlertRule[] {
  const lag = `sum(${M.consumerLag}{${detector}})`;
  const checks = rate(M.checks, detector);
  return [
    {
      alert: "DetectorDown",
      expr: `up{${detector}} == 0`,
      for: "2m",
      severity: "critical",
      summary: "A detector pod's metrics endpoint is down",
      description: "Prometheus cannot scrape {{ $labels.pod }} for 2 minutes; its partitions wait for a rebalance.",
    },
    {
      alert: "DetectorsMissing",
      expr: `absent(up{${detector}} == 1) or count(up{${detector}} == 1) < ${plan.detector.pods}`,
      for: "5m",
      severity: "critical",
      summary: "Fewer detector pods are up than the size plan asks for",
      description: `The plan runs ${plan.detector.pods} detector pods; fewer have been up for 5 minutes.`,
    },
    {
      alert: "ConsumerLagGrowing",
      expr: `${lag} > ${plan.load.ratePerSecond * lagAlertSeconds} and deriv((${lag})[10m:1m]) > 0`,
      for: "10m",
      severity: "warning",
      summary: "The detectors fall behind the events topic",
      description: `Consumer lag is above ${lagAlertSeconds} s of the planned ${plan.load.ratePerSecond} events/s and still growing: the pipeline does not keep up.`,
    },
    {
      alert: "EndToEndLatencyHigh",
      expr: `histogram_quantile(0.99, sum by (le) (rate(${M.endToEndSeconds}_bucket{${detector}}[5m]))) > ${endToEndP99ObjectiveSeconds}`,
      for: "5m",
      severity: "warning",
      summary: `End-to-end p99 latency is above ${endToEndP99ObjectiveSeconds} s`,
      description: "The 99th percentile from event creation to published verdict has been above the objective for 5 minutes.",
    },
    {
      alert: "DeadLetterRateHigh",
      expr: `${rate(M.deadLetters, detector)} / clamp_min(${checks}, 1) > 0.001`,
      for: "5m",
      severity: "warning",
      summary: "More than 0.1% of events go to the dead-letter topic",
      description: `Malformed events are being dead-lettered; see the ${L.reason} label of ${M.deadLetters}.`,
    },
    {
      alert: "RecordsSkipped",
      expr: `sum(increase(${M.recordsSkipped}{${detector}}[10m])) > 0`,
      for: "0m",
      severity: "critical",
      summary: "Records were skipped: neither checked nor kept in the dead-letter topic",
      description: `Even the dead-letter publish of these records failed, so they are only in the events topic; see the ${L.reason} label of ${M.recordsSkipped} and the detector's log (topic, partition, offset).`,
    },
    {
      alert: "UndecodableBatches",
      expr: `sum(increase(${M.undecodableBatches}{${detector}}[10m])) > 0`,
      for: "0m",
      severity: "warning",
      summary: "The detectors received record batches they cannot decode",
      description: `A producer wrote batches with a codec or size the detectors refuse (the events topic should force a decodable codec); each batch went to the dead-letter topic as one record. See ${M.undecodableBatches} by topic.`,
    },
    {
      alert: "ErrorRateHigh",
      expr: `${rate(M.errors, detector)} / clamp_min(${checks}, 1) > 0.01`,
      for: "5m",
      severity: "critical",
      summary: "More than 1% of checks fail",
      description: `Errors per check above 1% for 5 minutes; see the ${L.stage} label of ${M.errors}.`,
    },
    {
      alert: "LoadBelowPlan",
      expr: `${rate(M.eventsSent, loadGenerator)} < ${0.9 * plan.load.ratePerSecond}`,
      for: "10m",
      severity: "warning",
      summary: "The load generators send less than 90% of the planned rate",
      description: `The plan sends ${plan.load.ratePerSecond} events/s; an open-loop generator that falls behind means the measurement is not at the planned load.`,
    },
  ];
}
