/**
 * The load generator: sends events to the events topic on an open-loop schedule (see schedule.ts), with keys
 * drawn uniformly or by zipf, values from per-key models with injected anomalies (value-models.ts), and an
 * optional load spike. At the end it reports what it sent and what it injected (stdout, and a JSON file).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SpanKind } from "@opentelemetry/api";
import { CompressionTypes, Partitioners, type Kafka, type Message } from "kafkajs";
import type { LoadgenConfig } from "../config.ts";
import { encodeEvent, type Label } from "../events/event-codec.ts";
import type { Location } from "../spatial/location.ts";
import { ensureTopics } from "../kafka/kafka-client.ts";
import { errorText, type Logger } from "../log.ts";
import type { loadgenMetrics } from "../metrics.ts";
import { headersFor, type Tracing } from "../tracing.ts";
import { Rng, ZipfSampler, seedOf } from "./random.ts";
import { dueTime, eventsDueBy, rateAt, type RateProfile } from "./schedule.ts";
import { newKeyState, nextValue, type KeyState } from "./value-models.ts";
import { SpatialWorkload, type SpatialInjection } from "./spatial-model.ts";

export interface LoadgenReport {
  readonly producer: string;
  readonly topic: string;
  readonly keyPrefix: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** Events scheduled, and of those acknowledged by Kafka / not. Sequence numbers are 0 … scheduled − 1. */
  readonly scheduled: number;
  readonly sent: number;
  readonly failed: number;
  /** Sequence numbers Kafka did not acknowledge (bounded list): they are not "produced". */
  readonly failedSeqs: number[];
  readonly injected: Record<Exclude<Label, "none">, number>;
  /**
   * Each injected anomaly: its sequence number, kind and size in the key's noise σ (value-models.ts), for the
   * per-size table of the verification; the first `maxListedInjections` only.
   */
  readonly injections: { readonly seq: number; readonly kind: Exclude<Label, "none">; readonly sigmas: number }[];
  /** Largest lag of a send behind its scheduled time, in ms: large means the generator could not keep up. */
  readonly maxLatenessMs: number;
  /**
   * With the spatial workload on: its injected spatial anomalies, the ground truth of the spatial check
   * (the first `maxListedInjections`); absent when it is off.
   */
  readonly spatialInjections?: SpatialInjection[];
}

const tickMs = 5;
/** A bound on the report's list of injections (a long run at the default rates injects ~3 per 1,000 events). */
export const maxListedInjections = 200_000;

