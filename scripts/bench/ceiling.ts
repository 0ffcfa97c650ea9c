/**
 * The ceiling: the Cassandra work of one check as the pipeline does it (read the key's previous 50 and its sums,
 * then write the event with its new sums), driven directly with the app's own store and cassandra-driver, no
 * Kafka and no detector. The pipeline is held against it.
 * Keys get a full window of history first, so every read returns 50 rows as in the steady state.
 */
import { build } from "hdr-histogram-js";
import { detectorEnv, parseDetectorConfig, type DetectorConfig } from "../../app/config.ts";
import { CassandraStore, createSchema } from "../../app/detector/cassandra-store.ts";
import { cusumStep } from "../../app/detector/cusum.ts";
import type { Event } from "../../app/events/event-codec.ts";
import { historyWindow } from "../../app/topology.ts";
import { localEndpoints } from "../local/stack-control.ts";

export interface CeilingStep {
  readonly concurrency: number;
  readonly opsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
}
export interface CeilingResult {
  readonly ceilingOpsPerSecond: number;
  readonly bestConcurrency: number;
  readonly keys: number;
  readonly steps: readonly CeilingStep[];
}

/** The store settings of the local detector, in a keyspace of the benchmark's own. */
export function localStoreConfig(keyspace: string, overrides: Partial<DetectorConfig> = {}): DetectorConfig {
  return parseDetectorConfig({
    env: detectorEnv({
      kafkaBrokers: [localEndpoints.kafkaBrokers],
      cassandraContactPoints: [localEndpoints.cassandraContactPoints],
      cassandraLocalDataCenter: localEndpoints.cassandraLocalDataCenter,
      keyspace,
      replicationFactor: 1,
      ...overrides,
    }),
  });
}

/** Runs `workers` closed loops of `op` for `seconds`; returns completed ops and a latency histogram. */
export async function closedLoop(workers: number, seconds: number, op: () => Promise<void>) {
  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await op();
        histogram.recordValue(Math.round((performance.now() - t0) * 1000)); // microseconds
        done++;
      }
    }),
  );
  return { done, histogram };
}

export async function measureCeiling(o: {
  keys: number;
  secondsPerStep: number;
  concurrencies: readonly number[];
  keyspace: string;
  onStep?: (step: CeilingStep) => void;
}): Promise<CeilingResult> {
  const config = localStoreConfig(o.keyspace);
  await createSchema(config);
  const store = new CassandraStore(config);
  await store.connect();
  let seq = 0;
  let clock = Date.now();
  const keyOf = (i: number) => `key-${i % o.keys}`;
  const nextEvent = (id: string): Event => ({ id, time: clock++, producer: "ceiling", seq: seq++, value: Math.random(), label: "none" });
  const check = async (id: string) => {
    const e = nextEvent(id);
    const history = await store.history(e);
    await store.write(e, cusumStep(history.values, e.value, history.sums).sums);
  };
  try {
    let next = 0;
    const preloadTotal = o.keys * historyWindow;
    await closedLoop(64, 3600, async () => {
      if (next >= preloadTotal) throw new StopPreload();
      await store.write(nextEvent(keyOf(next++)));
    }).catch((err: unknown) => {
      if (!(err instanceof StopPreload)) throw err;
    });
    const steps: CeilingStep[] = [];
    for (const concurrency of o.concurrencies) {
      const { done, histogram } = await closedLoop(concurrency, o.secondsPerStep, () => check(keyOf(Math.floor(Math.random() * o.keys))));
      const step = {
        concurrency,
        opsPerSecond: Math.round(done / o.secondsPerStep),
        latencyMs: { p50: histogram.getValueAtPercentile(50) / 1000, p99: histogram.getValueAtPercentile(99) / 1000 },
      };
      steps.push(step);
      o.onStep?.(step);
    }
    const best = steps.reduce((a, b) => (b.opsPerSecond > a.opsPerSecond ? b : a));
    return { ceilingOpsPerSecond: best.opsPerSecond, bestConcurrency: best.concurrency, keys: o.keys, steps };
  } finally {
    await store.client.execute(`DROP KEYSPACE IF EXISTS ${o.keyspace}`).catch(() => undefined);
    await store.shutdown();
  }
}

class StopPreload extends Error {}
