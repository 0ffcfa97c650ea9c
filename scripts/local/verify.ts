/**
 * Verification of a local run from what the servers hold, not from what the processes say: the verdicts on the
 * checks topic and the rows in Cassandra, against what the load generator reports it produced.
 */
import cassandra from "cassandra-driver";
import hdr from "hdr-histogram-js";
import type { Kafka } from "kafkajs";
import { decodeVerdict, type VerdictRecord } from "../../app/events/verdict-codec.ts";
import type { LoadgenReport } from "../../app/loadgen/loadgen.ts";
import { kafkaRetry } from "../../app/kafka/kafka-client.ts";
import { historyWindow } from "../../app/topology.ts";

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
    this.#consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false, retry: kafkaRetry });
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

/** The generator report's injections, named as the verdicts name events (an older report without them: none). */
export const injectionsOf = (report: Pick<LoadgenReport, "producer" | "injections">): InjectionRecord[] =>
  (report.injections ?? []).map((i) => ({ name: eventName(report.producer, i.seq), kind: i.kind, sigmas: i.sigmas }));

/** An injected anomaly as the load generator reports it: the event's name (eventName), kind and size in σ. */
export interface InjectionRecord {
  readonly name: string;
  readonly kind: "spike" | "shift";
  readonly sigmas: number;
}

/**
 * Size buckets of the per-size table, in the key's own noise σ: the generator's small shifts span 1σ–3σ, its
 * large ones 20σ–50σ, its spikes 50σ and more (app/loadgen/value-models.ts).
 */
export const sizeBucketEdges = [2, 3, 10] as const;
/** Which bucket a size falls in: 0 below the first edge … edges.length at or above the last. */
export const sizeBucketIndex = (sigmas: number): number => sizeBucketEdges.filter((e) => sigmas >= e).length;
export function sizeBucketLabel(index: number): string {
  const lo = sizeBucketEdges[index - 1];
  const hi = sizeBucketEdges[index];
  return lo === undefined ? `<${hi}σ` : hi === undefined ? `>=${lo}σ` : `${lo}-${hi}σ`;
}

export interface BucketScore {
  readonly kind: "spike" | "shift";
  readonly bucket: string;
  /** The bucket's lower edge in σ (0 for the first). */
  readonly fromSigmas: number;
  /** Injected, minus the censored (see Score.censored). */
  readonly injected: number;
  /** Detected within the episode: the spike's own event, or a shift's first `historyWindow` events. */
  readonly detected: number;
  readonly recall: number;
  /** Median events from the injected event to the first flag (1 = flagged at the injected event); null if none. */
  readonly medianDelayEvents: number | null;
}

