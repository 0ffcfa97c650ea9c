/**
 * The app's configuration: every knob of the detector and the load generator, read once at start from
 * environment variables (what Kubernetes sets) and command-line flags (what a person types), validated with
 * zod, and rejected with a message that names the setting, the value and what is allowed.
 *
 * Each setting is declared once, in a table: its environment variable, its flag, its default and its schema.
 * Beyond each value's own schema, the rules that need several values (distinct topics, a hand-off the
 * concurrency can fill, a TTL of at least one compaction window, a known region whose partition every secret
 * ARN shares, ...) live here too (checkCombinations), so the app, synth:k8s and the CDK app, which all read
 * pod settings through this parser, refuse the same things. A variable under the app's prefixes that no
 * setting reads is refused with the closest known name (unknownEnvProblems).
 * `detectorEnvNames` / `loadgenEnvNames` and `detectorEnv()` / `loadgenEnv()` are derived from those tables so
 * the charts turn a size plan into Deployment env vars without typing a name twice.
 */
import { hostname } from "node:os";
import { z } from "zod";
import { appHttpPort, cassandraSchema, detectorGroupId, topics } from "./topology.ts";
import { cusumDefaults } from "./detector/cusum.ts";
import { anomalyRules } from "./detector/key-check.ts";
import { smallShifts } from "./loadgen/value-models.ts";
import { spatialStrategyNames } from "./spatial/neighbours.ts";
import { awsRegionAllowed, awsRegionPattern, partitionOfArn, partitionOfRegion } from "./aws-regions.ts";
import { encodeEvent } from "./events/event-codec.ts";
import { redactUrls, redactUrlValue } from "./redact.ts";
import { closestName } from "./closest-name.ts";

/** One setting: where it comes from, its default (as text, parsed like any other input) and what it allows. */
interface Setting<T> {
  readonly env: string;
  readonly flag: string;
  readonly help: string;
  readonly allowed: string;
  readonly default: string;
  readonly schema: z.ZodType<T, string>;
  /** A URL, which may carry `user:password@`: messages show it redacted (a test runs every error path of these). */
  readonly url?: true;
}

const setting = <T>(s: Setting<T>): Setting<T> => s;

// ---- value schemas: each reads a string, because env vars and flags are strings ----

/**
 * Plain decimal digits: no hex, exponent or leading zero, and a sign only where the range goes below zero, so
 * `-0` (which Number() reads as a valid 0) and `+5` are refused as typos rather than read.
 */
