/**
 * Prometheus metrics and the probe endpoints on one small HTTP server (`appHttpPort`):
 * /metrics, /healthz (liveness: the process is not wedged) and /readyz (readiness: connected and consuming).
 * Durations are histograms in seconds (the reference had last-value gauges in mixed units).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** From 1 ms to 30 s: a check is a few ms when healthy, seconds under backpressure. */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Makers of metrics on one registry: a name, a help text and the label names; every histogram in latencyBuckets. */
function metricsOn(registry: Registry) {
  const registers = [registry];
  return {
    counter: <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers }),
    gauge: <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers }),
    histogram: <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Histogram<L>({ name, help, labelNames, buckets: latencyBuckets, registers }),
  };
}

export function detectorMetrics(registry: Registry) {
  const { counter, gauge, histogram } = metricsOn(registry);
  return {
    consumed: counter("detector_events_consumed_total", "Records taken from the events topic"),
    written: counter("detector_events_written_total", "Events written to Cassandra"),
    checked: counter("detector_checks_total", "Events checked and their verdict published"),
    anomalies: counter("detector_anomalies_total", "Verdicts that flagged an anomaly"),
    deadLettered: counter("detector_dead_letters_total", "Records sent to the dead-letter topic, by reason", ["reason"]),
    skipped: counter(
      "detector_records_skipped_total",
      "Records neither checked nor dead-lettered (even the dead-letter publish failed), by reason",
      ["reason"],
    ),
    undecodableBatches: counter(
      "detector_undecodable_batches_total",
      "Record batches the Kafka client could not decode (codec, decompression bound, corruption), set aside as one dead letter each",
      ["topic"],
    ),
    groupJoins: counter(
      "detector_group_joins_total",
      "Consumer group joins (the first, then one per rebalance: each replays what was not committed)",
    ),
    retries: counter("detector_retries_total", "Retries of a transient failure, by stage", ["stage"]),
    errors: counter("detector_errors_total", "Failures that were not retried, by stage", ["stage"]),
    commits: counter("detector_offset_commits_total", "Offset commits sent to Kafka"),
    endToEnd: histogram("detector_end_to_end_latency_seconds", "From the event's time to its verdict being published"),
    stage: histogram("detector_stage_duration_seconds", "Duration of each stage of a check (write, read, detect, publish, dead_letter)", [
      "stage",
    ]),
    historyReads: counter(
      "detector_history_reads_total",
      "History reads from Cassandra (per check in read mode; only on a miss with held history)",
    ),
    heldHits: counter("detector_held_history_hits_total", "Checks whose history the detector held (no Cassandra read)"),
    heldMisses: counter(
      "detector_held_history_misses_total",
      "Checks whose history the detector did not hold, by reason: absent (first in this process, after a rebalance or an eviction), not-after (a replayed or late event), expiring (near the rows' TTL)",
      ["reason"],
    ),
    heldKeys: gauge("detector_held_history_keys", "Keys whose history the detector holds"),
    heldEvictions: counter("detector_held_history_evictions_total", "Keys evicted from the held history for the key budget"),
    inFlight: gauge("detector_checks_in_flight", "Checks running now (pool 2)"),
    concurrencyLimit: gauge(
      "detector_concurrency_limit",
      "Checks allowed in flight now (pool 2): the fixed setting, or the adaptive limit",
    ),
    handoffDepth: gauge("detector_handoff_depth", "Records in the hand-off, waiting or running"),
    pausedPartitions: gauge("detector_paused_partitions", "Partitions paused for backpressure"),
    lag: gauge("detector_consumer_lag", "Records of a partition not yet committed (high watermark minus commit point)", [
      "topic",
      "partition",
    ]),
    backlogAge: gauge(
      "detector_backlog_age_seconds",
      "Now minus the Kafka timestamp of the most recently taken record: how far behind the detector is",
    ),
    deferredChecks: counter(
      "detector_checks_deferred_total",
      "Overload policy: checks started after a priority key's check that became ready later (deferred, never dropped)",
    ),
    overloadActive: gauge(
      "detector_overload_active",
      "Overload policy: 1 while the backlog's age is past the bound and priority keys go first, else 0",
    ),
    priorityKeys: gauge("detector_priority_keys", "Overload policy: keys flagged within the priority window (the priority keys)"),
  };
}
export type DetectorMetrics = ReturnType<typeof detectorMetrics>;

export function loadgenMetrics(registry: Registry) {
  const { counter, gauge, histogram } = metricsOn(registry);
  return {
    sent: counter("loadgen_events_sent_total", "Events acknowledged by Kafka"),
    failed: counter("loadgen_send_failures_total", "Events Kafka did not acknowledge"),
    injected: counter("loadgen_anomalies_injected_total", "Anomalies injected, by kind", ["kind"]),
    lateness: histogram(
      "loadgen_send_lateness_seconds",
      "How far behind its scheduled time a batch was handed to the producer (open loop: the schedule does not wait)",
    ),
    targetRate: gauge("loadgen_target_rate_events_per_second", "Scheduled rate now"),
  };
}

export function newRegistry(defaultLabels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface Probes {
  /** Liveness: false only when the process should be restarted. */
  live(): boolean;
  /** Readiness: connected and doing its work. */
  ready(): boolean;
}

/** Serves /metrics, /healthz and /readyz. Resolves with the port once listening (port 0: any free one). */
export async function serveMetrics(registry: Registry, probes: Probes, port: number): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    } else if (path === "/healthz" || path === "/readyz") {
      const ok = path === "/healthz" ? probes.live() : probes.ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" });
      res.end(ok ? "ok\n" : "not ok\n");
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => resolve());
  });
  server.unref(); // never the reason the process stays up
  return { port: (server.address() as AddressInfo).port, server };
}
