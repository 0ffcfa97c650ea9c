/**
 * The local stack shaped like the cloud's (`npm run stack -- start --nodes 3`): n KRaft brokers
 * (kafka-cluster.ts, the first three also the controller quorum) and n Cassandra 5.0 nodes, node i on its own
 * loopback address 127.0.0.(1 + i) beside the shared single node on 127.0.0.1. One data centre and three racks
 * named as the cloud's snitch names its region and zones, topics at replication factor 3 with
 * min.insync.replicas 2, the keyspace at replication factor 3, reads and writes at the app's (the cloud's)
 * consistency. Every setting comes from cdk/servers, as the cloud's do; the state lives under .local/cluster.
 *
 * Cassandra nodes start one at a time: a joining node streams its ranges from the ones already up.
 */
import { join } from "node:path";
import { cassandraPorts, kafkaPorts } from "../../cdk/servers/ports.ts";
import {
  activeController,
  clusterBootstrap,
  clusterNodePid,
  killClusterNode,
  registeredBrokers,
  startClusterNodes,
  stopCluster,
  type LocalKafkaCluster,
} from "./kafka-cluster.ts";
import type { LocalTarget } from "./local-target.ts";
import type { LocalCassandra } from "./cassandra-node.ts";
import { nodetool } from "./cassandra-security.ts";
import { killLocalCassandra, localCassandraPid, startLocalCassandra, stopLocalCassandra } from "./cassandra-server.ts";
import { stateRoot } from "./locations.ts";
import { StackError } from "./stack-messages.ts";

/** The cloud's replication: 3 replicas over three racks (zones), 2 of them to acknowledge. */
export const clusterReplication = { factor: 3, minInsync: 2 } as const;
/** Node counts the cluster runs at: the replication factor's worth, up to the growth experiment's six. */
export const clusterNodeCounts = { min: clusterReplication.factor, max: 6 } as const;

/**
 * Per node, for a 24 GiB, 2-core machine that also runs the shared stack (~3 GiB), the detector and load
 * generator, and other work: six JVMs of the 3-node cluster at ~1.5 GiB (Cassandra) and ~0.6 GiB (Kafka)
 * resident each leave room for the growth to six of each. Cassandra's heap at 1 GiB holds its memtables'
 * on-heap part for a few hundred writes a second; a broker at this rate needs little heap, its data is in
 * the page cache.
 */
export const clusterSizing = { cassandraHeapMiB: 1024, kafkaHeapMiB: 384 } as const;

/** Ec2Snitch's standard naming: the data centre is the region, a rack its zone (cdk/cassandra-user-data.ts). */
const dataCenter = "local-1";
const zones = ["a", "b", "c"] as const;
export const rackOf = (node: number): string => `${dataCenter}${zones[(node - 1) % zones.length]!}`;
/** On loopback gossip reaches every node at once; a short ring delay keeps each join to seconds. */
const ringDelayMs = 5_000;
const clusterDir = join(stateRoot, "cluster");

export const cassandraNodeAddress = (node: number): string => `127.0.0.${1 + node}`;

/** Cassandra node `node` (from 1) of the cluster; node 1 is the seed. */
export const clusterCassandraNode = (node: number): LocalCassandra => ({
  dir: join(clusterDir, `cassandra-${node}`),
  clusterName: "local-cluster",
  ports: { cql: cassandraPorts.cql, storage: cassandraPorts.storage, jmx: cassandraPorts.localStackJmx + node },
  authentication: false,
  member: {
    address: cassandraNodeAddress(node),
    seeds: [cassandraNodeAddress(1)],
    dataCenter,
    rack: rackOf(node),
    heapMiB: clusterSizing.cassandraHeapMiB,
    ringDelayMs,
  },
});

export const clusterKafka: LocalKafkaCluster = {
  dir: join(clusterDir, "kafka"),
  replicationFactor: clusterReplication.factor,
  minInsyncReplicas: clusterReplication.minInsync,
  offsetsTopicPartitions: 6,
  heapMiB: clusterSizing.kafkaHeapMiB,
  controllerPort: kafkaPorts.localStackController,
  controllers: clusterReplication.factor,
  rackOf,
};

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

export function checkNodeCount(nodes: number): void {
  if (!Number.isInteger(nodes) || nodes < clusterNodeCounts.min || nodes > clusterNodeCounts.max) {
    throw new StackError(
      `--nodes ${nodes}: allowed: 1 (the shared single-node stack) or an integer from ${clusterNodeCounts.min} to ${clusterNodeCounts.max}`,
    );
  }
}

const log = (msg: string) => process.stderr.write(`cluster: ${msg}\n`);