const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(min < 0 ? /^-?(0|[1-9]\d*)$/ : /^(0|[1-9]\d*)$/, `not an integer written in plain decimal digits${min < 0 ? "" : " (no sign)"}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const decimal = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(
      min < 0 ? /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/ : /^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/,
      `not a number${min < 0 ? "" : " (no sign)"}`,
    )
    .transform(Number)
    .pipe(z.number().finite().min(min).max(max));

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"]))
  .transform((s) => s === "true" || s === "1" || s === "yes");

/** The largest TCP port. */
export const maxPort = 65_535;

/**
 * A host a client can resolve or connect to: a dotted IPv4 address (each part 0-255), or a DNS name of labels
 * of 1-63 letters, digits and inner hyphens, at most 253 characters, whose last label is not all digits (a
 * `999.1.1.1` or `1.2.3` is a mistyped address, not a name).
 */
export function isValidHost(host: string): boolean {
  const labels = host.split(".");
  if (labels.every((l) => /^\d{1,3}$/.test(l))) return labels.length === 4 && labels.every((l) => Number(l) <= 255 && !/^0\d/.test(l));
  return (
    host.length <= 253 && labels.every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l)) && !/^\d+$/.test(labels.at(-1)!)
  );
}

/** A host (isValidHost) and a port of decimal digits (no sign, hex, exponent or blanks) within TCP's range. */
const hostPort = z
  .string()
  .regex(/^[^:]*:\d{1,5}$/, "not host:port")
  .refine((p) => isValidHost(p.slice(0, p.lastIndexOf(":"))), "not a valid host name or IPv4 address before the ':'")
  .refine(
    (p) => {
      const port = Number(p.slice(p.lastIndexOf(":") + 1));
      return port >= 1 && port <= maxPort;
    },
    `port not from 1 to ${String(maxPort)}`,
  );
const hostPortList = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== ""),
  )
  .pipe(z.array(hostPort).min(1, "empty list"));

const name = (pattern: RegExp, what: string) => z.string().trim().regex(pattern, what);
/** Kafka's own rule for a topic name: 1-249 of [A-Za-z0-9._-], and not `.` or `..` (names of directories). */
export const maxTopicNameLength = 249;
const topicName = name(new RegExp(`^[A-Za-z0-9._-]{1,${String(maxTopicNameLength)}}$`), "not a Kafka topic name").refine(
  (t) => t !== "." && t !== "..",
  "'.' and '..' are not topic names",
);
const topicAllowed = `a Kafka topic name (1-${String(maxTopicNameLength)} of [A-Za-z0-9._-], not '.' or '..')`;

/**
 * Cassandra's reserved CQL keywords (its ReservedKeywords list): as an unquoted keyspace name each is a syntax
 * error in the CREATE KEYSPACE the detector runs.
 */
export const reservedCqlKeywords: ReadonlySet<string> = new Set(
  (
    "add allow alter and apply asc authorize batch begin by columnfamily create default delete desc describe drop " +
    "entries execute from full grant if in index infinity insert into is keyspace limit materialized mbean mbeans " +
    "modify nan norecursive not null of on or order primary rename replace revoke schema select set table to token " +
    "truncate unlogged unset update use using view where with"
  ).split(" "),
);
/** Keyspaces Cassandra keeps for itself; `system` and any `system_` name are refused (newer versions add more). */
export const systemKeyspaces = [
  "system",
  "system_auth",
  "system_schema",
  "system_distributed",
  "system_traces",
  "system_views",
  "system_virtual_schema",
] as const;
const isSystemKeyspace = (k: string) => k === "system" || k.startsWith("system_");

/** CQL identifiers we create unquoted: letters, digits, underscore, starting with a letter, lower case. */
const cqlIdentifier = name(/^[a-z][a-z0-9_]{0,47}$/, "not a lower-case CQL identifier");
const keyspaceName = cqlIdentifier
  .refine((k) => !reservedCqlKeywords.has(k), "a reserved CQL keyword")
  .refine((k) => !isSystemKeyspace(k), "a keyspace Cassandra keeps for itself");

/**
 * A Cassandra data-centre name. It goes into CQL as a string literal (CREATE KEYSPACE ... replication map), so
 * only the characters snitches produce are allowed; the literal is escaped as well (app/detector/cql-literal.ts).
 */
export const dataCenterPattern = /^[A-Za-z0-9._-]{1,64}$/;
const dataCenterName = name(dataCenterPattern, "not a data-centre name of 1-64 characters of [A-Za-z0-9._-]");

/** Cassandra consistency levels we allow, by the driver's names. */
export const consistencyNames = ["one", "two", "three", "quorum", "all", "localQuorum", "eachQuorum", "localOne"] as const;
export type ConsistencyName = (typeof consistencyNames)[number];

const httpUrl = z.url({ protocol: /^https?$/ });

/** How the app authenticates to Kafka: not at all (local broker), or AWS IAM over TLS (Amazon MSK, port 9098). */
export const kafkaAuthKinds = ["none", "aws-iam"] as const;
export type KafkaAuthKind = (typeof kafkaAuthKinds)[number];

/** An AWS region name (us-east-1, eu-central-2, us-gov-west-1, ...), or empty: none given; known-ness is a cross-field check. */
const awsRegion = name(new RegExp(`^$|${awsRegionPattern.source}`), "not an AWS region name");
const regionList = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((r) => r.trim())
      .filter((r) => r !== ""),
  )
  .pipe(z.array(z.string().regex(awsRegionPattern, "not an AWS region name")));
/** A Secrets Manager secret ARN, or empty: none given. */
export const secretArnPattern = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const secretArn = name(new RegExp(`^$|${secretArnPattern.source}`), "not a Secrets Manager secret ARN");

/** Bounds of the load generator's names: its settings allow these, and the event-size floor below follows. */
const loadgenNameBounds = { keyPrefixChars: 32, producerIdChars: 64, keys: 100_000_000 } as const;

/**
 * The largest event the load generator can write (longest producer id and entity id, a located event with an
 * altitude), measured by the codec itself: a MAX_EVENT_BYTES below it would dead-letter the kit's own events.
 */
export const largestLoadgenEventBytes = encodeEvent({
  id: `${"x".repeat(loadgenNameBounds.keyPrefixChars)}-${String(loadgenNameBounds.keys - 1)}`,
  producer: "x".repeat(loadgenNameBounds.producerIdChars),
  time: 0,
  seq: 0,
  value: 0,
  label: "none",
  location: { lat: 0, lon: 0, alt: 0 },
}).length;

// ---- the tables ----

const shared = {
  kafkaBrokers: setting({
    env: "KAFKA_BROKERS",
    flag: "--kafka-brokers <list>",
    help: "Kafka bootstrap brokers",
    allowed: `comma-separated host:port list, ports from 1 to ${String(maxPort)}`,
    default: "127.0.0.1:9092",
    schema: hostPortList,
  }),
  eventsTopic: setting({
    env: "EVENTS_TOPIC",
    flag: "--events-topic <name>",
    help: "topic of the events",
    allowed: `${topicAllowed}, not the checks or dead-letter topic`,
    default: topics.events,
    schema: topicName,
  }),
  partitions: setting({
    env: "KAFKA_PARTITIONS",
    flag: "--partitions <n>",
    help: "partitions of the topics: made with this many, or grown to it (never shrunk: Kafka cannot)",
    allowed: "an integer from 1 to 10000",
    default: "6",
    schema: int(1, 10_000),
  }),
  topicReplicationFactor: setting({
    env: "KAFKA_REPLICATION_FACTOR",
    flag: "--topic-replication-factor <n>",
    help: "replication factor of the topics the app creates",
    allowed: "an integer from 1 to 7",
    default: "1",
    schema: int(1, 7),
  }),
  metricsPort: setting({
    env: "METRICS_PORT",
    flag: "--metrics-port <port>",
    help: "HTTP port of /metrics, /healthz and /readyz (0: any free port, for processes started side by side on one machine)",
    allowed: `an integer from 0 to ${String(maxPort)} in plain decimal digits (no sign: -0 is not 0)`,
    default: String(appHttpPort),
    schema: int(0, maxPort),
  }),
  tracingSampleRatio: setting({
    env: "TRACING_SAMPLE_RATIO",
    flag: "--tracing-sample-ratio <r>",
    help: "fraction of events traced (0 turns tracing off)",
    allowed: "a number from 0 to 1",
    default: "0",
    schema: decimal(0, 1),
  }),
  otlpEndpoint: setting({
    env: "OTEL_EXPORTER_OTLP_ENDPOINT",
    flag: "--otlp-endpoint <url>",
    help: "OTLP/HTTP endpoint of the trace collector (Jaeger v2); /v1/traces is appended",
    // The URL parser already refuses a port above 65535 ("Invalid URL"); the wording says so.
    allowed: `an http(s) URL (a port, if given, at most ${String(maxPort)})`,
    default: "http://127.0.0.1:4318",
    schema: httpUrl,
    url: true,
  }),
  kafkaAuth: setting({
    env: "KAFKA_AUTH",
    flag: "--kafka-auth <kind>",
    help: "Kafka authentication: none (plaintext), or aws-iam (TLS + SASL/OAUTHBEARER with a token signed by the AWS credentials, for Amazon MSK)",
    allowed: `one of ${kafkaAuthKinds.join(", ")}`,
    default: "none",
    schema: z.enum(kafkaAuthKinds),
  }),
  awsRegion: setting({
    env: "AWS_REGION",
    flag: "--aws-region <region>",
    help: "AWS region the MSK IAM auth tokens are signed for (needed with --kafka-auth aws-iam)",
    allowed: `${awsRegionAllowed("--extra-aws-regions")}, or empty`,
    default: "",
    schema: awsRegion,
  }),
  extraAwsRegions: setting({
    env: "EXTRA_AWS_REGIONS",
    flag: "--extra-aws-regions <list>",
    help: "regions to accept besides the kit's list of known AWS regions (app/aws-regions.ts): for a region opened after that list",
    allowed: "comma-separated AWS region names such as xx-newplace-1, or empty",
    default: "",
    schema: regionList,
  }),
  logLevel: setting({
    env: "LOG_LEVEL",
    flag: "--log-level <level>",
    help: "least severe log level printed",
    allowed: "one of error, warn, info, debug",
    default: "info",
    schema: z.enum(["error", "warn", "info", "debug"]),
  }),
} as const;

export const detectorSettings = {
  ...shared,
  checksTopic: setting({
    env: "CHECKS_TOPIC",
    flag: "--checks-topic <name>",
    help: "topic of the verdicts",
    allowed: `${topicAllowed}, not the events or dead-letter topic`,
    default: topics.checks,
    schema: topicName,
  }),
  deadLetterTopic: setting({
    env: "DEAD_LETTER_TOPIC",
    flag: "--dead-letter-topic <name>",
    help: "topic of the records that could not be decoded or validated",
    allowed: `${topicAllowed}, not the events or checks topic`,
    default: topics.deadLetter,
    schema: topicName,
  }),
  groupId: setting({
    env: "DETECTOR_GROUP_ID",
    flag: "--group-id <id>",
    help: "Kafka consumer group of the detectors",
    allowed: "a non-empty string",
    default: detectorGroupId,
    schema: z.string().trim().min(1, "empty"),
  }),
  consumersPerProcess: setting({
    env: "DETECTOR_CONSUMERS",
    flag: "--consumers <n>",
    help: "Kafka consumers in this process (pool 1)",
    allowed: "an integer from 1 to 64",
    default: "1",
    schema: int(1, 64),
  }),
  detectorConcurrency: setting({
    env: "DETECTOR_CONCURRENCY",
    flag: "--concurrency <n>",
    help: "checks in flight at once in this process (pool 2)",
    allowed: "an integer from 1 to 8192",
    default: "64",
    schema: int(1, 8192),
  }),
  detectorConcurrencyMode: setting({
    env: "DETECTOR_CONCURRENCY_MODE",
    flag: "--concurrency-mode <mode>",
    help: "fixed: --concurrency checks in flight; adaptive: start there and follow the checks' latency (app/detector/concurrency-limit.ts)",
    allowed: "fixed or adaptive",
    default: "fixed",
    schema: z.enum(["fixed", "adaptive"]),
  }),
  detectorConcurrencyMax: setting({
    env: "DETECTOR_CONCURRENCY_MAX",
    flag: "--concurrency-max <n>",
    help: "adaptive mode: the most checks in flight it may allow",
    allowed: "an integer from 1 to 8192, at least --concurrency",
    default: "2048",
    schema: int(1, 8192),
  }),
  // A bound, not the steering: the limit follows the throughput each doubling buys (app/detector/
  // concurrency-limit.ts). A quarter of the 1 s p99 bound, since a check's p99 runs at a few times its mean.
  detectorLatencyTargetMs: setting({
    env: "DETECTOR_LATENCY_TARGET_MS",
    flag: "--latency-target-ms <ms>",
    help: "adaptive mode: no limit is kept whose checks' mean latency passes this",
    allowed: "an integer from 1 to 60000",
    default: "250",
    schema: int(1, 60_000),
  }),
  overloadPolicy: setting({
    env: "DETECTOR_OVERLOAD_POLICY",
    flag: "--overload-policy <mode>",
    help: "while the backlog's age (now − the Kafka timestamp of the newest record taken) is past --overload-age-bound-ms: off = checks start in arrival order as always; priority = checks of keys flagged in the last 10 minutes start first, the others' are deferred (counted in detector_checks_deferred_total), never dropped",
    allowed: "off or priority",
    default: "off",
    schema: z.enum(["off", "priority"]),
  }),
  overloadAgeBoundMs: setting({
    env: "DETECTOR_OVERLOAD_AGE_BOUND_MS",
    flag: "--overload-age-bound-ms <ms>",
    help: "overload policy: the backlog age (ms) past which the detector counts as overloaded (it ends below 0.8 of it)",
    allowed: "an integer from 100 to 3600000",
    default: "5000",
    schema: int(100, 3_600_000),
  }),
  // held by default: a check then costs Cassandra one write instead of a 50-row read and a write, with the same
  // verdicts; read reproduces the reference's load on Cassandra for experiments that measure it.
  detectorHistory: setting({
    env: "DETECTOR_HISTORY",
    flag: "--history <mode>",
    help: "held: the detector holds the last 50 values and the state of the keys it owns and reads Cassandra only on a miss; read: every check reads them from Cassandra",
    allowed: "held or read",
    default: "held",
    schema: z.enum(["held", "read"]),
  }),
  heldKeys: setting({
    env: "DETECTOR_HELD_KEYS",
    flag: "--held-keys <n>",
    help: "held history: keys held at most (about 1.2 KiB of heap each); the least recently checked is evicted past it",
    allowed: "an integer from 1 to 10000000",
    default: "100000",
    schema: int(1, 10_000_000),
  }),
  handoffCapacity: setting({
    env: "DETECTOR_HANDOFF_CAPACITY",
    flag: "--handoff-capacity <n>",
    help: "records buffered between the consumers and the checks before partitions are paused",
    allowed: "an integer from 1 to 1000000, at least --concurrency",
    default: "2048",
    schema: int(1, 1_000_000),
  }),
  cassandraContactPoints: setting({
    env: "CASSANDRA_CONTACT_POINTS",
    flag: "--cassandra-contact-points <list>",
    help: "Cassandra nodes to connect to first",
    allowed: `comma-separated host:port list, ports from 1 to ${String(maxPort)}`,
    default: "127.0.0.1:9042",
    schema: hostPortList,
  }),
  cassandraLocalDataCenter: setting({
    env: "CASSANDRA_LOCAL_DC",
    flag: "--cassandra-local-dc <name>",
    help: "the Cassandra data centre this process is in (for load balancing and LOCAL_* consistency)",
    allowed: "1-64 characters of letters, digits, '-', '_' and '.'",
    default: "datacenter1",
    schema: dataCenterName,
  }),
  cassandraConnectionsPerHost: setting({
    env: "CASSANDRA_CONNECTIONS_PER_HOST",
    flag: "--cassandra-connections-per-host <n>",
    help: "connections to each Cassandra node in the local data centre",
    allowed: "an integer from 1 to 64",
    default: "1",
    schema: int(1, 64),
  }),
  requestsPerConnection: setting({
    env: "CASSANDRA_REQUESTS_PER_CONNECTION",
    flag: "--cassandra-requests-per-connection <n>",
    help: "concurrent requests on one Cassandra connection",
    allowed: "an integer from 1 to 32768",
    default: "2048",
    schema: int(1, 32_768),
  }),
  cassandraUsername: setting({
    env: "CASSANDRA_USERNAME",
    flag: "--cassandra-username <name>",
    help: "Cassandra role to log in as (empty: no authentication, as the local node); its password comes from Secrets Manager (cloud) or a file (the local stack's --auth mode)",
    allowed: "a role name of 1-64 characters of [A-Za-z0-9_], or empty",
    default: "",
    schema: name(/^[A-Za-z0-9_]{0,64}$/, "not a role name of at most 64 characters of [A-Za-z0-9_]"),
  }),
  cassandraPasswordSecretArn: setting({
    env: "CASSANDRA_PASSWORD_SECRET_ARN",
    flag: "--cassandra-password-secret-arn <arn>",
    help: "Secrets Manager secret holding the Cassandra role's password (read once at start, with the AWS credentials)",
    allowed: "a Secrets Manager secret ARN, or empty (set together with the username)",
    default: "",
    schema: secretArn,
  }),
  cassandraPasswordFile: setting({
    env: "CASSANDRA_PASSWORD_FILE",
    flag: "--cassandra-password-file <path>",
    help: "file whose first line is the Cassandra role's password (read once at start), instead of a secret ARN",
    allowed: "a file path without spaces at either end, or empty (set together with the username)",
    default: "",
    schema: z.string().regex(/^(\S(.*\S)?)?$/, "spaces at either end"),
  }),
  cassandraTlsCaSecretArn: setting({
    env: "CASSANDRA_TLS_CA_SECRET_ARN",
    flag: "--cassandra-tls-ca-secret-arn <arn>",
    help: "Secrets Manager secret holding the CA certificate of a Cassandra cluster that requires TLS (read once at start); empty: plaintext",
    allowed: "a Secrets Manager secret ARN, or empty (at most one CA source, with a username)",
    default: "",
    schema: secretArn,
  }),
  cassandraTlsCaFile: setting({
    env: "CASSANDRA_TLS_CA_FILE",
    flag: "--cassandra-tls-ca-file <path>",
    help: "PEM file of the CA certificate of a Cassandra node that requires TLS (the local stack's --tls mode), instead of a secret ARN",
    allowed: "a file path without spaces at either end, or empty (at most one CA source, with a username)",
    default: "",
    schema: z.string().regex(/^(\S(.*\S)?)?$/, "spaces at either end"),
  }),
  keyspace: setting({
    env: "CASSANDRA_KEYSPACE",
    flag: "--keyspace <name>",
    help: "Cassandra keyspace of the events table",
    allowed: `a lower-case CQL identifier (letter first, then letters, digits, _; at most 48), not a reserved CQL keyword (select, table, ...) nor a system keyspace (${systemKeyspaces.join(", ")}, or any system_ name)`,
    default: cassandraSchema.keyspace,
    schema: keyspaceName,
  }),
  replicationFactor: setting({
    env: "CASSANDRA_REPLICATION_FACTOR",
    flag: "--replication-factor <n>",
    help: "Cassandra replication factor in the local data centre (NetworkTopologyStrategy); 3 in the cloud",
    allowed: "an integer from 1 to 9",
    default: "1",
    schema: int(1, 9),
  }),
  writeConsistency: setting({
    env: "CASSANDRA_WRITE_CONSISTENCY",
    flag: "--write-consistency <level>",
    // LOCAL_QUORUM for both: with RF 3 a read then sees every acknowledged write (2 + 2 > 3), with RF 1 it is ONE.
    help: "consistency level of the event writes (default LOCAL_QUORUM: survives one replica down at RF 3)",
    allowed: `one of ${consistencyNames.join(", ")}`,
    default: "localQuorum",
    schema: z.enum(consistencyNames),
  }),
  readConsistency: setting({
    env: "CASSANDRA_READ_CONSISTENCY",
    flag: "--read-consistency <level>",
    help: "consistency level of the history reads (default LOCAL_QUORUM: reads its own writes with RF 3)",
    allowed: `one of ${consistencyNames.join(", ")}`,
    default: "localQuorum",
    schema: z.enum(consistencyNames),
  }),
  ttlSeconds: setting({
    env: "CASSANDRA_TTL_SECONDS",
    flag: "--ttl-seconds <s>",
    help: "default time to live of event rows",
    allowed: "an integer from 60 to 630720000 (20 years), at least one compaction window",
    default: String(7 * 24 * 3600),
    schema: int(60, 630_720_000),
  }),
  compactionWindowMinutes: setting({
    env: "CASSANDRA_COMPACTION_WINDOW_MINUTES",
    flag: "--compaction-window-minutes <m>",
    help: "TimeWindowCompactionStrategy window (aim for 20-30 windows per TTL)",
    allowed: "an integer from 1 to 525600",
    default: "360",
    schema: int(1, 525_600),
  }),
  createSchema: setting({
    env: "DETECTOR_CREATE_SCHEMA",
    flag: "--create-schema <bool>",
    help: "create the keyspace, table and topics if missing (false: wait for the `schema` command to have made them)",
    allowed: "true or false",
    default: "true",
    schema: bool,
  }),
  schemaWaitSeconds: setting({
    env: "DETECTOR_SCHEMA_WAIT_SECONDS",
    flag: "--schema-wait-seconds <s>",
    help: "how long to keep trying servers that are not there yet, and (without --create-schema) to wait for the schema, before exiting with an error",
    allowed: "an integer from 1 to 86400",
    default: "900",
    schema: int(1, 86_400),
  }),
  cusumK: setting({
    env: "DETECTOR_CUSUM_K",
    flag: "--cusum-k <k>",
    help: "CUSUM allowance (slack), in standard deviations",
    allowed: "a number from 0 to 10",
    default: String(cusumDefaults.k),
    schema: decimal(0, 10),
  }),
  cusumH: setting({
    env: "DETECTOR_CUSUM_H",
    flag: "--cusum-h <h>",
    help: "CUSUM decision threshold, in standard deviations",
    allowed: "a number from 0.1 to 100",
    default: String(cusumDefaults.h),
    schema: decimal(0.1, 100),
  }),
  anomalyRule: setting({
    env: "DETECTOR_ANOMALY_RULE",
    flag: "--anomaly-rule <rule>",
    help: "what makes a verdict an anomaly: cusum (the CUSUM's signal, exact on independent data such as the load generator's) or score (the anomaly score at or above 0.5: the key's range and likelihood, for real series); every verdict carries the score either way",
    allowed: `one of ${anomalyRules.join(", ")}`,
    default: "cusum",
    schema: z.enum(anomalyRules),
  }),
  spatialStrategy: setting({
    env: "DETECTOR_SPATIAL_STRATEGY",
    flag: "--spatial-strategy <name>",
    help: "spatial check of located events against their 50 nearest previous events of any key: geohash (one table per geohash precision), sai (SAI indexes on lat/lon/alt), or off",
    allowed: `one of off, ${spatialStrategyNames.join(", ")}`,
    default: "off",
    schema: z.enum(["off", ...spatialStrategyNames]),
  }),
  spatialCandidateLimit: setting({
    env: "DETECTOR_SPATIAL_CANDIDATE_LIMIT",
    flag: "--spatial-candidate-limit <n>",
    help: "rows one spatial read (a geohash cell, or an SAI box) may return; a read cut there finds the nearest among the most recent only",
    allowed: "an integer from 100 to 100000",
    default: "2000",
    schema: int(100, 100_000),
  }),
  spatialInitialRadiusMetres: setting({
    env: "DETECTOR_SPATIAL_INITIAL_RADIUS_METRES",
    flag: "--spatial-initial-radius <m>",
    help: "sai strategy: half-size in metres of the first bounding box searched (it then widens or narrows)",
    allowed: "a number from 1 to 20000000",
    default: "1000",
    schema: decimal(1, 20_000_000),
  }),
  maxEventBytes: setting({
    env: "MAX_EVENT_BYTES",
    flag: "--max-event-bytes <n>",
    help: "largest accepted event record value; larger ones are dead-lettered",
    allowed: `an integer from ${String(largestLoadgenEventBytes)} (the largest event the load generator writes) to 1048576`,
    default: "1024",
    schema: int(largestLoadgenEventBytes, 1_048_576),
  }),
  shutdownTimeoutSeconds: setting({
    env: "DETECTOR_SHUTDOWN_TIMEOUT_SECONDS",
    flag: "--shutdown-timeout-seconds <s>",
    help: "how long a SIGTERM drain may take before the process exits anyway (uncommitted work is redone)",
    allowed: "an integer from 1 to 3600",
    default: "25",
    schema: int(1, 3600),
  }),
} as const;

export const loadgenSettings = {
  ...shared,
  rate: setting({
    env: "LOADGEN_RATE",
    flag: "--rate <events-per-second>",
    help: "events per second, scheduled by the clock (open loop)",
    allowed: "a number from 0.1 to 10000000",
    default: "1000",
    schema: decimal(0.1, 10_000_000),
  }),
  duration: setting({
    env: "LOADGEN_DURATION_SECONDS",
    flag: "--duration <seconds>",
    help: "how long to send (0: until stopped)",
    allowed: "a number from 0 to 31536000",
    default: "60",
    schema: decimal(0, 31_536_000),
  }),
  keys: setting({
    env: "LOADGEN_KEYS",
    flag: "--keys <n>",
    help: "number of distinct entity ids",
    allowed: `an integer from 1 to ${String(loadgenNameBounds.keys)}`,
    default: "1000",
    schema: int(1, loadgenNameBounds.keys),
  }),
  keyDistribution: setting({
    env: "LOADGEN_KEY_DISTRIBUTION",
    flag: "--key-distribution <kind>",
    help: "how often each id is picked",
    allowed: "uniform or zipf",
    default: "uniform",
    schema: z.enum(["uniform", "zipf"]),
  }),
  zipfExponent: setting({
    env: "LOADGEN_ZIPF_EXPONENT",
    flag: "--zipf-exponent <s>",
    help: "exponent of the zipf key distribution",
    allowed: "a number from 0.01 to 5",
    default: "1",
    schema: decimal(0.01, 5),
  }),
  keyPrefix: setting({
    env: "LOADGEN_KEY_PREFIX",
    flag: "--key-prefix <text>",
    help: "prefix of the entity ids (a run id keeps runs apart)",
    allowed: `1-${String(loadgenNameBounds.keyPrefixChars)} characters of [A-Za-z0-9._-]`,
    default: "id",
    schema: name(
      new RegExp(`^[A-Za-z0-9._-]{1,${String(loadgenNameBounds.keyPrefixChars)}}$`),
      `not 1-${String(loadgenNameBounds.keyPrefixChars)} characters of [A-Za-z0-9._-]`,
    ),
  }),
  randomWalkShare: setting({
    env: "LOADGEN_RANDOM_WALK_SHARE",
    flag: "--random-walk-share <f>",
    help: "fraction of ids whose values follow a biased random walk (the rest: a stable level with noise)",
    allowed: "a number from 0 to 1",
    default: "0.2",
    schema: decimal(0, 1),
  }),
  spikeProbability: setting({
    env: "LOADGEN_SPIKE_PROBABILITY",
    flag: "--spike-probability <p>",
    help: "probability that an event is an injected single spike",
    allowed: "a number from 0 to 0.5",
    default: "0.001",
    schema: decimal(0, 0.5),
  }),
  smallShiftMinSigmas: setting({
    env: "LOADGEN_SMALL_SHIFT_MIN_SIGMAS",
    flag: "--small-shift-min-sigmas <x>",
    help: "smallest small sustained shift, in its id's own noise σ (half the shifts of stable ids are small)",
    allowed: "a number from 0.1 to 20, at most the largest",
    default: String(smallShifts.sigmas.min),
    schema: decimal(0.1, 20),
  }),
  smallShiftMaxSigmas: setting({
    env: "LOADGEN_SMALL_SHIFT_MAX_SIGMAS",
    flag: "--small-shift-max-sigmas <x>",
    help: "largest small sustained shift, in its id's own noise σ",
    allowed: "a number from 0.1 to 20, at least the smallest",
    default: String(smallShifts.sigmas.max),
    schema: decimal(0.1, 20),
  }),
  shiftProbability: setting({
    env: "LOADGEN_SHIFT_PROBABILITY",
    flag: "--shift-probability <p>",
    help: "probability that an event starts an injected sustained level shift of its id",
    allowed: "a number from 0 to 0.5",
    default: "0.0005",
    schema: decimal(0, 0.5),
  }),
  burstFactor: setting({
    env: "LOADGEN_BURST_FACTOR",
    flag: "--burst-factor <x>",
    help: "load spike: the rate is multiplied by this during the burst",
    allowed: "a number from 1 to 1000",
    default: "1",
    schema: decimal(1, 1000),
  }),
  burstStartSeconds: setting({
    env: "LOADGEN_BURST_START_SECONDS",
    flag: "--burst-start <seconds>",
    help: "load spike: seconds after the start",
    allowed: "a number from 0 to 31536000, before the run's end (--duration) when there is a burst",
    default: "0",
    schema: decimal(0, 31_536_000),
  }),
  burstDurationSeconds: setting({
    env: "LOADGEN_BURST_DURATION_SECONDS",
    flag: "--burst-duration <seconds>",
    help: "load spike: how long it lasts (0: no burst)",
    allowed: "a number from 0 to 31536000",
    default: "0",
    schema: decimal(0, 31_536_000),
  }),
  spatialWorkload: setting({
    env: "LOADGEN_SPATIAL_WORKLOAD",
    flag: "--spatial-workload <kind>",
    help: "located events: hotspots = keys clustered around moving hot spots, some drones with altitude, with injected spatial anomalies (app/loadgen/spatial-model.ts); off = no locations, the per-key value models",
    allowed: "off or hotspots",
    default: "off",
    schema: z.enum(["off", "hotspots"]),
  }),
  spatialHotSpots: setting({
    env: "LOADGEN_SPATIAL_HOT_SPOTS",
    flag: "--spatial-hot-spots <n>",
    help: "spatial workload: number of moving hot spots (key i belongs to hot spot i mod n)",
    allowed: "an integer from 1 to 1000",
    default: "8",
    schema: int(1, 1000),
  }),
  spatialDroneShare: setting({
    env: "LOADGEN_SPATIAL_DRONE_SHARE",
    flag: "--spatial-drone-share <f>",
    help: "spatial workload: fraction of keys that are drones and report an altitude (the rest: 2D ground sensors)",
    allowed: "a number from 0 to 1",
    default: "0.3",
    schema: decimal(0, 1),
  }),
  spatialValueOutlierProbability: setting({
    env: "LOADGEN_SPATIAL_VALUE_OUTLIER_PROBABILITY",
    flag: "--spatial-value-outlier-probability <p>",
    help: "spatial workload: probability that an event's value is 10-30 σ off its hot spot's (labelled spike)",
    allowed: "a number from 0 to 0.5",
    default: "0.001",
    schema: decimal(0, 0.5),
  }),
  spatialMisplacedProbability: setting({
    env: "LOADGEN_SPATIAL_MISPLACED_PROBABILITY",
    flag: "--spatial-misplaced-probability <p>",
    help: "spatial workload: probability that an event is placed where none should be, >= 50 km from every hot spot (labelled none: its value is ordinary)",
    allowed: "a number from 0 to 0.5",
    default: "0.0005",
    schema: decimal(0, 0.5),
  }),
  producerId: setting({
    env: "LOADGEN_PRODUCER_ID",
    flag: "--producer-id <id>",
    help: "this generator's id; with its sequence number it names each event (default: the host name)",
    allowed: `1-${String(loadgenNameBounds.producerIdChars)} characters of [A-Za-z0-9._-]`,
    default:
      hostname()
        .replace(/[^A-Za-z0-9._-]/g, "-")
        .slice(0, loadgenNameBounds.producerIdChars) || "loadgen",
    schema: name(
      new RegExp(`^[A-Za-z0-9._-]{1,${String(loadgenNameBounds.producerIdChars)}}$`),
      `not 1-${String(loadgenNameBounds.producerIdChars)} characters of [A-Za-z0-9._-]`,
    ),
  }),
  seed: setting({
    env: "LOADGEN_SEED",
    flag: "--seed <n>",
    help: "random seed (0: derived from the producer id)",
    allowed: "an integer from 0 to 4294967295",
    default: "0",
    schema: int(0, 4_294_967_295),
  }),
  reportPath: setting({
    env: "LOADGEN_REPORT",
    flag: "--report <file>",
    help: "write what was sent and injected to this JSON file at the end (empty: stdout only)",
    allowed: "a file path or empty",
    default: "",
    schema: z.string(),
  }),
} as const;

type SettingsTable = Readonly<Record<string, Setting<unknown>>>;
type ValuesOf<S extends SettingsTable> = { -readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };
type EnvNamesOf<S extends SettingsTable> = { readonly [K in keyof S]: string };

export type DetectorConfig = ValuesOf<typeof detectorSettings>;
export type LoadgenConfig = ValuesOf<typeof loadgenSettings>;

const envNamesOf = <S extends SettingsTable>(table: S): EnvNamesOf<S> =>
  Object.fromEntries(Object.entries(table).map(([k, s]) => [k, s.env])) as EnvNamesOf<S>;

/** Setting name → environment variable name, for the charts. */
export const detectorEnvNames = envNamesOf(detectorSettings);
export const loadgenEnvNames = envNamesOf(loadgenSettings);

/** A bad setting: its message names the setting, the value and what is allowed. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Where a raw value came from, so the message can say which to fix. */
export interface ConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Flag values by setting name (commander's camel-case keys); they win over the environment. */
  readonly flags?: Readonly<Record<string, unknown>>;
}

/** A typed value (or a flag's value) as the text an env var or a flag carries. */
const formatValue = (v: unknown): string => {
  if (Array.isArray(v)) return v.map((x) => formatValue(x)).join(",");
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
};

/** Where each value came from: `flag --x`, `env X` or `default`, so a message says which to fix. */
type Origins = Readonly<Record<string, string>>;

/** Values shown in messages: a URL's user:password@ never is (the message may end up in a log). */
const shown = (raw: string, s: Setting<unknown>): string => JSON.stringify(s.url === true ? redactUrlValue(raw) : redactUrls(raw));

/** Reads every setting of the table; throws one ConfigError with every problem (`earlier` first). */
function parseTable<S extends SettingsTable>(
  table: S,
  sources: ConfigSources,
  earlier: readonly string[] = [],
): { values: ValuesOf<S>; origins: Origins } {
  const values: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  const problems: string[] = [...earlier];
  for (const [key, s] of Object.entries(table)) {
    const flag = sources.flags?.[key];
    const fromFlag = flag !== undefined;
    const fromEnv = !fromFlag && sources.env[s.env] !== undefined;
    const raw = fromFlag ? formatValue(flag) : fromEnv ? (sources.env[s.env] ?? "") : s.default;
    const origin = fromFlag ? `flag ${s.flag.split(" ")[0]!}` : fromEnv ? `env ${s.env}` : "default";
    origins[key] = origin;
    const result = s.schema.safeParse(raw);
    if (result.success) {
      values[key] = result.data;
    } else {
      const why = result.error.issues.map((i) => i.message).join("; ");
      problems.push(`setting ${key} (${origin}): value ${shown(raw, s)} is not allowed (${why}); allowed: ${s.allowed}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return { values: values as ValuesOf<S>, origins };
}

