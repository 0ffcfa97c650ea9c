/**
 * `npm run local`: the whole pipeline on this machine, for real. Starts the local Kafka + Cassandra if needed,
 * runs the load generator and the detector (the container's commands) for --duration seconds with a live
 * progress line, then verifies from Cassandra and the checks topic and writes results/local/summary.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { z } from "zod";
import { detectorSettings, loadgenSettings, type DetectorConfig } from "../app/config.ts";
import { plainDecimal } from "./cli-number.ts";
import { detectorHeapModes } from "./local/detector-memory.ts";
import { spatialThroughputDefaults, spatialTrial } from "./bench/spatial-throughput.ts";
import {
  localRunDefaults,
  passCriteria,
  runLocalPipeline,
  runPassed,
  type LocalRunSummary,
  type ProgressSample,
} from "./local/pipeline-run.ts";
import { clusterNodeCounts, clusterTarget } from "./local/local-cluster.ts";
import { singleNodeTarget } from "./local/local-target.ts";
import { projectRoot } from "./local/locations.ts";
import { usageErrorExitCode } from "../app/cli-exit.ts";

/** Exit status for bad flags or values (and commander's own errors); nothing has started then. */

/** A bad flag or value; the message names the flag as given and what is allowed. */
export class LocalUsageError extends Error {
  override name = "LocalUsageError";
}

/** A setting's check: its allowed values as words, and its schema. */
interface Check {
  readonly allowed: string;
  readonly schema: z.ZodType<unknown, string>;
}

/**
 * The app's settings a local run passes on to its processes, under the app's own flags and help (app/config.ts):
 * `npm run local -- --concurrency 512` means what `node app/main.ts detector --concurrency 512` means.
 */
const passedOn = {
  rate: loadgenSettings.rate,
  keys: loadgenSettings.keys,
  keyDistribution: loadgenSettings.keyDistribution,
  spikeProbability: loadgenSettings.spikeProbability,
  shiftProbability: loadgenSettings.shiftProbability,
  partitions: loadgenSettings.partitions,
  consumersPerProcess: detectorSettings.consumersPerProcess,
  detectorConcurrency: detectorSettings.detectorConcurrency,
  cassandraConnectionsPerHost: detectorSettings.cassandraConnectionsPerHost,
  tracingSampleRatio: loadgenSettings.tracingSampleRatio,
} as const satisfies Partial<Record<keyof typeof localRunDefaults, Check & { readonly flag: string; readonly help: string }>>;
type PassedOn = { -readonly [K in keyof typeof passedOn]: (typeof localRunDefaults)[K] };

const localRange = (min: number, max: number, kind: "integer" | "decimal"): Check => ({
  allowed: `${kind === "integer" ? "an integer" : "a number"} from ${String(min)} to ${String(max)}`,
  schema: z.string().transform(Number).pipe(z.number().min(min).max(max)),
});
// A bound against typos only: each detector is a whole process with its own connections on this one machine
// (the local experiment's stages stop much earlier, at localMachine.maxDetectorProcesses).
const maxLocalDetectors = 64;
const detectorsRange = localRange(1, maxLocalDetectors, "integer");
// A local run ends: 0 (the load generator's "until stopped") would never reach the verification.
const durationRange = localRange(1, 86_400, "decimal");
const warmupRange = localRange(0, 3_600, "decimal");
/**
 * A just-started stack and detector run several times slower for their first seconds (the servers' hot paths
 * not yet compiled, caches and the detector's held history empty); a run measures the pipeline after that.
 */
export const localWarmupSeconds = 30;
// A detector does not start in less; the top is this machine's memory, well above any pod's.
const memoryRange = localRange(64, 16_384, "integer");
const nodeCounts: Check = {
  allowed: `1 (the shared single-node stack) or an integer from ${clusterNodeCounts.min} to ${clusterNodeCounts.max} (the cluster shaped like the cloud's)`,
  schema: z
    .string()
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .refine((n) => n === 1 || (n >= clusterNodeCounts.min && n <= clusterNodeCounts.max)),
    ),
};
const heapModes: Check = { allowed: detectorHeapModes.join(" or "), schema: z.enum(detectorHeapModes) };

/**
 * A commander argParser: a number as plain decimal text (the setting's schema then checks kind and range), any
 * other value by the schema alone; the message gives what is allowed.
 */
