/**
 * `npm run local`: the whole pipeline on this machine, for real. Starts the local Kafka + Cassandra if needed,
 * creates a fresh keyspace and topics for this run, runs the load generator and the detector as child
 * processes (the container's commands) for --duration seconds with a live progress line, then verifies from
 * Cassandra and the checks topic and writes results/local/summary.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command, Option } from "commander";
import { detectorEnv, loadgenEnv } from "../app/config.ts";
import { createSchema } from "../app/detector/cassandra-store.ts";
import { createKafka, ensureTopics } from "../app/kafka/kafka-client.ts";
import type { LoadgenReport } from "../app/loadgen/loadgen.ts";
import { createLogger } from "../app/log.ts";
import { scrape, startApp, stopApp, waitReady } from "./local-processes.ts";
import { ChecksCollector, eventName, latencySummary, scanStored, scoreVerdicts } from "./local-verify.ts";
import { localEndpoints, projectRoot, startStack } from "./stack-control.ts";

const program = new Command("local")
  .description("Run the load generator and the detector against the local Kafka + Cassandra, then verify")
  .addOption(new Option("--duration <seconds>", "how long the load generator sends").default("60"))
  // Measured on the 2-core development machine with Kafka, Cassandra and both processes on it (see README).
  .addOption(new Option("--rate <events-per-second>", "load rate").default("1000"))
  .addOption(new Option("--keys <n>", "distinct entity ids").default("300"))
  .addOption(new Option("--key-distribution <kind>", "uniform or zipf").default("uniform"))
  .addOption(new Option("--spike-probability <p>", "injected spikes per event").default("0.002"))
  .addOption(new Option("--shift-probability <p>", "injected level shifts per event").default("0.001"))
  .addOption(new Option("--partitions <n>", "partitions of the run's topics").default("6"))
  .addOption(new Option("--consumers <n>", "Kafka consumers in the detector").default("1"))
  .addOption(new Option("--concurrency <n>", "checks in flight in the detector").default("256"))
  .addOption(new Option("--tracing-sample-ratio <r>", "fraction of events traced (needs an OTLP endpoint)").default("0"))
  .addOption(new Option("--output <file>", "summary file").default(join(projectRoot, "results", "local", "summary.json")))
  .addOption(new Option("--keep", "keep the run's keyspace and topics afterwards"));

interface Options {
  duration: string;
  rate: string;
  keys: string;
  keyDistribution: string;
  spikeProbability: string;
  shiftProbability: string;
  partitions: string;
  consumers: string;
  concurrency: string;
  tracingSampleRatio: string;
  output: string;
  keep?: boolean;
}

async function main(): Promise<number> {
  program.parse();
  const o = program.opts<Options>();
  const log = createLogger("local", "warn");

  await startStack();

  // A fresh run id keeps runs apart: own keyspace, topics, consumer groups and key prefix.
  const runId = `r${Date.now().toString(36)}`;
  const names = {
    keyspace: `local_${runId}`,
    eventsTopic: `${runId}-events`,
    checksTopic: `${runId}-checks`,
    deadLetterTopic: `${runId}-dead-letter`,
    groupId: `${runId}-detector`,
  };
  const brokers = [localEndpoints.kafkaBrokers];
  const contactPoints = [localEndpoints.cassandraContactPoints];
  const shared = {
    kafkaBrokers: brokers,
    eventsTopic: names.eventsTopic,
    partitions: Number(o.partitions),
    topicReplicationFactor: 1,
    tracingSampleRatio: Number(o.tracingSampleRatio),
    logLevel: "info" as const,
  };
  const detectorSettings = {
    ...shared,
    checksTopic: names.checksTopic,
    deadLetterTopic: names.deadLetterTopic,
    groupId: names.groupId,
    keyspace: names.keyspace,
    replicationFactor: 1,
    cassandraContactPoints: contactPoints,
    cassandraLocalDataCenter: localEndpoints.cassandraLocalDataCenter,
    consumersPerProcess: Number(o.consumers),
    detectorConcurrency: Number(o.concurrency),
  };
  const reportPath = join(projectRoot, "results", "local", "tmp", `loadgen-${runId}.json`);
  mkdirSync(join(projectRoot, "results", "local", "tmp"), { recursive: true });
  const loadgenSettings = {
    ...shared,
    rate: Number(o.rate),
    duration: Number(o.duration),
    keys: Number(o.keys),
    keyDistribution: o.keyDistribution as "uniform" | "zipf",
    keyPrefix: runId,
    producerId: `${runId}-lg`,
    spikeProbability: Number(o.spikeProbability),
    shiftProbability: Number(o.shiftProbability),
    reportPath,
  };
  // Validated by the app's own schema before anything starts.
  const detectorVars = detectorEnv(detectorSettings);
  const loadgenVars = loadgenEnv(loadgenSettings);

  console.log(`run ${runId}: ${o.rate} events/s for ${o.duration} s, ${o.keys} keys; keyspace ${names.keyspace}`);
  const kafka = createKafka(`local-${runId}`, brokers, log);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [names.eventsTopic, names.checksTopic, names.deadLetterTopic], Number(o.partitions), 1);
  await createSchema({
    ...detectorSettings,
    cassandraConnectionsPerHost: 1,
    requestsPerConnection: 2048,
    writeConsistency: "localQuorum",
    readConsistency: "localQuorum",
    ttlSeconds: 7 * 24 * 3600,
    compactionWindowMinutes: 360,
  });

  const checks = new ChecksCollector(kafka, names.checksTopic, `${runId}-verify`);
  await checks.start();
  const detector = startApp("detector", detectorVars);
  await waitReady(detector);
  const loadgen = startApp("loadgen", loadgenVars);

  // ---- live progress ----
  const started = Date.now();
  let lastChecked = 0;
  let lastSent = 0;
  let maxRssBytes = 0;
  let detectorCpu = 0;
  let detectorChecks = 0;
  const progress = async () => {
    const [d, l] = await Promise.all([scrape(detector).catch(() => null), scrape(loadgen).catch(() => null)]);
    const checked = checks.verdicts.size;
    const sent = l?.get("loadgen_events_sent_total") ?? lastSent;
    const lag = d?.get("detector_consumer_lag") ?? 0;
    if (d) {
      maxRssBytes = Math.max(maxRssBytes, d.get("process_resident_memory_bytes") ?? 0);
      detectorCpu = d.get("process_cpu_seconds_total") ?? detectorCpu;
      detectorChecks = d.get("detector_checks_total") ?? detectorChecks;
    }
    const p99 = latencySummary(checks.takeWindow()).p99;
    const line =
      `\r${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  sent ${sent} (${sent - lastSent}/s)  ` +
      `checked ${checked} (${checked - lastChecked}/s)  lag ${lag}  p99 ${p99} ms   `;
    process.stdout.write(process.stdout.isTTY ? line : `${line.trim()}\n`);
    lastChecked = checked;
    lastSent = sent;
  };
  const ticker = setInterval(() => void progress(), 1000);

  const loadgenExit = await loadgen.exited;
  if (loadgenExit !== 0) throw new Error(`loadgen failed (${loadgenExit}):\n${loadgen.tail().join("\n")}`);
  const report = JSON.parse(readFileSync(reportPath, "utf8")) as LoadgenReport;
  // Wait for the detector to catch up: every produced event checked, or no progress for 30 s.
  let stalledSince = Date.now();
  let seen = checks.verdicts.size;
  while (checks.verdicts.size < report.sent && Date.now() - stalledSince < 30_000) {
    await sleep(500);
    if (checks.verdicts.size > seen) {
      seen = checks.verdicts.size;
      stalledSince = Date.now();
    }
  }
  clearInterval(ticker);
  await progress();
  process.stdout.write("\n");
  const lastVerdictAt = Math.max(0, ...[...checks.verdicts.values()].map((v) => v.checkedAt));
  const detectorExit = await stopApp(detector);
  await checks.stop();

  // ---- verify from the servers ----
  const stored = await scanStored(contactPoints, localEndpoints.cassandraLocalDataCenter, names.keyspace);
  const failed = new Set(report.failedSeqs);
  let produced = 0;
  let lost = 0;
  for (let seq = 0; seq < report.scheduled; seq++) {
    if (failed.has(seq)) continue;
    produced++;
    const name = eventName(report.producer, seq);
    if (!stored.events.has(name) || !checks.verdicts.has(name)) lost++;
  }
  const score = scoreVerdicts(checks.verdicts.values(), report.injected);
  const latency = latencySummary([...checks.verdicts.values()].map((v) => v.checkedAt - v.time));
  const elapsed = (lastVerdictAt - report.startedAt) / 1000;
  const summary = {
    runId,
    at: new Date().toISOString(),
    settings: { rate: Number(o.rate), duration: Number(o.duration), keys: Number(o.keys), partitions: Number(o.partitions), consumers: Number(o.consumers), concurrency: Number(o.concurrency), tracingSampleRatio: Number(o.tracingSampleRatio) },
    produced,
    checked: checks.verdicts.size,
    stored: stored.events.size,
    lost,
    duplicateRows: stored.rows - stored.events.size,
    duplicateVerdicts: checks.duplicates,
    anomaliesInjected: score.anomaliesInjected,
    truePositives: score.truePositives,
    falsePositives: score.falsePositives,
    precision: round(score.precision, 4),
    recall: round(score.recall, 4),
    byKind: score.byKind,
    checksPerSecond: round(checks.verdicts.size / elapsed, 1),
    latencyMs: latency,
    loadgen: { maxLatenessMs: report.maxLatenessMs, failed: report.failed },
    detector: {
      exit: detectorExit,
      cpuSecondsPer1000Checks: detectorChecks > 0 ? round((detectorCpu / detectorChecks) * 1000, 3) : null,
      maxRssMiB: round(maxRssBytes / 2 ** 20, 1),
    },
  };
  mkdirSync(join(o.output, ".."), { recursive: true });
  writeFileSync(o.output, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify(summary, null, 2));
  console.log(`written to ${o.output}`);

  if (!o.keep) {
    await admin.deleteTopics({ topics: [names.eventsTopic, names.checksTopic, names.deadLetterTopic] }).catch(() => {});
    await dropKeyspace(names.keyspace, contactPoints);
  }
  await admin.disconnect();

  const pass = lost === 0 && summary.duplicateRows === 0 && score.recall >= 0.99 && score.precision >= 0.95 && detectorExit === 0;
  console.log(pass ? "PASS: nothing lost or duplicated; recall >= 0.99, precision >= 0.95" : "FAIL: see the summary");
  return pass ? 0 : 1;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

async function dropKeyspace(keyspace: string, contactPoints: string[]): Promise<void> {
  const { default: cassandra } = await import("cassandra-driver");
  const client = new cassandra.Client({ contactPoints, localDataCenter: localEndpoints.cassandraLocalDataCenter });
  try {
    await client.connect();
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await client.shutdown();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