// ---- environment variables under the app's prefixes ----

/** Every variable the app reads, from both tables: the detector and the load generator may share a shell. */
export const knownEnvNames: readonly string[] = [
  ...new Set([...Object.values(detectorSettings), ...Object.values(loadgenSettings)].map((s) => s.env)),
];

/**
 * Prefixes whose variables are the app's: one there that the app does not read is a typo (DETECTOR_CONCURENCY)
 * and would otherwise run with the default. OTEL_, AWS_ and LOG_ are not among them: the OpenTelemetry and AWS
 * SDKs read their own variables there.
 */
export const appEnvPrefixes = ["DETECTOR_", "LOADGEN_", "CASSANDRA_", "KAFKA_", "TRACING_"] as const;

/**
 * Variables under those prefixes that belong to someone else and may be set where the app runs:
 * Cassandra's and Kafka's own launch scripts (a machine that also runs the local stack), the Cassandra login
 * set-up script's inputs (cdk/servers/cassandra-auth-setup.sh), and the variables Kubernetes gives a pod for
 * every Service in its namespace (a Service named `kafka` or `cassandra` gives KAFKA_PORT, KAFKA_SERVICE_HOST, ...).
 */
const foreignEnvName =
  /^(CASSANDRA_(HOME|CONF|INCLUDE|LOG_DIR|HEAPDUMP_DIR|AUTH_[A-Z0-9_]+)|KAFKA_(HOME|HEAP_OPTS|OPTS|JVM_PERFORMANCE_OPTS|LOG4J_OPTS|GC_LOG_OPTS|JMX_OPTS|DEBUG|CLUSTER_ID)|[A-Z0-9_]+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?))$/;

