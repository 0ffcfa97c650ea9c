/**
 * The app's Prometheus metric names and labels (app/metrics.ts), as the alert rules and the dashboard query
 * them. test/charts/app-metrics.test.ts proves each one is registered by the app with these labels.
 */
export const appMetrics = {
  /** Counter: events checked and their verdict published. */
  checks: "detector_checks_total",
  /** Counter: verdicts that flagged an anomaly. */
  anomalies: "detector_anomalies_total",
  /** Counter: records sent to the dead-letter topic (label `reason`). */
  deadLetters: "detector_dead_letters_total",
  /** Counter: records neither checked nor dead-lettered: even the dead-letter publish failed (label `reason`). */
  recordsSkipped: "detector_records_skipped_total",
  /** Counter: record batches the Kafka client could not decode, set aside as one dead letter each (label `topic`). */
  undecodableBatches: "detector_undecodable_batches_total",
  /** Counter: failures that were not retried (label `stage`). */
  errors: "detector_errors_total",
  /** Counter: retries of transient failures (label `stage`). */
  retries: "detector_retries_total",
  /** Histogram (seconds): the event's time → its verdict published. */
  endToEndSeconds: "detector_end_to_end_latency_seconds",
  /** Histogram (seconds) per stage of a check (label `stage`: write, read, detect, publish, dead_letter). */
  stageSeconds: "detector_stage_duration_seconds",
  /** Gauge: records of a partition not yet committed (labels `topic`, `partition`). */
  consumerLag: "detector_consumer_lag",
  /** Gauges of backpressure: checks running, records in the hand-off, partitions paused. */
  inFlight: "detector_checks_in_flight",
  /** Gauge: checks allowed in flight now, the fixed setting or the adaptive limit's current value. */
  concurrencyLimit: "detector_concurrency_limit",
  handoffDepth: "detector_handoff_depth",
  pausedPartitions: "detector_paused_partitions",
  /** Gauge (seconds): now minus the Kafka timestamp of the record taken last: how far behind the detector is. */
  backlogAgeSeconds: "detector_backlog_age_seconds",
  /** Gauge: 1 while the overload policy checks recently flagged keys first (DETECTOR_OVERLOAD_POLICY=priority). */
  overloadActive: "detector_overload_active",
  /** Counter: checks that waited behind a priority check that became ready after them (deferred, not dropped). */
  checksDeferred: "detector_checks_deferred_total",
  /** Counter: history reads from Cassandra (every check in the read mode; a miss with held history). */
  historyReads: "detector_history_reads_total",
  /** Counter: checks whose history the detector held (no Cassandra read). */
  heldHits: "detector_held_history_hits_total",
  /** Counter: checks whose history it did not hold (label `reason`: absent, not-after, expiring). */
  heldMisses: "detector_held_history_misses_total",
  /** Gauge: keys whose history the detector holds. */
  heldKeys: "detector_held_history_keys",
  /** Counter: keys evicted from the held history for its key budget. */
  heldEvictions: "detector_held_history_evictions_total",
  /** Counter: events the load generator sent (acknowledged by Kafka). */
  eventsSent: "loadgen_events_sent_total",
  /** Counter: events Kafka did not acknowledge. */
  sendFailures: "loadgen_send_failures_total",
  /** Counter: anomalies the load generator injected (label `kind`). */
  anomaliesInjected: "loadgen_anomalies_injected_total",
  /** Histogram (seconds): how far behind schedule a batch was handed to the producer (open loop). */
  sendLatenessSeconds: "loadgen_send_lateness_seconds",
} as const;

export const appMetricLabels = {
  stage: "stage",
  reason: "reason",
  kind: "kind",
} as const;

/** The labels each labelled metric carries (checked against the app's registry by the tests). */
export const appMetricLabelNames: Partial<Record<keyof typeof appMetrics, readonly string[]>> = {
  deadLetters: [appMetricLabels.reason],
  recordsSkipped: [appMetricLabels.reason],
  undecodableBatches: ["topic"],
  errors: [appMetricLabels.stage],
  retries: [appMetricLabels.stage],
  stageSeconds: [appMetricLabels.stage],
  anomaliesInjected: [appMetricLabels.kind],
  consumerLag: ["topic", "partition"],
  heldMisses: [appMetricLabels.reason],
};
