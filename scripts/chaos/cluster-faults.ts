/**
 * The fault campaign's faults on the multi-node cluster (scripts/local/local-cluster.ts): which member each
 * one crashes, and how it is brought back. A crash is SIGKILL; the member comes back on its own state.
 */
import type { Kafka } from "kafkajs";
import { consumerOffsetsTopic, electUntilPreferred } from "../../app/kafka/rebalance.ts";
import { cassandraMaxHintWindowMs } from "../../cdk/servers/cassandra-config.ts";
import {
  controllerBroker,
  killBroker,
  killCassandraNode,
  previewRepair,
  repairNode,
  restartBroker,
  restartCassandraNode,
  setHintWindow,
} from "../local/local-cluster.ts";
import type { ClusterFaultKind } from "./fault-plan.ts";

/** What bringing a member back involved besides its restart (a repair, for a node down past the hint window). */
export interface RestoreReport {
  /** A broker's return: partitions whose leadership moved back to their preferred replica (every topic's). */
  readonly leadersMovedBack?: number;
  readonly repairSeconds?: number;
  /** What `nodetool repair --preview` said the repair would stream (the writes no hint carried). */
  readonly repairPreview?: string;
}

export interface StruckMember {
  /** "cassandra 2", "broker 3 (controller)" … */
  readonly member: string;
  /** How long it stays down before `restore` (seconds); absent: the campaign's default. */
  readonly downSeconds?: number;
  /** Brings it back; resolves once it answers again (a broker registered, a node's CQL open) and is repaired. */
  restore(): Promise<RestoreReport>;
}

/**
 * The node down past the hint window. The cloud's window is three hours; here the live nodes' window is cut to
 * a few seconds for the fault, so most of the node's time down is past it: the writes then are on two
 * replicas only (LOCAL_QUORUM still holds), no hint carries them to the node, and only a repair does.
 */
export const pastHintWindow = { hintWindowMs: 5_000, downSeconds: 30 } as const;

/** What nodetool's preview says a repair would stream ("Total estimated streaming: …"), or its first lines. */
const streamingSummary = (printed: string): string => {
  const lines = printed.split("\n").map((l) => l.trim());
  const estimate = lines
    .filter((l) => /estimated streaming|mismatch|in sync/i.test(l))
    .map((l) => l.replace(/^.*?(Total estimated streaming)/, "$1"));
  return (estimate.length > 0 ? estimate : lines.slice(0, 2)).join("; ");
};

const seconds = (from: number) => Math.round((Date.now() - from) / 100) / 10;

/** The broker leading the most partitions of `topic` (ties: the lowest id). */
export async function busiestBroker(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const leaders = new Map<number, number>();
    for (const p of topics[0]?.partitions ?? []) if (p.leader >= 0) leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
    const [best] = [...leaders].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    if (!best) throw new Error(`no partition of ${topic} has a leader`);
    return best[0];
  } finally {
    await admin.disconnect();
  }
}

/**
 * The partition of __consumer_offsets that holds `groupId`'s offsets, as Kafka picks it: the absolute value of
 * Java's String.hashCode of the id (UTF-16 units, 32-bit overflow; MIN_VALUE maps to 0), modulo the partitions.
 * Its leader is the group's coordinator.
 */
export function offsetsPartitionOf(groupId: string, offsetsTopicPartitions: number): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (Math.imul(hash, 31) + groupId.charCodeAt(i)) | 0;
  return (hash & 0x7fffffff) % offsetsTopicPartitions;
}

/** The broker coordinating `groupId`: the leader of its __consumer_offsets partition. */
export async function groupCoordinator(kafka: Kafka, groupId: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [consumerOffsetsTopic] });
    const partitions = topics[0]?.partitions ?? [];
    const home = partitions.find((p) => p.partitionId === offsetsPartitionOf(groupId, partitions.length));
    if (home === undefined || home.leader < 0) throw new Error(`the __consumer_offsets partition of group ${groupId} has no leader`);
    return home.leader;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Moves every partition's leadership back to its preferred replica, as the brokers' own balancer does within
 * five minutes of a broker's return (auto.leader.rebalance.enable, on MSK too). Done at once, its stall is
 * counted with the fault that caused it, not with whichever fault happens to be running five minutes later.
 * Returns how many partitions moved.
 */
