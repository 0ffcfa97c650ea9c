/**
 * The spatial check inside the detector, in process, against the real local Kafka + Cassandra: with
 * DETECTOR_SPATIAL_STRATEGY=geohash a located event's verdict carries the spatial check (a value far from its
 * neighbours' is flagged even on a key seen for the first time, which the key's own check cannot judge), an event
 * without a location is checked as before, and a malformed location is dead-lettered with the reason
 * bad-location and the field and value. Own topics and keyspace, deleted at the end.
 */
import type { Consumer, Kafka, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DetectorConfig } from "../../app/config.ts";
import { DetectorPipeline, deadLetterHeaders } from "../../app/detector/pipeline.ts";
import { encodeEvent, type Event } from "../../app/events/event-codec.ts";
import { decodeVerdict, type VerdictRecord } from "../../app/events/verdict-codec.ts";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import { Rng } from "../../app/loadgen/random.ts";
import { createLogger } from "../../app/log.ts";
import { detectorMetrics, newRegistry } from "../../app/metrics.ts";
import { setupTracing } from "../../app/tracing.ts";
import { stallBoundedTestTimeoutMs, untilDone } from "../stall-bounded.ts";
import { dropSpatialTestRuns, spatialTestConfig } from "./spatial-test-run.ts";

const id = `sp${Date.now().toString(36)}`;
const config: DetectorConfig = spatialTestConfig(id, { KAFKA_PARTITIONS: "2", DETECTOR_SPATIAL_STRATEGY: "geohash" });
const log = createLogger("spatial-pipeline-test", "warn");
const kafka: Kafka = createKafka(`${id}-test`, config.kafkaBrokers, log);
let pipeline: DetectorPipeline;
let producer: Producer;
let consumer: Consumer;
const verdicts = new Map<string, VerdictRecord>();
const deadLetters: { reason: string; detail: string }[] = [];

const at = { lat: 52.52, lon: 13.405 }; // Berlin
const base = 1_764_000_000_000;

const send = (events: readonly Event[]) =>
  producer.send({ topic: config.eventsTopic, messages: events.map((e) => ({ key: e.id, value: encodeEvent(e) })) });

beforeAll(async () => {
  pipeline = new DetectorPipeline(
    config,
    kafka,
    log,
    detectorMetrics(newRegistry({ service: id })),
    setupTracing(id, 0, config.otlpEndpoint),
  );
  await pipeline.start(); // makes the topics, the keyspace, the events table and the spatial tables
  producer = kafka.producer();
  await producer.connect();
  consumer = kafka.consumer({ groupId: `${id}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topics: [config.checksTopic, config.deadLetterTopic], fromBeginning: true });
  await consumer.run({
    eachMessage: ({ topic, message }) => {
      if (topic === config.checksTopic) {
        const v = decodeVerdict(message.value!);
        verdicts.set(`${v.id}/${v.seq}`, v);
      } else {
        deadLetters.push({
          reason: String(message.headers?.[deadLetterHeaders.reason]),
          detail: String(message.headers?.[deadLetterHeaders.detail]),
        });
      }
      return Promise.resolve();
    },
  });
});

afterAll(async () => {
  await consumer?.disconnect();
  await producer?.disconnect();
  await pipeline?.stop();
  await dropSpatialTestRuns(kafka, [config], [`${id}-reader`]);
});

describe("detector with the spatial check on", () => {
  it(
    "puts the spatial check on located events' verdicts, flags a value unlike its neighbours', dead-letters a bad location",
    async () => {
      // 150 ordinary events of 15 sensors around one place, all checked before the rest is sent: the spatial check
      // reads what is written, and events of different keys are checked concurrently.
      const rng = new Rng(16);
      const background: Event[] = Array.from({ length: 150 }, (_, i) => ({
        id: `sensor-${i % 15}`,
        time: base + i * 100,
        producer: id,
        seq: i,
        value: 10 + rng.normal(),
        label: "none",
        location: { lat: at.lat + 0.01 * rng.normal(), lon: at.lon + 0.01 * rng.normal() },
      }));
      await send(background);
      await untilDone(
        "the background's verdicts",
        () => verdicts.size,
        () => verdicts.size >= background.length,
      );

      const later = base + 200 * 100;
      const spike: Event = { id: "newcomer", time: later, producer: id, seq: 1000, value: 40, label: "spike", location: at };
      // The same key: per-key order has the spike written before this one is checked, so it is found at 0 m (an
      // event of another key checked at the same moment may not see it yet: the keys' checks run concurrently).
      const ordinary: Event = { id: "newcomer", time: later + 1, producer: id, seq: 1001, value: 10.4, label: "none", location: at };
      const flat: Event = { id: "no-location", time: later + 2, producer: id, seq: 1002, value: 1, label: "none" };
      const bad = encodeEvent({
        id: "bad-place",
        time: later + 3,
        producer: id,
        seq: 1003,
        value: 1,
        label: "none",
        location: { lat: 1, lon: 1 },
      });
      bad.writeDoubleBE(91, bad.length - 16); // the latitude, as a faulty sender would put it
      await send([spike, ordinary, flat]);
      await producer.send({ topic: config.eventsTopic, messages: [{ key: "bad-place", value: bad }] });
      await untilDone(
        "the last verdicts and the dead letter",
        () => verdicts.size + deadLetters.length,
        () => verdicts.size >= background.length + 3 && deadLetters.length >= 1,
      );

      const last = verdicts.get(`sensor-0/${background.length - 15}`)!;
      expect(last.spatial).toMatchObject({ strategy: "geohash", neighbours: 50, truncated: false });
      expect(last.spatial!.rounds).toBeGreaterThanOrEqual(1);

      const s = verdicts.get("newcomer/1000")!;
      expect(s.anomaly).toBe(false); // the key's own check has no history
      expect(s.reason).toBe("short-history");
      expect(s.spatial).toMatchObject({ anomaly: true, direction: "up", neighbours: 50 });
      expect(s.spatial!.mean).toBeCloseTo(10, 0);

      expect(verdicts.get("newcomer/1001")!.spatial).toMatchObject({ anomaly: false, neighbours: 50, nearestMetres: 0 });
      const plain = verdicts.get("no-location/1002")!;
      expect(plain).toBeDefined();
      expect(plain.spatial).toBeUndefined();

      expect(deadLetters).toEqual([{ reason: "bad-location", detail: "location.lat 91 is outside [-90, 90]" }]);
    },
    stallBoundedTestTimeoutMs,
  );
});
