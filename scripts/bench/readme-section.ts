/** The README's benchmark section, rendered from results/bench/latest.json so the two cannot disagree. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../local/stack-control.ts";
import type { BenchResult } from "./bench-result.ts";

export const readmePath = join(projectRoot, "README.md");
const begin = "<!-- bench:begin (written by npm run bench from results/bench/latest.json) -->";
const end = "<!-- bench:end -->";

const met = (ok: boolean) => (ok ? "met" : "**missed**");

export function renderBenchSection(r: BenchResult): string {
  const t = r.targets;
  const m = r.machine;
  const rows = [
    ["Cassandra ceiling (write 1 + read 50, no Kafka)", `${r.ceilingOpsPerSecond} ops/s`, "", ""],
    ["Pipeline, highest rate with p99 < 1 s", `${r.pipelineChecksPerSecond} checks/s`, `≥ ${t.pipelineChecksPerSecond}`, met(r.pipelineChecksPerSecond >= t.pipelineChecksPerSecond)],
    ["Pipeline ÷ ceiling", String(r.ratio), `≥ ${t.ratio}`, met(r.ratio >= t.ratio)],
    ["End-to-end latency p50 / p99 / p99.9", `${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.p999} ms`, "p99 < 1000 ms", met(r.latencyMs.p99 < 1000)],
    ["Detector CPU per 1,000 checks", `${r.cpuSecondsPer1000Checks ?? "n/a"} s`, `≤ ${t.cpuSecondsPer1000Checks} s`, met((r.cpuSecondsPer1000Checks ?? Infinity) <= t.cpuSecondsPer1000Checks)],
    ["Detector peak RSS", `${r.rssMb} MB`, `≤ ${t.rssMb} MB`, met(r.rssMb <= t.rssMb)],
    [`Spike ${r.spike.factor}× for ${r.spike.spikeSeconds} s: lost`, String(r.spike.lost), "0", met(r.spike.lost === 0)],
    ["Spike: peak lag, drain time", `${r.spike.peakLag} events, ${r.spike.drainSeconds} s`, "", ""],
    ["Spike: drain rate ÷ ceiling", String(r.spike.drainShareOfCeiling), `≥ ${t.spikeDrainShareOfCeiling}`, met(r.spike.drainShareOfCeiling >= t.spikeDrainShareOfCeiling)],
  ];
  return [
    begin,
    `Measured ${r.at.slice(0, 10)} at revision \`${m.revision}\` on ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ` +
      `Node ${m.node}, Kafka ${m.kafka} and Cassandra ${m.cassandra} on the same machine as the load generator and the detector.`,
    "",
    "| measure | result | target | |",
    "| --- | --- | --- | --- |",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
    "",
    `Best knobs found (one at a time): ${Object.entries(r.tuning.best).map(([k, v]) => `${k} ${v}`).join(", ") || "n/a"}. ` +
      "Charts: `results/bench/rate-search.png`, `results/bench/spike-lag.png`. Reproduce with `npm run bench` (about " +
      `${Math.ceil(r.durationSeconds / 60)} minutes).`,
    end,
  ].join("\n");
}

export function readmeBenchSection(readme: string): string | null {
  const a = readme.indexOf(begin);
  const b = readme.indexOf(end);
  return a === -1 || b === -1 ? null : readme.slice(a, b + end.length);
}

export function updateReadmeBenchSection(r: BenchResult): void {
  const readme = readFileSync(readmePath, "utf8");
  const section = renderBenchSection(r);
  const old = readmeBenchSection(readme);
  writeFileSync(readmePath, old === null ? `${readme.trimEnd()}\n\n## Benchmarks\n\n${section}\n` : readme.replace(old, section));
}
