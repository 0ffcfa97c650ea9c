/**
 * Bad input across the kit's entry points, in one table, each called in-process (no CLI processes, no CDK CLI):
 * the size context (cdk/size/size-input.ts) and the whole CDK context (cdk/kit-input.ts), the app's settings
 * (app/config.ts), synth:k8s's flags (charts/synth.ts main), `npm run local`'s flags (scripts/local.ts) and the
 * experiment CLI's --stages (scripts/experiment/stage-list.ts; the rest of that CLI parses at import and is
 * covered by its process tests), and the plan and sweep CLIs' flags (scripts/plan.ts, scripts/sweep.ts). Each
 * row must be refused with a message that names the field or flag given and says what is allowed (or, for an
 * unknown key or flag, names the closest known one). The tally printed at the end counts each row as clear,
 * unclear (refused, but the message misses the name or what is allowed), accepted (not refused) or crash (an
 * error that is not a usage error: a stack trace for the user).
 *
 * Then hostile records, as a producer, a corrupt broker or path would send them: each is refused with its
 * reason or contained (one placeholder, a saturated count, a well-formed cut, a sampling decision of our own),
 * never a merged key, a loop, a throw or a load the sender chooses.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { CommanderError, InvalidArgumentError } from "commander";
import { afterAll, describe, expect, it, vi } from "vitest";
import { knownAwsRegions } from "../app/aws-regions.ts";
import {
  ConfigError,
  detectorSettings,
  largestLoadgenEventBytes,
  loadgenSettings,
  parseDetectorConfig,
  parseLoadgenConfig,
} from "../app/config.ts";
import { topics } from "../app/topology.ts";
import { main as synthK8s, usageErrorExitCode } from "../charts/synth.ts";
import { kitInputFromContext } from "../cdk/kit-input.ts";
import { parseSizeInput, SizeInputError } from "../cdk/size/size-input.ts";
import { parseStageList } from "../scripts/experiment/stage-list.ts";
import { cusumStep, maxRunLength } from "../app/detector/cusum.ts";
import { deadLetterBounds, deadLetterHeaders, deadLetterMessage } from "../app/events/dead-letter.ts";
import { decodeEvent, encodeEvent } from "../app/events/event-codec.ts";
import { copyHeaders } from "../app/events/record-headers.ts";
import { samplerFor, startConsumerSpan } from "../app/tracing.ts";
import { goodEvent } from "../scripts/chaos/malformed-records.ts";
import { batch, decodeMessages, fetchedMessages, withLength } from "./app/kafkajs-batches.ts";
import { LocalUsageError, parseLocalArgs } from "../scripts/local.ts";
import { planCommand } from "../scripts/plan.ts";
import { checkSweepOptions, sweepCommand, SweepUsageError } from "../scripts/sweep.ts";

const admin = "arn:aws:iam::123456789012:role/KitAdmin";
const out = mkdtempSync(join(tmpdir(), "bad-input-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
/** A file where --out wants a folder's parent: no folder can be made under it. */
const aFile = join(out, "a-file");
writeFileSync(aFile, "not a folder\n");

/** A CLI's refusal: its exit status was the usage error's, and this is what it printed. */
class UsageExit extends Error {
  override name = "UsageExit";
}

/** synth:k8s in-process: its stderr and exit status; nothing may be written for a refused input. */
function synth(args: readonly string[], outDir = out): string {
  const errors: string[] = [];
  const spy = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void errors.push(a.join(" ")));
  const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
  const before = process.exitCode;
  try {
    synthK8s(["--out", outDir, ...args]);
    const code = process.exitCode;
    if (code !== usageErrorExitCode) return `accepted (exit ${String(code)})`;
    throw new UsageExit(errors.join("\n"));
  } finally {
    process.exitCode = before;
    spy.mockRestore();
    log.mockRestore();
  }
}

/** plan in-process: commander's message (it names the flag) or the size model's. */
async function plan(args: readonly string[]): Promise<string> {
  const errors: string[] = [];
  const command = planCommand(() => undefined).configureOutput({ writeErr: (t) => void errors.push(t), writeOut: () => undefined });
  try {
    await command.parseAsync([...args], { from: "user" });
    return "accepted";
  } catch (e) {
    if (e instanceof CommanderError) throw new UsageExit(errors.join("") || e.message);
    throw e;
  }
}

/** sweep in-process, up to its first AWS call: commander's parsing, then its own checks of the flags. */
async function sweep(args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const errors: string[] = [];
  const command = sweepCommand().configureOutput({ writeErr: (t) => void errors.push(t), writeOut: () => undefined });
  // The action would call AWS: replace it by the checks it starts with.
  command.action((options: Parameters<typeof checkSweepOptions>[0]) => void checkSweepOptions(options, env));
  try {
    await command.parseAsync([...args], { from: "user" });
    return "accepted";
  } catch (e) {
    if (e instanceof CommanderError) throw new UsageExit(errors.join("") || e.message);
    throw e;
  }
}

