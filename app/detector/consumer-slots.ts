/**
 * Pool 1: the detector's kafkajs consumers, one slot each. A slot remembers, per partition of its current
 * assignment, what it handed to the checks (an OffsetTracker), what it last committed, the high watermark (for the
 * lag) and whether it paused the partition. The slots hand each batch over at once and never wait for checks:
 * backpressure is a pause of the partition while the hand-off is full, and the owner resumes them all when it
 * drains. What is committed is only what the trackers say finished, on the owner's timer.
 *
 * A group join replaces the slot's trackers: work in flight for the old assignment finishes but is no longer
 * committed by this member, and a partition it gets back restarts from its committed offset.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { DetectorConfig } from "../config.ts";
import { copyHeaders, type RecordHeaders } from "../events/record-headers.ts";
import { kafkaRetry } from "../kafka/kafka-client.ts";
import { errorText, type Logger } from "../log.ts";
import type { DetectorMetrics } from "../metrics.ts";
import { OffsetTracker } from "./offset-tracker.ts";

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

/** A record taken from the events topic, as it goes through the hand-off to its check. */
export interface WorkItem {
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
export const handoffKey = (w: WorkItem): string => (w.key === null ? "" : w.key.toString("latin1"));

/**
 * Whether the record was taken under its slot's current assignment: false once the slot rejoined the group,
 * because the partition may have been another member's since.
 */
export const isCurrentAssignment = (w: WorkItem): boolean => w.slot.trackers.get(w.partition) === w.tracker;

/** The hand-off as the consumers see it: where records go, and whether it is full. */
export interface WorkSink {
  push(item: WorkItem): void;
  readonly size: number;
  readonly full: boolean;
}

export interface ConsumerSlotsOptions {
  readonly config: Pick<DetectorConfig, "groupId" | "eventsTopic">;
  readonly kafka: Kafka;
  readonly log: Logger;
  readonly metrics: Pick<
    DetectorMetrics,
    "groupJoins" | "lag" | "undecodableBatches" | "consumed" | "handoffDepth" | "pausedPartitions" | "commits"
  >;
  readonly sink: WorkSink;
  /** False once the owner is stopping or has failed: the rest of a batch is left unread and uncommitted. */
  readonly taking: () => boolean;
  /** A rebalance started, or this member joined the group: what is held for the keys may be stale. */
  readonly onRebalance: () => void;
  /** A consumer crashed and kafkajs will not restart it. */
  readonly onFatal: (err: unknown, where: string) => void;
}

export class ConsumerSlots {
  readonly #o: ConsumerSlotsOptions;
  readonly #c: ConsumerSlotsOptions["config"];
  readonly #log: Logger;
  readonly #m: ConsumerSlotsOptions["metrics"];
  readonly #slots: ConsumerSlot[] = [];
  /** The Kafka timestamp (ms) of the most recently taken record: how far behind the detector is. */
  #newestTakenAt: number | null = null;

  constructor(options: ConsumerSlotsOptions) {
    this.#o = options;
    this.#c = options.config;
    this.#log = options.log;
    this.#m = options.metrics;
  }

  get newestTakenAt(): number | null {
    return this.#newestTakenAt;
  }

  /** Starts one more consumer; its slot counts for resume and commit once it is running. */
  async add(): Promise<void> {
    const consumer = this.#o.kafka.consumer({
      groupId: this.#c.groupId,
      // A killed detector's partitions move on after 10 s instead of the default 30 s.
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      ...fetchBounds,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      retry: kafkaRetry,
    });
    const slot: ConsumerSlot = { consumer, trackers: new Map(), committed: new Map(), highWatermarks: new Map(), paused: new Set() };
    // A rebalance: every held key is dropped at once, revoked or not. kafkajs names no revoked partitions, and a
    // partition this member gets back may have been another's meanwhile (a session that timed out and rejoined).
    consumer.on(consumer.events.REBALANCING, () => this.#o.onRebalance());
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      // Work in flight for the old assignment finishes but is no longer committed by us (the broker would
      // refuse a commit of the old generation); whoever owns a partition now replays from its commit point.
      // The paused set stays: kafkajs keeps partitions paused across a rebalance, so forgetting them here left
      // them paused for good and the detector stalled (a scale step under backpressure; bench:scaling's smoke).
      this.#m.groupJoins.inc();
      this.#log.info("joined the consumer group", { memberId: e.payload.memberId, assignment: e.payload.memberAssignment });
      slot.trackers = new Map();
      slot.committed.clear();
      this.#o.onRebalance();
      this.#m.lag.reset();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) this.#o.onFatal(e.payload.error, "Kafka consumer crashed");
    });
    await consumer.connect();
    // From the beginning for a new group: events sent before the first detector joined are checked too.
    await consumer.subscribe({ topics: [this.#c.eventsTopic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.#take(slot, payload),
    });
    this.#slots.push(slot);
  }

  /** Hand the batch over and return at once; the checks run on their own. */
  async #take(slot: ConsumerSlot, payload: EachBatchPayload): Promise<void> {
    const batch = payload.batch;
    const partition = batch.partition;
    let tracker = slot.trackers.get(partition);
    if (!tracker) slot.trackers.set(partition, (tracker = new OffsetTracker()));
    for (const m of batch.messages) {
      // Stopping: leave the rest unread and uncommitted for the next owner.
      if (!payload.isRunning() || payload.isStale() || !this.#o.taking()) break;
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
      this.#o.sink.push({
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
    this.#m.handoffDepth.set(this.#o.sink.size);
    if (this.#o.sink.full && !slot.paused.has(partition)) {
      slot.consumer.pause([{ topic: batch.topic, partitions: [partition] }]);
      slot.paused.add(partition);
      this.#m.pausedPartitions.inc();
    }
    await payload.heartbeat();
  }

  /** Resumes every partition paused for backpressure; the owner decides when (not while stopping). */
  resumeAll(): void {
    for (const slot of this.#slots) {
      if (slot.paused.size === 0) continue;
      slot.consumer.resume([{ topic: this.#c.eventsTopic, partitions: [...slot.paused] }]);
      this.#m.pausedPartitions.dec(slot.paused.size);
      slot.paused.clear();
    }
  }

  /** The drain: every consumer stops fetching. Not backpressure, so not counted as paused partitions. */
  stopFetching(): void {
    for (const slot of this.#slots) slot.consumer.pause([{ topic: this.#c.eventsTopic }]);
  }

  /** Commit, per partition, the offset after the finished run; skip what has not moved. */
  async commitAll(): Promise<void> {
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

  /** Leaves the group: every consumer disconnects, whether or not the others manage to. */
  disconnect(): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled(this.#slots.map((s) => s.consumer.disconnect()));
  }
}
