/**
 * What the spatial strategies' tables share: the options they are made and queried with, and the table options
 * (the events table's, for the same reasons: app/detector/cassandra-store.ts).
 */
import type cassandra from "cassandra-driver";

export interface SpatialStoreOptions {
  readonly keyspace: string;
  /** Rows one read (a cell, or a box) may return; more are left unread and the search says it was truncated. */
  readonly candidateLimit: number;
  /** SAI: the half-size (metres) of the first box. */
  readonly initialRadiusMetres: number;
  readonly readConsistency: number;
  readonly writeConsistency: number;
  readonly ttlSeconds: number;
  readonly compactionWindowMinutes: number;
}

/** The events table's options: LZ4 in 1 KB chunks, time windows that expire whole, the same TTL. */
export const spatialTableOptions = (o: Pick<SpatialStoreOptions, "ttlSeconds" | "compactionWindowMinutes">): string =>
  `AND compression = {'class': 'LZ4Compressor', 'chunk_length_in_kb': 1}
      AND compaction = {'class': 'TimeWindowCompactionStrategy',
                        'compaction_window_unit': 'MINUTES', 'compaction_window_size': ${o.compactionWindowMinutes}}
      AND default_time_to_live = ${o.ttlSeconds}
      AND gc_grace_seconds = 3600`;

/**
 * What every strategy's store holds: the client, its options and the driver options of its reads (at most
 * `candidateLimit` rows a page) and writes, both idempotent.
 */
export abstract class SpatialStore {
  protected readonly client: cassandra.Client;
  protected readonly o: SpatialStoreOptions;
  protected readonly readOptions;
  protected readonly writeOptions;

  constructor(client: cassandra.Client, o: SpatialStoreOptions) {
    this.client = client;
    this.o = o;
    this.readOptions = { prepare: true, isIdempotent: true, consistency: o.readConsistency, fetchSize: o.candidateLimit };
    this.writeOptions = { prepare: true, isIdempotent: true, consistency: o.writeConsistency };
  }
}
