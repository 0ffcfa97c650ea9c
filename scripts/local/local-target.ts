/**
 * Which local servers a run talks to: the shared single-node stack (the default of `npm run local` and the
 * test command) or the multi-node cluster shaped like the cloud's (scripts/local/local-cluster.ts). A run's
 * clients, topics and keyspace follow from it, so callers never name an endpoint or a replication factor.
 */
import { ensureStack } from "./stack-control.ts";
import { localEndpoints } from "./locations.ts";

export interface LocalTarget {
  /** For logs and results: "single" or "cluster of n". */
  readonly label: string;
  readonly kafkaBrokers: readonly string[];
  readonly cassandraContactPoints: readonly string[];
  readonly cassandraLocalDataCenter: string;
  /** Of the topics a run makes (their min.insync.replicas is the brokers' default). */
  readonly topicReplicationFactor: number;
  /** Of the keyspace a run makes, in its data centre. */
  readonly cassandraReplicationFactor: number;
  /** Starts what is not running yet and returns once every server answers. */
  ensure(): Promise<unknown>;
}

/** The shared stack: one broker, one node, replication 1. */
export const singleNodeTarget: LocalTarget = {
  label: "single",
  kafkaBrokers: [localEndpoints.kafkaBrokers],
  cassandraContactPoints: [localEndpoints.cassandraContactPoints],
  cassandraLocalDataCenter: localEndpoints.cassandraLocalDataCenter,
  topicReplicationFactor: 1,
  cassandraReplicationFactor: 1,
  ensure: ensureStack,
};
