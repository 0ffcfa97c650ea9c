/**
 * The events table in Cassandra: schema (created idempotently), the write and the history read, as prepared
 * statements on one session per process (few connections, many requests on each: the driver multiplexes requests on a connection, and every
 * connection costs Cassandra a native-transport slot and memory).
 *
 * Primary key (id, time, producer, seq), clustered newest first: the history read is one slice of one
 * partition. Every part of the key comes from the event itself, never from the consumer's clock (the
 * reference's fault), so a replay after a crash writes the same row again instead of a duplicate, and two
 * events of one key in the same millisecond stay two rows.
 */
import cassandra from "cassandra-driver";
import type { ConsistencyName, DetectorConfig } from "../config.ts";
import { cassandraSchema, historyWindow } from "../topology.ts";
import type { Event } from "../events/event-codec.ts";
import type { KeyState } from "./key-check.ts";
import { decodeKeyState, encodeKeyState } from "./key-state-codec.ts";
import { authProviderOf, sslOptionsFor, type CassandraCredentials } from "./cassandra-auth.ts";
import { cqlStringLiteral } from "./cql-literal.ts";

const { consistencies, distance } = cassandra.types;

export type StoreConfig = Pick<
  DetectorConfig,
  | "cassandraContactPoints"
  | "cassandraLocalDataCenter"
  | "cassandraConnectionsPerHost"
  | "requestsPerConnection"
  | "keyspace"
  | "replicationFactor"
  | "writeConsistency"
  | "readConsistency"
  | "ttlSeconds"
  | "compactionWindowMinutes"
>;

const table = cassandraSchema.eventsTable;

/**
 * The check state each row carries (key-check.ts KeyState, one cell: key-state-codec.ts): what the next check of
 * the key starts from. Null on rows written outside the pipeline or before the cell existed.
 */
export const stateColumn = { name: "check_state", type: "blob" } as const;
const stateDefinition = `${stateColumn.name} ${stateColumn.type}`;

/**
 * The CQL that creates the keyspace and the table, and adds the state's column to a table made before it
 * (ALTER … ADD IF NOT EXISTS: a no-op when they are there); identifiers were validated by the config schema.
 */
export function schemaStatements(c: StoreConfig): string[] {
  return [
    `CREATE KEYSPACE IF NOT EXISTS ${c.keyspace} WITH replication = ` +
      `{'class': 'NetworkTopologyStrategy', ${cqlStringLiteral(c.cassandraLocalDataCenter)}: ${c.replicationFactor}}`,
    `CREATE TABLE IF NOT EXISTS ${c.keyspace}.${table} (
      id text,
      time timestamp,
      producer text,
      seq bigint,
      value double,
      ${stateDefinition},
      PRIMARY KEY ((id), time, producer, seq)
    ) WITH CLUSTERING ORDER BY (time DESC, producer DESC, seq DESC)
      AND compression = {'class': 'LZ4Compressor', 'chunk_length_in_kb': 1}
      AND compaction = {'class': 'TimeWindowCompactionStrategy',
                        'compaction_window_unit': 'MINUTES', 'compaction_window_size': ${c.compactionWindowMinutes}}
      AND default_time_to_live = ${c.ttlSeconds}
      AND gc_grace_seconds = 3600`,
    `ALTER TABLE ${c.keyspace}.${table} ADD IF NOT EXISTS (${stateDefinition})`,
  ];
}
// Why these table options: LZ4 with 1 KB chunks is the reference's tuning for a 1:1 write:read mix (a read
// decompresses one small chunk, not 64 KB); TWCS with a TTL drops whole expired SSTables instead of compacting
// tombstones; rows are never deleted or updated, so a short gc_grace_seconds is safe and keeps that cheap.

const cql = {
  insert: `INSERT INTO ${"%ks"}.${table} (id, time, producer, seq, value, ${stateColumn.name}) VALUES (?, ?, ?, ?, ?, ?)`,
  // Strictly before the event itself: the history excludes the current event, and a replay reads the same
  // history whatever later events were already written before a crash.
  history:
    `SELECT time, value, ${stateColumn.name} FROM ${"%ks"}.${table} WHERE id = ? AND (time, producer, seq) < (?, ?, ?) ` +
    `LIMIT ${historyWindow}`,
};

/** `credentials`: the role to log in as (readCassandraCredentials); none for a node without authentication. */
export function createCassandraClient(
  c: StoreConfig,
  keyspace?: string,
  credentials: CassandraCredentials | null = null,
): cassandra.Client {
  const authProvider = authProviderOf(credentials);
  return new cassandra.Client({
    contactPoints: [...c.cassandraContactPoints],
    localDataCenter: c.cassandraLocalDataCenter,
    ...(keyspace ? { keyspace } : {}),
    ...(authProvider ? { authProvider } : {}),
    ...sslOptionsFor(credentials),
    pooling: {
      coreConnectionsPerHost: { [distance.local]: c.cassandraConnectionsPerHost, [distance.remote]: 0 },
      maxRequestsPerConnection: c.requestsPerConnection,
    },
    // Our own retry loop decides about retries (with backoff and a metric); the driver's default policy
    // would retry some errors once more, invisibly.
    policies: { retry: new cassandra.policies.retry.FallthroughRetryPolicy() },
    queryOptions: { prepare: true, isIdempotent: true },
    socketOptions: { readTimeout: 12_000, connectTimeout: 10_000 },
  });
}

