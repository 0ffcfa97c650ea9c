/**
 * The pipeline's schema: the three topics, the keyspace and the events table.
 *
 * In the cloud it is made once, by the `schema` command (a Kubernetes Job), not by every detector pod at once;
 * the detectors (`--create-schema false`) wait for it. Locally the detector makes it itself, as before.
 * Both sides keep trying servers that are not there yet (Cassandra still installing, the detector role not yet
 * created, a broker moving) until `schemaWaitSeconds` have passed, and then fail with a message that says what
 * is missing.
 */
import type { Kafka } from "kafkajs";
import type { DetectorConfig } from "../config.ts";
import { ensureTopics, isTransientKafkaError, type TopicSpec } from "../kafka/kafka-client.ts";
import { errorText, type Logger } from "../log.ts";
import { withRetry } from "../retry.ts";
import { cassandraSchema, topicConfigEntries } from "../topology.ts";
import type { CassandraCredentials } from "./cassandra-auth.ts";
import { createSchema, isTransientCassandraError, schemaExists, type StoreConfig } from "./cassandra-store.ts";
import { createSpatialTables, missingSpatialSchema, type SpatialConfig } from "../spatial/spatial-strategies.ts";

export type SchemaConfig = StoreConfig &
  SpatialConfig &
  Pick<
    DetectorConfig,
    "eventsTopic" | "checksTopic" | "deadLetterTopic" | "partitions" | "topicReplicationFactor" | "schemaWaitSeconds" | "spatialStrategy"
  >;

/** The schema is not (all) there yet: what a waiting detector retries on. */
export class SchemaMissingError extends Error {
  override name = "SchemaMissingError";
}

const topicsOf = (c: SchemaConfig) => [c.eventsTopic, c.checksTopic, c.deadLetterTopic];

/** The pipeline's three topics under the names a config gives them, each with its topic configs (app/topology.ts). */
export const topicSpecs = (c: Pick<SchemaConfig, "eventsTopic" | "checksTopic" | "deadLetterTopic">): TopicSpec[] => [
  { name: c.eventsTopic, configEntries: topicConfigEntries.events },
  { name: c.checksTopic, configEntries: topicConfigEntries.checks },
  { name: c.deadLetterTopic, configEntries: topicConfigEntries.deadLetter },
];

const isTransient = (err: unknown) => err instanceof SchemaMissingError || isTransientCassandraError(err) || isTransientKafkaError(err);

/** Polls: first after about a second, then up to every 10 s. */
const pollMs = { base: 1_000, max: 10_000 };

async function untilDeadline<T>(c: SchemaConfig, log: Logger, what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + c.schemaWaitSeconds * 1000;
  try {
    return await withRetry(fn, {
      isTransient,
      baseMs: pollMs.base,
      maxMs: pollMs.max,
      stop: () => Date.now() >= deadline,
      onRetry: (err, attempt) => {
        if (attempt === 1 || attempt % 6 === 0) log.warn(what, { attempt, reason: errorText(err) });
      },
    });
  } catch (err) {
    if (!isTransient(err)) throw err;
    throw new Error(`gave up after ${c.schemaWaitSeconds} s (${what}): ${errorText(err)}`, { cause: err });
  }
}

/**
 * Creates what is missing and brings the topics to the plan: partitions grown to `c.partitions` (never shrunk)
 * and the topic configs re-applied, so the schema Job of a stack grown in place grows the topics. The keyspace
 * and table are created if missing.
 */
export async function ensureSchema(c: SchemaConfig, kafka: Kafka, credentials: CassandraCredentials | null, log: Logger): Promise<void> {
  const outcome = await untilDeadline(c, log, "retrying the topics", async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await ensureTopics(admin, topicSpecs(c), c.partitions, c.topicReplicationFactor);
    } finally {
      await admin.disconnect();
    }
  });
  if (outcome.created.length > 0) log.info("created topics", { topics: outcome.created, partitions: c.partitions });
  for (const g of outcome.grown) log.info("grew topic", { ...g });
  // Kafka cannot remove partitions: a smaller stage keeps the larger count (its consumers read them all).
  for (const l of outcome.larger) log.warn("topic has more partitions than planned; kept (Kafka cannot shrink a topic)", { ...l });
  log.info("topics ready", { partitions: outcome.partitions });
  await untilDeadline(c, log, "retrying the keyspace and table", () => createSchema(c, credentials));
  // The spatial check's tables and indexes, only when it is on.
  if (c.spatialStrategy !== "off") {
    await untilDeadline(c, log, "retrying the spatial tables", () => createSpatialTables(c, credentials));
    log.info("spatial tables ready", { keyspace: c.keyspace, strategy: c.spatialStrategy });
  }
  log.info("schema ready", { keyspace: c.keyspace, table: cassandraSchema.eventsTable, replicationFactor: c.replicationFactor });
}

/** What of the schema is missing now: topic names and `keyspace.table`; empty when all is there. */
export async function missingSchema(c: SchemaConfig, kafka: Kafka, credentials: CassandraCredentials | null): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const missing: string[] = [];
  try {
    const existing = new Set(await admin.listTopics());
    missing.push(
      ...topicsOf(c)
        .filter((t) => !existing.has(t))
        .map((t) => `topic ${t}`),
    );
    // A stack grown in place: the topics exist, but the schema Job has not grown them to this stage's plan yet.
    const present = topicsOf(c).filter((t) => existing.has(t));
    if (present.length > 0) {
      for (const t of (await admin.fetchTopicMetadata({ topics: present })).topics) {
        if (t.partitions.length < c.partitions) missing.push(`partitions of topic ${t.name} (${t.partitions.length} of ${c.partitions})`);
      }
    }
  } finally {
    await admin.disconnect();
  }
  if (!(await schemaExists(c, credentials))) missing.push(`table ${c.keyspace}.${cassandraSchema.eventsTable}`);
  // With the spatial check on, its tables too: without them every located event's check would fail.
  else missing.push(...(await missingSpatialSchema(c, credentials)));
  return missing;
}

/** Waits until the topics and the table exist (made by the `schema` command); throws after schemaWaitSeconds. */
export async function waitForSchema(c: SchemaConfig, kafka: Kafka, credentials: CassandraCredentials | null, log: Logger): Promise<void> {
  await untilDeadline(c, log, "waiting for the schema (made by the `schema` command: the schema Job in the cluster)", async () => {
    const missing = await missingSchema(c, kafka, credentials);
    if (missing.length > 0) throw new SchemaMissingError(`missing ${missing.join(", ")}`);
  });
}
