/**
 * Hostile records among good events, against the real local Kafka + Cassandra and one real detector process:
 * none may stop it. Each class from the security review is produced:
 *
 * - a finite value whose square overflows (refused by the codec), and a key whose stored history already holds
 *   such values (rows written before the codec bounded them: a quiet verdict, reason non-finite-baseline);
 * - header names that are Object.prototype members, on a record that is dead-lettered and on a good one;
 * - header floods (tens of thousands of headers in one record), dead-lettered and good;
 * - batches in a codec kafkajs lacks (zstd), from Kafka's own Java producer: one stored before the topic had
 *   compression.type=uncompressed (the broker kept zstd: the detector sets the batch's offsets aside as one
 *   undecodable-batch dead letter), one after (the broker re-wrote it uncompressed: its events are checked);
 * - gzip decompression bombs: one stored before the setting (the detector's bounded inflation refuses it: an
 *   undecodable-batch dead letter), one after (the broker decompresses, re-checks max.message.bytes and refuses
 *   it: the producer gets MESSAGE_TOO_LARGE and nothing is stored);
 * - a dead letter the broker refuses (the dead-letter topic's cap lowered for the moment): counted and skipped;
 * - an entity id that starts with a byte-order mark, sent with the same bytes as key (decoded away, the mark
 *   made it the id without it, checked on another partition than that id's own events): dead-lettered, while
 *   the id without the mark is checked;
 * - a good event whose verdict the broker refuses (the checks topic's cap lowered for the moment): its check
 *   failed for good, so it is dead-lettered as check-failed, and the verdicts sent with it still go out.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import kafkajs, { type IHeaders, type Kafka, type Message } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDetectorConfig } from "../../app/config.ts";
import { CassandraStore } from "../../app/detector/cassandra-store.ts";
import { ensureSchema } from "../../app/detector/schema.ts";
import { deadLetterHeaders } from "../../app/events/dead-letter.ts";
import { encodeEvent, maxEventValueMagnitude, type Event } from "../../app/events/event-codec.ts";
import { createKafka, waitForServingLeaders } from "../../app/kafka/kafka-client.ts";
import { createLogger } from "../../app/log.ts";
import { topicConfigEntries, topicMaxMessageBytes } from "../../app/topology.ts";
import { scrape, startApp, stopApp, waitReady, type AppProcess } from "../../scripts/local/app-process.ts";
import { ChecksCollector, eventName } from "../../scripts/local/verify.ts";
import { kafkaClasspath } from "../../scripts/local/maven-classpath.ts";
import { localEndpoints, projectRoot } from "../../scripts/local/locations.ts";
import { localDetectorEnv, runNames } from "../../scripts/local/isolated-run.ts";
import { withMark } from "../../scripts/chaos/malformed-records.ts";
import { stallBoundedTestTimeoutMs, untilDone } from "../stall-bounded.ts";
import { dropTestRuns, testKeyspace } from "./test-runs.ts";

const { CompressionTypes, ConfigResourceTypes } = kafkajs;
const log = createLogger("test", "error");
const kafka: Kafka = createKafka("int-hostile", [localEndpoints.kafkaBrokers], log);
const id = `t${Date.now().toString(36)}hostile`;
const topic = { events: `${id}-events`, checks: `${id}-checks`, deadLetter: `${id}-dead-letter` };
// The topics are made here, as an older version made them, before the schema: so no IsolatedRun.open.
const env = localDetectorEnv(runNames(id, { keyspace: testKeyspace(id) }), 4, { detectorConcurrency: 128 });
const config = parseDetectorConfig({ env });
let detector: AppProcess | null = null;

const producerId = `${id}-p`;
let seq = 0;
const now = Date.now();
const event = (key: string, over: Partial<Event> = {}): Event => ({
  id: `${id}-${key}`,
  time: now + seq,
  producer: producerId,
  seq: seq++,
  value: 10 + (seq % 7) * 0.1,
  label: "none",
  ...over,
});
const record = (e: Event, headers?: IHeaders): Message => ({ key: e.id, value: encodeEvent(e), ...(headers ? { headers } : {}) });
/** A record the codec refuses as bad-label (label code 7): the dead-letter path, with whatever headers it has. */
const badLabel = (e: Event, headers: IHeaders): Message => {
  const value = encodeEvent(e);
  value.writeUInt8(7, 1);
  return { key: e.id, value, headers };
};
/** Headers whose names are Object.prototype members, in a map without a prototype so they are plain own keys. */
const collidingHeaders = (testCase: string): IHeaders => {
  const h = Object.create(null) as IHeaders;
  h["test-case"] = testCase;
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) h[name] = `hostile ${name}`;
  return h;
};
/** A header flood that still fits the events topic's cap: that many distinct headers, test-case first. */
const floodHeaders = (testCase: string, count: number): IHeaders => {
  const h: IHeaders = { "test-case": testCase };
  for (let i = 0; i < count; i++) h[`h${i.toString(36)}`] = "";
  return h;
};