interface Row {
  readonly entry: string;
  readonly input: string;
  readonly run: () => unknown;
  /** What the message must name: the field or flag as given. */
  readonly names: string;
  /** How it must say what is allowed. */
  readonly allowed: RegExp;
}

const allowedWord = /allowed:/;
const suggestion = /did you mean/i;

const size = (raw: Record<string, unknown>, names: string, allowed = allowedWord): Row => ({
  entry: "size context",
  input: JSON.stringify(raw),
  run: () => parseSizeInput(raw),
  names,
  allowed,
});
const kit = (raw: Record<string, unknown>, names: string, allowed = allowedWord): Row => ({
  entry: "CDK context",
  input: JSON.stringify(raw),
  run: () => kitInputFromContext({ preset: "stage-3", clusterAdminArn: admin, ...raw }),
  names,
  allowed,
});
const detector = (env: Record<string, string>, names = `env ${Object.keys(env)[0]!}`, allowed = allowedWord): Row => ({
  entry: "detector settings",
  input: JSON.stringify(env),
  run: () => parseDetectorConfig({ env }),
  names,
  allowed,
});
const detectorFlags = (flags: Record<string, string>, names: string, env: Record<string, string> = {}): Row => ({
  entry: "detector flags",
  input: `${JSON.stringify(flags)} ${JSON.stringify(env)}`,
  run: () => parseDetectorConfig({ env, flags }),
  names,
  allowed: allowedWord,
});
const loadgen = (env: Record<string, string>, names = `env ${Object.keys(env)[0]!}`, allowed = allowedWord): Row => ({
  entry: "load generator settings",
  input: JSON.stringify(env),
  run: () => parseLoadgenConfig({ env }),
  names,
  allowed,
});
const synthOut = (dir: string): Row => ({
  entry: "synth:k8s",
  input: `--out ${dir}`,
  run: () => synth(["--preset", "stage-3"], dir),
  names: "--out",
  allowed: allowedWord,
});
const planRow = (args: string[], names: string, allowed = allowedWord): Row => ({
  entry: "plan",
  input: args.join(" "),
  run: () => plan(args),
  names,
  allowed,
});
const sweepRow = (args: string[], names: string, env: Record<string, string> = {}): Row => ({
  entry: "sweep",
  input: `${args.join(" ")} ${JSON.stringify(env)}`,
  run: () => sweep(args, env),
  names,
  allowed: allowedWord,
});
const login = { CASSANDRA_USERNAME: "detector" };
const cnSecret = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:detector-AbCdEf";
const synthRow = (args: string[], names: string, allowed = allowedWord): Row => ({
  entry: "synth:k8s",
  input: args.join(" "),
  run: () => synth(args),
  names,
  allowed,
});
const local = (args: string[], allowed = allowedWord): Row => ({
  entry: "npm run local",
  input: args.join(" "),
  run: () => parseLocalArgs(args),
  names: args[0]!,
  allowed,
});
const stages = (spec: string, target: "aws" | "local" | "local-cluster", allowed = allowedWord): Row => ({
  entry: `experiment --target ${target}`,
  input: `--stages ${spec}`,
  run: () => parseStageList(spec, target, "bad-input"),
  names: "--stages",
  allowed,
});

