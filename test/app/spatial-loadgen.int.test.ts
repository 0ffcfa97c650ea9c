/**
 * The spatial workload end to end (issue 16), in process, on the real local Kafka + Cassandra: the load
 * generator with LOADGEN_SPATIAL_WORKLOAD=hotspots sends located events (some drones with altitude), the
 * detector with DETECTOR_SPATIAL_STRATEGY=sai checks each against its 50 nearest previous events, and the
 * verdicts are compared with the generator's ground truth: every event checked spatially, misplaced points far
 * from any neighbour, value outliers flagged by the spatial check. The figures are printed for the report.
 * Own topics and keyspace, deleted at the end.
 */
import cassandra from "cassandra-driver";
import type { Consumer, Kafka } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { parseDetectorConfig, parseLoadgenConfig } from "../../app/config.ts";
import { DetectorPipeline } from "../../app/detector/pipeline.ts";
import { decodeVerdict, type VerdictRecord } from "../../app/events/verdict-codec.ts";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import { runLoadgen } from "../../app/loadgen/loadgen.ts";
import { createLogger } from "../../app/log.ts";
import { detectorMetrics, loadgenMetrics, newRegistry } from "../../app/metrics.ts";
import { setupTracing } from "../../app/tracing.ts";

const id = `sl${Date.now().toString(36)}`;
const topics = { EVENTS_TOPIC: `${id}-events`, KAFKA_PARTITIONS: "2", LOG_LEVEL: "warn" };
const detectorConfig = parseDetectorConfig({
  env: {
    ...topics,
    CHECKS_TOPIC: `${id}-checks`,
    DEAD_LETTER_TOPIC: `${id}-dead-letter`,
    DETECTOR_GROUP_ID: `${id}-detector`,
    CASSANDRA_KEYSPACE: `it_${id}`,
    DETECTOR_SPATIAL_STRATEGY: "sai",
  },
});
const loadgenConfig = parseLoadgenConfig({
  env: {
    ...topics,
    LOADGEN_RATE: "200",
    LOADGEN_DURATION_SECONDS: "15",
    LOADGEN_KEYS: "40",
    LOADGEN_KEY_PREFIX: id,
    LOADGEN_PRODUCER_ID: `${id}-lg`,
    LOADGEN_SEED: "1616",
    LOADGEN_SPATIAL_WORKLOAD: "hotspots",
    LOADGEN_SPATIAL_HOT_SPOTS: "3",
    LOADGEN_SPATIAL_VALUE_OUTLIER_PROBABILITY: "0.004",
    LOADGEN_SPATIAL_MISPLACED_PROBABILITY: "0.002",
  },
});
const log = createLogger("spatial-loadgen-test", "warn");
const kafka: Kafka = createKafka(`${id}-test`, detectorConfig.kafkaBrokers, log);
let pipeline: DetectorPipeline | undefined;
let consumer: Consumer | undefined;

afterAll(async () => {
  await consumer?.disconnect();
  await pipeline?.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [detectorConfig.eventsTopic, detectorConfig.checksTopic, detectorConfig.deadLetterTopic] }).catch(() => {});
  await admin.deleteGroups([detectorConfig.groupId, `${id}-reader`]).catch(() => {});
  await admin.disconnect();
  const client = new cassandra.Client({ contactPoints: [...detectorConfig.cassandraContactPoints], localDataCenter: detectorConfig.cassandraLocalDataCenter });
  await client.connect();
  await client.execute(`DROP KEYSPACE IF EXISTS ${detectorConfig.keyspace}`);
  await client.shutdown();
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe("spatial workload through the detector (sai)", () => {
  it("checks every located event spatially and finds the generator's spatial anomalies", { timeout: 400_000 }, async () => {
    pipeline = new DetectorPipeline(detectorConfig, kafka, log, detectorMetrics(newRegistry({ service: `${id}-d` })), setupTracing(id, 0, detectorConfig.otlpEndpoint));
    await pipeline.start();
    const verdicts = new Map<number, VerdictRecord>();
    consumer = kafka.consumer({ groupId: `${id}-reader` });
    await consumer.connect();
    await consumer.subscribe({ topics: [detectorConfig.checksTopic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const v = decodeVerdict(message.value!);
        verdicts.set(v.seq, v);
        return Promise.resolve();
      },
    });
    const t0 = Date.now();
    const report = await runLoadgen(loadgenConfig, kafka, log, loadgenMetrics(newRegistry({ service: `${id}-l` })), setupTracing(id, 0, loadgenConfig.otlpEndpoint), new AbortController().signal);
    expect(report.failed).toBe(0);
    const deadline = Date.now() + 300_000;
    while (verdicts.size < report.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    const seconds = (Date.now() - t0) / 1000;
    expect(verdicts.size).toBe(report.sent);

    const all = [...verdicts.values()];
    expect(all.every((v) => v.spatial !== undefined)).toBe(true);
    const truth = report.spatialInjections!;
    const misplaced = truth.filter((t) => t.kind === "misplaced").map((t) => verdicts.get(t.seq)!);
    const outliers = truth.filter((t) => t.kind === "value").map((t) => verdicts.get(t.seq)!);
    const injectedSeqs = new Set(truth.map((t) => t.seq));
    const warm = all.filter((v) => v.seq >= 1000 && !injectedSeqs.has(v.seq));
    const nearest = (vs: VerdictRecord[]) => vs.map((v) => v.spatial!.nearestMetres ?? Infinity);
    const figures = {
      events: report.sent,
      seconds: Math.round(seconds),
      roundsMean: all.reduce((a, v) => a + v.spatial!.rounds, 0) / all.length,
      roundsMax: Math.max(...all.map((v) => v.spatial!.rounds)),
      truncated: all.filter((v) => v.spatial!.truncated).length,
      ordinaryNearestMedianMetres: median(nearest(warm)),
      misplaced: misplaced.length,
      misplacedNearestMinMetres: Math.min(...nearest(misplaced)),
      valueOutliers: outliers.length,
      valueOutliersFlagged: outliers.filter((v) => v.spatial!.anomaly).length,
      ordinaryFlagged: warm.filter((v) => v.spatial!.anomaly).length,
      ordinary: warm.length,
    };
    console.log(`spatial end to end ${JSON.stringify(figures)}`);
    expect(figures.truncated).toBe(0);
    // A misplaced point's nearest previous event is kilometres away; an ordinary one's, metres to hundreds.
    expect(misplaced.length).toBeGreaterThan(0);
    expect(figures.misplacedNearestMinMetres).toBeGreaterThan(10 * figures.ordinaryNearestMedianMetres);
    expect(outliers.length).toBeGreaterThan(3);
    expect(figures.valueOutliersFlagged / outliers.length).toBeGreaterThanOrEqual(0.7);
    expect(figures.ordinaryFlagged / figures.ordinary).toBeLessThan(0.01);
  });
});