/** Kafka's own Java producer (single-file program), for the codecs kafkajs lacks. */
async function javaProduce(codec: "zstd" | "lz4", records: readonly Message[]): Promise<{ partition: number; offset: number }[]> {
  const classpath = kafkaClasspath();
  const program = join(projectRoot, "test", "app", "hostile-records", "CodecProducer.java");
  const child = spawn("java", ["-cp", classpath, program, localEndpoints.kafkaBrokers, topic.events, codec], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const b64 = (b: Message["key"]) => Buffer.from(b ?? "").toString("base64");
  child.stdin.end(records.map((r) => `${b64(r.key)} ${b64(r.value)}`).join("\n") + "\n");
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`Java producer exited ${code}:\n${err}`);
  const results = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { partition?: number; offset?: number; error?: string });
  const failed = results.find((r) => r.error !== undefined);
  if (failed) throw new Error(`Java producer: ${failed.error}`);
  return results.map((r) => ({ partition: r.partition!, offset: r.offset! }));
}

interface DeadLetter {
  readonly headers: Map<string, string>;
  readonly value: Buffer | null;
}
const header = (d: DeadLetter, name: string) => d.headers.get(name);
/** The distinct source records of dead letters (a replay after a rebalance may dead-letter one again). */
const sources = (dead: readonly DeadLetter[]) =>
  new Set(dead.map((d) => `${header(d, deadLetterHeaders.partition)}:${header(d, deadLetterHeaders.offset)}`));

beforeAll(async () => {
  await kafka.admin().connect(); // fail fast if the broker is not there
});

afterAll(async () => {
  if (detector) await stopApp(detector, "SIGKILL");
  await dropTestRuns(kafka, [id]);
});

