/** Making a spatial strategy from the detector's config, and its tables. */
import type cassandra from "cassandra-driver";
import type { DetectorConfig } from "../config.ts";
import type { CassandraCredentials } from "../detector/cassandra-auth.ts";
import { consistencyOf, createCassandraClient, type StoreConfig } from "../detector/cassandra-store.ts";
import { GeohashStrategy } from "./geohash-store.ts";
import type { NeighbourStrategy, SpatialStrategyName } from "./neighbours.ts";
import { SaiStrategy } from "./sai-store.ts";
import type { SpatialStoreOptions } from "./spatial-schema.ts";

export type SpatialConfig = Pick<
  DetectorConfig,
  | "keyspace"
  | "readConsistency"
  | "writeConsistency"
  | "ttlSeconds"
  | "compactionWindowMinutes"
  | "spatialCandidateLimit"
  | "spatialInitialRadiusMetres"
>;

export const spatialStoreOptions = (c: SpatialConfig): SpatialStoreOptions => ({
  keyspace: c.keyspace,
  candidateLimit: c.spatialCandidateLimit,
  initialRadiusMetres: c.spatialInitialRadiusMetres,
  readConsistency: consistencyOf(c.readConsistency),
  writeConsistency: consistencyOf(c.writeConsistency),
  ttlSeconds: c.ttlSeconds,
  compactionWindowMinutes: c.compactionWindowMinutes,
});

export function createStrategy(name: SpatialStrategyName, client: cassandra.Client, options: SpatialStoreOptions): NeighbourStrategy {
  return name === "geohash" ? new GeohashStrategy(client, options) : new SaiStrategy(client, options);
}

/** Creates the strategy's tables and indexes (idempotent); the keyspace must exist. */
export async function createSpatialSchema(client: cassandra.Client, strategy: NeighbourStrategy): Promise<void> {
  // The driver waits for schema agreement after each statement, as for the events table.
  for (const statement of strategy.schemaStatements()) await client.execute(statement, [], { prepare: false });
}

/** The configured strategy's tables and indexes that do not exist (as "table ks.name", "index ks.name"). */
export async function missingSpatialSchema(
  c: StoreConfig & SpatialConfig & Pick<DetectorConfig, "spatialStrategy">,
  credentials: CassandraCredentials | null,
): Promise<string[]> {
  if (c.spatialStrategy === "off") return [];
  const client = createCassandraClient(c, undefined, credentials);
  try {
    await client.connect();
    const wanted = createStrategy(c.spatialStrategy, client, spatialStoreOptions(c)).schemaObjects();
    const names = async (cql: string, column: string) =>
      new Set((await client.execute(cql, [c.keyspace], { prepare: true })).rows.map((r) => r.get(column) as string));
    const tables = await names("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", "table_name");
    const indexes = await names("SELECT index_name FROM system_schema.indexes WHERE keyspace_name = ?", "index_name");
    return [
      ...wanted.tables.filter((t) => !tables.has(t)).map((t) => `table ${c.keyspace}.${t}`),
      ...wanted.indexes.filter((i) => !indexes.has(i)).map((i) => `index ${c.keyspace}.${i}`),
    ];
  } finally {
    await client.shutdown();
  }
}

/**
 * Creates the configured strategy's tables and indexes with a client of its own (what the schema command and a
 * detector with --create-schema run, after the keyspace exists); nothing when the spatial check is off.
 */
export async function createSpatialTables(
  c: StoreConfig & SpatialConfig & Pick<DetectorConfig, "spatialStrategy">,
  credentials: CassandraCredentials | null,
): Promise<void> {
  if (c.spatialStrategy === "off") return;
  const client = createCassandraClient(c, undefined, credentials);
  try {
    await client.connect();
    await createSpatialSchema(client, createStrategy(c.spatialStrategy, client, spatialStoreOptions(c)));
  } finally {
    await client.shutdown();
  }
}
