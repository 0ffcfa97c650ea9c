/**
 * The topics of a staged run follow each stage's plan, against the real local Kafka: stage 1 then stage 2 of one
 * run on the same topics (grown in place, as the cloud's schema Job grows them), each stage's partitions read
 * back from the brokers equal to its plan; topic configs at creation and re-applied to an existing topic; a
 * smaller stage keeps the larger count (Kafka cannot shrink); each trial starts on an empty events log.
 */
import { ConfigResourceTypes, type Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafka, ensureTopics } from "../../../app/kafka/kafka-client.ts";
import { createLogger } from "../../../app/log.ts";
import { localStageSize } from "../../../scripts/experiment/local-stage-size.ts";
import { emptyTopic, readPartitions } from "../../../scripts/experiment/stage-topics.ts";
import { dropKeyspaces, IsolatedRun, runNames } from "../../../scripts/local/isolated-run.ts";
import { localEndpoints } from "../../../scripts/local/locations.ts";

const run = `stgt-${Date.now().toString(36)}`;
// Two trials of one experiment run: their own keyspaces and groups, the run's one set of topics.
const trial = (n: number) => runNames(`${run}-t${n}`, { topics: run, keyspace: `stgt_${run.slice(5)}_t${n}` });
const names = { eventsTopic: `${run}-events`, checksTopic: `${run}-checks`, deadLetterTopic: `${run}-dead-letter` };
const kafka = createKafka("stage-topics-test", [localEndpoints.kafkaBrokers], createLogger("test", "error"));
let admin: Admin;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${run}-`));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  await admin.disconnect();
  await dropKeyspaces((k) => k.startsWith(`stgt_${run.slice(5)}_`));
});

const topicConfig = async (topic: string, name: string) => {
  const res = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }],
  });
  return res.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
};

describe("stage topics on the real local Kafka", () => {
  it("stage 1 then stage 2 of one run: the same topics, grown by ensureSchema, and each stage's read-back partitions equal its plan", async () => {
    const [one, two] = [localStageSize(1), localStageSize(2)];
    expect(two.partitions).toBeGreaterThan(one.partitions);

    // What the local stage runner does at each stage: IsolatedRun.open runs the schema Job's ensureSchema.
    await IsolatedRun.open({ names: trial(1), partitions: one.partitions });
    for (const t of Object.values(names)) expect(await readPartitions(admin, t), t).toBe(one.partitions);
    await IsolatedRun.open({ names: trial(2), partitions: two.partitions });
    for (const t of Object.values(names)) expect(await readPartitions(admin, t), t).toBe(two.partitions);
  });

  it("ensureTopics grows an existing topic to the next stage's plan (the schema Job's and load generator's path)", async () => {
    const topic = `${run}-grow`;
    const [one, two] = [localStageSize(1), localStageSize(2)];
    await ensureTopics(admin, [topic], one.partitions, 1);
    await ensureTopics(admin, [topic], two.partitions, 1);
    expect(await readPartitions(admin, topic)).toBe(two.partitions);
  });

  it("keeps the larger count when a smaller stage asks (Kafka cannot remove partitions) and says so", async () => {
    const topic = `${run}-shrink`;
    await ensureTopics(admin, [topic], 4, 1);
    const outcome = await ensureTopics(admin, [topic], 2, 1);
    expect(outcome.larger).toEqual([{ topic, partitions: 4, asked: 2 }]);
    expect(outcome.grown).toEqual([]);
    expect(await readPartitions(admin, topic)).toBe(4);
  });

  it("applies topic configs at creation and re-applies them to an existing topic", async () => {
    const topic = `${run}-configs`;
    await ensureTopics(admin, [{ name: topic, configEntries: { "retention.ms": "3600000" } }], 1, 1);
    expect(await topicConfig(topic, "retention.ms")).toBe("3600000");
    const outcome = await ensureTopics(admin, [{ name: topic, configEntries: { "retention.ms": "7200000" } }], 1, 1);
    expect(outcome.configured).toEqual([topic]);
    expect(await topicConfig(topic, "retention.ms")).toBe("7200000");
  });

  it("empties the events log before a trial, so a new detector group reading from the beginning sees only its trial", async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: names.eventsTopic,
      messages: [
        { key: "k1", value: "a" },
        { key: "k2", value: "b" },
      ],
    });
    await producer.disconnect();
    const sent = await admin.fetchTopicOffsets(names.eventsTopic);
    expect(sent.some((p) => Number(p.high) > Number(p.low))).toBe(true);
    await emptyTopic(admin, names.eventsTopic);
    const after = await admin.fetchTopicOffsets(names.eventsTopic);
    expect(after.filter((p) => Number(p.high) > Number(p.low))).toEqual([]);
  });
});
