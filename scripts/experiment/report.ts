/** `report.md`: what ran, a table of the stages, what scaled and what did not, and an earlier experiment beside it. */
import { deriveRows, p99BoundMs, type StageResult } from "./stage-result.ts";

const fmt = (x: number | null | undefined, digits = 0): string =>
  x === null || x === undefined || !Number.isFinite(x)
    ? "–"
    : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

const usd = (r: StageResult): string => (r.cost.total === null ? "–" : `$${fmt(r.cost.total, 2)}${r.cost.partial ? " (partial)" : ""}`);

function stageTable(results: readonly StageResult[]): string[] {
  const rows = deriveRows(results);
  return [
    `| stage | ${results[0]?.stage.sizeUnit ?? "size"} | rate target | checks/s | p50 ms | p99 ms | p99.9 ms | max lag | anomalies | errors | checks/s per core | scaling efficiency | p99 < ${p99BoundMs} ms | cost |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ...rows.map(({ result: r, scalingEfficiency }) => {
      const m = r.metrics;
      const errors = m.errors.detector + m.errors.deadLetters + m.errors.sendFailures;
      return `| ${r.stage.name} | ${r.stage.size} | ${fmt(r.rate.target)} | ${fmt(m.checksPerSecond, 1)} | ${fmt(m.latencyMs.p50, 1)} | ${fmt(m.latencyMs.p99, 1)} | ${fmt(m.latencyMs.p999, 1)} | ${fmt(m.consumerLag.max)} | ${m.anomalies} | ${errors} | ${fmt(r.checksPerSecondPerCore, 1)} | ${fmt(scalingEfficiency, 2)} | ${r.passed ? "yes" : "**no**"} | ${usd(r)} |`;
    }),
  ];
}

function findings(results: readonly StageResult[]): string[] {
  const rows = deriveRows(results);
  const first = rows[0];
  const last = rows.at(-1);
  if (first === undefined || last === undefined) return ["No stage has finished yet."];
  const out: string[] = [];
  if (rows.length > 1) {
    const speedup =
      first.result.metrics.checksPerSecond > 0 ? last.result.metrics.checksPerSecond / first.result.metrics.checksPerSecond : null;
    out.push(
      `- From ${first.result.stage.name} to ${last.result.stage.name} the size grew ${fmt(last.result.stage.size / first.result.stage.size, 1)}× and checks/s ${fmt(speedup, 2)}× (scaling efficiency ${fmt(last.scalingEfficiency, 2)}; 1 is linear).`,
    );
  }
  const failed = rows.filter((r) => !r.result.passed).map((r) => r.result.stage.name);
  out.push(
    failed.length === 0
      ? `- Every stage kept p99 under ${p99BoundMs} ms.`
      : `- p99 was ${p99BoundMs} ms or more (or unknown) in: ${failed.join(", ")}.`,
  );
  const behind = rows.filter(
    (r) => r.result.metrics.sentPerSecond > 0 && r.result.metrics.checksPerSecond < 0.95 * r.result.metrics.sentPerSecond,
  );
  if (behind.length > 0)
    out.push(
      `- The detector fell behind the load (checks/s < 95 % of events sent/s) in: ${behind.map((r) => r.result.stage.name).join(", ")}.`,
    );
  const errors = rows.filter(
    (r) => r.result.metrics.errors.detector + r.result.metrics.errors.deadLetters + r.result.metrics.errors.sendFailures > 0,
  );
  if (errors.length > 0) out.push(`- Errors, dead letters or failed sends in: ${errors.map((r) => r.result.stage.name).join(", ")}.`);
  if (first.result.cores.shared) {
    out.push(
      `- Local target: every tier (Kafka, Cassandra, detectors, load generator, Prometheus) shares the machine's ${first.result.cores.total} cores, so per-core figures are per machine core and efficiency is bounded by the shared CPU, not by the design.`,
    );
  }
  return out;
}

function comparison(results: readonly StageResult[], earlier: readonly StageResult[], earlierId: string): string[] {
  const bySize = new Map(earlier.map((r) => [r.stage.size, r]));
  const lines = [
    `## Compared with ${earlierId}`,
    "",
    "| stage | checks/s now | checks/s then | change | p99 ms now | p99 ms then | same config |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const { result: r } of deriveRows(results)) {
    const then = bySize.get(r.stage.size);
    if (then === undefined) {
      lines.push(`| ${r.stage.name} | ${fmt(r.metrics.checksPerSecond, 1)} | – | – | ${fmt(r.metrics.latencyMs.p99, 1)} | – | – |`);
      continue;
    }
    const change = then.metrics.checksPerSecond > 0 ? (r.metrics.checksPerSecond / then.metrics.checksPerSecond - 1) * 100 : null;
    lines.push(
      `| ${r.stage.name} | ${fmt(r.metrics.checksPerSecond, 1)} | ${fmt(then.metrics.checksPerSecond, 1)} | ${change === null ? "–" : `${change >= 0 ? "+" : ""}${fmt(change, 1)} %`} | ${fmt(r.metrics.latencyMs.p99, 1)} | ${fmt(then.metrics.latencyMs.p99, 1)} | ${r.configHash === then.configHash ? "yes" : "no"} |`,
    );
  }
  const gitThen = [...new Set(earlier.map((r) => r.git.revision))].join(", ");
  lines.push(
    "",
    `Earlier revision: ${gitThen || "–"}; stages only in ${earlierId}: ${
      earlier
        .filter((e) => !results.some((r) => r.stage.size === e.stage.size))
        .map((e) => e.stage.name)
        .join(", ") || "none"
    }.`,
  );
  return lines;
}

export interface ReportInput {
  readonly experimentId: string;
  readonly results: readonly StageResult[];
  /** Stages asked for but not finished (interrupted or failed). */
  readonly pending: readonly string[];
  readonly charts: readonly { readonly title: string; readonly file: string }[];
  readonly compare?: { readonly id: string; readonly results: readonly StageResult[] } | undefined;
}

export function experimentReport(input: ReportInput): string {
  const first = input.results[0];
  const lines = [`# Experiment ${input.experimentId}`, ""];
  if (first !== undefined) {
    lines.push(
      `Target **${first.target}**; ${input.results.length} stage(s) finished; each measured for ${first.window.seconds} s after ${first.window.warmupSeconds} s of warm-up; git ${first.git.revision}${first.git.dirty ? " (with uncommitted changes)" : ""}.`,
      `Figures are read from Prometheus over each stage's measurement window (end-to-end latency from the detector's histogram, so percentiles are interpolated within its buckets).`,
      "",
    );
  }
  if (input.pending.length > 0) lines.push(`Not finished: ${input.pending.join(", ")}.`, "");
  lines.push("## Stages", "", ...stageTable(input.results), "", "## Findings", "", ...findings(input.results), "");
  if (input.charts.length > 0) {
    lines.push("## Charts", "", ...input.charts.map((c) => `![${c.title}](${c.file})`), "");
  }
  if (input.compare !== undefined) lines.push(...comparison(input.results, input.compare.results, input.compare.id), "");
  return `${lines.join("\n")}`;
}