export async function runLoadgen(
  c: LoadgenConfig,
  kafka: Kafka,
  log: Logger,
  metrics: ReturnType<typeof loadgenMetrics>,
  tracing: Tracing,
  stopSignal: AbortSignal,
): Promise<LoadgenReport> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [c.eventsTopic], c.partitions, c.topicReplicationFactor);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();

  const rng = new Rng(c.seed === 0 ? seedOf(c.producerId) : c.seed);
  const zipf = c.keyDistribution === "zipf" ? new ZipfSampler(c.keys, c.zipfExponent) : null;
  const keys = new Map<number, KeyState>();
  const profile: RateProfile = {
    rate: c.rate,
    burstFactor: c.burstFactor,
    burstStart: c.burstStartSeconds,
    burstDuration: c.burstDurationSeconds,
  };
  const injection = {
    spikeProbability: c.spikeProbability,
    shiftProbability: c.shiftProbability,
    smallShiftSigmas: { min: c.smallShiftMinSigmas, max: c.smallShiftMaxSigmas },
  };
  const total = c.duration > 0 ? eventsDueBy(profile, c.duration) : Infinity;
  const startedAt = Date.now();
  // The spatial workload (off by default) places every event and gives its value instead of the key models.
  const spatial =
    c.spatialWorkload === "hotspots"
      ? new SpatialWorkload(
          rng,
          {
            hotSpots: c.spatialHotSpots,
            droneShare: c.spatialDroneShare,
            valueOutlierProbability: c.spatialValueOutlierProbability,
            misplacedProbability: c.spatialMisplacedProbability,
          },
          startedAt,
        )
      : null;
  const spatialInjections: SpatialInjection[] = [];

  const injected = { spike: 0, shift: 0 };
  const injections: LoadgenReport["injections"] = [];
  const failedSeqs: number[] = [];
  let sent = 0;
  let failed = 0;
  let maxLatenessMs = 0;
  const outstanding = new Set<Promise<void>>();
  const t0 = performance.now();
  let seq = 0;

  log.info("loadgen started", { rate: c.rate, duration: c.duration, keys: c.keys, distribution: c.keyDistribution, total });
  while (seq < total && !stopSignal.aborted) {
    const elapsed = (performance.now() - t0) / 1000;
    metrics.targetRate.set(rateAt(profile, elapsed));
    const due = Math.min(total, eventsDueBy(profile, elapsed));
    if (due > seq) {
      const messages: Message[] = [];
      const firstSeq = seq;
      const latenessMs = (elapsed - dueTime(profile, seq)) * 1000;
      maxLatenessMs = Math.max(maxLatenessMs, latenessMs);
      metrics.lateness.observe(Math.max(0, latenessMs) / 1000);
      for (; seq < due; seq++) {
        const index = zipf ? zipf.sample(rng) - 1 : rng.int(c.keys);
        // The event's time is when it was due, not when we got round to it.
        const time = Math.floor(startedAt + dueTime(profile, seq) * 1000);
        let value: number;
        let label: Label;
        let sigmas = 0;
        let location: Location | undefined;
        if (spatial !== null) {
          const placed = spatial.next(index, time);
          ({ value, label, location } = placed);
          if (placed.injection !== undefined && spatialInjections.length < maxListedInjections)
            spatialInjections.push({ seq, ...placed.injection });
          if (placed.injection?.kind === "value") sigmas = placed.injection.size;
        } else {
          let state = keys.get(index);
          if (!state) keys.set(index, (state = newKeyState(rng, c.randomWalkShare)));
          ({ value, label, sigmas } = nextValue(state, rng, injection));
        }
        if (label !== "none") {
          injected[label]++;
          if (injections.length < maxListedInjections) injections.push({ seq, kind: label, sigmas });
          metrics.injected.inc({ kind: label });
        }
        const id = `${c.keyPrefix}-${index}`;
        const bytes = encodeEvent({ id, time, producer: c.producerId, seq, value, label, ...(location === undefined ? {} : { location }) });
        let headers: Record<string, string> | undefined;
        if (tracing.enabled) {
          const span = tracing.tracer.startSpan(`${c.eventsTopic} publish`, { kind: SpanKind.PRODUCER, attributes: { "event.id": id } });
          headers = headersFor(span);
          span.end();
        }
        messages.push({ key: id, value: bytes, headers });
      }
      const lastSeq = seq;
      // Not awaited: the next batch goes out on time whatever this one is doing.
      const send = producer
        .sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: [{ topic: c.eventsTopic, messages }] })
        .then(
          () => {
            sent += messages.length;
            metrics.sent.inc(messages.length);
          },
          (err: unknown) => {
            failed += messages.length;
            metrics.failed.inc(messages.length);
            for (let s = firstSeq; s < lastSeq && failedSeqs.length < 10_000; s++) failedSeqs.push(s);
            log.error("send failed", { events: messages.length, error: errorText(err) });
          },
        )
        .finally(() => outstanding.delete(send));
      outstanding.add(send);
    }
    await sleep(tickMs);
  }
  await Promise.allSettled([...outstanding]);
  await producer.disconnect();
  const report: LoadgenReport = {
    producer: c.producerId,
    topic: c.eventsTopic,
    keyPrefix: c.keyPrefix,
    startedAt,
    endedAt: Date.now(),
    scheduled: seq,
    sent,
    failed,
    failedSeqs,
    injected,
    injections,
    maxLatenessMs: Math.round(maxLatenessMs),
    ...(spatial === null ? {} : { spatialInjections }),
  };
  log.info("loadgen finished", {
    ...report,
    failedSeqs: failedSeqs.length,
    injections: injections.length,
    ...(report.spatialInjections === undefined ? {} : { spatialInjections: report.spatialInjections.length }),
  });
  if (c.reportPath) {
    mkdirSync(dirname(c.reportPath), { recursive: true });
    writeFileSync(c.reportPath, `${JSON.stringify(report, null, 2)}\n`);
  }
  return report;
}