const strictValue =
  (check: Check, numeric: boolean) =>
  (raw: string): unknown => {
    const parsed = check.schema.safeParse(raw);
    if ((numeric && !plainDecimal.test(raw)) || !parsed.success) {
      // Commander prefixes "option '<flag> <arg>' argument '<value>' is invalid."
      throw new InvalidArgumentError(
        `allowed: ${check.allowed}${numeric ? ", written as plain decimal digits (no sign, hex, exponent or blanks)" : ""}`,
      );
    }
    return numeric ? Number(raw) : parsed.data;
  };

const d = localRunDefaults;
const option = (flag: string, help: string, check: Check, value: number | string) =>
  new Option(flag, help).default(value).argParser(strictValue(check, typeof value === "number"));

/** The flags: the passed-on settings (and their names as commander keeps them), then the local run's own. */
function localCommand(): { command: Command; keys: ReadonlyMap<string, keyof PassedOn> } {
  const command = new Command("local").description(
    "Run the load generator and the detector against the local Kafka + Cassandra, then verify",
  );
  const keys = new Map<string, keyof PassedOn>();
  command.addOption(option(loadgenSettings.duration.flag, "seconds of the measured window (after the warm-up)", durationRange, d.duration));
  command.addOption(
    option(
      "--warmup <seconds>",
      "seconds of load at the same rate before the measured window (checked and verified, its latency reported apart)",
      warmupRange,
      localWarmupSeconds,
    ),
  );
  for (const [key, s] of Object.entries(passedOn) as [keyof PassedOn, (typeof passedOn)[keyof PassedOn]][]) {
    const o = option(s.flag, s.help, s, d[key]);
    keys.set(o.attributeName(), key);
    command.addOption(o);
  }
  command
    .addOption(option("--detectors <n>", "detector processes", detectorsRange, d.detectors))
    .addOption(
      option(
        "--nodes <n>",
        "Kafka brokers and Cassandra nodes: 1, the shared stack, or the cluster of `npm run stack -- start --nodes <n>`",
        nodeCounts,
        1,
      ),
    )
    .addOption(
      option(
        "--spatial <strategy>",
        `${detectorSettings.spatialStrategy.help}; on, the run sends the hot-spot workload (located events, injected spatial anomalies) to one detector with that strategy and scores the spatial verdicts`,
        detectorSettings.spatialStrategy,
        detectorSettings.spatialStrategy.default,
      ),
    )
    .addOption(
      new Option(
        "--detector-memory-mib <n>",
        "run each detector in a cgroup with this memory limit, as its pod (needs root); a detector that dies is started again",
      ).argParser(strictValue(memoryRange, true)),
    )
    .addOption(
      option(
        "--detector-heap <mode>",
        "with --detector-memory-mib: from-limit sets --max-old-space-size from the limit as the charts do; node-default leaves it to Node",
        heapModes,
        "from-limit",
      ),
    )
    .addOption(new Option("--output <file>", "summary file").default(join(projectRoot, "results", "local", "summary.json")))
    .addOption(new Option("--keep", "keep the run's keyspace and topics afterwards").default(false))
    .showSuggestionAfterError(true);
  return { command, keys };
}

export type LocalArgs = PassedOn & {
  duration: number;
  warmup: number;
  detectors: number;
  nodes: number;
  output: string;
  keep: boolean;
  spatial: DetectorConfig["spatialStrategy"];
  detectorMemoryMib?: number;
  detectorHeap: (typeof detectorHeapModes)[number];
};

/**
 * The flags of `npm run local` (without the node and script arguments), or "help" after --help printed the
 * usage to `out`. Throws LocalUsageError with commander's message for a bad value or an unknown flag (with the
 * closest flag), naming the flag as given.
 */
export function parseLocalArgs(argv: readonly string[], out: (text: string) => void = () => undefined): LocalArgs | "help" {
  const { command, keys } = localCommand();
  command.exitOverride().configureOutput({ writeOut: out, writeErr: () => undefined });
  try {
    command.parse([...argv], { from: "user" });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.code === "commander.helpDisplayed" || e.code === "commander.help") return "help";
    throw new LocalUsageError(e.message.replace(/^error: /, ""));
  }
  const opts = command.opts<Record<string, unknown>>();
  return Object.fromEntries(Object.entries(opts).map(([attribute, v]) => [keys.get(attribute) ?? attribute, v])) as LocalArgs;
}

