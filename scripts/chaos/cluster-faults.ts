/**
 * The fault campaign's faults on the multi-node cluster (scripts/local/local-cluster.ts): which member each
 * one crashes, and how it is brought back. A crash is SIGKILL; the member comes back on its own state.
 */
import type { Kafka } from "kafkajs";
import { controllerBroker, killBroker, killCassandraNode, restartBroker, restartCassandraNode } from "../local/local-cluster.ts";
import type { ClusterFaultKind } from "./fault-plan.ts";

export interface StruckMember {
  /** "cassandra 2", "broker 3 (controller)" … */
  readonly member: string;
  /** Brings it back; resolves once it answers again (a broker registered, a node's CQL open). */
  restore(): Promise<void>;
}

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

async function crashBroker(id: number, why: string): Promise<StruckMember> {
  await killBroker(id);
  return { member: `broker ${id} (${why})`, restore: () => restartBroker(id) };
}

/**
 * Crashes the member `kind` names. `cassandraNode`: which node a Cassandra fault takes (the campaign draws it
 * from its seed). A detector kill during a broker loss crashes the broker here; the campaign kills the detector.
 */
export async function crashMember(kind: ClusterFaultKind, o: { kafka: Kafka; eventsTopic: string; cassandraNode: number }): Promise<StruckMember> {
  switch (kind) {
    case "kill-cassandra-node":
      await killCassandraNode(o.cassandraNode);
      return { member: `cassandra ${o.cassandraNode}`, restore: () => restartCassandraNode(o.cassandraNode) };
    case "kill-controller": {
      const id = controllerBroker();
      if (id === null) throw new Error("no running controller recorded a quorum leader");
      return crashBroker(id, "active controller");
    }
    case "kill-busiest-broker":
    case "kill-detector-during-broker-loss":
      return crashBroker(await busiestBroker(o.kafka, o.eventsTopic), `leader of the most ${o.eventsTopic} partitions`);
  }
}
