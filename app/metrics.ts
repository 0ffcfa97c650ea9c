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

export function detectorMetrics(registry: Registry) {
  const r = [registry];
  return {
    consumed: new Counter({ name: "detector_events_consumed_total", help: "Records taken from the events topic", registers: r }),
    written: new Counter({ name: "detector_events_written_total", help: "Events written to Cassandra", registers: r }),
    checked: new Counter({ name: "detector_checks_total", help: "Events checked and their verdict published", registers: r }),
    anomalies: new Counter({ name: "detector_anomalies_total", help: "Verdicts that flagged an anomaly", registers: r }),
    deadLettered: new Counter({
      name: "detector_dead_letters_total",
      help: "Records sent to the dead-letter topic, by reason",
      labelNames: ["reason"] as const,
      registers: r,
    }),
    skipped: new Counter({
      name: "detector_records_skipped_total",
      help: "Records neither checked nor dead-lettered (even the dead-letter publish failed), by reason",
      labelNames: ["reason"] as const,
      registers: r,
    }),
    undecodableBatches: new Counter({
      name: "detector_undecodable_batches_total",
      help: "Record batches the Kafka client could not decode (codec, decompression bound, corruption), set aside as one dead letter each",
      labelNames: ["topic"] as const,
      registers: r,
    }),
    groupJoins: new Counter({
      name: "detector_group_joins_total",
      help: "Consumer group joins (the first, then one per rebalance: each replays what was not committed)",
      registers: r,
    }),
    retries: new Counter({
      name: "detector_retries_total",
      help: "Retries of a transient failure, by stage",
      labelNames: ["stage"] as const,
      registers: r,
    }),
    errors: new Counter({
      name: "detector_errors_total",
      help: "Failures that were not retried, by stage",
      labelNames: ["stage"] as const,
      registers: r,
    }),
    commits: new Counter({ name: "detector_offset_commits_total", help: "Offset commits sent to Kafka", registers: r }),
    endToEnd: new Histogram({
      name: "detector_end_to_end_latency_seconds",
      help: "From the event's time to its verdict being published",
      buckets: latencyBuckets,
      registers: r,
    }),
    stage: new Histogram({
      name: "detector_stage_duration_seconds",
      help: "Duration of each stage of a check (write, read, detect, publish, dead_letter)",
      labelNames: ["stage"] as const,
      buckets: latencyBuckets,
      registers: r,
    }),
    inFlight: new Gauge({ name: "detector_checks_in_flight", help: "Checks running now (pool 2)", registers: r }),
    handoffDepth: new Gauge({
      name: "detector_handoff_depth",
      help: "Records in the hand-off, waiting or running",
      registers: r,
    }),
    pausedPartitions: new Gauge({ name: "detector_paused_partitions", help: "Partitions paused for backpressure", registers: r }),
    lag: new Gauge({
      name: "detector_consumer_lag",
      help: "Records of a partition not yet committed (high watermark minus commit point)",
      labelNames: ["topic", "partition"] as const,
      registers: r,
    }),
  };
}
export type DetectorMetrics = ReturnType<typeof detectorMetrics>;

export function loadgenMetrics(registry: Registry) {
  const r = [registry];
  return {
    sent: new Counter({ name: "loadgen_events_sent_total", help: "Events acknowledged by Kafka", registers: r }),
    failed: new Counter({ name: "loadgen_send_failures_total", help: "Events Kafka did not acknowledge", registers: r }),
    injected: new Counter({
      name: "loadgen_anomalies_injected_total",
      help: "Anomalies injected, by kind",
      labelNames: ["kind"] as const,
      registers: r,
    }),
    lateness: new Histogram({
      name: "loadgen_send_lateness_seconds",
      help: "How far behind its scheduled time a batch was handed to the producer (open loop: the schedule does not wait)",
      buckets: latencyBuckets,
      registers: r,
    }),
    targetRate: new Gauge({ name: "loadgen_target_rate_events_per_second", help: "Scheduled rate now", registers: r }),
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
