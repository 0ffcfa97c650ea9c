/**
 * Verification of a local run from what the servers hold, not from what the processes say: the verdicts on the
 * checks topic and the rows in Cassandra, against what the load generator reports it produced.
 */
import cassandra from "cassandra-driver";
import hdr from "hdr-histogram-js";
import type { Kafka } from "kafkajs";
import { decodeVerdict, type VerdictRecord } from "../app/events/verdict-codec.ts";
import { historyWindow } from "../app/topology.ts";

export const eventName = (producer: string, seq: number) => `${producer}:${seq}`;

/** Reads the checks topic from the beginning while the run goes on; first verdict per event kept. */
export class ChecksCollector {
  readonly verdicts = new Map<string, VerdictRecord>();
  /** Verdicts seen more than once (at-least-once replays); harmless, reported. */
  duplicates = 0;
  /** Latencies (ms) of verdicts that arrived since the last `takeWindow()`. */
  #window: number[] = [];
  readonly #consumer;

  constructor(kafka: Kafka, topic: string, groupId: string) {
    this.#consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
    this.topic = topic;
  }
  readonly topic: string;

  async start(): Promise<void> {
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await this.#consumer.run({
      autoCommit: true,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (!m.value) continue;
          const v = decodeVerdict(m.value);
          const name = eventName(v.producer, v.seq);
          if (this.verdicts.has(name)) this.duplicates++;
          else {
            this.verdicts.set(name, v);
            this.#window.push(v.checkedAt - v.time);
          }
        }
        await Promise.resolve();
      },
    });
  }

  takeWindow(): number[] {
    const w = this.#window;
    this.#window = [];
    return w;
  }

  async stop(): Promise<void> {
    await this.#consumer.disconnect();
  }
}

/** Every row of the run's events table: how many, and which events they are. */
export async function scanStored(
  contactPoints: readonly string[],
  localDataCenter: string,
  keyspace: string,
): Promise<{ rows: number; events: Set<string> }> {
  const client = new cassandra.Client({ contactPoints: [...contactPoints], localDataCenter, keyspace });
  await client.connect();
  try {
    const events = new Set<string>();
    let rows = 0;
    await new Promise<void>((resolve, reject) => {
      client.eachRow(
        "SELECT producer, seq FROM events",
        [],
        { prepare: true, fetchSize: 5000, autoPage: true, consistency: cassandra.types.consistencies.all },
        (_n, row: cassandra.types.Row) => {
          rows++;
          events.add(eventName(row.get("producer") as string, (row.get("seq") as cassandra.types.Long).toNumber()));
        },
        (err) => (err ? reject(err) : resolve()),
      );
    });
    return { rows, events };
  } finally {
    await client.shutdown();
  }
}

export interface Score {
  readonly anomaliesInjected: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly precision: number;
  readonly recall: number;
  readonly byKind: Record<"spike" | "shift", { injected: number; detected: number }>;
}

/**
 * Event-based scoring: an injected spike is detected if its event is flagged; a level shift if any of its first
 * `historyWindow` events is (while the baseline still mixes both levels; repeat flags inside the episode are
 * neither true nor false). Every flag outside an episode is a false positive. Precision = TP / (TP + FP).
 * `injected` counts what the generator reports, so an injected event that was never checked counts as missed.
 */
export function scoreVerdicts(verdicts: Iterable<VerdictRecord>, injected: Record<"spike" | "shift", number>): Score {
  const byKey = new Map<string, VerdictRecord[]>();
  for (const v of verdicts) {
    const list = byKey.get(v.id);
    if (list) list.push(v);
    else byKey.set(v.id, [v]);
  }
  const detected = { spike: 0, shift: 0 };
  let falsePositives = 0;
  for (const list of byKey.values()) {
    // The detector's order: event time, then producer and sequence (Cassandra's clustering order).
    list.sort((a, b) => a.time - b.time || (a.producer < b.producer ? -1 : a.producer > b.producer ? 1 : a.seq - b.seq));
    let episode: { kind: "spike" | "shift"; end: number; hit: boolean } | null = null;
    list.forEach((v, i) => {
      if (episode && i > episode.end) episode = null;
      if (v.label !== "none") {
        episode = { kind: v.label, end: v.label === "spike" ? i : i + historyWindow - 1, hit: false };
      }
      if (!v.anomaly) return;
      if (episode) {
        if (!episode.hit) detected[episode.kind]++;
        episode.hit = true;
      } else falsePositives++;
    });
  }
  const truePositives = detected.spike + detected.shift;
  const anomaliesInjected = injected.spike + injected.shift;
  const flagged = truePositives + falsePositives;
  return {
    anomaliesInjected,
    truePositives,
    falsePositives,
    precision: flagged === 0 ? (anomaliesInjected === 0 ? 1 : 0) : truePositives / flagged,
    recall: anomaliesInjected === 0 ? 1 : truePositives / anomaliesInjected,
    byKind: {
      spike: { injected: injected.spike, detected: detected.spike },
      shift: { injected: injected.shift, detected: detected.shift },
    },
  };
}

export function latencySummary(latenciesMs: Iterable<number>): { p50: number; p99: number; p999: number; max: number } {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3 });
  let any = false;
  for (const ms of latenciesMs) {
    h.recordValue(Math.max(1, Math.round(ms)));
    any = true;
  }
  return any
    ? { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue }
    : { p50: 0, p99: 0, p999: 0, max: 0 };
}