/** One line per variable under the app's prefixes that the app does not read, with the closest known name. */
export function unknownEnvProblems(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && appEnvPrefixes.some((p) => name.startsWith(p)))
    .filter((name) => !knownEnvNames.includes(name) && !foreignEnvName.test(name))
    .sort()
    .map((name) => {
      const suggestion = closestName(name, knownEnvNames);
      return (
        `env ${name}: unknown variable under the app's prefixes (${appEnvPrefixes.join(", ")}); ` +
        (suggestion === undefined ? `allowed: the names --help lists` : `did you mean ${suggestion}? allowed: the names --help lists`)
      );
    });
}

// ---- rules across settings, and what a value means ----

type AnyConfig = Partial<DetectorConfig> & Partial<LoadgenConfig>;
type AnyKey = keyof DetectorConfig | keyof LoadgenConfig;

const settingOf = (key: AnyKey): Setting<unknown> => ((detectorSettings as SettingsTable)[key] ?? (loadgenSettings as SettingsTable)[key])!;
const allowedOf = (key: AnyKey): string => settingOf(key).allowed;
/**
 * "setting awsRegion (flag --aws-region)": the name and where the value came from; a default is named by its
 * environment variable, where a deployment would set it.
 */
const named = (origins: Origins, key: AnyKey): string => {
  const origin = origins[key];
  return `setting ${key} (${origin === undefined || origin === "default" ? `env ${settingOf(key).env}` : origin})`;
};

