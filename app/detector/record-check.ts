/**
 * Pool 2: the check of one record taken from the events topic, from its bytes to its verdict or its dead letter.
 *
 * The record is decoded; a decoded event goes through its stages (read the key's history, the pure check of
 * key-check.ts, write the event's row with its state, the spatial check when it is on, publish the verdict), each
 * with its own retries of transient server errors, its duration and a child span, all in one trace linked to the
 * producer's span. A record the codec refuses, the placeholder of an undecodable batch, and an event one of whose
 * stages fails for good go to the dead-letter topic with the reason and the original bytes. Only a transient
 * failure that outlives the retries (they stop at the drain deadline or after a fatal error) escapes, so that
 * the record stays unfinished and is replayed.
 */
import { context, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type { DetectorConfig } from "../config.ts";
import { decodeEvent, type Event } from "../events/event-codec.ts";
import { deadLetterMessage, type DeadLetterReason } from "../events/dead-letter.ts";
import { encodeVerdict, verdictRecord } from "../events/verdict-codec.ts";
import type { BatchingPublisher } from "../kafka/batching-publisher.ts";
import { isTransientKafkaError } from "../kafka/kafka-client.ts";
import { errorText, type Logger } from "../log.ts";
import type { DetectorMetrics } from "../metrics.ts";
import { withRetry } from "../retry.ts";
import { headersFor, startConsumerSpan, type Tracing } from "../tracing.ts";
import { isTransientCassandraError, type CassandraStore, type StoredHistory } from "./cassandra-store.ts";
import type { ConcurrencyLimit } from "./concurrency-limit.ts";
import { handoffKey, isCurrentAssignment, type WorkItem } from "./consumer-slots.ts";
import type { HeldHistory } from "./held-history.ts";
import { decodeKeyState, encodeKeyState } from "./key-state-codec.ts";
import { checkKey } from "./key-check.ts";
import type { RecentAnomalies } from "./overload-policy.ts";
import { isLocated, type NeighbourStrategy } from "../spatial/neighbours.ts";
import { checkSpatially, spatialVerdictRecord } from "../spatial/spatial-check.ts";

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

export interface RecordCheckOptions {
  readonly config: Pick<
    DetectorConfig,
    "eventsTopic" | "checksTopic" | "deadLetterTopic" | "maxEventBytes" | "cusumK" | "cusumH" | "anomalyRule"
  >;
  readonly log: Logger;
  readonly metrics: Pick<
    DetectorMetrics,
    | "inFlight"
    | "handoffDepth"
    | "errors"
    | "stage"
    | "retries"
    | "heldHits"
    | "heldMisses"
    | "heldKeys"
    | "historyReads"
    | "written"
    | "checked"
    | "anomalies"
    | "endToEnd"
    | "deadLettered"
    | "skipped"
  >;
  readonly tracing: Tracing;
  readonly store: Pick<CassandraStore, "history" | "write">;
  /** The history of the keys this detector owns; null in the read-every-time mode. */
  readonly held: HeldHistory | null;
  /** The spatial check's strategy (app/spatial/); null when spatialStrategy is off, the default. */
  readonly spatial: NeighbourStrategy | null;
  readonly publisher: Pick<BatchingPublisher, "publish">;
  /** Told each check's latency and how many checks were running when it started. */
  readonly limit: Pick<ConcurrencyLimit, "sample">;
  /** The overload policy's priority keys, flagged by anomalous checks; null when the policy is off. */
  readonly recent: Pick<RecentAnomalies, "flag"> | null;
  /** The hand-off's counts: checks running now, and records in it (waiting or running). */
  readonly handoff: { readonly running: number; readonly size: number };
  /** True once retries should give up: the drain deadline has passed or the pipeline failed. */
  readonly stopRetrying: () => boolean;
}

export class RecordCheck {
  readonly #o: RecordCheckOptions;
  readonly #c: RecordCheckOptions["config"];
  readonly #log: Logger;
  readonly #m: RecordCheckOptions["metrics"];
  readonly #tracing: Tracing;

  constructor(options: RecordCheckOptions) {
    this.#o = options;
    this.#c = options.config;
    this.#log = options.log;
    this.#m = options.metrics;
    this.#tracing = options.tracing;
  }

  /**
   * One record, start to verdict (or to its dead letter). Resolves only when every effect is acknowledged;
   * rejects only when a transient failure outlived the retries' deadline (shutting down).
   */
  async check(w: WorkItem): Promise<void> {
    this.#m.inFlight.inc();
    const inFlight = this.#o.handoff.running;
    const started = performance.now();
    try {
      if (w.undecodable) return await this.#deadLetter(w, "undecodable-batch", w.undecodable.error);
      try {
        const decoded = decodeEvent(w.key, w.value, this.#c.maxEventBytes);
        if (!decoded.ok) return await this.#deadLetter(w, decoded.reason, decoded.detail);
        const anomaly = await this.#traced(w, decoded.event);
        this.#o.limit.sample(performance.now() - started, inFlight);
        // Before this check resolves: the key's next item becomes ready only after it, and sees the flag.
        if (anomaly) this.#o.recent?.flag(handoffKey(w));
      } catch (err) {
        if (isTransient(err)) throw err; // retries gave up at the deadline: leave it for the replay
        await this.#deadLetter(w, "check-failed", err instanceof StageFailure ? err.message : errorText(err));
      }
    } finally {
      this.#m.inFlight.dec();
      this.#m.handoffDepth.set(this.#o.handoff.size);
    }
  }

  /** A rebalance: nothing held may be served any more (held-history.ts says why). */
  dropHeld(): void {
    this.#o.held?.clear();
    this.#m.heldKeys.set(0);
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
    const held = this.#o.held;
    const lookup = held?.get(e);
    let history: StoredHistory;
    if (lookup !== undefined && typeof lookup !== "string") {
      history = lookup;
      this.#m.heldHits.inc();
    } else {
      if (lookup !== undefined) this.#m.heldMisses.inc({ reason: lookup });
      history = await step("read", isTransientCassandraError, () => this.#o.store.history(e));
      this.#m.historyReads.inc();
    }

    const t0 = process.hrtime.bigint();
    let checked: ReturnType<typeof checkKey>;
    try {
      checked = checkKey(history.values, e.value, history.state, {
        k: this.#c.cusumK,
        h: this.#c.cusumH,
        anomalyRule: this.#c.anomalyRule,
      });
    } catch (err) {
      this.#m.errors.inc({ stage: "detect" });
      throw new StageFailure("detect", err);
    }
    const verdict = checked.verdict;
    this.#m.stage.observe({ stage: "detect" }, seconds(t0));
    span.setAttribute("anomaly", verdict.anomaly);

    try {
      await step("write", isTransientCassandraError, () => this.#o.store.write(e, checked.state));
    } catch (err) {
      held?.drop(e.id); // the row may or may not be there: the key's next check reads it
      throw err;
    }
    this.#m.written.inc();
    // Held only when the row is the key's newest (a replayed or late event's is not) and this check belongs to
    // the current assignment (a check of a revoked partition finishing late must not hold what another writes).
    if (held !== null && lookup !== "not-after" && isCurrentAssignment(w)) {
      // As the next check would read the row's cell back: the codec rounds, or refuses a state (then none).
      held.put(e, history, decodeKeyState(encodeKeyState(checked.state)));
      this.#m.heldKeys.set(held.size);
    }

    // The spatial check of a located event: its nearest previous events of any key, read, checked and
    // this event written to the spatial tables; idempotent like the key's row, so retried and replayed as one step.
    const spatial = this.#o.spatial;
    const spatialChecked =
      spatial !== null && isLocated(e)
        ? await step("spatial", isTransientCassandraError, () => checkSpatially(spatial, e, { k: this.#c.cusumK, h: this.#c.cusumH }))
        : null;

    const record = {
      ...verdictRecord(e, verdict, Date.now(), history.times),
      ...(spatial !== null && spatialChecked !== null ? { spatial: spatialVerdictRecord(spatial.name, spatialChecked) } : {}),
    };
    await step("publish", isTransientKafkaError, () =>
      this.#o.publisher.publish(this.#c.checksTopic, { key: e.id, value: encodeVerdict(record), headers: headersFor(span) }),
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
      await this.#retry("dead_letter", isTransientKafkaError, () => this.#o.publisher.publish(this.#c.deadLetterTopic, message));
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
      stop: () => this.#o.stopRetrying(),
      onRetry: (err, attempt) => {
        this.#m.retries.inc({ stage });
        if (attempt === 1 || attempt % 20 === 0) this.#log.warn("retrying", { stage, attempt, error: errorText(err) });
      },
    });
  }
}
