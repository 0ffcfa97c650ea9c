/**
 * The detector pipeline (docs/ARCHITECTURE.md draws where it sits):
 *
 *   Kafka consumers (pool 1) ──► KeyedHandoff (bounded, per-key order) ──► checks (pool 2):
 *     1. read the key's previous 50 (and its state)  2. the check   3. write the event + state   4. publish
 *   (step 1 from what the detector holds for the keys it owns, held-history.ts, and from Cassandra on a miss)
 *   ──► commit the offset, only once 1–4 finished for it and every record before it in its partition.
 *
 * At-least-once: a crash at any point replays from the last commit; the replay writes the same rows (the key
 * comes from the event) and publishes the same verdicts again. Malformed records go to the dead-letter topic
 * with the reason and the original bytes, and count as finished. Transient Cassandra/Kafka errors are retried
 * with backoff; when the hand-off is full the consumers pause their partitions until it drains.
 *
 * No record can stop the detector: a record is either checked, or dead-lettered with its reason (the codec's,
 * `check-failed` for any non-transient failure of its check, `undecodable-batch` for a batch the client could not
 * decode), or, when even the dead-letter publish fails for good, counted in detector_records_skipped_total and
 * skipped. An exit for one record would replay it and exit again, forever. Only a transient failure that
 * outlives the shutdown deadline leaves a record unfinished (it is replayed by the next owner).
 *
 * Where each part lives: consumer-slots.ts is pool 1 (the consumers, the group's rebalances, pause/resume and the
 * commit of finished offsets), record-check.ts is pool 2 (one record's decode, stages, retries, spans and dead
 * letter). This file builds and joins them, and owns what spans both: the start, the overload watch, the drain.
 */
import { Partitioners, type Kafka, type Producer } from "kafkajs";
import type { DetectorConfig } from "../config.ts";
import { deadLetterHeaders } from "../events/dead-letter.ts";
import { BatchingPublisher } from "../kafka/batching-publisher.ts";
import { boundGzipDecompression } from "../kafka/bounded-gzip.ts";
import { isTransientKafkaError } from "../kafka/kafka-client.ts";
import { errorText, type Logger } from "../log.ts";
import type { DetectorMetrics } from "../metrics.ts";
import { publishBatchMaxBytes, topicMaxMessageBytes } from "../topology.ts";
import type { Tracing } from "../tracing.ts";
import type { CassandraCredentials } from "./cassandra-auth.ts";
import { CassandraStore } from "./cassandra-store.ts";
import { ConsumerSlots, handoffKey, type WorkItem } from "./consumer-slots.ts";
import { HeldHistory } from "./held-history.ts";
import { concurrencyLimitOf } from "./concurrency-limit.ts";
import { KeyedHandoff } from "./keyed-handoff.ts";
import { overloadedNow, overloadTickMs, RecentAnomalies } from "./overload-policy.ts";
import { RecordCheck } from "./record-check.ts";
import { ensureSchema, waitForSchema } from "./schema.ts";
import { createStrategy, spatialStoreOptions } from "../spatial/spatial-strategies.ts";

export { deadLetterHeaders, isTransientKafkaError };

export class DetectorPipeline {
  readonly #c: DetectorConfig;
  readonly #kafka: Kafka;
  readonly #log: Logger;
  readonly #m: DetectorMetrics;
  readonly #tracing: Tracing;
  readonly #credentials: CassandraCredentials | null;
  readonly #store: CassandraStore;
  readonly #producer: Producer;
  readonly #publisher: BatchingPublisher;
  readonly #handoff: KeyedHandoff<WorkItem>;
  /** The overload policy's priority keys; null when the policy is off (the default). */
  readonly #recent: RecentAnomalies | null;
  readonly #check: RecordCheck;
  readonly #consumers: ConsumerSlots;
  #overloadSince: { readonly at: number; readonly deferred: number } | null = null;
  #commitTimer: NodeJS.Timeout | null = null;
  #overloadTimer: NodeJS.Timeout | null = null;
  #running = false;
  #stopping: Promise<void> | null = null;
  /** After this time (ms since epoch) retries give up: the drain deadline has passed. */
  #giveUpAt = Infinity;
  #fatal: unknown = null;
  readonly #fatalListeners: ((err: unknown) => void)[] = [];