/**
 * A username needs exactly one password source (a secret ARN or a file); no username, neither. Each message
 * names the settings involved.
 */
function cassandraCredentialProblems(values: AnyConfig, origins: Origins): string[] {
  const { cassandraUsername: user, cassandraPasswordSecretArn: arn = "", cassandraPasswordFile: file = "" } = values;
  if (user === undefined) return [];
  const env = (key: AnyKey) => named(origins, key);
  const sources = [arn === "" ? [] : ["cassandraPasswordSecretArn" as const], file === "" ? [] : ["cassandraPasswordFile" as const]].flat();
  if (user === "" && sources.length > 0) {
    return sources.map(
      (k) =>
        `${env("cassandraUsername")}: empty, but ${env(k)} is given; allowed: a username with one password source (password authentication) or neither (no authentication)`,
    );
  }
  if (user !== "" && sources.length === 0) {
    return [
      `${env("cassandraPasswordSecretArn")}: empty, but setting cassandraUsername is given; ` +
        `allowed: one password source for the username, a secret ARN or ${env("cassandraPasswordFile")}`,
    ];
  }
  if (sources.length > 1) {
    return [
      `${env("cassandraPasswordSecretArn")} and ${env("cassandraPasswordFile")}: both given; allowed: exactly one password source for setting cassandraUsername`,
    ];
  }
  return [];
}

