/**
 * `npm run bench`: how fast the local pipeline is and how close to its limit, on this machine.
 * Warm-up until the figures settle, then interleaved trials (ceiling, pipeline drain, ceiling, drain …) with
 * min / median / max and the ratio from adjacent pairs, repeating trials disturbed by other load; then the
 * p99-bounded rate searched from the drain rate downwards. Writes results/bench/latest.json, charts and the
 * README's benchmark section. `--smoke` runs a seconds-long version into a scratch folder (the test command's check).
 * `--spike` adds the load spike, twice with the same seed: the overload policy off, then on;
 * `--only-spike` runs that pair alone (~10 min) into its own JSON (spike-overload.json), nothing else.
 * Every full run also drains in both history modes, interleaved (held and read, history-modes.json);
 * `--only-history` runs that alone (~10 min) into history-modes.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { ceilingTrial, type CeilingStep } from "./bench/ceiling.ts";
import { drainTrial, type DrainTrial } from "./bench/drain.ts";
import { interleavedPlan, runInterleaved } from "./bench/interleave.ts";
import { machineFacts } from "./bench/machine.ts";
import { benchRunSettings, p99BoundMs, searchBoundedRate, spikePair, tuningGrid } from "./bench/pipeline-trials.ts";
import { interferenceLimits } from "./bench/proc-cpu.ts";
import { spatialThroughput, spatialThroughputDefaults, type SpatialThroughputSettings } from "./bench/spatial-throughput.ts";
import { benchCharts } from "./report/bench-charts.ts";
import { benchTargets, type BenchResult, type HistoryModesOnlyResult, type SpikeOnlyResult } from "./bench/bench-result.ts";
import { historyModeDrains } from "./bench/history-modes.ts";
import { updateReadmeBenchSection } from "./bench/readme-section.ts";
import { bottleneck, medianOfRecords, pairRatios, spread } from "./bench/stats.ts";
import { warmUp } from "./bench/warmup.ts";
import { ensureStack } from "./local/stack-control.ts";
import { projectRoot } from "./local/locations.ts";

const full = {
  ceiling: { seconds: 20, scanSeconds: 8, concurrencies: [64, 128, 256], warmupConcurrency: 128 },
  drain: { events: 60_000, warmupEvents: 30_000, preloadRate: 20_000 },
  warmup: { minRounds: 2, maxRounds: 5, maxSeconds: 240, tolerance: 0.05 },
  pairs: 4,
  maxRepeats: 3,
  /** Interleaved held/read drain pairs, and a warm-up drain per mode when they run alone. */
  history: { pairs: 3, warmupEvents: 20_000 },
  /** The search starts at this share of the median drain rate (smoke: at a fixed 100/s). */
  search: { startShareOfDrain: 0.9, duration: 20, maxTrials: 5, maxRepeats: 1 },
  spike: { factor: 10, warmupSeconds: 10, spikeSeconds: 30, tailSeconds: 240 },
  /** Each neighbour strategy and the non-spatial detector drain the same hot-spot backlog, interleaved. */
  spatial: { ...spatialThroughputDefaults, duration: 6, repeats: 2 } as Omit<SpatialThroughputSettings, "onProgress">,
  tuning: {
    duration: 15,
    grid: {
      detectorConcurrency: [64, 256, 1024],
      consumersPerProcess: [1, 2],
      cassandraConnectionsPerHost: [1, 2],
      partitions: [3, 12],
      detectors: [1, 2],
    } as Readonly<Record<string, readonly number[]>>,
  },
};

