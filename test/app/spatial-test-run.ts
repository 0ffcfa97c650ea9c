/**
 * What the spatial integration tests share: a detector config on a test's own topics, consumer group
 * and keyspace, and their removal afterwards.
 */
import cassandra from "cassandra-driver";
import type { Kafka } from "kafkajs";
import { parseDetectorConfig, type DetectorConfig } from "../../app/config.ts";

/** A detector config whose topics, group and keyspace are named after `id`, with `env` on top. */
export const spatialTestConfig = (id: string, env: Readonly<Record<string, string>>): DetectorConfig =>
  parseDetectorConfig({
    env: {
      EVENTS_TOPIC: `${id}-events`,
      CHECKS_TOPIC: `${id}-checks`,
      DEAD_LETTER_TOPIC: `${id}-dead-letter`,
      DETECTOR_GROUP_ID: `${id}-detector`,
      CASSANDRA_KEYSPACE: `it_${id}`,
      LOG_LEVEL: "warn",
      ...env,
    },
  });

/** Deletes the configs' topics, their groups and `otherGroups`, and drops their keyspaces. */
export async function dropSpatialTestRuns(
  kafka: Kafka,
  configs: readonly DetectorConfig[],
  otherGroups: readonly string[] = [],
): Promise<void> {
  if (configs.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: configs.flatMap((c) => [c.eventsTopic, c.checksTopic, c.deadLetterTopic]) }).catch(() => {});
  await admin.deleteGroups([...configs.map((c) => c.groupId), ...otherGroups]).catch(() => {});
  await admin.disconnect();
  const first = configs[0]!;
  const client = new cassandra.Client({
    contactPoints: [...first.cassandraContactPoints],
    localDataCenter: first.cassandraLocalDataCenter,
  });
  await client.connect();
  for (const c of configs) await client.execute(`DROP KEYSPACE IF EXISTS ${c.keyspace}`);
  await client.shutdown();
}