/** Creates the keyspace and table if missing (idempotent; run once, by the `schema` command, in the cloud). */
export async function createSchema(c: StoreConfig, credentials: CassandraCredentials | null = null): Promise<void> {
  const client = createCassandraClient(c, undefined, credentials);
  try {
    await client.connect();
    // The driver waits for schema agreement after each DDL statement, so the table exists on every node
    // before anyone prepares statements against it.
    for (const statement of schemaStatements(c)) await client.execute(statement, [], { prepare: false });
  } finally {
    await client.shutdown();
  }
}

/** Whether the events table exists (the keyspace too, then); what a detector waits for without --create-schema. */
export async function schemaExists(c: StoreConfig, credentials: CassandraCredentials | null = null): Promise<boolean> {
  const client = createCassandraClient(c, undefined, credentials);
  try {
    await client.connect();
    const rs = await client.execute(
      "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?",
      [c.keyspace, table],
      { prepare: true },
    );
    return rs.rowLength > 0;
  } finally {
    await client.shutdown();
  }
}

export class CassandraStore {
  readonly client: cassandra.Client;
  readonly #insert: string;
  readonly #history: string;
  readonly #write: { consistency: number; prepare: true; isIdempotent: true };
  readonly #read: { consistency: number; prepare: true; isIdempotent: true; fetchSize: number };

  constructor(c: StoreConfig, credentials: CassandraCredentials | null = null) {
    this.client = createCassandraClient(c, c.keyspace, credentials);
    this.#insert = cql.insert.replace("%ks", c.keyspace);
    this.#history = cql.history.replace("%ks", c.keyspace);
    this.#write = { consistency: consistencyOf(c.writeConsistency), prepare: true, isIdempotent: true };
    this.#read = { consistency: consistencyOf(c.readConsistency), prepare: true, isIdempotent: true, fetchSize: historyWindow };
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  /**
   * The event's row with the state its check left (what the key's next check starts from). Without a state (a row
   * written outside the pipeline, as tests do) the cell stays unset: the next check starts the key afresh.
   */
  async write(e: Event, state?: KeyState): Promise<void> {
    const cell = state === undefined ? null : encodeKeyState(state);
    await this.client.execute(this.#insert, [e.id, new Date(e.time), e.producer, e.seq, e.value, cell], this.#write);
  }

  /**
   * The key's previous events (strictly before this one), oldest first as the detector wants them: their values
   * and times, and the state stored with the newest (undefined for a key's first event, or a newest row without
   * a valid state).
   */
  async history(e: Event): Promise<StoredHistory> {
    const rs = await this.client.execute(this.#history, [e.id, new Date(e.time), e.producer, e.seq], this.#read);
    const values: number[] = [];
    const times: number[] = [];
    for (let i = rs.rows.length - 1; i >= 0; i--) {
      const row = rs.rows[i]!;
      values.push(row.get("value") as number);
      times.push((row.get("time") as Date).getTime());
    }
    return { values, times, state: decodeKeyState(rs.rows[0]?.get(stateColumn.name) as Buffer | null | undefined) };
  }

  async shutdown(): Promise<void> {
    await this.client.shutdown();
  }
}

export interface StoredHistory {
  readonly values: number[];
  /** Event times (ms since the epoch), one per value. */
  readonly times: number[];
  readonly state: KeyState | undefined;
}

export function consistencyOf(name: ConsistencyName): number {
  return consistencies[name];
}

/** Cassandra errors worth retrying: the cluster was busy or a node was down, not a bug in the request. */
export function isTransientCassandraError(err: unknown): boolean {
  if (err instanceof cassandra.errors.NoHostAvailableError) return true;
  if (err instanceof cassandra.errors.OperationTimedOutError) return true;
  if (err instanceof cassandra.errors.BusyConnectionError) return true;
  // A node restarting closes the sockets of requests in flight; the driver reconnects, so the request can be
  // retried (the fault campaign's Cassandra restart found this one missing: the detector exited instead).
  if (err instanceof cassandra.errors.DriverError && /socket was closed|connection (was )?(closed|reset)/i.test(err.message)) return true;
  if (err instanceof cassandra.errors.ResponseError) {
    const c = cassandra.types.responseErrorCodes;
    return [
      c.unavailableException,
      c.overloaded,
      c.isBootstrapping,
      c.writeTimeout,
      c.readTimeout,
      c.serverError,
      c.writeFailure,
      c.readFailure,
    ].includes(err.code);
  }
  return false;
}
