/** The CSV of all stages: one row per stage, sorted by size, with the derived efficiencies. */
import { deriveRows, type DerivedRow, type StageResult } from "../experiment/stage-result.ts";

export const csvColumns = [
  "experiment",
  "target",
  "stage",
  "size",
  "size_unit",
  "cassandra_nodes",
  "kafka_brokers",
  "partitions",
  "detector_processes",
  "cores_total",
  "rate_mode",
  "rate_target",
  "checks_per_s",
  "sent_per_s",
  "p50_ms",
  "p99_ms",
  "p999_ms",
  "lag_max",
  "lag_end",
  "anomalies",
  "errors",
  "dead_letters",
  "send_failures",
  "detector_cpu_cores",
  "checks_per_s_per_core",
  "scaling_efficiency",
  "per_core_efficiency",
  "passed",
  "cost_usd",
  "cost_partial",
  "config_hash",
  "git_revision",
] as const;

const round = (x: number | null, digits: number): number | null => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/** RFC 4180: quote a field that holds a comma, a quote or a line break; double its quotes. */
export const csvField = (v: string | number | boolean | null): string => {
  const s = v === null ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

export function csvRow(row: DerivedRow): (string | number | boolean | null)[] {
  const r = row.result;
  const m = r.metrics;
  const values: Record<(typeof csvColumns)[number], string | number | boolean | null> = {
    experiment: r.experimentId,
    target: r.target,
    stage: r.stage.name,
    size: r.stage.size,
    size_unit: r.stage.sizeUnit,
    cassandra_nodes: r.sizes.cassandraNodes,
    kafka_brokers: r.sizes.kafkaBrokers,
    partitions: r.sizes.partitions,
    detector_processes: r.sizes.detectorProcesses,
    cores_total: r.cores.total,
    rate_mode: r.rate.mode,
    rate_target: r.rate.target,
    checks_per_s: round(m.checksPerSecond, 1),
    sent_per_s: round(m.sentPerSecond, 1),
    p50_ms: m.latencyMs.p50,
    p99_ms: m.latencyMs.p99,
    p999_ms: m.latencyMs.p999,
    lag_max: m.consumerLag.max,
    lag_end: m.consumerLag.end,
    anomalies: m.anomalies,
    errors: m.errors.detector,
    dead_letters: m.errors.deadLetters,
    send_failures: m.errors.sendFailures,
    detector_cpu_cores: round(m.detectorCpuCores, 3),
    checks_per_s_per_core: round(r.checksPerSecondPerCore, 2),
    scaling_efficiency: round(row.scalingEfficiency, 3),
    per_core_efficiency: round(row.perCoreEfficiency, 3),
    passed: r.passed,
    cost_usd: round(r.cost.total, 2),
    cost_partial: r.cost.partial,
    config_hash: r.configHash,
    git_revision: r.git.revision + (r.git.dirty ? "+dirty" : ""),
  };
  return csvColumns.map((c) => values[c]);
}

export function resultsCsv(results: readonly StageResult[]): string {
  const lines = [csvColumns.join(","), ...deriveRows(results).map((row) => csvRow(row).map(csvField).join(","))];
  return `${lines.join("\n")}\n`;
}