/** TLS to Cassandra: at most one CA source, and (as in the cloud) only for a node that also wants a login. */
function cassandraTlsProblems(values: AnyConfig, origins: Origins): string[] {
  const { cassandraTlsCaSecretArn: arn = "", cassandraTlsCaFile: file = "", cassandraUsername: user } = values;
  const env = (key: AnyKey) => named(origins, key);
  if (arn !== "" && file !== "") {
    return [`${env("cassandraTlsCaSecretArn")} and ${env("cassandraTlsCaFile")}: both given; allowed: at most one CA certificate source`];
  }
  if ((arn !== "" || file !== "") && user === "") {
    const given = arn !== "" ? "cassandraTlsCaSecretArn" : "cassandraTlsCaFile";
    return [
      `${env("cassandraUsername")}: empty, but ${env(given)} is given; allowed: a username with its password source (TLS nodes require a login)`,
    ];
  }
  return [];
}

/** The region is a known one (or named in the override), and every ARN given is in its partition and its own region's. */
function regionProblems(values: AnyConfig, origins: Origins): string[] {
  const problems: string[] = [];
  const extra = values.extraAwsRegions ?? [];
  const region = values.awsRegion ?? "";
  const regionPartition = region === "" ? undefined : partitionOfRegion(region, extra);
  if (region !== "" && regionPartition === undefined) {
    problems.push(
      `${named(origins, "awsRegion")}: value ${JSON.stringify(region)} is not a known AWS region; allowed: ${allowedOf("awsRegion")}`,
    );
  }
  if (values.kafkaAuth === "aws-iam" && region === "") {
    problems.push(
      `${named(origins, "awsRegion")}: empty, but setting kafkaAuth is aws-iam; allowed: ${awsRegionAllowed("--extra-aws-regions")}`,
    );
  }
  for (const key of ["cassandraPasswordSecretArn", "cassandraTlsCaSecretArn"] as const) {
    const arn = values[key] ?? "";
    if (arn === "") continue;
    const arnPartition = partitionOfArn(arn);
    const arnRegion = arn.split(":")[3]!;
    const ownPartition = partitionOfRegion(arnRegion, extra);
    if (ownPartition === undefined) {
      problems.push(
        `${named(origins, key)}: value ${JSON.stringify(arn)} names region ${JSON.stringify(arnRegion)}; allowed: an ARN in ${awsRegionAllowed("--extra-aws-regions")}`,
      );
    } else if (ownPartition !== arnPartition) {
      problems.push(
        `${named(origins, key)}: value ${JSON.stringify(arn)} is in partition ${String(arnPartition)}, but its region ${arnRegion} is in ${ownPartition}; allowed: arn:${ownPartition}:secretsmanager:${arnRegion}:...`,
      );
    } else if (regionPartition !== undefined && regionPartition !== arnPartition) {
      problems.push(
        `${named(origins, key)}: value ${JSON.stringify(arn)} is in partition ${String(arnPartition)}, but ${named(origins, "awsRegion")} ${region} is in ${regionPartition}; allowed: a secret in the region's partition (arn:${regionPartition}:...)`,
      );
    }
  }
  return problems;
}

