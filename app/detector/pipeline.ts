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
 */
import { context, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from "kafkajs";
import type { DetectorConfig } from "../config.ts";
import { decodeEvent, type Event } from "../events/event-codec.ts";
import { deadLetterHeaders, deadLetterMessage, type DeadLetterReason } from "../events/dead-letter.ts";
import { copyHeaders, type RecordHeaders } from "../events/record-headers.ts";
import { encodeVerdict, verdictRecord } from "../events/verdict-codec.ts";
import { BatchingPublisher } from "../kafka/batching-publisher.ts";
import { boundGzipDecompression } from "../kafka/bounded-gzip.ts";
import { consumerRetry, isTransientKafkaError } from "../kafka/kafka-client.ts";
import { errorText, type Logger } from "../log.ts";
import type { DetectorMetrics } from "../metrics.ts";
import { withRetry } from "../retry.ts";
import { publishBatchMaxBytes, topicMaxMessageBytes } from "../topology.ts";
import { headersFor, startConsumerSpan, type Tracing } from "../tracing.ts";
import type { CassandraCredentials } from "./cassandra-auth.ts";
import { CassandraStore, isTransientCassandraError, type StoredHistory } from "./cassandra-store.ts";
import { HeldHistory } from "./held-history.ts";
import { decodeKeyState, encodeKeyState } from "./key-state-codec.ts";
import { concurrencyLimitOf, type ConcurrencyLimit } from "./concurrency-limit.ts";
import { checkKey } from "./key-check.ts";
import { KeyedHandoff } from "./keyed-handoff.ts";
import { OffsetTracker } from "./offset-tracker.ts";
import { overloadedNow, overloadTickMs, RecentAnomalies } from "./overload-policy.ts";
import { ensureSchema, waitForSchema } from "./schema.ts";
import { isLocated, type NeighbourStrategy } from "../spatial/neighbours.ts";
import { checkSpatially, spatialVerdictRecord } from "../spatial/spatial-check.ts";
import { createStrategy, spatialStoreOptions } from "../spatial/spatial-strategies.ts";

export { deadLetterHeaders, isTransientKafkaError };

/**
 * The consumers' fetch bounds: what one fetch may hold in memory. Per partition ~1,000 events of ~60 bytes
 * (the hand-off bound is soft by about one fetch per partition); per fetch 1 MiB over all partitions. The broker
 * still returns a first batch larger than these (up to the events topic's max.message.bytes) so that no batch
 * can block a partition: one fetch stays under 1 MiB + 512 KiB of record bytes.
 */
export const fetchBounds = { maxBytesPerPartition: 64 * 1024, maxBytes: 1024 * 1024 } as const;

/** The mark the patched kafkajs puts on the placeholder of a batch it could not decode (patches/). */
interface UndecodableBatch {
  readonly firstOffset: string;
  readonly lastOffset: string;
  readonly error: string;
}
const undecodableOf = (m: KafkaMessage): UndecodableBatch | undefined => (m as { undecodable?: UndecodableBatch }).undecodable;

/** One consumer of pool 1, and what it has handed out per partition. */
interface ConsumerSlot {
  readonly consumer: Consumer;
  /** Replaced on every rebalance: a partition we get back restarts from its committed offset. */
  trackers: Map<number, OffsetTracker>;
  readonly committed: Map<number, number>;
  readonly highWatermarks: Map<number, number>;
  readonly paused: Set<number>;
}

interface WorkItem {
  readonly slot: ConsumerSlot;
  readonly tracker: OffsetTracker;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The record's headers, copied (copyHeaders): own string/Buffer values only, no prototype. */
  readonly headers: RecordHeaders;
  /** Set for the placeholder of a batch kafkajs could not decode: the range to set aside. */
  readonly undecodable?: { readonly firstOffset: number; readonly error: string };
}

/** The hand-off's key of a record: its Kafka key (the entity id), byte for byte. */
const handoffKey = (w: WorkItem): string => (w.key === null ? "" : w.key.toString("latin1"));

const seconds = (startNs: bigint) => Number(process.hrtime.bigint() - startNs) / 1e9;

/** A stage of a check failed for good: the message names the stage and the error ("publish: KafkaJS…: …"). */
class StageFailure extends Error {
  override name = "StageFailure";
  constructor(stage: string, cause: unknown) {
    super(`${stage}: ${errorText(cause)}`, { cause });
  }
}

/** A server error worth waiting for; when one escapes the retries, the drain deadline has passed. */
const isTransient = (err: unknown) => isTransientKafkaError(err) || isTransientCassandraError(err);

export class DetectorPipeline {
  readonly #c: DetectorConfig;
  readonly #kafka: Kafka;
  readonly #log: Logger;
  readonly #m: DetectorMetrics;
  readonly #tracing: Tracing;
  readonly #credentials: CassandraCredentials | null;
  readonly #store: CassandraStore;
  /** The history of the keys this detector owns; null in the read-every-time mode. */
  readonly #held: HeldHistory | null;
  /** The spatial check's strategy (app/spatial/); null when spatialStrategy is off, the default. */
  readonly #spatial: NeighbourStrategy | null;
  readonly #producer: Producer;
  readonly #publisher: BatchingPublisher;
  readonly #handoff: KeyedHandoff<WorkItem>;
  readonly #limit: ConcurrencyLimit;
  /** The overload policy's priority keys; null when the policy is off (the default). */
  readonly #recent: RecentAnomalies | null;
  /** The Kafka timestamp (ms) of the most recently taken record: how far behind the detector is. */
  #newestTakenAt: number | null = null;
  #overloadSince: { readonly at: number; readonly deferred: number } | null = null;
  readonly #slots: ConsumerSlot[] = [];
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
    this.#held =
      config.detectorHistory === "held"
        ? new HeldHistory({ keyBudget: config.heldKeys, ttlSeconds: config.ttlSeconds, onEvict: () => metrics.heldEvictions.inc() })
        : null;
    this.#spatial = config.spatialStrategy === "off" ? null : createStrategy(config.spatialStrategy, this.#store.client, spatialStoreOptions(config));
    // Not idempotent-producer: at-least-once is the contract, and duplicates of a verdict are harmless
    // (readers key verdicts by the event's producer and sequence).
    this.#producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    this.#publisher = new BatchingPublisher(this.#producer, { maxBatchBytes: publishBatchMaxBytes });
    // No gzip batch of the events topic inflates past what the broker would take uncompressed.
    boundGzipDecompression(topicMaxMessageBytes.events);
    this.#limit = concurrencyLimitOf(config, (limit) => metrics.concurrencyLimit.set(limit));
    metrics.concurrencyLimit.set(this.#limit.limit);
    const recent = config.overloadPolicy === "priority" ? new RecentAnomalies() : null;
    this.#recent = recent;
    this.#handoff = new KeyedHandoff<WorkItem>({
      concurrency: this.#limit,
      capacity: config.handoffCapacity,
      keyOf: handoffKey,
      process: (w) => this.#check(w),
      onDone: (w) => w.tracker.finish(w.offset),
      onBelowLowWater: () => this.#resumeAll(),
      onFatal: (err, w) => this.#fail(err, `check of partition ${w.partition} offset ${w.offset}`),
      ...(recent === null ? {} : { isPriority: (key: string) => recent.has(key), onDeferred: () => metrics.deferredChecks.inc() }),
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
    for (let i = 0; i < c.consumersPerProcess; i++) this.#slots.push(await this.#startConsumer());
    step("consumers");
    this.#commitTimer = setInterval(() => void this.#commitAll(), 1000);
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
    const taken = this.#newestTakenAt;
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
      this.#log.warn("overload started: priority keys' checks go first", { backlogAgeMs: ageMs, boundMs: bound, inHandoff: h.size, priorityKeys: recent.size });
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

  async #startConsumer(): Promise<ConsumerSlot> {
    const consumer = this.#kafka.consumer({
      groupId: this.#c.groupId,
      // A killed detector's partitions move on after 10 s instead of the default 30 s.
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      ...fetchBounds,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      retry: consumerRetry,
    });
    const slot: ConsumerSlot = { consumer, trackers: new Map(), committed: new Map(), highWatermarks: new Map(), paused: new Set() };
    // A rebalance: every held key is dropped at once, revoked or not. kafkajs names no revoked partitions, and a
    // partition this member gets back may have been another's meanwhile (a session that timed out and rejoined).
    consumer.on(consumer.events.REBALANCING, () => this.#dropHeld());
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      // Work in flight for the old assignment finishes but is no longer committed by us (the broker would
      // refuse a commit of the old generation); whoever owns a partition now replays from its commit point.
      // The paused set stays: kafkajs keeps partitions paused across a rebalance, so forgetting them here left
      // them paused for good and the detector stalled (a scale step under backpressure; bench:scaling's smoke).
      this.#m.groupJoins.inc();
      this.#log.info("joined the consumer group", { memberId: e.payload.memberId, assignment: e.payload.memberAssignment });
      slot.trackers = new Map();
      slot.committed.clear();
      this.#dropHeld();
      this.#m.lag.reset();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) this.#fail(e.payload.error, "Kafka consumer crashed");
    });
    await consumer.connect();
    // From the beginning for a new group: events sent before the first detector joined are checked too.
    await consumer.subscribe({ topics: [this.#c.eventsTopic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.#take(slot, payload),
    });
    return slot;
  }

  /** Pool 1: hand the batch over and return at once; the checks run on their own. */
  async #take(slot: ConsumerSlot, payload: EachBatchPayload): Promise<void> {
    const batch = payload.batch;
    const partition = batch.partition;
    let tracker = slot.trackers.get(partition);
    if (!tracker) slot.trackers.set(partition, (tracker = new OffsetTracker()));
    for (const m of batch.messages) {
      // Stopping: leave the rest unread and uncommitted for the next owner.
      if (!payload.isRunning() || payload.isStale() || this.#stopping !== null || this.#fatal !== null) break;
      const offset = Number(m.offset);
      tracker.track(offset);
      const takenAt = Number(m.timestamp);
      if (Number.isFinite(takenAt)) this.#newestTakenAt = takenAt;
      const undecodable = undecodableOf(m);
      if (undecodable) {
        this.#m.undecodableBatches.inc({ topic: batch.topic });
        this.#log.warn("undecodable record batch: setting its offsets aside as one dead letter", {
          topic: batch.topic,
          partition,
          firstOffset: undecodable.firstOffset,
          lastOffset: undecodable.lastOffset,
          error: undecodable.error,
        });
      }
      this.#handoff.push({
        slot,
        tracker,
        partition,
        offset,
        key: m.key,
        value: m.value,
        headers: copyHeaders(m.headers),
        ...(undecodable ? { undecodable: { firstOffset: Number(undecodable.firstOffset), error: undecodable.error } } : {}),
      });
      // "Resolved" tells kafkajs to fetch past it; committing is ours, once it is checked.
      payload.resolveOffset(m.offset);
      this.#m.consumed.inc();
    }
    slot.highWatermarks.set(partition, Number(batch.highWatermark));
    this.#m.handoffDepth.set(this.#handoff.size);
    if (this.#handoff.full && !slot.paused.has(partition)) {
      slot.consumer.pause([{ topic: batch.topic, partitions: [partition] }]);
      slot.paused.add(partition);
      this.#m.pausedPartitions.inc();
    }
    await payload.heartbeat();
  }

  #dropHeld(): void {
    this.#held?.clear();
    this.#m.heldKeys.set(0);
  }

  #resumeAll(): void {
    if (this.#stopping !== null) return;
    for (const slot of this.#slots) {
      if (slot.paused.size === 0) continue;
      slot.consumer.resume([{ topic: this.#c.eventsTopic, partitions: [...slot.paused] }]);
      this.#m.pausedPartitions.dec(slot.paused.size);
      slot.paused.clear();
    }
  }

  /**
   * Pool 2: one record, start to verdict (or to its dead letter). Resolves only when every effect is
   * acknowledged; rejects only when a transient failure outlived the retries' deadline (shutting down).
   */
  async #check(w: WorkItem): Promise<void> {
    this.#m.inFlight.inc();
    const inFlight = this.#handoff.running;
    const started = performance.now();
    try {
      if (w.undecodable) return await this.#deadLetter(w, "undecodable-batch", w.undecodable.error);
      try {
        const decoded = decodeEvent(w.key, w.value, this.#c.maxEventBytes);
        if (!decoded.ok) return await this.#deadLetter(w, decoded.reason, decoded.detail);
        const anomaly = await this.#traced(w, decoded.event);
        this.#limit.sample(performance.now() - started, inFlight);
        // Before this check resolves: the key's next item becomes ready only after it, and sees the flag.
        if (anomaly) this.#recent?.flag(handoffKey(w));
      } catch (err) {
        if (isTransient(err)) throw err; // retries gave up at the deadline: leave it for the replay
        await this.#deadLetter(w, "check-failed", err instanceof StageFailure ? err.message : errorText(err));
      }
    } finally {
      this.#m.inFlight.dec();
      this.#m.handoffDepth.set(this.#handoff.size);
    }
  }

  /** The check of a decoded event, in a trace of its own linked to the producer's span; resolves with whether it flagged. */
  async #traced(w: WorkItem, event: Event): Promise<boolean> {
    const span = startConsumerSpan(
      this.#tracing,
      `${this.#c.eventsTopic} process`,
      { kind: SpanKind.CONSUMER, attributes: { "messaging.kafka.partition": w.partition, "messaging.kafka.offset": w.offset } },
      w.headers,
    );
    try {
      return await context.with(trace.setSpan(context.active(), span), () => this.#checkEvent(w, event, span));
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(err) });
      throw err;
    } finally {
      span.end();
    }
  }

  async #checkEvent(w: WorkItem, e: Event, span: Span): Promise<boolean> {
    const tracer = this.#tracing.tracer;
    const step = async <T>(stage: string, isTransient: (err: unknown) => boolean, fn: () => Promise<T>): Promise<T> => {
      const t0 = process.hrtime.bigint();
      const child = this.#tracing.enabled ? tracer.startSpan(stage) : null;
      try {
        return await this.#retry(stage, isTransient, fn);
      } catch (err) {
        this.#m.errors.inc({ stage });
        // A transient error escapes only at the deadline and must stay recognisable; any other is this
        // record's, and its dead letter says which stage refused it.
        throw isTransient(err) ? err : new StageFailure(stage, err);
      } finally {
        child?.end();
        this.#m.stage.observe({ stage }, seconds(t0));
      }
    };

    // Read → check → write (event + state) → publish: the check needs the state the key's newest row carries, and
    // this event's row carries the state its check left. The read asks for rows strictly before this event and
    // per-key order means every earlier event of the key is already written, so a replay reads the same history
    // and state, computes the same state (checkKey is pure) and writes the same row again.
    // Held history serves the same rows and state without the read (held-history.ts says when it is exact).
    const held = this.#held;
    const lookup = held?.get(e);
    let history: StoredHistory;
    if (lookup !== undefined && typeof lookup !== "string") {
      history = lookup;
      this.#m.heldHits.inc();
    } else {
      if (lookup !== undefined) this.#m.heldMisses.inc({ reason: lookup });
      history = await step("read", isTransientCassandraError, () => this.#store.history(e));
      this.#m.historyReads.inc();
    }

    const t0 = process.hrtime.bigint();
    let checked: ReturnType<typeof checkKey>;
    try {
      checked = checkKey(history.values, e.value, history.state, { k: this.#c.cusumK, h: this.#c.cusumH, anomalyRule: this.#c.anomalyRule });
    } catch (err) {
      this.#m.errors.inc({ stage: "detect" });
      throw new StageFailure("detect", err);
    }
    const verdict = checked.verdict;
    this.#m.stage.observe({ stage: "detect" }, seconds(t0));
    span.setAttribute("anomaly", verdict.anomaly);

    try {
      await step("write", isTransientCassandraError, () => this.#store.write(e, checked.state));
    } catch (err) {
      held?.drop(e.id); // the row may or may not be there: the key's next check reads it
      throw err;
    }
    this.#m.written.inc();
    // Held only when the row is the key's newest (a replayed or late event's is not) and this check belongs to
    // the current assignment (a check of a revoked partition finishing late must not hold what another writes).
    if (held !== null && lookup !== "not-after" && w.slot.trackers.get(w.partition) === w.tracker) {
      // As the next check would read the row's cell back: the codec rounds, or refuses a state (then none).
      held.put(e, history, decodeKeyState(encodeKeyState(checked.state)));
      this.#m.heldKeys.set(held.size);
    }

    // The spatial check of a located event: its nearest previous events of any key, read, checked and
    // this event written to the spatial tables; idempotent like the key's row, so retried and replayed as one step.
    const spatial = this.#spatial;
    const spatialChecked =
      spatial !== null && isLocated(e)
        ? await step("spatial", isTransientCassandraError, () => checkSpatially(spatial, e, { k: this.#c.cusumK, h: this.#c.cusumH }))
        : null;

    const record = {
      ...verdictRecord(e, verdict, Date.now(), history.times),
      ...(spatial !== null && spatialChecked !== null ? { spatial: spatialVerdictRecord(spatial.name, spatialChecked) } : {}),
    };
    await step("publish", isTransientKafkaError, () =>
      this.#publisher.publish(this.#c.checksTopic, { key: e.id, value: encodeVerdict(record), headers: headersFor(span) }),
    );
    this.#m.checked.inc();
    if (verdict.anomaly) this.#m.anomalies.inc();
    this.#m.endToEnd.observe(Math.max(0, Date.now() - e.time) / 1000);
    return verdict.anomaly;
  }

  /** Sets a record aside with its reason; if even that fails for good, counts it and skips it. */
  async #deadLetter(w: WorkItem, reason: DeadLetterReason, detail: string): Promise<void> {
    const t0 = process.hrtime.bigint();
    const where = { reason, detail, partition: w.partition, offset: w.offset };
    try {
      const message = deadLetterMessage(
        {
          topic: this.#c.eventsTopic,
          partition: w.partition,
          offset: w.undecodable ? w.undecodable.firstOffset : w.offset,
          ...(w.undecodable ? { lastOffset: w.offset } : {}),
          key: w.key,
          value: w.value,
          headers: w.headers,
        },
        reason,
        detail,
      );
      await this.#retry("dead_letter", isTransientKafkaError, () => this.#publisher.publish(this.#c.deadLetterTopic, message));
    } catch (err) {
      if (isTransient(err)) throw err; // retries gave up at the deadline: leave it for the replay
      this.#m.errors.inc({ stage: "dead_letter" });
      this.#m.skipped.inc({ reason });
      this.#log.error("dead letter refused; record skipped", { ...where, error: errorText(err) });
      return;
    } finally {
      this.#m.stage.observe({ stage: "dead_letter" }, seconds(t0));
    }
    this.#m.deadLettered.inc({ reason });
    (reason === "check-failed" || reason === "undecodable-batch" ? this.#log.warn : this.#log.debug)("dead-lettered", where);
  }

  #retry<T>(stage: string, isTransient: (err: unknown) => boolean, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, {
      isTransient,
      stop: () => Date.now() > this.#giveUpAt || this.#fatal !== null,
      onRetry: (err, attempt) => {
        this.#m.retries.inc({ stage });
        if (attempt === 1 || attempt % 20 === 0) this.#log.warn("retrying", { stage, attempt, error: errorText(err) });
      },
    });
  }

  /** Commit, per partition, the offset after the finished run; skip what has not moved. */
  async #commitAll(): Promise<void> {
    await Promise.all(
      this.#slots.map(async (slot) => {
        const offsets: { topic: string; partition: number; offset: string }[] = [];
        for (const [partition, tracker] of slot.trackers) {
          const point = tracker.committable;
          const high = slot.highWatermarks.get(partition);
          if (high !== undefined) this.#m.lag.set({ topic: this.#c.eventsTopic, partition }, Math.max(0, high - (point ?? high)));
          if (point === null || point === slot.committed.get(partition)) continue;
          offsets.push({ topic: this.#c.eventsTopic, partition, offset: String(point) });
        }
        if (offsets.length === 0) return;
        try {
          await slot.consumer.commitOffsets(offsets);
          for (const o of offsets) slot.committed.set(o.partition, Number(o.offset));
          this.#m.commits.inc(offsets.length);
        } catch (err) {
          // Usually a rebalance in progress; the next round commits again (or the new owner replays).
          this.#log.warn("offset commit failed", { error: errorText(err) });
        }
      }),
    );
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
    for (const slot of this.#slots) slot.consumer.pause([{ topic: this.#c.eventsTopic }]);
    this.#log.info("draining", { inHandoff: this.#handoff.size });
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.#handoff.idle().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs))),
    ]);
    clearTimeout(timer);
    if (this.#commitTimer) clearInterval(this.#commitTimer);
    if (this.#overloadTimer) clearInterval(this.#overloadTimer);
    await this.#commitAll();
    this.#log.info(drained ? "drained" : "drain deadline passed; unfinished records will be replayed", {
      left: this.#handoff.size,
    });
    await Promise.allSettled(this.#slots.map((s) => s.consumer.disconnect()));
    this.#publisher.flush();
    await Promise.allSettled([this.#producer.disconnect(), this.#store.shutdown(), this.#tracing.shutdown()]);
    this.#running = false;
  }

  /** After a fatal error: commit only what finished (safe), then close without waiting for the rest. */
  async abort(): Promise<void> {
    if (this.#commitTimer) clearInterval(this.#commitTimer);
    if (this.#overloadTimer) clearInterval(this.#overloadTimer);
    await this.#commitAll();
  }
}
