/** The README's benchmark section, rendered from results/bench/latest.json so the two cannot disagree. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../local/locations.ts";
import type { BenchResult } from "./bench-result.ts";
import type { HistoryModesResult } from "./history-modes.ts";
import type { ClassLatency } from "./key-class-latency.ts";
import type { SpikeResult } from "./pipeline-trials.ts";
import type { Spread } from "./stats.ts";

export const readmePath = join(projectRoot, "README.md");
const begin = "<!-- bench:begin (written by npm run bench from results/bench/latest.json) -->";
const end = "<!-- bench:end -->";

const met = (ok: boolean) => (ok ? "met" : "**missed**");
const fmt = (s: Spread, unit = "") => `${s.median}${unit} (${s.min} – ${s.max}, n = ${s.n})`;
const processOrder = ["detector", "loadgen", "kafka", "cassandra", "bench"];

export function renderBenchSection(r: BenchResult): string {
  const t = r.targets;
  const m = r.machine;
  const cpu = r.cpuSecondsPer1000Checks;
  const detectorCpu = cpu.detector ?? Number.POSITIVE_INFINITY;
  const rows = [
    ["Cassandra ceiling (write 1 + read 50, no Kafka), ops/s", fmt(r.ceilingOpsPerSecond), "", ""],
    [
      "Pipeline drain rate (preloaded backlog, saturated), checks/s",
      fmt(r.drainChecksPerSecond),
      `≥ ${t.pipelineChecksPerSecond}`,
      met(r.drainChecksPerSecond.median >= t.pipelineChecksPerSecond),
    ],
    ["Pipeline ÷ ceiling (adjacent pairs)", fmt(r.ratio), `≥ ${t.ratio}`, met(r.ratio.median >= t.ratio)],
    [
      "Highest offered rate with p99 < 1 s, events/s",
      r.p99BoundedRate === null ? "none passed" : `${r.p99BoundedRate} (${r.p99BoundedShareOfDrain} of the drain rate)`,
      "",
      "",
    ],
    [
      "End-to-end latency p50 / p99 / p99.9 at that rate",
      r.latencyMs ? `${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.p999} ms` : "n/a",
      "p99 < 1000 ms",
      met((r.latencyMs?.p99 ?? Infinity) < 1000),
    ],
    [
      "Detector CPU per 1,000 checks (saturated)",
      `${cpu.detector ?? "n/a"} s`,
      `≤ ${t.cpuSecondsPer1000Checks} s`,
      met(detectorCpu <= t.cpuSecondsPer1000Checks),
    ],
    ["Detector peak RSS (saturated)", `${r.detectorMaxRssMiB} MiB`, `≤ ${t.rssMb} MiB`, met(r.detectorMaxRssMiB <= t.rssMb)],
  ];
  const sp = r.spike;
  if (sp !== null) {
    rows.push(
      [`Spike ${sp.factor}× of ${sp.baseRate}/s for ${sp.spikeSeconds} s: lost`, String(sp.lost), "0", met(sp.lost === 0)],
      ["Spike: peak lag, drain time, drain rate", `${sp.peakLag} events, ${sp.drainSeconds} s, ${sp.drainRate} checks/s`, "", ""],
    );
  }
  rows.push(...overloadRows(sp, r.spikeWithOverloadPolicy ?? null));
  const cpuLine = processOrder
    .filter((p) => cpu[p] !== undefined)
    .map((p) => `${p} ${cpu[p]} s`)
    .join(", ");
  const i = r.interference;
  return [
    begin,
    `Measured ${r.at.slice(0, 10)} at revision \`${m.revision}\` on ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ` +
      `Node ${m.node}, Kafka ${m.kafka} and Cassandra ${m.cassandra} on the same machine as the load generator and the detector. ` +
      `After a warm-up of ${r.warmup.rounds.length} rounds (${r.warmup.seconds} s, ${r.warmup.settled ? "settled" : "not settled within its bound"}), ` +
      `ceiling and pipeline trials ran interleaved; figures are median (min – max).`,
    "",
    "| measure | result | target | |",
    "| --- | --- | --- | --- |",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
    "",
    `CPU seconds per 1,000 checks at saturation, per process: ${cpuLine} (loadgen per 1,000 events produced; bench is the harness). ` +
      `The largest share is ${r.bottleneck.process}'s (${Math.round(r.bottleneck.share * 100)} % of the pipeline's CPU per check), so on this machine it bounds the pipeline.`,
    "",
    `Trials repeated because other processes used the machine (> ${Math.round(i.limits.maxForeignShare * 100)} % of its CPU outside ours): ` +
      `${i.repeats} (at most ${i.maxRepeats}); kept although disturbed: ${i.disturbedKept}.`,
    "",
    ...historyModesLines(r.historyModes ?? null),
    ...spatialLines(r),
    "Absolute figures differ between machines by several times; compare the ratios measured within one run " +
      "(pipeline ÷ ceiling, p99-bounded rate ÷ drain rate) and CPU seconds per 1,000 checks, not checks/s across machines. " +
      `Charts: \`results/bench/trials.png\`, \`results/bench/rate-search.png\`${r.spike ? ", `results/bench/spike-lag.png`" : ""}. Reproduce with \`npm run bench${r.spike ? " -- --spike" : ""}\` (about ` +
      `${Math.ceil(r.durationSeconds / 60)} minutes).`,
    end,
  ].join("\n");
}

/** The spike with the overload policy on against the same spike with it off; none for older results. */
function overloadRows(off: SpikeResult | null, on: SpikeResult | null): string[][] {
  const a = off?.overload;
  const b = on?.overload;
  if (!on || !a || !b) return [];
  const lat = (c: ClassLatency) => `${c.p50Ms} / ${c.p99Ms} ms`;
  const share = Math.round((b.latency.priority.checks / Math.max(1, b.latency.priority.checks + b.latency.others.checks)) * 100);
  return [
    [
      `Spike with the overload policy (priority keys first past ${b.ageBoundMs / 1000} s of backlog age): lost, deferred checks`,
      `${on.lost}, ${b.deferredChecks} deferred`,
      "0 lost",
      met(on.lost === 0),
    ],
    [
      `Spike, policy off → on: p50 / p99 of priority keys' checks (${share} % of them), of the others'; priority keys' mean completion rank (0 first, 1 last)`,
      `${lat(a.latency.priority)} → ${lat(b.latency.priority)}; ${lat(a.latency.others)} → ${lat(b.latency.others)}; ${a.latency.priority.meanRank} → ${b.latency.priority.meanRank}`,
      "",
      "",
    ],
  ];
}

