/**
 * What a local Cassandra node is: its state dir, ports, and how it is secured and observed. The stack's shared
 * node is one; a test can describe a second, isolated node beside it, and local-cluster.ts the members of a
 * multi-node cluster, and every one is started and secured by the same code.
 */
import { join } from "node:path";
import { cassandraPorts } from "../../cdk/servers/ports.ts";
import { localEndpoints, localHost, stateRoot } from "./locations.ts";

/** One local Cassandra node: where its state lives, its ports, and how it is secured and observed. */
export interface LocalCassandra {
  readonly dir: string;
  readonly clusterName: string;
  readonly ports: { readonly cql: number; readonly storage: number; readonly jmx: number };
  /** PasswordAuthenticator + CassandraAuthorizer, roles made by cdk/servers/cassandra-auth-setup.sh. */
  readonly authentication: boolean;
  /** The Prometheus JMX exporter agent on this loopback port, with the cloud's exporter config. */
  readonly exporterPort?: number;
  /** TLS required for clients and between nodes, as in the cloud (needs `authentication`, as the cloud has). */
  readonly tls?: boolean;
  /** A node of a local multi-node cluster (scripts/local/local-cluster.ts); none: a single node on localHost. */
  readonly member?: CassandraClusterMember;
}

/** Where a node of a local multi-node cluster sits: its own loopback address, its seeds, data centre and rack. */
export interface CassandraClusterMember {
  readonly address: string;
  readonly seeds: readonly string[];
  readonly dataCenter: string;
  readonly rack: string;
  readonly heapMiB: number;
  /** See cassandraJvmOptions' ringDelayMs. */
  readonly ringDelayMs: number;
}

/** The address a node's CQL and storage listen on, and its data centre (what a client must name). */
export const cassandraAddress = (c: LocalCassandra): string => c.member?.address ?? localHost;
export const cassandraDataCenter = (c: LocalCassandra): string => c.member?.dataCenter ?? localEndpoints.cassandraLocalDataCenter;

/** The shared local node on the standard ports, without authentication unless started with --auth. */
export const localCassandra: LocalCassandra = {
  dir: join(stateRoot, "cassandra"),
  clusterName: "local",
  ports: { cql: cassandraPorts.cql, storage: cassandraPorts.storage, jmx: cassandraPorts.jmx },
  authentication: false,
};
