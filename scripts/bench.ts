/**
 * `npm run bench`: how fast the local pipeline is and how close to its limit, on this machine.
 * Writes results/bench/latest.json, charts of the rate search and the spike's lag, and the README's
 * benchmark section. `--smoke` runs a seconds-long version into a scratch folder (the test command's check).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { measureCeiling } from "./bench/ceiling.ts";
import { machineFacts } from "./bench/machine.ts";
import { benchRunSettings, p99BoundMs, searchPipelineRate, spikeRun, tuningGrid } from "./bench/pipeline-trials.ts";
import { benchCharts } from "./report/bench-charts.ts";
import { benchTargets, type BenchResult } from "./bench/bench-result.ts";
import { updateReadmeBenchSection } from "./bench/readme-section.ts";
import { ensureStack, projectRoot } from "./local/stack-control.ts";

const profiles = {
  full: {
    ceiling: { secondsPerStep: 10, concurrencies: [32, 64, 128, 256] },
    search: { startRate: 1000, maxRate: 8000, duration: 30, maxTrials: 6 },
    spike: { factor: 10, warmupSeconds: 10, spikeSeconds: 30, tailSeconds: 240 },
    tuning: {
      duration: 15,
      grid: { detectorConcurrency: [64, 256, 1024], consumersPerProcess: [1, 2], cassandraConnectionsPerHost: [1, 2], partitions: [3, 12], detectors: [1, 2] },
    },
  },
  smoke: {
    ceiling: { secondsPerStep: 2, concurrencies: [16, 64] },
    search: { startRate: 100, maxRate: 100, duration: 5, maxTrials: 1 },
    spike: { factor: 3, warmupSeconds: 2, spikeSeconds: 3, tailSeconds: 8 },
    tuning: { duration: 4, grid: { detectorConcurrency: [64], consumersPerProcess: [], cassandraConnectionsPerHost: [], partitions: [], detectors: [] } },
  },
} as const;

const program = new Command("bench")
  .description("Measure the Cassandra ceiling, the pipeline's highest rate with p99 < 1 s, a 10× spike and the knobs")
  .addOption(new Option("--smoke", "a seconds-long run that checks the benchmark works, not how fast").default(false))
  .addOption(new Option("--output-dir <dir>", "where the JSON and charts go").default(join(projectRoot, "results", "bench")))
  .addOption(new Option("--keys <n>", "distinct keys (ceiling and pipeline alike)").default(benchRunSettings.keys).argParser(Number));

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{ smoke: boolean; outputDir: string; keys: number }>();
  const profile = o.smoke ? profiles.smoke : profiles.full;
  const settings = { ...benchRunSettings, keys: o.keys };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  await ensureStack();

  log("1/4 ceiling: write one event + read the key's previous 50, straight to Cassandra");
  const ceiling = await measureCeiling({
    keys: o.keys,
    ...profile.ceiling,
    keyspace: `bench_ceiling_${Date.now().toString(36)}`,
    onStep: (s) => log(`  concurrency ${s.concurrency}: ${s.opsPerSecond} ops/s, p99 ${s.latencyMs.p99} ms`),
  });

  log(`2/4 pipeline: highest rate with p99 < ${p99BoundMs} ms`);
  const search = await searchPipelineRate({ ...profile.search, settings, log });
  const best = search.best ?? search.trials.reduce((a, b) => (b.checksPerSecond > a.checksPerSecond ? b : a));

  const baseRate = Math.max(50, Math.round(best.rate / (o.smoke ? 1 : 2)));
  log(`3/4 spike: ${profile.spike.factor}× of ${baseRate}/s for ${profile.spike.spikeSeconds} s`);
  const spike = await spikeRun({ baseRate, ...profile.spike, settings });
  log(`  peak lag ${spike.peakLag}, drained in ${spike.drainSeconds} s at ${spike.drainRate} checks/s, lost ${spike.lost}`);

  log("4/4 tuning: one knob at a time, offered 1.5× the sustained rate");
  const tuning = await tuningGrid({ rate: Math.round(best.rate * 1.5), duration: profile.tuning.duration, settings, grid: profile.tuning.grid, log });

  const result: BenchResult = {
    at: new Date().toISOString(),
    profile: o.smoke ? "smoke" : "full",
    machine: machineFacts(),
    settings,
    ceilingOpsPerSecond: ceiling.ceilingOpsPerSecond,
    pipelineChecksPerSecond: best.checksPerSecond,
    pipelineSustainedRate: search.best?.rate ?? null,
    ratio: Math.round((best.checksPerSecond / ceiling.ceilingOpsPerSecond) * 1000) / 1000,
    latencyMs: { p50: best.latencyMs.p50, p99: best.latencyMs.p99, p999: best.latencyMs.p999 },
    cpuSecondsPer1000Checks: best.cpuSecondsPer1000Checks,
    rssMb: best.rssMb,
    spike: {
      lost: spike.lost,
      peakLag: spike.peakLag,
      drainSeconds: spike.drainSeconds,
      drainRate: spike.drainRate,
      drainShareOfCeiling: Math.round((spike.drainRate / ceiling.ceilingOpsPerSecond) * 1000) / 1000,
      p99AfterDrainMs: spike.p99AfterDrainMs,
      baseRate: spike.baseRate,
      factor: spike.factor,
      spikeSeconds: spike.spikeSeconds,
    },
    targets: benchTargets,
    ceiling,
    rateSearch: search.trials,
    tuning,
    spikeSamples: spike.samples,
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  mkdirSync(o.outputDir, { recursive: true });
  const file = join(o.outputDir, "latest.json");
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  await benchCharts(result, o.outputDir);
  if (!o.smoke) updateReadmeBenchSection(result);
  log(`written to ${file} (${result.durationSeconds} s)`);
  const { ceiling: _c, rateSearch: _r, tuning: _t, spikeSamples: _s, settings: _st, ...headline } = result;
  console.log(JSON.stringify(headline, null, 2));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
