/** Clean-up shared by the app's integration tests: each run's topics (`<id>-…`) and keyspace (`it_<id>`). */
import cassandra from "cassandra-driver";
import type { Kafka } from "kafkajs";
import { localEndpoints } from "../../scripts/local/locations.ts";

export const testKeyspace = (runId: string) => `it_${runId}`;

/** Leaves the servers as the tests found them. */
export async function dropTestRuns(kafka: Kafka, runIds: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => runIds.some((id) => t.startsWith(`${id}-`)));
  await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
  const client = new cassandra.Client({
    contactPoints: [localEndpoints.cassandraContactPoints],
    localDataCenter: localEndpoints.cassandraLocalDataCenter,
  });
  await client.connect();
  for (const id of runIds) await client.execute(`DROP KEYSPACE IF EXISTS ${testKeyspace(id)}`);
  await client.shutdown();
}