describe("hostile records against the real local stack", () => {
  it(
    "stop no detector: each is dead-lettered with its reason (or refused by the broker), every good event is checked",
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      const producer = kafka.producer();
      await producer.connect();
      const send = (messages: Message[], compression = CompressionTypes.None) =>
        producer.send({ topic: topic.events, acks: -1, compression, messages });
      const good: Event[] = [];
      const sendGood = async (n: number) => {
        const events = Array.from({ length: n }, (_, i) => event(`g${i % 4}`));
        good.push(...events);
        await send(events.map((e) => record(e)));
      };

      // ---- Before the detector: topics as a version without the topic settings made them (codecs kept). ----
      await admin.createTopics({
        waitForLeaders: true,
        topics: Object.values(topic).map((t) => ({
          topic: t,
          numPartitions: config.partitions,
          replicationFactor: 1,
          configEntries: t === topic.events ? [{ name: "compression.type", value: "producer" }] : [],
        })),
      });
      await waitForServingLeaders(admin, Object.values(topic), config.partitions); // as ensureTopics does
      await sendGood(20);
      const zstdKept = await javaProduce(
        "zstd",
        Array.from({ length: 3 }, () => record(event("zstd-kept"))),
      );
      const bomb = () => ({ key: `${id}-bomb`, value: Buffer.alloc(8 * topicMaxMessageBytes.events) }); // zeros: ~1000x
      const [keptBomb] = await send([bomb()], CompressionTypes.GZIP);
      expect(keptBomb!.errorCode).toBe(0); // the broker checks only the compressed size of a batch it keeps as is

      // The schema as the detector makes it (here first, to seed Cassandra): the topic settings now apply.
      await ensureSchema(config, kafka, null, log);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic.events }],
      });
      const eventsConfig = new Map(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
      for (const [name, value] of Object.entries(topicConfigEntries.events)) expect(eventsConfig.get(name)).toBe(value);

      // A key whose stored history holds finite values whose squares overflow (written before the codec bound).
      const store = new CassandraStore(config);
      await store.connect();
      for (let i = 0; i < 20; i++)
        await store.write({ ...event("poisoned"), time: now - 100_000 + i, value: (i % 2 === 0 ? 1 : -1) * Number.MAX_VALUE });
      await store.shutdown();

      detector = startApp("detector", env, "detector-hostile");
      await waitReady(detector);
      const pid = detector.child.pid;
      const checks = new ChecksCollector(kafka, topic.checks, `${id}-verify`);
      await checks.start();
      const dead: DeadLetter[] = [];
      const dlq = kafka.consumer({ groupId: `${id}-dlq`, maxWaitTimeInMs: 250 });
      await dlq.connect();
      await dlq.subscribe({ topics: [topic.deadLetter], fromBeginning: true });
      await dlq.run({
        eachMessage: async ({ message }) => {
          const headers = new Map<string, string>();
          for (const [k, v] of Object.entries(message.headers ?? {})) headers.set(k, Array.isArray(v) ? v.join(",") : String(v));
          dead.push({ headers, value: message.value });
          await Promise.resolve();
        },
      });

      // ---- With the detector running. ----
      const poisoned = event("poisoned");
      good.push(poisoned);
      await send([record(poisoned)]);
      const overflow = event("overflow", { value: 1 });
      const overflowRecord = record(overflow, { "test-case": "overflow" });
      (overflowRecord.value as Buffer).writeDoubleBE(maxEventValueMagnitude * 1e10, 18); // finite, squares to Infinity
      const collidingGood = event("colliding");
      good.push(collidingGood);
      await send([
        overflowRecord,
        badLabel(event("colliding"), collidingHeaders("colliding")),
        record(collidingGood, collidingHeaders("good")),
      ]);
      const unmarked = event("bom");
      good.push(unmarked);
      const marked = event("bom");
      await send([{ ...withMark(marked, "id", "", marked.id), headers: { "test-case": "bom" } }, record(unmarked)]);
      // Floods of ~55,000 headers (~400 KB, under the events cap): one record per batch, or two would exceed it.
      const floodCount = Math.floor((topicMaxMessageBytes.events * 0.75) / 7);
      await send([badLabel(event("flood"), floodHeaders("flood", floodCount))]);
      const floodGood = event("flood");
      good.push(floodGood);
      await send([record(floodGood, floodHeaders("good", floodCount))]);
      await sendGood(20);
      const converted = Array.from({ length: 3 }, () => event("zstd-converted"));
      good.push(...converted);
      await javaProduce(
        "zstd",
        converted.map((e) => record(e)),
      );
      // Now the broker inflates a gzip batch, re-checks its size and refuses the bomb: nothing is stored.
      const refused = await send([bomb()], CompressionTypes.GZIP).then(
        () => null,
        (err: unknown) => err as { type?: string },
      );
      expect(refused?.type).toBe("MESSAGE_TOO_LARGE");

      const expectedDead = 6; // zstd kept, gzip bomb kept, overflow, colliding, bom, flood
      await untilDone(
        `${expectedDead} dead letters and ${good.length} verdicts`,
        () => dead.length + checks.verdicts.size,
        () => sources(dead).size >= expectedDead && checks.verdicts.size >= good.length,
      );
      expect(sources(dead).size).toBe(expectedDead);

      // A dead letter the broker refuses: the dead-letter topic's cap lowered below one, for a moment.
      const setDeadLetterCap = (bytes: number | null) =>
        admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: topic.deadLetter,
              configEntries: Object.entries(bytes === null ? topicConfigEntries.deadLetter : { "max.message.bytes": String(bytes) }).map(
                ([name, value]) => ({ name, value }),
              ),
            },
          ],
        });
      await setDeadLetterCap(1024);
      await send([{ key: `${id}-refused`, value: Buffer.alloc(4 * config.maxEventBytes, 1), headers: { "test-case": "refused" } }]);
      let skipped = 0;
      const running = detector;
      await untilDone(
        "the refused dead letter skipped",
        async () => (skipped = (await scrape(running)).get("detector_records_skipped_total") ?? 0),
        () => skipped >= 1,
      );
      await setDeadLetterCap(null);

      // A good event whose verdict the broker refuses (the checks topic's cap lowered below it, for a moment):
      // its check fails for good, so it is dead-lettered as check-failed, and the verdicts around it still go out.
      const setChecksCap = (bytes: number | null) =>
        admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: topic.checks,
              configEntries: Object.entries(bytes === null ? topicConfigEntries.checks : { "max.message.bytes": String(bytes) }).map(
                ([name, value]) => ({ name, value }),
              ),
            },
          ],
        });
      // An id long enough that its verdict (id as key and in the JSON) exceeds the lowered cap, short enough
      // that the event itself is within MAX_EVENT_BYTES.
      const checksCap = config.maxEventBytes + 200;
      await setChecksCap(checksCap);
      const longId = event(`long-${"x".repeat(config.maxEventBytes - 120)}`);
      const aroundIt = [event("g0"), event("g1")];
      good.push(...aroundIt);
      await send([record(aroundIt[0]!), record(longId, { "test-case": "check-failed" }), record(aroundIt[1]!)]);
      await untilDone(
        "the check-failed dead letter",
        () => dead.length,
        () => dead.some((d) => header(d, "test-case") === "check-failed"),
      );
      await setChecksCap(null);
      await sendGood(10); // and the pipeline goes on
      await untilDone(
        `${good.length} verdicts`,
        () => checks.verdicts.size,
        () => checks.verdicts.size >= good.length,
      );

      const metrics = await scrape(detector);
      expect(detector.child.exitCode).toBeNull(); // never exited, never restarted: the same process throughout
      expect(detector.child.pid).toBe(pid);
      expect(await stopApp(detector)).toBe(0);
      detector = null;
      await dlq.disconnect();
      await checks.stop();
      await producer.disconnect();
      await admin.disconnect();

      // Every good event checked, once each; the poisoned key's is quiet with its reason.
      expect(checks.verdicts.size).toBe(good.length);
      for (const e of good) expect(checks.verdicts.has(eventName(e.producer, e.seq))).toBe(true);
      expect(checks.verdicts.get(eventName(poisoned.producer, poisoned.seq))).toMatchObject({
        anomaly: false,
        reason: "non-finite-baseline",
      });

      // Every hostile record in the dead-letter topic with its reason and source.
      const byCase = (c: string) => dead.find((d) => header(d, "test-case") === c);
      expect(header(byCase("overflow")!, deadLetterHeaders.reason)).toBe("value-out-of-range");
      expect(header(byCase("bom")!, deadLetterHeaders.reason)).toBe("byte-order-mark");
      const colliding = byCase("colliding")!;
      expect(header(colliding, deadLetterHeaders.reason)).toBe("bad-label");
      for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"])
        expect(header(colliding, name)).toBe(`hostile ${name}`);
      const flood = byCase("flood")!;
      expect(header(flood, deadLetterHeaders.reason)).toBe("bad-label");
      expect(Number(header(flood, deadLetterHeaders.droppedHeaders))).toBeGreaterThan(0);
      const undecodable = dead.filter((d) => header(d, deadLetterHeaders.reason) === "undecodable-batch");
      expect(sources(undecodable).size).toBe(2);
      const zstd = undecodable.find((d) => /ZSTD/.test(header(d, deadLetterHeaders.detail) ?? ""))!;
      expect(header(zstd, deadLetterHeaders.partition)).toBe(String(zstdKept[0]!.partition));
      expect(header(zstd, deadLetterHeaders.offset)).toBe(String(zstdKept[0]!.offset));
      expect(header(zstd, deadLetterHeaders.lastOffset)).toBe(String(zstdKept.at(-1)!.offset));
      const bombLetter = undecodable.find((d) => !/ZSTD/.test(header(d, deadLetterHeaders.detail) ?? ""))!;
      expect(header(bombLetter, deadLetterHeaders.detail)).toMatch(/larger than|maxOutputLength|buffer/i);
      expect(header(bombLetter, deadLetterHeaders.partition)).toBe(String(keptBomb!.partition));
      expect(header(bombLetter, deadLetterHeaders.offset)).toBe(String(keptBomb!.baseOffset));
      expect(byCase("refused")).toBeUndefined();
      const checkFailed = byCase("check-failed")!;
      expect(header(checkFailed, deadLetterHeaders.reason)).toBe("check-failed");
      expect(header(checkFailed, deadLetterHeaders.detail)).toMatch(/^publish: .*larger than the max message size/);

      // Each record handled once: one detector, one group join, nothing replayed.
      expect(metrics.get("detector_group_joins_total")).toBe(1);
      expect(metrics.get("detector_dead_letters_total")).toBe(expectedDead + 1); // and the check-failed one
      expect(metrics.get("detector_undecodable_batches_total")).toBe(2);
      expect(metrics.get("detector_records_skipped_total")).toBe(1);
      expect(metrics.get("detector_checks_total")).toBe(good.length);
    },
    stallBoundedTestTimeoutMs,
  );
});