export interface Score {
  readonly anomaliesInjected: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly precision: number;
  readonly recall: number;
  readonly byKind: Record<"spike" | "shift", { injected: number; detected: number }>;
  /** Per kind and size bucket; empty when the injections' sizes are not known. */
  readonly bySize: readonly BucketScore[];
  /** Checks outside every episode that reached a verdict (no `reason`): where a flag is a false alarm. */
  readonly inControlChecks: number;
  readonly falseAlarmsPer1000Checks: number;
  /**
   * Shifts neither detected nor followed by a whole episode before the key's last check (injected in the run's
   * last events): whether they are found within 50 events is not known, so they count in no recall.
   */
  readonly censored: number;
  /** Further flags inside an episode after its first (a CUSUM restarts and signals again while the baseline still mixes both levels): neither true nor false. */
  readonly repeatFlags: number;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Episode-based scoring. An injected spike is detected if its event is flagged; a level shift if any
 * of its first `historyWindow` events is (recall within 50 events; while the baseline still mixes both levels).
 * One episode counts once however often it is flagged: the first flag is a true positive, later flags inside the
 * same episode are counted apart (`repeatFlags`) and are neither true nor false. Every flag outside an episode
 * is a false alarm, on an in-control check. Precision = TP / (TP + FP). `injected` counts what the generator
 * reports, so an injected event that was never checked counts as missed; `injections` (the generator's list
 * with sizes) gives the per-size table. A shift in a key's last events, undetected when its checks end before
 * its episode does, is censored: left out of every recall (and counted), not missed.
 */
export function scoreVerdicts(
  verdicts: Iterable<VerdictRecord>,
  injected: Record<"spike" | "shift", number>,
  injections: readonly InjectionRecord[] = [],
): Score {
  const byKey = new Map<string, VerdictRecord[]>();
  for (const v of verdicts) {
    const list = byKey.get(v.id);
    if (list) list.push(v);
    else byKey.set(v.id, [v]);
  }
  const detected = { spike: 0, shift: 0 };
  /** Delay in events of each detected injection, by its event's name. */
  const delays = new Map<string, number>();
  let falsePositives = 0;
  let inControlChecks = 0;
  let repeatFlags = 0;
  const censored = new Set<string>();
  for (const list of byKey.values()) {
    // The detector's order: event time, then producer and sequence (Cassandra's clustering order).
    list.sort((a, b) => a.time - b.time || (a.producer < b.producer ? -1 : a.producer > b.producer ? 1 : a.seq - b.seq));
    let episode: { kind: "spike" | "shift"; name: string; start: number; end: number; hit: boolean } | null = null;
    list.forEach((v, i) => {
      if (episode && i > episode.end) episode = null;
      if (v.label !== "none") {
        episode = {
          kind: v.label,
          name: eventName(v.producer, v.seq),
          start: i,
          end: v.label === "spike" ? i : i + historyWindow - 1,
          hit: false,
        };
      }
      if (!episode && v.reason === undefined) inControlChecks++;
      if (!v.anomaly) return;
      if (!episode) falsePositives++;
      else if (episode.hit) repeatFlags++;
      else {
        detected[episode.kind]++;
        delays.set(episode.name, i - episode.start + 1);
        episode.hit = true;
      }
    });
    const last = episode as { name: string; end: number; hit: boolean } | null;
    if (last && !last.hit && last.end >= list.length) censored.add(last.name);
  }
  const buckets = new Map<string, { kind: "spike" | "shift"; index: number; injected: number; delays: number[] }>();
  for (const inj of injections) {
    if (censored.has(inj.name)) continue;
    const index = sizeBucketIndex(inj.sigmas);
    const key = `${inj.kind} ${index}`;
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = { kind: inj.kind, index, injected: 0, delays: [] }));
    b.injected++;
    const d = delays.get(inj.name);
    if (d !== undefined) b.delays.push(d);
  }
  const bySize = [...buckets.values()]
    .sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.index - b.index))
    .map((b) => ({
      kind: b.kind,
      bucket: sizeBucketLabel(b.index),
      fromSigmas: sizeBucketEdges[b.index - 1] ?? 0,
      injected: b.injected,
      detected: b.delays.length,
      recall: b.injected === 0 ? 1 : b.delays.length / b.injected,
      medianDelayEvents: median(b.delays),
    }));
  const truePositives = detected.spike + detected.shift;
  const anomaliesInjected = injected.spike + injected.shift;
  const decidable = anomaliesInjected - censored.size;
  const flagged = truePositives + falsePositives;
  return {
    anomaliesInjected,
    truePositives,
    falsePositives,
    precision: flagged === 0 ? (anomaliesInjected === 0 ? 1 : 0) : truePositives / flagged,
    recall: decidable <= 0 ? 1 : truePositives / decidable,
    byKind: {
      spike: { injected: injected.spike, detected: detected.spike },
      shift: { injected: injected.shift, detected: detected.shift },
    },
    bySize,
    inControlChecks,
    falseAlarmsPer1000Checks: inControlChecks === 0 ? 0 : (falsePositives / inControlChecks) * 1000,
    censored: censored.size,
    repeatFlags,
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