/**
 * Starts the cluster's first `nodes` brokers and Cassandra nodes (those not running; idempotent), and returns
 * once all of them answer. From a running smaller cluster this is growth: the new brokers and nodes join.
 */
export async function startCluster(nodes: number): Promise<void> {
  checkNodeCount(nodes);
  const t0 = Date.now();
  await startClusterNodes(clusterKafka, range(nodes));
  log(`${nodes} Kafka brokers registered after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const node of range(nodes)) {
    const t = Date.now();
    if (await startLocalCassandra(clusterCassandraNode(node)))
      log(`Cassandra node ${node} (${rackOf(node)}) joined in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  log(`cluster of ${nodes} ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Stops every broker and node of the cluster that runs. */
export async function stopClusterStack(): Promise<void> {
  await Promise.all(range(clusterNodeCounts.max).map((n) => stopLocalCassandra(clusterCassandraNode(n))));
  await stopCluster(clusterKafka);
}

export interface ClusterMemberStatus {
  readonly kind: "kafka" | "cassandra";
  readonly node: number;
  readonly address: string;
  readonly pid: number | null;
  readonly rack: string;
}

/** Every broker and node of the first `nodes`, with its PID (null: not running). */
export function clusterStatus(nodes: number): ClusterMemberStatus[] {
  return range(nodes).flatMap((n) => [
    {
      kind: "kafka" as const,
      node: n,
      address: clusterBootstrap([n], clusterKafka)[0]!,
      pid: clusterNodePid(clusterKafka, n),
      rack: rackOf(n),
    },
    {
      kind: "cassandra" as const,
      node: n,
      address: `${cassandraNodeAddress(n)}:${cassandraPorts.cql}`,
      pid: localCassandraPid(clusterCassandraNode(n)),
      rack: rackOf(n),
    },
  ]);
}

/**
 * The brokers the cluster's metadata lists (a broker killed drops out of it), as the first broker that answers
 * tells it: the probe does not retry, so a bootstrap list with a dead broker first would answer nothing.
 */
export async function clusterBrokers(nodes: number): Promise<number[]> {
  for (const n of range(nodes)) {
    if (clusterNodePid(clusterKafka, n) === null) continue;
    const brokers = await registeredBrokers([n], clusterKafka);
    if (brokers.length > 0) return brokers;
  }
  return [];
}

/** Faults: a crash (SIGKILL) of one member, and its restart on the same state. */
export const killCassandraNode = (node: number): Promise<void> => killLocalCassandra(clusterCassandraNode(node));
export const restartCassandraNode = async (node: number): Promise<void> => {
  await startLocalCassandra(clusterCassandraNode(node));
};
export const killBroker = (node: number): Promise<void> => killClusterNode(clusterKafka, node);
export const restartBroker = (node: number): Promise<void> => startClusterNodes(clusterKafka, [node]);
/** Cassandra nodes of the first `nodes` that run now. */
export const runningCassandraNodes = (nodes: number): number[] =>
  range(nodes).filter((n) => localCassandraPid(clusterCassandraNode(n)) !== null);
/** Sets how long the running nodes keep hints for a node that is down (nodetool setmaxhintwindow). */
export async function setHintWindow(nodes: number, ms: number): Promise<void> {
  await Promise.all(runningCassandraNodes(nodes).map((n) => nodetool(clusterCassandraNode(n), ["setmaxhintwindow", String(ms)])));
}
/** A full repair of `keyspace` from `node`: it compares every range it holds with the other replicas and streams the differences. */
export const repairNode = (node: number, keyspace: string): Promise<string> =>
  nodetool(clusterCassandraNode(node), ["repair", "--full", keyspace]);
/** What a full repair of `keyspace` from `node` would stream, without streaming it (nodetool repair --preview). */
export const previewRepair = (node: number, keyspace: string): Promise<string> =>
  nodetool(clusterCassandraNode(node), ["repair", "--full", "--preview", keyspace]);
/** The broker that is the active KRaft controller now, or null. */
export const controllerBroker = (): number | null => activeController(clusterKafka);

/** A run's target on the first `nodes` of the cluster. */
export function clusterTarget(nodes: number): LocalTarget {
  checkNodeCount(nodes);
  return {
    label: `cluster of ${nodes}`,
    kafkaBrokers: clusterBootstrap(range(nodes), clusterKafka),
    cassandraContactPoints: range(nodes).map((n) => `${cassandraNodeAddress(n)}:${cassandraPorts.cql}`),
    cassandraLocalDataCenter: dataCenter,
    topicReplicationFactor: clusterReplication.factor,
    cassandraReplicationFactor: clusterReplication.factor,
    ensure: () => startCluster(nodes),
  };
}