/** The drain with held history against a read every check (DETECTOR_HISTORY), interleaved; none for older results. */
export function historyModesLines(h: HistoryModesResult | null): string[] {
  if (h === null) return [];
  const t = h.targets;
  const r = h.heldOverRead;
  const held = h.modes.held;
  const cell = (s: Spread) => `${s.median} (${s.min} – ${s.max})`;
  return [
    `History modes (\`DETECTOR_HISTORY\`): ${h.pairs} interleaved pairs of drains of ${h.events} events, held history and a read every check; ` +
      `${h.disturbed} of ${h.trials.length} drains ran while other processes used the machine.`,
    "",
    "| mode | checks/s | detector CPU s per 1,000 checks | Cassandra CPU s per 1,000 checks | detector peak RSS |",
    "| --- | --- | --- | --- | --- |",
    ...(["held", "read"] as const).map((m) => {
      const f = h.modes[m];
      return `| ${m} | ${cell(f.checksPerSecond)} | ${cell(f.detectorCpuSecondsPer1000Checks)} | ${cell(f.cassandraCpuSecondsPer1000Checks)} | ${f.detectorMaxRssMiB} MiB |`;
    }),
    "",
    "| held ÷ read (per pair) | result | target | |",
    "| --- | --- | --- | --- |",
    `| checks/s | ${fmt(r.checksPerSecond)} | ≥ ${t.checksPerSecondRatio} | ${met(r.checksPerSecond.median >= t.checksPerSecondRatio)} |`,
    `| Cassandra CPU per check | ${fmt(r.cassandraCpuPerCheck)} | ≤ ${t.cassandraCpuRatio} | ${met(r.cassandraCpuPerCheck.median <= t.cassandraCpuRatio)} |`,
    `| held: detector CPU per 1,000 checks | ${fmt(held.detectorCpuSecondsPer1000Checks, " s")} | ≤ ${t.detectorCpuSecondsPer1000Checks} s | ${met(held.detectorCpuSecondsPer1000Checks.median <= t.detectorCpuSecondsPer1000Checks)} |`,
    "",
  ];
}

// Floored, so 99.98 % does not show as 100 %.
const pct = (x: number | null) => (x === null ? "n/a" : `${Math.floor(x * 10_000) / 100} %`);

/** The spatial modes' drain of one hot-spot backlog, relative to the non-spatial detector's. */
function spatialLines(r: BenchResult): string[] {
  if (r.spatial === null) return [];
  const st = r.spatial.settings;
  return [
    `Spatial check (\`--spatial\`): each mode drained the same backlog of ${st.rate * st.duration} located events (hot spots, drones with altitude, ` +
      `injected anomalies), interleaved over ${st.repeats} repeat(s); one detector, concurrency ${st.detectorConcurrency}.`,
    "",
    "| mode | checks/s | ÷ non-spatial | precision | recall | mean / max widening rounds | searches proved exact (not cut at the candidate limit) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...r.spatial.modes.map((m) => {
      const c = m.checksPerSecond;
      const sc = m.score;
      const cells =
        sc === null
          ? ["", "", "", ""]
          : [pct(sc.precision), pct(sc.recall), `${Math.round(sc.rounds.mean * 10) / 10} / ${sc.rounds.max}`, pct(sc.untruncatedShare)];
      return `| ${m.mode} | ${Math.round(c.median)} (${Math.round(c.min)} – ${Math.round(c.max)}) | ${m.relativeToOff === null ? "n/a" : Math.round(m.relativeToOff * 100) / 100} | ${cells.join(" | ")} |`;
    }),
    "",
  ];
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