const rows: readonly Row[] = [
  size({ cassandraNodes: "0x10" }, "cassandraNodes"),
  size({ cassandraNodes: "1e1" }, "cassandraNodes"),
  size({ cassandraNodes: " 6 " }, "cassandraNodes"),
  size({ cassandraNodes: "016" }, "cassandraNodes"),
  size({ cassandraNodes: "2" }, "cassandraNodes"),
  size({ cassandraNodes: "49" }, "cassandraNodes"),
  size({ cassandraNodes: "NaN" }, "cassandraNodes"),
  size({ preset: "stage-5" }, "preset"),
  size({ preset: "stage-3", kafkaBrokers: "4" }, "kafkaBrokers"),
  size({ preset: "stage-3", cassandraInstanceType: "i3.huge" }, "cassandraInstanceType"),
  size({ preset: "stage-3", region: "moon-1" }, "region"),
  size({ preset: "stage-3", availabilityZones: "us-east-1a,us-east-1b" }, "availabilityZones"),
  size({ preset: "stage-3", availabilityZones: "us-east-1a,us-east-1b,eu-west-1c" }, "availabilityZones"),
  size({ preset: "stage-3", experimentId: "Exp_1" }, "experimentId"),
  size({ preset: "stage-3", cassandraNode: "6" }, "cassandraNode", suggestion),
  size({ preset: "stage-3", spatialStrategy: "kdtree" }, 'spatialStrategy = "kdtree"', /allowed: one of off, geohash, sai/),
  size({ preset: "stage-3", spatialStrategy: "SAI" }, 'spatialStrategy = "SAI"', /allowed: one of off, geohash, sai/),
  size({ preset: "stage-3", spatialStrategy: 3 }, "spatialStrategy = 3", /allowed: one of off, geohash, sai/),
  size({ preset: "stage-3", spatialWorkload: "drones" }, 'spatialWorkload = "drones"', /allowed: off or hotspots/),
  kit({ spatialStrategy: "rtree" }, 'spatialStrategy = "rtree"', /allowed: one of off, geohash, sai/),
  kit({ clusterAdminArn: "arn:aws:sts::123456789012:assumed-role/KitAdmin/session" }, "clusterAdminArn"),
  kit({ clusterAdminArn: "KitAdmin" }, "clusterAdminArn"),
  kit({ apiAccessCidrs: "0.0.0.0/0" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "203.0.113.7/33" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "203.0.113.7" }, "apiAccessCidrs"),
  kit({ clusterAdminArns: admin }, "clusterAdminArns", suggestion),
  detector({ CASSANDRA_LOCAL_DC: "dc1': 1}; DROP KEYSPACE x; --" }),
  detector({ CASSANDRA_LOCAL_DC: "dc 1" }),
  detector({ CASSANDRA_CONTACT_POINTS: "127.0.0.1:99999" }),
  detector({ KAFKA_BROKERS: "127.0.0.1:9092,b2:65536" }),
  detector({ METRICS_PORT: "70000" }),
  detector({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:65536" }),
  detector({ METRICS_PORT: "0x1f90" }),
  detector({ DETECTOR_CONCURRENCY: "1e3" }),
  detector({ DETECTOR_CONCURRENCY: "" }),
  detector({ TRACING_SAMPLE_RATIO: "abc" }),
  detector({ CASSANDRA_KEYSPACE: "ks; DROP" }),
  detector({ KAFKA_AUTH: "scram" }),
  { ...detector({ CASSANDRA_USERNAME: "detector" }), names: "setting cassandraUsername" },
  loadgen({ LOADGEN_RATE: "NaN" }),
  loadgen({ LOADGEN_KEYS: "0x10" }),
  loadgen({ KAFKA_BROKERS: "b1:0" }),
  loadgen({ LOADGEN_KEY_PREFIX: "a b" }),
  synthRow(["--tracing-sample-ratio", "abc"], "--tracing-sample-ratio"),
  synthRow(["--tracing-sample-ratio", "1e-3"], "--tracing-sample-ratio"),
  synthRow(["--cassandraNodes", "0x10"], "cassandraNodes"),
  synthRow(["--cassandraNodes", " 6"], "cassandraNodes"),
  synthRow(["--cassandra-nodes", "6"], "--cassandra-nodes", suggestion),
  synthRow(["--preset", "stage-3", "--spatialStrategy", "quadtree"], "spatialStrategy", /allowed: one of off, geohash, sai/),
  synthRow(["--kafka-bootstrap", "b1:70000", "--preset", "stage-3"], "--kafka-bootstrap"),
  synthRow(["--cassandra-local-dc", "dc'1", "--preset", "stage-3"], "--cassandra-local-dc"),
  synthRow(["--kafka-auth", "aws-iam", "--preset", "stage-3"], "--aws-region"),
  local(["--tracing-sample-ratio", "abc"]),
  local(["--tracing-sample-ratio", "NaN"]),
  local(["--rate", "0x10"]),
  local(["--rate", "1e3"]),
  local(["--rate", " 100"]),
  local(["--rate", ""]),
  local(["--keys", "1.5"]),
  local(["--keys", "-5"]),
  local(["--partitions", "0"]),
  local(["--detectors", "1000"]),
  local(["--concurrency", "9999999"]),
  local(["--duration", "0"]),
  local(["--warmup", "-1"]),
  local(["--warmup", "7200"]),
  local(["--warmup", "0x10"]),
  local(["--spike-probability", "0.9"]),
  local(["--cassandra-connections-per-host", "Infinity"]),
  local(["--key-distribution", "pareto"], /allowed: uniform or zipf/),
  local(["--raet", "5"], suggestion),
  local(["--spatial", "kdtree"], /allowed: one of off, geohash, sai/),
  local(["--detector-memory-mib", "32"], /allowed: an integer from 64 to/),
  local(["--detector-memory-mib", "512Mi"]),
  local(["--detector-heap", "auto"], /allowed: from-limit or node-default/),
  stages("3,x", "aws"),
  stages("3,0x6", "aws"),
  stages("3,100", "aws"),
  stages("", "local"),
  stages("1,1", "local"),
  stages("6,3", "local-cluster"),
  stages("2,3", "local-cluster"),
  stages("3,7", "local-cluster"),
  stages("3,3", "local-cluster"),

  // Values that type-check but cannot work: topics that collide, names Kafka or Cassandra refuse.
  detector({ CHECKS_TOPIC: topics.events }, "env CHECKS_TOPIC"),
  detector({ DEAD_LETTER_TOPIC: topics.events }, "env DEAD_LETTER_TOPIC"),
  detector({ DEAD_LETTER_TOPIC: "same", CHECKS_TOPIC: "same" }),
  detector({ EVENTS_TOPIC: "." }),
  detector({ EVENTS_TOPIC: ".." }),
  detector({ CHECKS_TOPIC: "c".repeat(250) }),
  detector({ DEAD_LETTER_TOPIC: "dead letters" }),
  detector({ EVENTS_TOPIC: "événements" }),
  loadgen({ EVENTS_TOPIC: "" }),
  detector({ CASSANDRA_KEYSPACE: "select" }),
  detector({ CASSANDRA_KEYSPACE: "table" }),
  detector({ CASSANDRA_KEYSPACE: "system" }),
  detector({ CASSANDRA_KEYSPACE: "system_auth" }),
  detector({ CASSANDRA_KEYSPACE: "system_virtual_schema" }),
  detector({ CASSANDRA_KEYSPACE: "system_future" }),
  detector({ CASSANDRA_KEYSPACE: "Anomaly" }),
  detector({ MAX_EVENT_BYTES: "32" }),
  detector({ MAX_EVENT_BYTES: String(largestLoadgenEventBytes - 1) }),
  // Ports: plain decimal digits only; -0 would listen on a random port the probes miss.
  detector({ METRICS_PORT: "-0" }),
  detector({ METRICS_PORT: "+9400" }),
  detector({ METRICS_PORT: "09400" }),
  detector({ METRICS_PORT: "9400.0" }),
  detector({ METRICS_PORT: "65536" }),
  detector({ METRICS_PORT: "" }),
  loadgen({ METRICS_PORT: "-1" }),
  detector({ KAFKA_PARTITIONS: "-0" }),
  loadgen({ LOADGEN_DURATION_SECONDS: "-0" }),
  detector({ TRACING_SAMPLE_RATIO: "-0.5" }),
  // Broker and contact point lists: host names and addresses a client can reach.
  detector({ KAFKA_BROKERS: "-.-:9092" }),
  detector({ KAFKA_BROKERS: "kafka_1:9092" }),
  detector({ KAFKA_BROKERS: "999.1.1.1:9092" }),
  detector({ KAFKA_BROKERS: "10.0.0.1.5:9092" }),
  detector({ KAFKA_BROKERS: "1.2.3:9092" }),
  detector({ KAFKA_BROKERS: "a..b:9092" }),
  detector({ KAFKA_BROKERS: ":9092" }),
  detector({ KAFKA_BROKERS: "kafka:" }),
  detector({ KAFKA_BROKERS: "kafka:0x10" }),
  detector({ KAFKA_BROKERS: `${"a".repeat(64)}.example:9092` }),
  detector({ KAFKA_BROKERS: "," }),
  detector({ CASSANDRA_CONTACT_POINTS: "cassandra-.local:9042" }),
  loadgen({ KAFKA_BROKERS: "b1:9092,b 2:9092" }),
  // Rules across settings.
  detector({ DETECTOR_HANDOFF_CAPACITY: "32" }),
  detector({ DETECTOR_HANDOFF_CAPACITY: "100", DETECTOR_CONCURRENCY: "101" }),
  detector({ CASSANDRA_TTL_SECONDS: "3600" }),
  detector({ CASSANDRA_TTL_SECONDS: "86400", CASSANDRA_COMPACTION_WINDOW_MINUTES: "1441" }),
  loadgen({ LOADGEN_BURST_START_SECONDS: "120", LOADGEN_BURST_DURATION_SECONDS: "10" }),
  loadgen({ LOADGEN_BURST_START_SECONDS: "60", LOADGEN_BURST_DURATION_SECONDS: "10", LOADGEN_DURATION_SECONDS: "60" }),
  // Regions and ARNs: a made-up region, a secret in another partition than its region or the app's.
  detector({ AWS_REGION: "us-east-9" }),
  detector({ AWS_REGION: "us-east-9", KAFKA_AUTH: "aws-iam" }),
  loadgen({ AWS_REGION: "moon-base-1" }),
  detector({ AWS_REGION: "eu-west-1", EXTRA_AWS_REGIONS: "not a region" }, "env EXTRA_AWS_REGIONS"),
  detector(
    { ...login, CASSANDRA_PASSWORD_SECRET_ARN: "arn:aws:secretsmanager:cn-north-1:123456789012:secret:detector-AbCdEf" },
    "env CASSANDRA_PASSWORD_SECRET_ARN",
  ),
  detector({ ...login, CASSANDRA_PASSWORD_SECRET_ARN: cnSecret, AWS_REGION: "us-east-1" }, "env CASSANDRA_PASSWORD_SECRET_ARN"),
  detector(
    { ...login, CASSANDRA_PASSWORD_SECRET_ARN: "arn:aws:secretsmanager:us-east-9:123456789012:secret:x" },
    "env CASSANDRA_PASSWORD_SECRET_ARN",
  ),
  detector(
    {
      ...login,
      CASSANDRA_PASSWORD_FILE: "/run/p",
      CASSANDRA_TLS_CA_SECRET_ARN: "arn:aws-us-gov:secretsmanager:us-east-1:123456789012:secret:ca",
    },
    "env CASSANDRA_TLS_CA_SECRET_ARN",
  ),
  // Misspelt environment variables under the app's prefixes: refused with the closest known name.
  detector({ DETECTOR_CONCURENCY: "5" }, "env DETECTOR_CONCURENCY", /did you mean DETECTOR_CONCURRENCY\?/),
  detector({ CASSANDRA_KEYSPAC: "x" }, "env CASSANDRA_KEYSPAC", /did you mean CASSANDRA_KEYSPACE\?/),
  detector({ KAFKA_BROKER: "b:9092" }, "env KAFKA_BROKER", /did you mean KAFKA_BROKERS\?/),
  detector({ TRACING_SAMPLE_RATE: "0.1" }, "env TRACING_SAMPLE_RATE", /did you mean TRACING_SAMPLE_RATIO\?/),
  loadgen({ LOADGEN_RAET: "5" }, "env LOADGEN_RAET", /did you mean LOADGEN_RATE\?/),
  loadgen({ LOADGEN_SPATIAL_HOTSPOTS: "5" }, "env LOADGEN_SPATIAL_HOTSPOTS", /did you mean LOADGEN_SPATIAL_HOT_SPOTS\?/),
  loadgen({ LOADGEN_ZZZ: "1" }, "env LOADGEN_ZZZ", /allowed: the names --help lists/),
  // The flag given is the one blamed, not the variable behind it.
  detectorFlags({ awsRegion: "", kafkaAuth: "aws-iam" }, "flag --aws-region"),
  detectorFlags({ awsRegion: "us-east-9" }, "flag --aws-region", { AWS_REGION: "us-east-1" }),
  detectorFlags({ checksTopic: topics.deadLetter }, "flag --checks-topic"),
  detectorFlags({ metricsPort: "-0" }, "flag --metrics-port"),
  // synth:k8s: the same rules through the app's parser, the flag named; --out checked before anything is made.
  synthRow(["--kafka-auth", "aws-iam", "--aws-region", "", "--preset", "stage-3"], "--aws-region"),
  synthRow(["--kafka-auth", "aws-iam", "--aws-region", "us-east-9", "--preset", "stage-3"], "--aws-region"),
  synthRow(["--cassandra-local-dc", "", "--preset", "stage-3"], "--cassandra-local-dc"),
  synthRow(["--kafka-bootstrap", "-bad-:9092", "--preset", "stage-3"], "--kafka-bootstrap"),
  synthRow(["--kafka-bootstrap", "kafka:-0", "--preset", "stage-3"], "--kafka-bootstrap"),
  synthRow(["--preset", "stage-3", "--region", "us-east-9"], "region"),
  synthRow(["--preset", "stage-3", "--extraRegions", "Mars"], "extraRegions"),
  synthRow(
    [
      "--preset",
      "stage-3",
      "--cassandra-username",
      "detector",
      "--cassandra-password-secret-arn",
      cnSecret,
      "--kafka-auth",
      "aws-iam",
      "--aws-region",
      "us-east-1",
    ],
    "--cassandra-password-secret-arn",
  ),
  synthOut("/proc/anomaly-kit-out"),
  synthOut("/proc"),
  synthOut("/sys/kernel/anomaly-kit-out"),
  synthOut(join(aFile, "k8s")),
  synthOut(aFile),
  synthOut(""),
  // CDK context: known regions and zones of them, ARNs of the region's partition, public unicast CIDRs.
  size({ preset: "stage-3", region: "us-east-9" }, "region"),
  size({ preset: "stage-3", region: "us-east-9", availabilityZones: "us-east-9a,us-east-9b,us-east-9c" }, "region"),
  size({ preset: "stage-3", region: "eu-west-1", availabilityZones: "eu-west-1a,eu-west-1b,eu-west-9c" }, "availabilityZones"),
  size({ preset: "stage-3", extraRegions: "us-east-1,Mars" }, "extraRegions"),
  kit({ region: "cn-north-1" }, "clusterAdminArn"),
  kit({ clusterAdminArn: "arn:aws-cn:iam::123456789012:role/KitAdmin" }, "clusterAdminArn"),
  kit({ clusterAdminArn: "arn:aws-us-gov:iam::123456789012:role/KitAdmin", region: "eu-west-1" }, "clusterAdminArn"),
  kit({ apiAccessCidrs: "224.0.0.1/32" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "239.255.255.250/32" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "240.0.0.0/4" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "255.255.255.255/32" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "127.0.0.1/32" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "169.254.169.254/32" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "198.18.0.1/32" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "192.0.0.8/32" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "128.0.0.0/1" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "203.0.113.7/32,10.1.2.0/24" }, "apiAccessCidrs"),
  // plan and sweep: the plain-decimal parser, the flag named.
  planRow(["stage-3", "--hours-per-stage", "0x10"], "--hours-per-stage"),
  planRow(["stage-3", "--hours-per-stage", ""], "--hours-per-stage"),
  planRow(["stage-3", "--hours-per-stage", "1e308"], "--hours-per-stage"),
  planRow(["stage-3", "--hours-per-stage", "1".padEnd(309, "0")], "--hours-per-stage"),
  planRow(["stage-3", "--hours-per-stage", "0"], "--hours-per-stage"),
  planRow(["stage-3", "--hours-per-stage", "-1"], "--hours-per-stage"),
  planRow(["stage-3", "--overhead-hours", " 1"], "--overhead-hours"),
  planRow(["stage-3", "--overhead-hours", "Infinity"], "--overhead-hours"),
  planRow(["stage-3", "--msk-storage-gib", "0x10"], "--msk-storage-gib"),
  planRow(["stage-3", "--msk-storage-gib", "100.5"], "--msk-storage-gib"),
  planRow(["stage-3", "--nat-gateways", "1.5"], "--nat-gateways"),
  planRow(["stage-3", "--nat-gateways", "4"], "--nat-gateways"),
  planRow(["stage-3", "--region", "us-east-9"], "region"),
  planRow(["stage-3", "--hours-per-stgae", "1"], "--hours-per-stgae", suggestion),
  sweepRow(["--experiment", "anomaly", "--timeout-minutes", "0x10"], "--timeout-minutes"),
  sweepRow(["--experiment", "anomaly", "--timeout-minutes", ""], "--timeout-minutes"),
  sweepRow(["--experiment", "anomaly", "--timeout-minutes", "1e308"], "--timeout-minutes"),
  sweepRow(["--experiment", "anomaly", "--timeout-minutes", "0"], "--timeout-minutes"),
  sweepRow(["--experiment", "anomaly", "--region", "us-east-9"], "--region"),
  sweepRow(["--experiment", "anomaly"], "env AWS_REGION", { AWS_REGION: "moon-1" }),
  sweepRow(["--experiment", "Bad_Id"], "--experiment"),
];

type Verdict = "clear" | "unclear" | "accepted" | "crash";
const verdicts: { row: Row; verdict: Verdict; message: string }[] = [];

/** The errors an entry point refuses input with; anything else would reach the user as a stack trace. */
const usageErrors = [ConfigError, SizeInputError, LocalUsageError, InvalidArgumentError, UsageExit, SweepUsageError];

async function judge(row: Row): Promise<{ verdict: Verdict; message: string }> {
  try {
    const result: unknown = await row.run();
    return { verdict: "accepted", message: typeof result === "string" ? result : "accepted" };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (!usageErrors.some((kind) => e instanceof kind)) return { verdict: "crash", message: `${String((e as Error).name)}: ${message}` };
    return { verdict: message.includes(row.names) && row.allowed.test(message) ? "clear" : "unclear", message };
  }
}

describe("bad input is refused, naming the field or flag and what is allowed", () => {
  it.each(rows.map((row) => [row.entry, row.input, row] as const))("%s: %s", async (_entry, _input, row) => {
    const { verdict, message } = await judge(row);
    verdicts.push({ row, verdict, message });
    expect(verdict, message).toBe("clear");
  });

  afterAll(() => {
    const count = (v: Verdict) => verdicts.filter((x) => x.verdict === v).length;
    console.log(
      `bad input: ${verdicts.length} tried, ${count("clear")} clear, ${count("unclear")} unclear, ${count("accepted")} accepted, ${count("crash")} crash`,
    );
  });
});

describe("hostile records are refused with a reason or contained", () => {
  const mark = Buffer.from([0xef, 0xbb, 0xbf]);
  /** An event whose id bytes are `id` (the encoder refuses a mark: spliced in), sent with those bytes as key. */
  const withIdBytes = (id: Buffer) => {
    const value = encodeEvent(goodEvent({ id: "x".repeat(id.length) }));
    id.copy(value, 29 + Buffer.byteLength(goodEvent().producer));
    return decodeEvent(id, value, 1024);
  };

  it.each([
    ["a leading byte-order mark (decoded away, it merged the key with the one without)", Buffer.concat([mark, Buffer.from("ab")])],
    ["a byte-order mark inside", Buffer.concat([Buffer.from("a"), mark, Buffer.from("b")])],
    ["an id that is only a byte-order mark (decoded away, it passed as non-empty)", mark],
  ])("refuses an entity id with %s, naming the field and what is allowed", (_case, id) => {
    const d = withIdBytes(id);
    expect(d).toMatchObject({ ok: false, reason: "byte-order-mark" });
    if (!d.ok) expect(d.detail).toMatch(/^entity id .*U\+FEFF.*allowed: ids without U\+FEFF$/);
  });

  it.each([-12, -(2 ** 31), 0, -1, 48, 2 ** 31 - 1])(
    "decodes a fetch holding a batch of length %i without a loop or a throw, offsets increasing, at most one placeholder",
    async (length) => {
      const decoded = await decodeMessages(fetchedMessages(await batch(0, 2), withLength(await batch(2, 2), length), await batch(4, 2)));
      const offsets = decoded.map((r) => Number(r.offset));
      expect(offsets.slice(0, 2)).toEqual([0, 1]);
      expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!)).toBe(true);
      expect(decoded.filter((r) => r.undecodable !== undefined).length).toBe(length === 2 ** 31 - 1 ? 0 : 1);
    },
  );

  it("saturates a CUSUM run count at what the stored state holds", () => {
    const history = Array.from({ length: 50 }, (_, i) => 10 + (i % 2 === 0 ? 1 : -1));
    const { sums } = cusumStep(history, 10.7, { upper: 0.5, lower: 0, upperRun: Number.MAX_SAFE_INTEGER, lowerRun: 0 });
    expect(sums.upperRun).toBe(maxRunLength);
  });

  it("cuts a dead letter's detail without splitting a surrogate pair", () => {
    const source = { topic: "events", partition: 0, offset: 1, key: null, value: null, headers: copyHeaders({}) };
    const detail = `${"d".repeat(deadLetterBounds.detailChars - 1)}😀`;
    const cut = String(copyHeaders(deadLetterMessage(source, "bad-label", detail).headers)[deadLetterHeaders.detail]);
    expect(cut.isWellFormed()).toBe(true);
    expect(cut).toBe("d".repeat(deadLetterBounds.detailChars - 1));
  });

  it("does not let a producer's sampled traceparent have its records traced", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ sampler: samplerFor(1e-9), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracing = { enabled: true, tracer: provider.getTracer("bad-input"), shutdown: () => provider.shutdown() };
    const headers = { traceparent: "00-00000000000000000000000000000001-00f067aa0ba902b7-01" };
    for (let i = 0; i < 1000; i++) startConsumerSpan(tracing, "events process", {}, headers).end();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await provider.shutdown();
  });
});
describe("what the checks must still let through", () => {
  it("takes every known region, and a new one only when the override names it, with the partition its name gives", () => {
    for (const region of Object.keys(knownAwsRegions)) expect(parseDetectorConfig({ env: { AWS_REGION: region } }).awsRegion).toBe(region);
    expect(() => parseDetectorConfig({ env: { AWS_REGION: "xx-newplace-1" } })).toThrow(/not a known AWS region/);
    expect(parseDetectorConfig({ env: { AWS_REGION: "xx-newplace-1", EXTRA_AWS_REGIONS: "xx-newplace-1" } }).awsRegion).toBe(
      "xx-newplace-1",
    );
    const plan = parseSizeInput({ preset: "stage-3", region: "cn-newplace-1", extraRegions: "cn-newplace-1" });
    expect({ zones: plan.availabilityZones, partition: plan.partition }).toEqual({
      zones: ["cn-newplace-1a", "cn-newplace-1b", "cn-newplace-1c"],
      partition: "aws-cn",
    });
    expect(
      kitInputFromContext({ preset: "stage-3", region: "cn-north-1", clusterAdminArn: "arn:aws-cn:iam::123456789012:role/KitAdmin" }).plan
        .region,
    ).toBe("cn-north-1");
  });

  it("leaves other tools' variables alone: Kubernetes service links, Kafka's and Cassandra's own, the login set-up's", () => {
    const env = {
      KAFKA_PORT: "tcp://10.0.0.1:9092",
      KAFKA_PORT_9092_TCP_ADDR: "10.0.0.1",
      KAFKA_SERVICE_HOST: "10.0.0.1",
      KAFKA_SERVICE_PORT_CLIENT: "9092",
      CASSANDRA_SERVICE_PORT: "9042",
      DETECTOR_PORT_9400_TCP_PROTO: "tcp",
      KAFKA_HEAP_OPTS: "-Xmx1G",
      CASSANDRA_HOME: "/opt/cassandra",
      CASSANDRA_AUTH_HOST: "127.0.0.1",
      LOADGEN_RATE: "5",
      OTEL_SERVICE_NAME: "x",
      AWS_PROFILE: "kit",
    };
    expect(parseDetectorConfig({ env }).detectorConcurrency).toBe(64);
    expect(parseLoadgenConfig({ env: { ...env, DETECTOR_CONCURRENCY: "8" } }).rate).toBe(5);
  });

  it("takes the edges of what is allowed", () => {
    expect(
      parseDetectorConfig({
        env: { METRICS_PORT: "0", MAX_EVENT_BYTES: String(largestLoadgenEventBytes), DETECTOR_HANDOFF_CAPACITY: "64" },
      }),
    ).toMatchObject({
      metricsPort: 0,
      maxEventBytes: largestLoadgenEventBytes,
      handoffCapacity: 64,
    });
    expect(
      parseDetectorConfig({
        env: { EVENTS_TOPIC: "e".repeat(249), KAFKA_BROKERS: "10.0.0.1:9092,b-1.kafka.example:9098", CASSANDRA_KEYSPACE: "system1" },
      }).keyspace,
    ).toBe("system1");
    expect(parseDetectorConfig({ env: { CASSANDRA_TTL_SECONDS: "21600" } }).ttlSeconds).toBe(21_600);
    expect(
      parseLoadgenConfig({
        env: { LOADGEN_BURST_START_SECONDS: "120", LOADGEN_DURATION_SECONDS: "0", LOADGEN_BURST_DURATION_SECONDS: "5" },
      }).burstStartSeconds,
    ).toBe(120);
    expect(
      kitInputFromContext({ preset: "stage-3", clusterAdminArn: admin, apiAccessCidrs: "203.0.113.7/32,8.8.8.0/24" }).access.apiAccessCidrs,
    ).toEqual(["203.0.113.7/32", "8.8.8.0/24"]);
  });
});

