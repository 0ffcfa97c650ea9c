/**
 * The container's entry point, three commands:
 *   node app/main.ts detector [flags]   the two-pool pipeline (app/detector/pipeline.ts)
 *   node app/main.ts loadgen [flags]    the open-loop load generator (app/loadgen/loadgen.ts)
 *   node app/main.ts schema [flags]     create the topics, keyspace and table if missing, then exit (the
 *                                       detector's settings; run once per deployment, before the detectors)
 *   node app/main.ts rebalance [flags]  spread the topics' partitions over every broker (after brokers joined),
 *                                       then print the leaders per broker read back (app/kafka/rebalance.ts)
 * Every flag has an environment variable (see app/config.ts); `--help` lists both.
 */
import { hostname } from "node:os";
import { Command, Option } from "commander";
import {
  ConfigError,
  detectorSettings,
  loadgenSettings,
  parseDetectorConfig,
  parseLoadgenConfig,
  type ConfigSources,
  type DetectorConfig,
  type LoadgenConfig,
} from "./config.ts";
import { readCassandraCredentials } from "./detector/cassandra-auth.ts";
import { DetectorPipeline } from "./detector/pipeline.ts";
import { ensureSchema } from "./detector/schema.ts";
import { createKafka } from "./kafka/kafka-client.ts";
import { rebalanceCommand } from "./kafka/rebalance-command.ts";
import { runLoadgen } from "./loadgen/loadgen.ts";
import { createLogger, errorText, httpListeningMessage } from "./log.ts";
import { detectorMetrics, loadgenMetrics, newRegistry, serveMetrics } from "./metrics.ts";
import { setupTracing } from "./tracing.ts";

type Table = Readonly<Record<string, { readonly flag: string; readonly help: string; readonly env: string }>>;

/** Adds one option per setting; returns a reader of the flags keyed by setting name. */
function addSettings(cmd: Command, table: Table): () => ConfigSources {
  const attributes: [string, string][] = [];
  for (const [key, s] of Object.entries(table)) {
    const option = new Option(s.flag, `${s.help} [env ${s.env}]`);
    cmd.addOption(option);
    attributes.push([key, option.attributeName()]);
  }
  return () => {
    const opts = cmd.opts<Record<string, unknown>>();
    return { env: process.env, flags: Object.fromEntries(attributes.map(([key, attr]) => [key, opts[attr]])) };
  };
}

function configOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`configuration error:\n${err.message}\n`);
    process.exit(2);
  }
}

/** What both long-running commands start with: a logger, a metrics registry, tracing and a Kafka client. */
function serviceBasics(service: "detector" | "loadgen", c: DetectorConfig | LoadgenConfig, clientId: string) {
  const log = createLogger(service, c.logLevel);
  return {
    log,
    registry: newRegistry({ service }),
    tracing: setupTracing(`anomaly-${service}`, c.tracingSampleRatio, c.otlpEndpoint),
    kafka: createKafka(clientId, c.kafkaBrokers, log, c),
  };
}

const program = new Command("anomaly-kit").description("Anomaly detection on Kafka + Cassandra");

const detectorCmd = program.command("detector").description("consume events, check each with CUSUM, publish verdicts");
const detectorSources = addSettings(detectorCmd, detectorSettings);
detectorCmd.action(async () => {
  const c = configOrExit(() => parseDetectorConfig(detectorSources()));
  const { log, registry, tracing, kafka } = serviceBasics("detector", c, `detector-${hostname()}`);
  let credentials;
  try {
    credentials = await readCassandraCredentials(c);
  } catch (err) {
    log.error("cannot read the Cassandra password", { secret: c.cassandraPasswordSecretArn, error: errorText(err) });
    process.exit(1);
  }
  const pipeline = new DetectorPipeline(c, kafka, log, detectorMetrics(registry), tracing, credentials);
  const { port } = await serveMetrics(registry, { live: () => pipeline.live, ready: () => pipeline.ready }, c.metricsPort);
  log.info(httpListeningMessage, { port });

  pipeline.onFatal(() => {
    // Commit only what finished, then exit non-zero; the rest is replayed by whoever gets the partitions.
    void pipeline.abort().finally(() => process.exit(1));
  });
  let signals = 0;
  const onSignal = (signal: string) => {
    if (++signals > 1) process.exit(1); // a second signal: stop now, replay covers the rest
    log.info("stopping", { signal });
    void pipeline.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));

  try {
    await pipeline.start();
  } catch (err) {
    log.error("start failed", { error: errorText(err) });
    process.exit(1);
  }
});

const loadgenCmd = program.command("loadgen").description("send events at a fixed rate (open loop), with injected anomalies");
const loadgenSources = addSettings(loadgenCmd, loadgenSettings);
loadgenCmd.action(async () => {
  const c = configOrExit(() => parseLoadgenConfig(loadgenSources()));
  const { log, registry, tracing, kafka } = serviceBasics("loadgen", c, `loadgen-${c.producerId}`);
  const { port } = await serveMetrics(registry, { live: () => true, ready: () => true }, c.metricsPort);
  log.info(httpListeningMessage, { port });
  const stop = new AbortController();
  process.on("SIGTERM", () => stop.abort());
  process.on("SIGINT", () => stop.abort());
  try {
    const report = await runLoadgen(c, kafka, log, loadgenMetrics(registry), tracing, stop.signal);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    await tracing.shutdown();
    process.exit(report.failed > 0 ? 1 : 0);
  } catch (err) {
    log.error("loadgen failed", { error: errorText(err) });
    process.exit(1);
  }
});

const schemaCmd = program
  .command("schema")
  .description("create the topics, keyspace and table if missing, then exit (idempotent; takes the detector's settings)");
const schemaSources = addSettings(schemaCmd, detectorSettings);
schemaCmd.action(async () => {
  const c = configOrExit(() => parseDetectorConfig(schemaSources()));
  const log = createLogger("schema", c.logLevel);
  try {
    const credentials = await readCassandraCredentials(c);
    await ensureSchema(c, createKafka(`schema-${hostname()}`, c.kafkaBrokers, log, c), credentials, log);
    process.exit(0);
  } catch (err) {
    log.error("schema failed", { error: errorText(err) });
    process.exit(1);
  }
});

const rebalanceCmd = program
  .command("rebalance")
  .description(
    "spread the pipeline topics' partitions and __consumer_offsets evenly over every broker, then exit (the detector's settings)",
  );
const rebalanceSources = addSettings(rebalanceCmd, detectorSettings);
rebalanceCmd.action(async () => {
  const c = configOrExit(() => parseDetectorConfig(rebalanceSources()));
  const log = createLogger("rebalance", c.logLevel);
  process.exit(await rebalanceCommand(createKafka(`rebalance-${hostname()}`, c.kafkaBrokers, log, c), log));
});

await program.parseAsync();
