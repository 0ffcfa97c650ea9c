/**
 * Brokers grow between stages, as on MSK: a real KRaft cluster on loopback (scripts/local/kafka-cluster.ts)
 * starts with 3 brokers, the pipeline's topics are made by the app's own ensureTopics, 3 brokers join, the
 * topics grow (as the schema Job grows them), and the reassignment (app/kafka/rebalance.ts) spreads every
 * partition, __consumer_offsets included. What is asserted is read back from the cluster's metadata.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureTopics } from "../../app/kafka/kafka-client.ts";
import { checkLeaderBalance } from "../../app/kafka/leader-balance.ts";
import { consumerOffsetsTopic, rebalancePartitions } from "../../app/kafka/rebalance.ts";
import { perBroker, type PartitionPlacement } from "../../app/kafka/replica-placement.ts";
import { waitFor } from "../../app/retry.ts";
import { topics } from "../../app/topology.ts";
import { clusterBootstrap, startClusterNodes, stopCluster, type LocalKafkaCluster } from "../../scripts/local/kafka-cluster.ts";

const firstBrokers = [1, 2, 3];
const joiningBrokers = [4, 5, 6];
const allBrokers = [...firstBrokers, ...joiningBrokers];
/** Partitions before and after the growth: one per broker's worth of consumers, then twice as many. */
const partitionsBefore = 12;
const partitionsAfter = 24;
const replication = 3;
const recordsPerPartition = 20;
const pipelineTopics = [topics.events, topics.checks, topics.deadLetter];

const cluster: LocalKafkaCluster = {
  dir: mkdtempSync(join(tmpdir(), "kafka-growth-")),
  replicationFactor: replication,
  minInsyncReplicas: 2,
  offsetsTopicPartitions: 12,
  heapMiB: 320,
};

let kafka: Kafka;
let admin: Admin;

async function placement(topicNames: readonly string[]): Promise<PartitionPlacement[]> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topicNames] });
  return metadata.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, replicas: p.replicas, leader: p.leader })),
  );
}

const spreadOf = (m: Map<number, number>) => Math.max(...m.values()) - Math.min(...m.values());

describe("partitions after brokers grow from 3 to 6", () => {
  beforeAll(async () => {
    await startClusterNodes(cluster, firstBrokers);
    kafka = new Kafka({
      clientId: "rebalance-test",
      brokers: clusterBootstrap(firstBrokers),
      logLevel: logLevel.NOTHING,
      retry: { retries: 8 },
    });
    admin = kafka.admin();
    await admin.connect();
  }, 300_000);

  afterAll(async () => {
    await admin?.disconnect();
    await stopCluster(cluster);
    rmSync(cluster.dir, { recursive: true, force: true });
  }, 120_000);

  test("the reassignment spreads leaders and replicas of every topic over all six brokers, records kept", async () => {
    await ensureTopics(admin, pipelineTopics, partitionsBefore, replication);
    // __consumer_offsets is made on the first coordinator lookup; it answers once its partitions have leaders.
    await waitFor(
      () =>
        admin.fetchOffsets({ groupId: "rebalance-test", topics: [topics.events] }).then(
          () => true,
          () => false,
        ),
      {
        what: `${consumerOffsetsTopic} to serve a group`,
        timeoutMs: 180_000, // a bound for a slow, busy machine, not an expectation
        intervalMs: 500,
      },
    );
    // A producer per stage, as the load generator pods of a stage are new: each knows its stage's partitions.
    const send = async (partitions: number) => {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: topics.events,
        acks: -1,
        messages: Array.from({ length: partitions * recordsPerPartition }, (_, i) => ({ partition: i % partitions, value: `event ${i}` })),
      });
      await producer.disconnect();
    };
    await send(partitionsBefore);

    await startClusterNodes(cluster, allBrokers);
    await ensureTopics(admin, pipelineTopics, partitionsAfter, replication);
    await send(partitionsAfter);
    const records = async () => (await admin.fetchTopicOffsets(topics.events)).reduce((n, p) => n + Number(p.high), 0);
    expect(await records()).toBe((partitionsBefore + partitionsAfter) * recordsPerPartition);

    const before = await placement([...pipelineTopics, consumerOffsetsTopic]);
    const eventsBefore = perBroker(
      before.filter((p) => p.topic === topics.events),
      allBrokers,
      "leaders",
    );
    process.stderr.write(`leaders of ${topics.events} per broker before: ${JSON.stringify(Object.fromEntries(eventsBefore))}\n`);
    // What growth alone leaves: the old partitions stay on the first brokers, so the check fails, naming them.
    const unbalanced = checkLeaderBalance(topics.events, eventsBefore);
    expect(unbalanced.balanced).toBe(false);
    expect(firstBrokers).toContain(unbalanced.most.broker);
    expect(joiningBrokers).toContain(unbalanced.least.broker);
    expect(
      perBroker(
        before.filter((p) => p.topic === consumerOffsetsTopic),
        allBrokers,
        "replicas",
      ).get(4),
    ).toBe(0);

    const outcome = await rebalancePartitions(kafka, admin, {
      topics: pipelineTopics,
      log: (m) => process.stderr.write(`rebalance: ${m}\n`),
    });
    expect(outcome.brokers).toEqual(allBrokers);
    expect(outcome.reassigned).toBeGreaterThan(0);
    expect(outcome.balanced).toBe(true);

    const after = await placement([...pipelineTopics, consumerOffsetsTopic]);
    for (const topic of [...pipelineTopics, consumerOffsetsTopic]) {
      const of = after.filter((p) => p.topic === topic);
      const leaders = perBroker(of, allBrokers, "leaders");
      const replicas = perBroker(of, allBrokers, "replicas");
      process.stderr.write(
        `${topic} after: leaders ${JSON.stringify(Object.fromEntries(leaders))}, replicas ${JSON.stringify(Object.fromEntries(replicas))}\n`,
      );
      expect({ topic, leaderSpread: spreadOf(leaders), replicaSpread: spreadOf(replicas) }).toEqual({
        topic,
        leaderSpread: 0,
        replicaSpread: 0,
      });
      // Each partition is led by its preferred (first) replica, and still has all its replicas.
      expect(of.filter((p) => p.leader !== p.replicas[0] || p.replicas.length !== replication)).toEqual([]);
    }
    expect(
      checkLeaderBalance(
        topics.events,
        perBroker(
          after.filter((p) => p.topic === topics.events),
          allBrokers,
          "leaders",
        ),
      ).balanced,
    ).toBe(true);

    // Every record is still there: the partitions' end offsets add up to what was sent.
    expect(await records()).toBe((partitionsBefore + partitionsAfter) * recordsPerPartition);

    // A second run finds nothing to move.
    expect((await rebalancePartitions(kafka, admin, { topics: pipelineTopics, log: () => undefined })).reassigned).toBe(0);
  }, 600_000);
});