function progressLine(p: ProgressSample): void {
  const line =
    `${p.elapsedSeconds.toFixed(0).padStart(4)} s  sent ${p.sent} (${p.sentPerSecond}/s)  ` +
    `checked ${p.checked} (${p.checkedPerSecond}/s)  lag ${p.backlog}  p99 ${p.p99Ms} ms`;
  process.stdout.write(process.stdout.isTTY ? `\r${line}   ` : `${line}\n`);
}

/** The per-kind, per-size detection table and the false-alarm rate, for people. */
function detectionTable(s: LocalRunSummary): string {
  const rows = s.bySize.map(
    (b) =>
      `${b.kind.padEnd(6)} ${b.bucket.padEnd(7)} ${String(b.detected).padStart(5)}/${String(b.injected).padEnd(5)} ` +
      `recall ${b.recall.toFixed(3)}  median delay ${b.medianDelayEvents ?? "-"} events`,
  );
  return [
    ...rows,
    `false alarms ${s.falsePositives} in ${s.inControlChecks} in-control checks (${s.falseAlarmsPer1000Checks} per 1,000); precision ${s.precision}`,
    `shifts too near the end to tell (in no recall): ${s.censoredShifts}`,
  ].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed: LocalArgs | "help";
  try {
    parsed = parseLocalArgs(argv, (text) => process.stdout.write(text));
  } catch (e) {
    if (!(e instanceof LocalUsageError)) throw e;
    console.error(`error: ${e.message}`);
    return usageErrorExitCode;
  }
  if (parsed === "help") return 0;
  const o = parsed;
  console.log(
    `${o.rate} events/s for ${o.warmup} s of warm-up, then ${o.duration} s measured, over ${o.keys} keys; ${o.detectors} detector(s)`,
  );
  // Every value is validated again by the app's own config schema before a process starts.
  const { output, spatial, detectorMemoryMib, detectorHeap, nodes, warmup, ...rest } = o;
  if (spatial !== "off") return spatialRun(o, spatial);
  const summary = await runLocalPipeline({
    ...rest,
    warmupSeconds: warmup,
    target: nodes === 1 ? singleNodeTarget : clusterTarget(nodes),
    ...(detectorMemoryMib === undefined ? {} : { detectorMemory: { limitMiB: detectorMemoryMib, heap: detectorHeap } }),
    settleSeconds: d.settleSeconds,
    onProgress: progressLine,
  });
  if (process.stdout.isTTY) process.stdout.write("\n");
  const { samples: _samples, ...printed } = summary;
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify(printed, null, 2));
  console.log(detectionTable(summary));
  console.log(`written to ${output}`);
  const pass = runPassed(summary);
  const c = passCriteria;
  console.log(
    pass
      ? `PASS: nothing lost or duplicated; precision >= ${c.precision}, recall >= ${c.recall} for anomalies of ${c.recallFromSigmas}σ and more`
      : "FAIL: see the summary",
  );
  return pass ? 0 : 1;
}

/**
 * `--spatial <strategy>`: one detector with the strategy on the hot-spot workload at the offered rate; checks/s,
 * precision/recall of the injected spatial anomalies and the search's rounds and truncated share.
 */
async function spatialRun(o: LocalArgs, strategy: Exclude<LocalArgs["spatial"], "off">): Promise<number> {
  const settings = {
    ...spatialThroughputDefaults,
    rate: o.rate,
    duration: o.duration,
    keys: o.keys,
    partitions: o.partitions,
    detectorConcurrency: o.detectorConcurrency,
  };
  const trial = await spatialTrial({ ...settings, onProgress: (line) => console.log(line) }, 0, strategy, "offered");
  const summary = { at: new Date().toISOString(), strategy, settings, ...trial, lost: trial.backlog - trial.checks };
  mkdirSync(dirname(o.output), { recursive: true });
  writeFileSync(o.output, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify(summary, null, 2));
  console.log(`written to ${o.output}`);
  return summary.lost === 0 ? 0 : 1;
}

// Run only as the script, so the tests can import the parser.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