async function leadersBackToPreferred(kafka: Kafka): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // A partition whose preferred replica is on no running broker (a topic of a larger cluster) cannot move.
    const running = new Set((await admin.describeCluster()).brokers.map((b) => b.nodeId));
    return await electUntilPreferred(kafka, admin, {
      topics: [...new Set([...(await admin.listTopics()), consumerOffsetsTopic])],
      due: (p) => p.leader !== undefined && running.has(p.replicas[0]!),
      what: "partitions of the returned broker's cluster",
      log: () => undefined, // the campaign logs the restore as a whole
    });
  } finally {
    await admin.disconnect();
  }
}

async function crashBroker(kafka: Kafka, id: number, why: string): Promise<StruckMember> {
  await killBroker(id);
  return {
    member: `broker ${id} (${why})`,
    restore: async () => {
      await restartBroker(id);
      return { leadersMovedBack: await leadersBackToPreferred(kafka) };
    },
  };
}

/** Past the hint window: the live nodes' window cut first, the node killed; back, it is repaired and the window restored. */
async function crashPastHintWindow(o: { nodes: number; cassandraNode: number; keyspace: string }): Promise<StruckMember> {
  await setHintWindow(o.nodes, pastHintWindow.hintWindowMs);
  try {
    await killCassandraNode(o.cassandraNode);
  } catch (err) {
    await setHintWindow(o.nodes, cassandraMaxHintWindowMs);
    throw err;
  }
  return {
    member: `cassandra ${o.cassandraNode} (down past a ${pastHintWindow.hintWindowMs / 1000} s hint window)`,
    downSeconds: pastHintWindow.downSeconds,
    restore: async () => {
      try {
        await restartCassandraNode(o.cassandraNode);
        const repairPreview = streamingSummary(await previewRepair(o.cassandraNode, o.keyspace));
        const t = Date.now();
        await repairNode(o.cassandraNode, o.keyspace);
        return { repairSeconds: seconds(t), repairPreview };
      } finally {
        await setHintWindow(o.nodes, cassandraMaxHintWindowMs);
      }
    },
  };
}

/**
 * Crashes the member `kind` names. `cassandraNode`: which node a Cassandra fault takes (the campaign draws it
 * from its seed). A detector kill during a broker loss crashes the broker here; the campaign kills the detector.
 */
export async function crashMember(
  kind: ClusterFaultKind,
  o: { kafka: Kafka; eventsTopic: string; groupId: string; keyspace: string; nodes: number; cassandraNode: number },
): Promise<StruckMember> {
  switch (kind) {
    case "kill-cassandra-node":
      await killCassandraNode(o.cassandraNode);
      return {
        member: `cassandra ${o.cassandraNode}`,
        restore: async () => {
          await restartCassandraNode(o.cassandraNode);
          return {};
        },
      };
    case "kill-cassandra-node-past-hint-window":
      return crashPastHintWindow(o);
    case "kill-controller": {
      const id = controllerBroker();
      if (id === null) throw new Error("no running controller recorded a quorum leader");
      return crashBroker(o.kafka, id, "active controller");
    }
    case "kill-group-coordinator":
      return crashBroker(o.kafka, await groupCoordinator(o.kafka, o.groupId), `coordinator of group ${o.groupId}`);
    case "kill-busiest-broker":
    case "kill-detector-during-broker-loss":
      return crashBroker(o.kafka, await busiestBroker(o.kafka, o.eventsTopic), `leader of the most ${o.eventsTopic} partitions`);
  }
}
