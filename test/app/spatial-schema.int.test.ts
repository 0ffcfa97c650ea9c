/**
 * The spatial strategies' schema on the real local Kafka + Cassandra: with the spatial check on, a
 * detector waiting for the schema sees the strategy's tables and indexes as missing until the schema command
 * (ensureSchema) has made them; with it off, nothing spatial is made or waited for. Own topics and keyspaces,
 * deleted at the end.
 */
import cassandra from "cassandra-driver";
import type { Kafka } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { parseDetectorConfig, type DetectorConfig } from "../../app/config.ts";
import { createSchema } from "../../app/detector/cassandra-store.ts";
import { ensureSchema, missingSchema } from "../../app/detector/schema.ts";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import { createLogger } from "../../app/log.ts";
import { geohashPrecisions } from "../../app/spatial/geohash-store.ts";
import { dropSpatialTestRuns, spatialTestConfig } from "./spatial-test-run.ts";

const log = createLogger("spatial-schema-test", "warn");
const made: DetectorConfig[] = [];
const kafka: Kafka = createKafka("spatial-schema-test", parseDetectorConfig({ env: {} }).kafkaBrokers, log);

function config(name: string, strategy: string): DetectorConfig {
  const id = `ss${Date.now().toString(36)}${name}`;
  const c = spatialTestConfig(id, { KAFKA_PARTITIONS: "1", DETECTOR_SPATIAL_STRATEGY: strategy, DETECTOR_SCHEMA_WAIT_SECONDS: "30" });
  made.push(c);
  return c;
}

afterAll(async () => {
  await dropSpatialTestRuns(kafka, made);
});

describe("spatial schema", () => {
  it.each([
    [
      "sai",
      [
        "table spatial_points",
        "index spatial_points_lat_sai",
        "index spatial_points_lon_sai",
        "index spatial_points_alt_sai",
        "index spatial_points_time_sai",
      ],
    ],
    [
      "geohash",
      [...geohashPrecisions["2d"].map((p) => `table spatial_gh2_p${p}`), ...geohashPrecisions["3d"].map((p) => `table spatial_gh3_p${p}`)],
    ],
  ] as const)("%s: missing until the schema command made it, then nothing is missing", async (strategy, objects) => {
    const c = config(strategy.slice(0, 3), strategy);
    await createSchema(c); // the keyspace and events table as an older schema command left them
    const spatialMissing = async () => (await missingSchema(c, kafka, null)).filter((m) => m.includes("spatial_"));
    expect(await spatialMissing()).toEqual(objects.map((o) => o.replace(" ", ` ${c.keyspace}.`)));
    await ensureSchema(c, kafka, null, log);
    expect(await missingSchema(c, kafka, null)).toEqual([]);
    await ensureSchema(c, kafka, null, log); // idempotent
    expect(await missingSchema(c, kafka, null)).toEqual([]);
  });

  it("makes and waits for nothing spatial when the check is off", async () => {
    const c = config("off", "off");
    await ensureSchema(c, kafka, null, log);
    expect(await missingSchema(c, kafka, null)).toEqual([]);
    const client = new cassandra.Client({ contactPoints: [...c.cassandraContactPoints], localDataCenter: c.cassandraLocalDataCenter });
    await client.connect();
    try {
      const tables = (await client.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", [c.keyspace])).rows.map(
        (r) => r.get("table_name") as string,
      );
      expect(tables).toEqual(["events"]);
    } finally {
      await client.shutdown();
    }
  });
});
