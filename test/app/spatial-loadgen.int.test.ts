/**
 * The spatial workload end to end, in process, on the real local Kafka + Cassandra: the load
 * generator with LOADGEN_SPATIAL_WORKLOAD=hotspots sends located events (some drones with altitude), the
 * detector with DETECTOR_SPATIAL_STRATEGY=sai, then =geohash (the same load), checks each against its 50 nearest
 * previous events, and the verdicts are compared with the generator's ground truth: every event checked spatially, misplaced points far
 * from any neighbour, value outliers flagged by the spatial check. The figures are printed for the report.
 * Own topics and keyspace, deleted at the end.
 */
import type { Consumer, Kafka } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { parseLoadgenConfig, type DetectorConfig, type LoadgenConfig } from "../../app/config.ts";
import { DetectorPipeline } from "../../app/detector/pipeline.ts";
import { decodeVerdict, type VerdictRecord } from "../../app/events/verdict-codec.ts";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import { runLoadgen } from "../../app/loadgen/loadgen.ts";
import { createLogger } from "../../app/log.ts";
import { detectorMetrics, loadgenMetrics, newRegistry } from "../../app/metrics.ts";
import { setupTracing } from "../../app/tracing.ts";
import { stallBoundedTestTimeoutMs, untilDone } from "../stall-bounded.ts";
import { dropSpatialTestRuns, spatialTestConfig } from "./spatial-test-run.ts";

const runs: { kafka: Kafka; detector: DetectorConfig; loadgen: LoadgenConfig; pipeline?: DetectorPipeline; consumer?: Consumer }[] = [];
const log = createLogger("spatial-loadgen-test", "warn");

/** One run's settings: its own topics, keyspace and group; the same load (seed) for every strategy. */
function run(strategy: "sai" | "geohash") {
  const id = `sl${Date.now().toString(36)}${strategy.slice(0, 2)}`;
  const topics = { EVENTS_TOPIC: `${id}-events`, KAFKA_PARTITIONS: "2", LOG_LEVEL: "warn" };
  const detector = spatialTestConfig(id, { ...topics, DETECTOR_SPATIAL_STRATEGY: strategy });
  const loadgen = parseLoadgenConfig({
    env: {
      ...topics,
      LOADGEN_RATE: "200",
      LOADGEN_DURATION_SECONDS: "15",
      LOADGEN_KEYS: "40",
      LOADGEN_KEY_PREFIX: "sl",
      LOADGEN_PRODUCER_ID: "sl-lg",
      LOADGEN_SEED: "1616",
      LOADGEN_SPATIAL_WORKLOAD: "hotspots",
      LOADGEN_SPATIAL_HOT_SPOTS: "3",
      LOADGEN_SPATIAL_VALUE_OUTLIER_PROBABILITY: "0.004",
      LOADGEN_SPATIAL_MISPLACED_PROBABILITY: "0.002",
    },
  });
  const r = { id, kafka: createKafka(`${id}-test`, detector.kafkaBrokers, log), detector, loadgen } as (typeof runs)[number] & {
    id: string;
  };
  runs.push(r);
  return r;
}

afterAll(async () => {
  for (const r of runs) {
    await r.consumer?.disconnect();
    await r.pipeline?.stop();
    await dropSpatialTestRuns(r.kafka, [r.detector], [`${r.detector.groupId}-reader`]);
  }
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe.each(["sai", "geohash"] as const)("spatial workload through the detector (%s)", (strategy) => {
  it(
    "checks every located event spatially and finds the generator's spatial anomalies",
    { timeout: stallBoundedTestTimeoutMs },
    async () => {
      const r = run(strategy);
      const { id, kafka, detector: detectorConfig, loadgen: loadgenConfig } = r;
      const pipeline = (r.pipeline = new DetectorPipeline(
        detectorConfig,
        kafka,
        log,
        detectorMetrics(newRegistry({ service: `${id}-d` })),
        setupTracing(id, 0, detectorConfig.otlpEndpoint),
      ));
      await pipeline.start();
      const verdicts = new Map<number, VerdictRecord>();
      const consumer = (r.consumer = kafka.consumer({ groupId: `${detectorConfig.groupId}-reader` }));
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
      const report = await runLoadgen(
        loadgenConfig,
        kafka,
        log,
        loadgenMetrics(newRegistry({ service: `${id}-l` })),
        setupTracing(id, 0, loadgenConfig.otlpEndpoint),
        new AbortController().signal,
      );
      expect(report.failed).toBe(0);
      await untilDone(
        `verdicts of ${report.sent} events`,
        () => verdicts.size,
        () => verdicts.size >= report.sent,
      );
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
      console.log(`spatial end to end ${strategy} ${JSON.stringify(figures)}`);
      expect(figures.truncated).toBe(0);
      // A misplaced point's nearest previous event is kilometres away; an ordinary one's, metres to hundreds.
      expect(misplaced.length).toBeGreaterThan(0);
      expect(figures.misplacedNearestMinMetres).toBeGreaterThan(10 * figures.ordinaryNearestMedianMetres);
      expect(outliers.length).toBeGreaterThan(3);
      expect(figures.valueOutliersFlagged / outliers.length).toBeGreaterThanOrEqual(0.7);
      expect(figures.ordinaryFlagged / figures.ordinary).toBeLessThan(0.01);
    },
  );
});
