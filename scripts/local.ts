/**
 * `npm run local`: the whole pipeline on this machine, for real. Starts the local Kafka + Cassandra if needed,
 * runs the load generator and the detector (the container's commands) for --duration seconds with a live
 * progress line, then verifies from Cassandra and the checks topic and writes results/local/summary.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Command, Option } from "commander";
import { localRunDefaults, runLocalPipeline, runPassed, type ProgressSample } from "./local-run.ts";
import { projectRoot } from "./stack-control.ts";

const d = localRunDefaults;
const program = new Command("local")
  .description("Run the load generator and the detector against the local Kafka + Cassandra, then verify")
  .addOption(new Option("--duration <seconds>", "how long the load generator sends").default(d.duration).argParser(Number))
  .addOption(new Option("--rate <events-per-second>", "load rate").default(d.rate).argParser(Number))
  .addOption(new Option("--keys <n>", "distinct entity ids").default(d.keys).argParser(Number))
  .addOption(new Option("--key-distribution <kind>", "key distribution").choices(["uniform", "zipf"]).default(d.keyDistribution))
  .addOption(new Option("--spike-probability <p>", "injected spikes per event").default(d.spikeProbability).argParser(Number))
  .addOption(new Option("--shift-probability <p>", "injected level shifts per event").default(d.shiftProbability).argParser(Number))
  .addOption(new Option("--partitions <n>", "partitions of the run's topics").default(d.partitions).argParser(Number))
  .addOption(new Option("--detectors <n>", "detector processes").default(d.detectors).argParser(Number))
  .addOption(new Option("--consumers <n>", "Kafka consumers in each detector").default(d.consumers).argParser(Number))
  .addOption(new Option("--concurrency <n>", "checks in flight in each detector").default(d.concurrency).argParser(Number))
  .addOption(new Option("--connections <n>", "Cassandra connections per host").default(d.connectionsPerHost).argParser(Number))
  .addOption(
    new Option("--tracing-sample-ratio <r>", "fraction of events traced (needs an OTLP endpoint)").default(d.tracingSampleRatio).argParser(Number),
  )
  .addOption(new Option("--output <file>", "summary file").default(join(projectRoot, "results", "local", "summary.json")))
  .addOption(new Option("--keep", "keep the run's keyspace and topics afterwards").default(false));

function progressLine(p: ProgressSample): void {
  const line =
    `${p.elapsedSeconds.toFixed(0).padStart(4)} s  sent ${p.sent} (${p.sentPerSecond}/s)  ` +
    `checked ${p.checked} (${p.checkedPerSecond}/s)  lag ${p.backlog}  p99 ${p.p99Ms} ms`;
  process.stdout.write(process.stdout.isTTY ? `\r${line}   ` : `${line}\n`);
}

async function main(): Promise<number> {
  program.parse();
  const o = program.opts<{
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
  }>();
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
  console.log(`written to ${output}`);
  const pass = runPassed(summary);
  console.log(pass ? "PASS: nothing lost or duplicated; recall >= 0.99, precision >= 0.95" : "FAIL: see the summary");
  return pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