  /** `credentials`: the Cassandra role (readCassandraCredentials), or null for a node without authentication. */
  constructor(
    config: DetectorConfig,
    kafka: Kafka,
    log: Logger,
    metrics: DetectorMetrics,
    tracing: Tracing,
    credentials: CassandraCredentials | null = null,
  ) {
    this.#c = config;
    this.#kafka = kafka;
    this.#log = log;
    this.#m = metrics;
    this.#tracing = tracing;
    this.#credentials = credentials;
    this.#store = new CassandraStore(config, credentials);
    const held =
      config.detectorHistory === "held"
        ? new HeldHistory({ keyBudget: config.heldKeys, ttlSeconds: config.ttlSeconds, onEvict: () => metrics.heldEvictions.inc() })
        : null;
    const spatial =
      config.spatialStrategy === "off" ? null : createStrategy(config.spatialStrategy, this.#store.client, spatialStoreOptions(config));
    // Not idempotent-producer: at-least-once is the contract, and duplicates of a verdict are harmless
    // (readers key verdicts by the event's producer and sequence).
    this.#producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    this.#publisher = new BatchingPublisher(this.#producer, { maxBatchBytes: publishBatchMaxBytes });
    // No gzip batch of the events topic inflates past what the broker would take uncompressed.
    boundGzipDecompression(topicMaxMessageBytes.events);
    const limit = concurrencyLimitOf(config, (n) => metrics.concurrencyLimit.set(n));
    metrics.concurrencyLimit.set(limit.limit);
    const recent = config.overloadPolicy === "priority" ? new RecentAnomalies() : null;
    this.#recent = recent;
    this.#handoff = new KeyedHandoff<WorkItem>({
      concurrency: limit,
      capacity: config.handoffCapacity,
      keyOf: handoffKey,
      process: (w) => this.#check.check(w),
      onDone: (w) => w.tracker.finish(w.offset),
      onBelowLowWater: () => {
        // Not while stopping: the drain stopped every consumer's fetching on purpose.
        if (this.#stopping === null) this.#consumers.resumeAll();
      },
      onFatal: (err, w) => this.#fail(err, `check of partition ${w.partition} offset ${w.offset}`),
      ...(recent === null ? {} : { isPriority: (key: string) => recent.has(key), onDeferred: () => metrics.deferredChecks.inc() }),
    });
    this.#check = new RecordCheck({
      config,
      log,
      metrics,
      tracing,
      store: this.#store,
      held,
      spatial,
      publisher: this.#publisher,
      limit,
      recent,
      handoff: this.#handoff,
      stopRetrying: () => Date.now() > this.#giveUpAt || this.#fatal !== null,
    });
    this.#consumers = new ConsumerSlots({
      config,
      kafka,
      log,
      metrics,
      sink: this.#handoff,
      taking: () => this.#stopping === null && this.#fatal === null,
      onRebalance: () => this.#check.dropHeld(),
      onFatal: (err, where) => this.#fail(err, where),
    });
  }

  /** Called once if the pipeline cannot go on (a non-transient failure): the owner should exit non-zero. */
  onFatal(listener: (err: unknown) => void): void {
    this.#fatalListeners.push(listener);
  }

  get live(): boolean {
    return this.#fatal === null;
  }
  get ready(): boolean {
    return this.#running && this.#stopping === null && this.#fatal === null;
  }

  async start(): Promise<void> {
    const c = this.#c;
    // How long each step of the start took, in the "detector running" line: a restarted detector's time to
    // ready is part of every recovery, and this says where it goes.
    const startupMs: Record<string, number> = {};
    let stepStarted = Date.now();
    const step = (name: string) => {
      startupMs[name] = Date.now() - stepStarted;
      stepStarted = Date.now();
    };
    // Locally the detector makes the schema itself; in the cluster the schema Job makes it once and the
    // detectors wait for it (not ready meanwhile, but live: no restarts while the Job works).
    if (c.createSchema) await ensureSchema(c, this.#kafka, this.#credentials, this.#log);
    else await waitForSchema(c, this.#kafka, this.#credentials, this.#log);
    step("schema");
    await this.#store.connect();
    step("cassandra");
    await this.#producer.connect();
    step("producer");
    for (let i = 0; i < c.consumersPerProcess; i++) await this.#consumers.add();
    step("consumers");
    this.#commitTimer = setInterval(() => void this.#consumers.commitAll(), 1000);
    this.#overloadTimer = setInterval(() => this.#watchBacklog(), overloadTickMs(c.overloadAgeBoundMs));
    this.#overloadTimer.unref();
    this.#running = true;
    this.#log.info("detector running", {
      startupMs,
      sinceProcessStartMs: Math.round(performance.now()),
      consumers: c.consumersPerProcess,
      concurrency: c.detectorConcurrency,
      concurrencyMode: c.detectorConcurrencyMode,
      history: c.detectorHistory,
      ...(c.detectorHistory === "held" ? { heldKeys: c.heldKeys } : {}),
      handoffCapacity: c.handoffCapacity,
      overloadPolicy: c.overloadPolicy,
      ...(c.overloadPolicy === "off" ? {} : { overloadAgeBoundMs: c.overloadAgeBoundMs }),
    });
  }

  /**
   * The backlog's age (now − the Kafka timestamp of the most recently taken record) as a metric, and with the
   * overload policy on, the overload state: logged once when it starts and once when it ends.
   */
  #watchBacklog(): void {
    const taken = this.#consumers.newestTakenAt;
    const ageMs = taken === null ? 0 : Math.max(0, Date.now() - taken);
    this.#m.backlogAge.set(ageMs / 1000);
    const recent = this.#recent;
    if (recent === null) return;
    this.#m.priorityKeys.set(recent.prune());
    const h = this.#handoff;
    const bound = this.#c.overloadAgeBoundMs;
    const on = overloadedNow(h.overloaded, ageMs, bound, h.size);
    if (on === h.overloaded) return;
    h.overloaded = on;
    this.#m.overloadActive.set(on ? 1 : 0);
    if (on) {
      this.#overloadSince = { at: Date.now(), deferred: h.deferred };
      this.#log.warn("overload started: priority keys' checks go first", {
        backlogAgeMs: ageMs,
        boundMs: bound,
        inHandoff: h.size,
        priorityKeys: recent.size,
      });
    } else {
      const since = this.#overloadSince;
      this.#overloadSince = null;
      this.#log.info("overload ended", {
        backlogAgeMs: ageMs,
        boundMs: bound,
        seconds: since === null ? null : (Date.now() - since.at) / 1000,
        deferredChecks: since === null ? null : h.deferred - since.deferred,
      });
    }
  }

  #fail(err: unknown, where: string): void {
    if (this.#fatal !== null) return;
    this.#fatal = err ?? new Error(where);
    this.#log.error("fatal", { where, error: errorText(err) });
    for (const l of this.#fatalListeners) l(err);
  }

  /**
   * Graceful stop (SIGTERM): stop fetching, let the checks in flight finish (until the deadline), commit what
   * finished, leave the group, close. Whatever did not finish is replayed by the next owner.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#drain();
    return this.#stopping;
  }

  async #drain(): Promise<void> {
    const deadlineMs = this.#c.shutdownTimeoutSeconds * 1000;
    this.#giveUpAt = Date.now() + deadlineMs;
    this.#consumers.stopFetching();
    this.#log.info("draining", { inHandoff: this.#handoff.size });
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.#handoff.idle().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs))),
    ]);
    clearTimeout(timer);
    if (this.#commitTimer) clearInterval(this.#commitTimer);
    if (this.#overloadTimer) clearInterval(this.#overloadTimer);
    await this.#consumers.commitAll();
    this.#log.info(drained ? "drained" : "drain deadline passed; unfinished records will be replayed", {
      left: this.#handoff.size,
    });
    await this.#consumers.disconnect();
    this.#publisher.flush();
    await Promise.allSettled([this.#producer.disconnect(), this.#store.shutdown(), this.#tracing.shutdown()]);
    this.#running = false;
  }

  /** After a fatal error: commit only what finished (safe), then close without waiting for the rest. */
  async abort(): Promise<void> {
    if (this.#commitTimer) clearInterval(this.#commitTimer);
    if (this.#overloadTimer) clearInterval(this.#overloadTimer);
    await this.#consumers.commitAll();
  }
}