/** Seconds instead of minutes: the full profile with every step shortened and nothing repeated. */
const smoke: typeof full = {
  ceiling: { ...full.ceiling, seconds: 2, scanSeconds: 1, concurrencies: [16, 64], warmupConcurrency: 16 },
  drain: { ...full.drain, events: 3_000, warmupEvents: 1_000, preloadRate: 5_000 },
  warmup: { ...full.warmup, minRounds: 1, maxRounds: 1, maxSeconds: 30 },
  pairs: 1,
  maxRepeats: 0,
  history: { pairs: 1, warmupEvents: 0 },
  search: { ...full.search, duration: 5, maxTrials: 1, maxRepeats: 0 },
  spike: { factor: 3, warmupSeconds: 2, spikeSeconds: 3, tailSeconds: 8 },
  spatial: { ...spatialThroughputDefaults, rate: 500, duration: 2, warmupEvents: 300, repeats: 1 },
  tuning: { duration: 4, grid: { detectorConcurrency: [64] } },
};

const program = new Command("bench")
  .description("Warm up, then interleave Cassandra-ceiling and pipeline-drain trials; then the highest rate with p99 < 1 s")
  .addOption(new Option("--smoke", "a seconds-long run that checks the benchmark works, not how fast").default(false))
  .addOption(new Option("--output-dir <dir>", "where the JSON and charts go").default(join(projectRoot, "results", "bench")))
  .addOption(new Option("--name <file>", "the JSON's file name (latest.json is written as well)").default("latest.json"))
  .addOption(new Option("--keys <n>", "distinct keys (ceiling and pipeline alike)").default(benchRunSettings.keys).argParser(Number))
  .addOption(
    new Option("--pairs <n>", `interleaved ceiling/pipeline pairs (default ${full.pairs}; smoke ${smoke.pairs})`).argParser(Number),
  )
  .addOption(
    new Option("--spike", "also run the 10× load spike twice, the overload policy off and on (Kafka as a buffer, ~10 min)").default(false),
  )
  .addOption(
    new Option(
      "--only-spike",
      "run only the spike pair (overload policy off, then on) into its own JSON; no README, charts or latest.json",
    ).default(false),
  )
  .addOption(
    new Option(
      "--spike-base-rate <n>",
      "with --only-spike: the spike's base rate (default: half the p99-bounded rate in the output dir's latest.json, else 400)",
    ).argParser(Number),
  )
  .addOption(
    new Option("--preload-rate <n>", "events/s of the load generator that preloads each drain's backlog (a busy machine: lower)").argParser(
      Number,
    ),
  )
  .addOption(
    new Option(
      "--only-history",
      "run only the drains in both history modes, interleaved, into history-modes.json; no README, charts or latest.json",
    ).default(false),
  )
  .addOption(new Option("--no-spatial", "leave out the spatial strategies' drains (~5 min)"))
  .addOption(new Option("--tuning", "also run the one-knob-at-a-time tuning grid (~4 min)").default(false));

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{
    smoke: boolean;
    outputDir: string;
    name: string;
    keys: number;
    pairs?: number;
    spike: boolean;
    onlySpike: boolean;
    onlyHistory: boolean;
    preloadRate?: number;
    spikeBaseRate?: number;
    spatial: boolean;
    tuning: boolean;
  }>();
  const profile = o.smoke ? smoke : full;
  const p = o.preloadRate === undefined ? profile : { ...profile, drain: { ...profile.drain, preloadRate: o.preloadRate } };
  const settings = { ...benchRunSettings, keys: o.keys };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  await ensureStack();
  const spikes = (baseRate: number) => {
    log(`spike: ${p.spike.factor}× of ${baseRate}/s for ${p.spike.spikeSeconds} s, the overload policy off, then on`);
    return spikePair({ baseRate, ...p.spike, settings, log });
  };
  if (o.onlySpike) {
    const pair = await spikes(o.spikeBaseRate ?? lastSpikeBaseRate(o.outputDir));
    const result: SpikeOnlyResult = {
      at: new Date().toISOString(),
      profile: o.smoke ? "smoke" : "full",
      machine: machineFacts(),
      settings,
      spike: pair.off,
      spikeWithOverloadPolicy: pair.on,
      durationSeconds: Math.round((Date.now() - started) / 1000),
    };
    const name = o.name === "latest.json" ? "spike-overload.json" : o.name;
    mkdirSync(o.outputDir, { recursive: true });
    writeFileSync(join(o.outputDir, name), `${JSON.stringify(result, null, 2)}\n`);
    log(`written to ${join(o.outputDir, name)} (${result.durationSeconds} s)`);
    return;
  }

  const historyDrains = (warmupEvents: number) =>
    historyModeDrains({ pairs: p.history.pairs, events: p.drain.events, preloadRate: p.drain.preloadRate, warmupEvents, settings, log });
  const writeHistory = (historyModes: Awaited<ReturnType<typeof historyDrains>>) => {
    const result: HistoryModesOnlyResult = {
      at: new Date().toISOString(),
      profile: o.smoke ? "smoke" : "full",
      machine: machineFacts(),
      settings,
      historyModes,
      durationSeconds: Math.round((Date.now() - started) / 1000),
    };
    mkdirSync(o.outputDir, { recursive: true });
    writeFileSync(join(o.outputDir, "history-modes.json"), `${JSON.stringify(result, null, 2)}\n`);
    const { trials: _t, ...headline } = historyModes;
    console.log(JSON.stringify(headline, null, 2));
  };
  if (o.onlyHistory) {
    log(`history modes: ${p.history.pairs} interleaved pairs of drains of ${p.drain.events} events, held and read`);
    writeHistory(await historyDrains(p.history.warmupEvents));
    log(`written to ${join(o.outputDir, "history-modes.json")}`);
    return;
  }

  const ceiling = (concurrency: number, seconds: number) => ceilingTrial({ keys: o.keys, concurrency, seconds });
  const drain = (events: number) => drainTrial({ events, preloadRate: p.drain.preloadRate, settings });
  log("1/4 warm-up: ceiling bursts and drains until checks/s, ops/s and p99 settle");
  const warmup = await warmUp({
    ceiling: () => ceiling(p.ceiling.warmupConcurrency, p.ceiling.seconds),
    drain: () => drain(p.drain.warmupEvents),
    ...p.warmup,
    log,
  });

  log("2/4 ceiling concurrency: write one event + read the key's previous 50, straight to Cassandra");
  const ceilingScan: CeilingStep[] = [];
  for (const c of p.ceiling.concurrencies) {
    const step = await ceiling(c, p.ceiling.scanSeconds);
    ceilingScan.push(step);
    log(`  concurrency ${c}: ${step.opsPerSecond} ops/s, p99 ${step.latencyMs.p99} ms`);
  }
  const concurrency = ceilingScan.reduce((a, b) => (b.opsPerSecond > a.opsPerSecond ? b : a)).concurrency;

  const pairs = o.pairs ?? p.pairs;
  log(`3/4 interleaved: ${pairs} × (ceiling at concurrency ${concurrency}, drain of ${p.drain.events} events)`);
  const { trials, repeats } = await runInterleaved<CeilingStep, DrainTrial>({
    plan: interleavedPlan(pairs),
    ceiling: async () => {
      const s = await ceiling(concurrency, p.ceiling.seconds);
      return { value: s, interference: s.interference };
    },
    pipeline: async () => {
      const d = await drain(p.drain.events);
      return { value: d, interference: d.interference };
    },
    maxRepeats: p.maxRepeats,
    onAttempt: (t, a) => {
      const v = a.value as CeilingStep & DrainTrial;
      const figure = t.kind === "ceiling" ? `${v.opsPerSecond} ops/s` : `${v.checksPerSecond} checks/s`;
      log(
        `  ${t.kind} ${t.pair + 1}: ${figure}, others ${(v.cpu.foreignShare * 100).toFixed(0)} %${a.interference ? ` (disturbed: ${a.interference}; again)` : ""}`,
      );
    },
  });
  const ceilings = trials.filter((t) => t.kind === "ceiling").map((t) => (t.value as CeilingStep).opsPerSecond);
  const drains = trials.filter((t) => t.kind === "pipeline").map((t) => t.value as DrainTrial);
  const drainRates = drains.map((d) => d.checksPerSecond);
  const drainMedian = spread(drainRates, 0).median;
  const cpuPer1000 = medianOfRecords(drains.map((d) => d.cpuSecondsPer1000Checks));

  log(`history modes: ${p.history.pairs} interleaved pairs of drains, held and read`);
  const historyModes = await historyDrains(0);

  const startRate = o.smoke ? 100 : Math.round(drainMedian * p.search.startShareOfDrain);
  log(`4/4 p99-bounded rate: p99 < ${p99BoundMs} ms, from ${startRate}/s downwards`);
  const search = await searchBoundedRate({ startRate, ...p.search, settings, log });
  const best = search.best;

  const spike = o.spike ? await spikes(Math.max(50, Math.round((best?.rate ?? startRate) / 2))) : null;
  if (o.spatial) log("spatial: the hot-spot backlog drained without the spatial check, then by each neighbour strategy");
  const spatial = o.spatial ? await spatialThroughput({ ...p.spatial, onProgress: (line) => log(`  ${line}`) }) : null;
  const tuning = o.tuning
    ? await tuningGrid({ rate: Math.round(drainMedian * 1.2), duration: p.tuning.duration, settings, grid: p.tuning.grid, log })
    : null;

  const result: BenchResult = {
    at: new Date().toISOString(),
    profile: o.smoke ? "smoke" : "full",
    machine: machineFacts(),
    settings,
    warmup,
    ceilingConcurrency: concurrency,
    ceilingScan,
    ceilingOpsPerSecond: spread(ceilings, 0),
    drainChecksPerSecond: spread(drainRates, 0),
    ratio: spread(pairRatios(drainRates, ceilings), 3),
    p99BoundedRate: best?.rate ?? null,
    p99BoundedShareOfDrain: best && drainMedian > 0 ? Math.round((best.rate / drainMedian) * 1000) / 1000 : null,
    latencyMs: best ? { p50: best.latencyMs.p50, p99: best.latencyMs.p99, p999: best.latencyMs.p999 } : null,
    cpuSecondsPer1000Checks: cpuPer1000,
    cpuSecondsPer1000ChecksAtBoundedRate: best?.cpuSecondsPer1000Checks ?? null,
    bottleneck: bottleneck(cpuPer1000),
    detectorMaxRssMiB: Math.max(0, ...drains.map((d) => d.detectorMaxRssMiB)),
    interference: {
      limits: interferenceLimits,
      repeats: repeats + search.repeats,
      maxRepeats: p.maxRepeats + p.search.maxRepeats,
      disturbedKept: trials.filter((t) => t.interfered).length + search.trials.filter((t) => t.interference !== null).length,
    },
    trials,
    rateSearch: search.trials,
    spike: spike?.off ?? null,
    spikeWithOverloadPolicy: spike?.on ?? null,
    spatial,
    historyModes,
    tuning,
    targets: benchTargets,
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  mkdirSync(o.outputDir, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  for (const name of new Set([o.name, "latest.json"])) writeFileSync(join(o.outputDir, name), json);
  writeHistory(historyModes);
  await benchCharts(result, o.outputDir);
  if (!o.smoke) updateReadmeBenchSection(result);
  log(`written to ${join(o.outputDir, o.name)} (${result.durationSeconds} s)`);
  const {
    trials: _t,
    rateSearch: _r,
    ceilingScan: _c,
    settings: _s,
    warmup: _w,
    spike: _sp,
    spikeWithOverloadPolicy: _so,
    spatial: _sa,
    historyModes: _hm,
    tuning: _tu,
    ...headline
  } = result;
  console.log(JSON.stringify(headline, null, 2));
}

/** Half the p99-bounded rate of the last full benchmark in `dir` (what `--spike` would start from), else 400/s. */
function lastSpikeBaseRate(dir: string): number {
  const path = join(dir, "latest.json");
  const rate = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Partial<BenchResult>).p99BoundedRate : null;
  return typeof rate === "number" && rate > 0 ? Math.max(50, Math.round(rate / 2)) : 400;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
