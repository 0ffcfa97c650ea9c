/**
 * `npm run bench:scaling`: what a detector scaling step costs with kafkajs's eager rebalances
 * (scripts/bench/scaling-steps.ts): a second detector joins a draining group, then leaves it. Writes
 * results/bench/scaling-steps.json and a chart of checks/s over the drain with the two steps marked. `--smoke` is
 * the test command's check that it works, into a scratch folder.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { machineFacts } from "./bench/machine.ts";
import { benchRunSettings } from "./bench/pipeline-trials.ts";
import { scalingTrial } from "./bench/scaling-steps.ts";
import { ensureStack } from "./local/stack-control.ts";
import { projectRoot } from "./local/locations.ts";
import { scalingChart } from "./report/scaling-chart.ts";

/**
 * The smoke run's hand-off holds as few records as the run's concurrency allows (the settings refuse less), far
 * fewer than one fetch brings, so both steps meet the first detector with its partitions paused (backpressure):
 * a rebalance then once left them paused for good, and the detector stalled.
 */
const profiles = {
  full: { events: 150_000, preloadRate: 20_000, joinAt: 0.2, leaveAt: 0.55, stepWindowSeconds: 8, rateSeconds: 3, detector: {} },
  smoke: {
    events: 30_000,
    preloadRate: 20_000,
    joinAt: 0.1,
    leaveAt: 0.5,
    stepWindowSeconds: 2,
    rateSeconds: 1,
    detector: { handoffCapacity: benchRunSettings.detectorConcurrency },
  },
};

const program = new Command("bench:scaling")
  .description("A second detector joins a draining consumer group, then leaves it: the stall and the replays of each eager rebalance")
  .addOption(new Option("--smoke", "a short run that checks the benchmark works, not how fast").default(false))
  .addOption(new Option("--output-dir <dir>", "where the JSON and the chart go").default(join(projectRoot, "results", "bench")))
  .addOption(new Option("--events <n>", "the backlog").argParser(Number));

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{ smoke: boolean; outputDir: string; events?: number }>();
  const p = o.smoke ? profiles.smoke : profiles.full;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  await ensureStack();
  log(
    `scaling steps: ${o.events ?? p.events} events; a second detector joins at ${Math.round(p.joinAt * 100)} % checked and leaves at ${Math.round(p.leaveAt * 100)} %`,
  );
  const trial = await scalingTrial({ settings: benchRunSettings, ...p, events: o.events ?? p.events, pollMs: 100, log });
  const result = {
    at: new Date().toISOString(),
    profile: o.smoke ? "smoke" : "full",
    machine: machineFacts(),
    ...trial,
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  mkdirSync(o.outputDir, { recursive: true });
  const file = join(o.outputDir, "scaling-steps.json");
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  await scalingChart(trial, join(o.outputDir, "scaling-steps"));
  for (const s of trial.steps) {
    log(`scale ${s.kind} at ${s.atSeconds} s: longest stall ${s.stallSeconds} s; ${s.rateBefore} checks/s before, ${s.rateAfter} after`);
  }
  log(
    `replayed checks ${trial.replayedChecks} of ${trial.events}; unchecked ${trial.unchecked}; not stored ${trial.notStored}; duplicate rows ${trial.storedRowsMinusEvents}`,
  );
  log(`written to ${file} (${result.durationSeconds} s)`);
  if (trial.unchecked !== 0 || trial.notStored !== 0 || trial.storedRowsMinusEvents !== 0) process.exitCode = 1;
}

await main();
