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
import { detectorSettings, loadgenSettings } from "../app/config.ts";
import { localRunDefaults, passCriteria, runLocalPipeline, runPassed, type LocalRunSummary, type ProgressSample } from "./local/pipeline-run.ts";
import { projectRoot } from "./local/stack-control.ts";

/** Exit status for bad flags or values (and commander's own errors); nothing has started then. */
export const usageErrorExitCode = 2;

/** A bad flag or value; the message names the flag as given and what is allowed. */
export class LocalUsageError extends Error {
  override name = "LocalUsageError";
}

// Plain decimal text only: Number() would also read "0x10", "1e3", " 5 " and "" (as 0), and "abc" as NaN.
const plainInteger = /^(0|[1-9][0-9]*)$/;
const plainDecimal = /^(0|[1-9][0-9]*)(\.[0-9]+)?$|^\.[0-9]+$/;

/** The range check and its wording: the app's own setting (app/config.ts, which re-checks the value) where one exists. */
interface RangeOf {
  readonly allowed: string;
  readonly schema: z.ZodType<unknown, string>;
}
const localRange = (min: number, max: number, kind: "integer" | "decimal"): RangeOf => ({
  allowed: `${kind === "integer" ? "an integer" : "a number"} from ${String(min)} to ${String(max)}`,
  schema: z.string().transform(Number).pipe(z.number().min(min).max(max)),
});
// A bound against typos only: each detector is a whole process with its own connections on this one machine
// (the local experiment's stages stop much earlier, at localMachine.maxDetectorProcesses).
const maxLocalDetectors = 64;
const detectorsRange = localRange(1, maxLocalDetectors, "integer");
// A local run ends: 0 (the load generator's "until stopped") would never reach the verification.
const durationRange = localRange(1, 86_400, "decimal");

/** A commander argParser: plain digits of the right kind, then the setting's range. */
const strictNumber = (kind: "integer" | "decimal", range: RangeOf) => (raw: string): number => {
  const syntax = kind === "integer" ? plainInteger : plainDecimal;
  const ok = syntax.test(raw) && range.schema.safeParse(raw).success;
  if (!ok) {
    const form = kind === "integer" ? "decimal digits" : "a plain decimal number";
    // Commander prefixes "option '<flag> <arg>' argument '<value>' is invalid."
    throw new InvalidArgumentError(`allowed: ${range.allowed}, written as ${form} (no sign, hex, exponent or blanks)`);
  }
  return Number(raw);
};

const d = localRunDefaults;
const num = (flags: string, help: string, kind: "integer" | "decimal", range: RangeOf, value: number) =>
  new Option(flags, help).default(value).argParser(strictNumber(kind, range));

function localCommand(): Command {
  const l = loadgenSettings;
  const det = detectorSettings;
  return new Command("local")
    .description("Run the load generator and the detector against the local Kafka + Cassandra, then verify")
    .addOption(num("--duration <seconds>", "how long the load generator sends", "decimal", durationRange, d.duration))
    .addOption(num("--rate <events-per-second>", "load rate", "decimal", l.rate, d.rate))
    .addOption(num("--keys <n>", "distinct entity ids", "integer", l.keys, d.keys))
    .addOption(new Option("--key-distribution <kind>", "key distribution").choices(["uniform", "zipf"]).default(d.keyDistribution))
    .addOption(num("--spike-probability <p>", "injected spikes per event", "decimal", l.spikeProbability, d.spikeProbability))
    .addOption(num("--shift-probability <p>", "injected level shifts per event", "decimal", l.shiftProbability, d.shiftProbability))
    .addOption(num("--partitions <n>", "partitions of the run's topics", "integer", l.partitions, d.partitions))
    .addOption(num("--detectors <n>", "detector processes", "integer", detectorsRange, d.detectors))
    .addOption(num("--consumers <n>", "Kafka consumers in each detector", "integer", det.consumersPerProcess, d.consumers))
    .addOption(num("--concurrency <n>", "checks in flight in each detector", "integer", det.detectorConcurrency, d.concurrency))
    .addOption(num("--connections <n>", "Cassandra connections per host", "integer", det.cassandraConnectionsPerHost, d.connectionsPerHost))
    .addOption(
      num("--tracing-sample-ratio <r>", "fraction of events traced (needs an OTLP endpoint)", "decimal", l.tracingSampleRatio, d.tracingSampleRatio),
    )
    .addOption(new Option("--output <file>", "summary file").default(join(projectRoot, "results", "local", "summary.json")))
    .addOption(new Option("--keep", "keep the run's keyspace and topics afterwards").default(false))
    .showSuggestionAfterError(true);
}

export interface LocalArgs {
  duration: number;
  rate: number;
  keys: number;
  keyDistribution: "uniform" | "zipf";
  spikeProbability: number;
  shiftProbability: number;
  partitions: number;
  detectors: number;
  consumers: number;
  concurrency: number;
  connections: number;
  tracingSampleRatio: number;
  output: string;
  keep: boolean;
}

/**
 * The flags of `npm run local` (without the node and script arguments), or "help" after --help printed the
 * usage to `out`. Throws LocalUsageError with commander's message for a bad value or an unknown flag (with the
 * closest flag), naming the flag as given.
 */
export function parseLocalArgs(argv: readonly string[], out: (text: string) => void = () => undefined): LocalArgs | "help" {
  const command = localCommand()
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: () => undefined });
  try {
    command.parse([...argv], { from: "user" });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.code === "commander.helpDisplayed" || e.code === "commander.help") return "help";
    throw new LocalUsageError(e.message.replace(/^error: /, ""));
  }
  return command.opts<LocalArgs>();
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
  console.log(`${o.rate} events/s for ${o.duration} s over ${o.keys} keys; ${o.detectors} detector(s)`);
  // Every value is validated again by the app's own config schema before a process starts.
  const { connections, output, ...rest } = o;
  const summary = await runLocalPipeline({
    ...rest,
    connectionsPerHost: connections,
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