/** Settings that are only valid together, and values that type-check but cannot work; each message names every setting involved. */
function checkCombinations(values: AnyConfig, origins: Origins): void {
  const problems: string[] = regionProblems(values, origins);
  const n = (key: AnyKey) => named(origins, key);
  problems.push(...cassandraCredentialProblems(values, origins), ...cassandraTlsProblems(values, origins));
  const { smallShiftMinSigmas: min, smallShiftMaxSigmas: max } = values;
  if (min !== undefined && max !== undefined && min > max) {
    problems.push(`${n("smallShiftMinSigmas")}: ${min} is above smallShiftMaxSigmas ${max}; allowed: ${allowedOf("smallShiftMinSigmas")}`);
  }
  const { detectorConcurrencyMode: mode, detectorConcurrency: initial, detectorConcurrencyMax: most } = values;
  if (mode === "adaptive" && initial !== undefined && most !== undefined && most < initial) {
    problems.push(
      `${n("detectorConcurrencyMax")}: ${most} is below detectorConcurrency ${initial}, where the adaptive limit starts; allowed: ${allowedOf("detectorConcurrencyMax")}`,
    );
  }
  // The hand-off counts the checks running as well as the waiting ones: below the concurrency, part of it is never used.
  const { handoffCapacity: handoff } = values;
  if (handoff !== undefined && initial !== undefined && handoff < initial) {
    problems.push(
      `${n("handoffCapacity")}: ${handoff} is below detectorConcurrency ${initial}, so that many checks can never run at once; allowed: ${allowedOf("handoffCapacity")}`,
    );
  }
  // Verdicts on the events topic would be consumed as events; dead letters on the events topic would loop.
  const topicKeys = (["eventsTopic", "checksTopic", "deadLetterTopic"] as const).filter((k) => values[k] !== undefined);
  for (const [i, a] of topicKeys.entries()) {
    const b = topicKeys.slice(i + 1).find((k) => values[k] === values[a]);
    if (b !== undefined) problems.push(`${n(a)} and ${n(b)}: both ${JSON.stringify(values[a])}; allowed: ${allowedOf(a)}`);
  }
  // TimeWindowCompactionStrategy drops whole windows: rows that expire inside their first window make it churn.
  const { ttlSeconds: ttl, compactionWindowMinutes: window } = values;
  if (ttl !== undefined && window !== undefined && ttl < window * 60) {
    problems.push(
      `${n("ttlSeconds")}: ${ttl} s is shorter than ${n("compactionWindowMinutes")} ${window} min (${window * 60} s); allowed: ${allowedOf("ttlSeconds")}`,
    );
  }
  const { burstStartSeconds: start, burstDurationSeconds: burst, duration } = values;
  if (start !== undefined && burst !== undefined && duration !== undefined && burst > 0 && duration > 0 && start >= duration) {
    problems.push(
      `${n("burstStartSeconds")}: ${start} s is not before the run's end, ${n("duration")} ${duration} s, so the burst never happens; allowed: ${allowedOf("burstStartSeconds")}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
}

export const parseDetectorConfig = (sources: ConfigSources): DetectorConfig => {
  const { values, origins } = parseTable(detectorSettings, sources, unknownEnvProblems(sources.env));
  checkCombinations(values, origins);
  return values;
};
export const parseLoadgenConfig = (sources: ConfigSources): LoadgenConfig => {
  const { values, origins } = parseTable(loadgenSettings, sources, unknownEnvProblems(sources.env));
  checkCombinations(values, origins);
  return values;
};

function envOf<S extends SettingsTable>(table: S, values: Partial<ValuesOf<S>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, v] of Object.entries(values)) {
    const s = table[key];
    if (s === undefined) throw new ConfigError(`unknown setting ${key}`);
    if (v !== undefined) env[s.env] = formatValue(v);
  }
  // Validate what we produce, so a chart cannot render a value the app would refuse at start.
  parseTable(table, { env });
  return env;
}

/** Typed values → environment variables of the detector (only the given settings). Throws on a bad value. */
export const detectorEnv = (values: Partial<DetectorConfig>): Record<string, string> => envOf(detectorSettings, values);
/** Typed values → environment variables of the load generator. Throws on a bad value. */
export const loadgenEnv = (values: Partial<LoadgenConfig>): Record<string, string> => envOf(loadgenSettings, values);
