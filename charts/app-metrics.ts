/**
 * The app's Prometheus metric names and labels, as the alert rules and the dashboard query them.
 * Provisional: conventional names until app/metrics.ts exports the real ones; then this file re-exports them.
 */
export const appMetrics = {
  /** Counter: events checked (label `anomaly` = "true" | "false"). */
  checks: "anomaly_checks_total",
  /** Counter: records sent to the dead-letter topic (label `reason`). */
  deadLetters: "anomaly_dead_letters_total",
  /** Counter: failed checks or sends (label `stage`). */
  errors: "anomaly_errors_total",
  /** Histogram (seconds): event created by the load generator → verdict published. */
  endToEndSeconds: "anomaly_end_to_end_seconds",
  /** Histogram (seconds) per pipeline stage (label `stage`: write, read, check, publish, commit). */
  stageSeconds: "anomaly_stage_seconds",
  /** Gauge: records behind the end of each partition, per consumer. */
  consumerLag: "anomaly_consumer_lag",
  /** Counter: events the load generator sent. */
  eventsSent: "anomaly_loadgen_events_sent_total",
} as const;

export const appMetricLabels = {
  anomaly: "anomaly",
  stage: "stage",
  reason: "reason",
} as const;