describe("no message prints a URL's user:password", () => {
  const secret = "s3cr3t-pa55";
  const urlSettings = [...Object.entries(detectorSettings), ...Object.entries(loadgenSettings)].filter(([, s]) => s.url === true);
  const badUrls = [
    `http://kit:${secret}@collector:65536`,
    `http://kit:${secret}@collector:port`,
    `ftp://kit:${secret}@collector:4318`,
    `http://kit:${secret}@`,
    `http://kit:${secret}@@collector:70000`,
    `http://kit:p@ss:${secret}@collector:99999`,
    `http://kit:${secret}@collector :4318`,
    `https://${secret}@[::1:4318`,
    `kit:${secret}@collector:4318`,
  ];

  it("covers at least the OTLP endpoint", () => {
    expect(urlSettings.map(([key]) => key)).toContain("otlpEndpoint");
  });

  it.each(
    urlSettings.flatMap(([key, s]) =>
      badUrls.flatMap((url) => [
        [key, "env", url, { env: { [s.env]: url } }] as const,
        [key, "flag", url, { env: {}, flags: { [key]: url } }] as const,
      ]),
    ),
  )("%s from %s: %s", (key, _origin, url, sources) => {
    const messages: string[] = [];
    for (const parse of [parseDetectorConfig, parseLoadgenConfig]) {
      try {
        parse(sources);
      } catch (e) {
        messages.push((e as Error).message);
      }
    }
    // Every one of these is refused (else nothing was tested), and no message holds the secret.
    expect(messages.length, url).toBe(2);
    for (const m of messages) {
      expect(m).toContain(`setting ${key}`);
      expect(m).not.toContain(secret);
    }
  });
});
