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

/**
 * Broker settings of each topic (Kafka topic configs), applied by ensureTopics at creation and on every later
 * run, so a topic made by an older version gets them too.
 */
export const topicConfigEntries: Readonly<Record<keyof typeof topics, Readonly<Record<string, string>>>> = {
  events: {},
  checks: {},
  deadLetter: {},
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
