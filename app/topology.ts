/**
 * Names and ports of the pipeline that the app, the charts, the CDK stacks and the local stack all use.
 * Defined here, once; the container image carries app/ only, so this file imports nothing outside it.
 */
export const topics = {
  /** Load generator → detector; key = entity id. */
  events: "events",
  /** Detector verdicts, one per checked event. */
  checks: "checks",
  /** Records the detector could not decode or validate, with the reason in a header. */
  deadLetter: "events-dead-letter",
} as const;

/** Kafka's own consumer-offsets topic: its partitions are spread over the brokers with the pipeline's. */
export const consumerOffsetsTopic = "__consumer_offsets";

/** The topics' max.message.bytes (the largest record batch the broker takes), for the consumer's bounds too. */
export const topicMaxMessageBytes = { events: 512 * 1024, checks: 1024 * 1024, deadLetter: 1024 * 1024 } as const;

/**
 * Where the detector's publisher cuts a batch of verdicts and dead letters: half the smallest cap of the topics
 * it writes to. It cuts once the bytes queued reach this, so a batch may pass it by one record (a dead letter is
 * bounded at ~15 KB, app/events/dead-letter.ts); the other half is that record's room.
 */
export const publishBatchMaxBytes = Math.min(topicMaxMessageBytes.checks, topicMaxMessageBytes.deadLetter) / 2;

/**
 * Broker settings of each topic (Kafka topic configs), applied by ensureTopics at creation and on every later
 * run, so a topic made by an older version gets them too.
 */
export const topicConfigEntries: Readonly<Record<keyof typeof topics, Readonly<Record<string, string>>>> = {
  events: {
    // The broker refuses a batch above this, re-checked after it decompressed it (below). kafkajs (patched,
    // linear) decodes a record made entirely of headers at ~1 s per MiB of them (measured: 182,750 headers in
    // 1 MiB, 1.0 s; unpatched it was quadratic, 34 s for 47 KB): at 512 KiB a header flood blocks the event
    // loop for ~0.5 s per fetch, well under the consumer's 10 s session timeout. Legitimate batches of ~60-byte
    // events stay far below it (thousands of events per partition per send).
    "max.message.bytes": String(topicMaxMessageBytes.events),
    // The broker re-writes every batch uncompressed, whatever codec the producer chose: the detector never
    // meets a codec kafkajs lacks (zstd, lz4, snappy), and a compressed bomb is refused at produce time by the
    // size check on the decompressed batch instead of being inflated by every consumer.
    "compression.type": "uncompressed",
  },
  checks: {
    // The broker's default, set here so the publisher's cut (publishBatchMaxBytes) has a cap it can rely on.
    "max.message.bytes": String(topicMaxMessageBytes.checks),
  },
  deadLetter: {
    // A dead-letter record is bounded (app/events/dead-letter.ts, ~15 KB) and the publisher cuts batches at
    // publishBatchMaxBytes: this cap leaves room for both, so the broker never refuses the record that sets an
    // event aside.
    "max.message.bytes": String(topicMaxMessageBytes.deadLetter),
  },
};

export const cassandraSchema = {
  keyspace: "anomalia",
  eventsTable: "events",
} as const;

/** Number of previous events of a key the detector reads for its baseline (the reference's window). */
export const historyWindow = 50;

/** HTTP port of the app's /metrics, /healthz (liveness) and /readyz (readiness). */
export const appHttpPort = 9464;

/** The consumer group of the detectors. */
export const detectorGroupId = "anomaly-detector";
