/**
 * `npm run bench:concurrency`: adaptive concurrency against the fixed grid at two Cassandra capacities
 * (scripts/bench/concurrency-grid.ts). Writes results/bench/concurrency-grid.json and two charts:
 * drain rate per setting and capacity, and the adaptive limit over time. `--smoke` is the test command's check
 * that it works (one short repeat, two fixed settings), into a scratch folder.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { planning } from "../cdk/size/size-plan.ts";
import { allCpus, concurrencyGrid, type CassandraCapacity, type GridSetting } from "./bench/concurrency-grid.ts";
import { machineFacts } from "./bench/machine.ts";
import { benchRunSettings, p99BoundMs } from "./bench/pipeline-trials.ts";
import { concurrencyCharts } from "./report/concurrency-charts.ts";
import { ensureStack } from "./local/stack-control.ts";
import { projectRoot } from "./local/locations.ts";

const fixed = (n: number): GridSetting => ({ name: `fixed ${n}`, mode: "fixed", concurrency: n });
/** Adaptive starts where the size plan's fixed setting was: the plan's figure becomes the starting point. */
const adaptive: GridSetting = {
  name: `adaptive from ${planning.detectorConcurrency}`,
  mode: "adaptive",
  concurrency: planning.detectorConcurrency,
};
const capacities: CassandraCapacity[] = [
  { name: "cassandra-1-core", cpus: "0" },
  { name: "cassandra-all-cores", cpus: allCpus() },
];

/**
 * Keys: more than the largest setting's checks in flight (one per key at a time). With the local run's 300 keys
 * at most 300 checks could be in flight, so fixed 1,024 and an adaptive limit above 300 were one setting.
 * Fixed 16 (a quarter of fixed 64's rate here) is left out of the full grid: its drains took minutes and told
 * nothing new.
 */
const profiles = {
  full: {
    grid: [fixed(64), fixed(256), fixed(1024), adaptive],
    keys: 2_000,
    calibrationEvents: 60_000,
    windowSeconds: 20,
    preloadRate: 20_000,
    repeats: 3,
  },
  smoke: {
    grid: [fixed(16), fixed(64), adaptive],
    keys: benchRunSettings.keys,
    calibrationEvents: 2_000,
    windowSeconds: 0.5,
    preloadRate: 5_000,
    repeats: 1,
  },
};

const program = new Command("bench:concurrency")
  .description("Adaptive concurrency vs fixed concurrencies, drains at two Cassandra capacities (taskset)")
  .addOption(new Option("--smoke", "a short run that checks the benchmark works, not how fast").default(false))
  .addOption(new Option("--output-dir <dir>", "where the JSON and charts go").default(join(projectRoot, "results", "bench")))
  .addOption(new Option("--repeats <n>", "repeats of the interleaved settings per capacity").argParser(Number))
  .addOption(new Option("--window-seconds <s>", "seconds the fastest setting spends between each drain's marks").argParser(Number))
  .addOption(new Option("--keys <n>", "distinct keys in the backlog").argParser(Number))
  .addOption(new Option("--capacity <name>", "run one Cassandra capacity only").choices(capacities.map((c) => c.name)));

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{
    smoke: boolean;
    outputDir: string;
    repeats?: number;
    windowSeconds?: number;
    keys?: number;
    capacity?: string;
  }>();
  const p = o.smoke ? profiles.smoke : profiles.full;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  await ensureStack();
  const keys = o.keys ?? p.keys;
  const windowSeconds = o.windowSeconds ?? p.windowSeconds;
  log(`concurrency grid: ${p.grid.map((g) => g.name).join(", ")}; ${keys} keys; backlogs of ${windowSeconds} s at the fastest setting`);
  const grid = await concurrencyGrid({
    settings: { ...benchRunSettings, keys },
    grid: p.grid,
    capacities: capacities.filter((c) => o.capacity === undefined || c.name === o.capacity),
    calibrationEvents: p.calibrationEvents,
    windowSeconds,
    preloadRate: p.preloadRate,
    repeats: o.repeats ?? p.repeats,
    shareNeeded: 0.95,
    p99BoundMs,
    log,
  });
  const result = {
    at: new Date().toISOString(),
    profile: o.smoke ? "smoke" : "full",
    machine: machineFacts(),
    ...grid,
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  mkdirSync(o.outputDir, { recursive: true });
  const file = join(o.outputDir, "concurrency-grid.json");
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  await concurrencyCharts(grid, o.outputDir);
  for (const c of grid.capacities) {
    const pairs =
      c.adaptivePairRatios === null
        ? ""
        : `, per repeat ${c.adaptivePairRatios.median} (${c.adaptivePairRatios.min} – ${c.adaptivePairRatios.max})`;
    log(
      `${c.capacity}: best fixed ${c.bestFixed ?? "none with p99 < 1 s"}; adaptive ÷ best ${c.adaptiveShareOfBest ?? "n/a"}${pairs} (needs ≥ ${grid.shareNeeded}): ${c.met ? "met" : "missed"}`,
    );
  }
  log(`written to ${file} (${result.durationSeconds} s)`);
}

await main();
