/**
 * The ceiling: the Cassandra work of one check as the pipeline does it (read the key's previous 50 and its sums,
 * then write the event with its new sums), driven directly with the app's own store and cassandra-driver, no
 * Kafka and no detector. The pipeline is held against it.
 * Every trial gets a fresh keyspace whose keys get a full window of history first, so every read returns 50 rows
 * as in the steady state, and no trial reads a table the trials before it grew: with one keyspace for a whole
 * run the ceiling fell from 2,700 to 1,950 ops/s over three pairs while the drains (fresh keyspaces) did not.
 */
import { build } from "hdr-histogram-js";
import { detectorEnv, parseDetectorConfig, type DetectorConfig } from "../../app/config.ts";
import { CassandraStore, createSchema } from "../../app/detector/cassandra-store.ts";
import { checkKey } from "../../app/detector/key-check.ts";
import type { Event } from "../../app/events/event-codec.ts";
import { historyWindow } from "../../app/topology.ts";
import { localEndpoints } from "../local/locations.ts";
import { cpuWindow, interference, machineCores, perThousand, readCpuSnapshot, type CpuWindow } from "./proc-cpu.ts";
import { stackPids } from "./server-pids.ts";

export interface CeilingStep {
  readonly concurrency: number;
  readonly opsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  /** CPU seconds per 1,000 ops: the driver (this process) and Cassandra. */
  readonly cpuSecondsPer1000: Readonly<Record<string, number>>;
  readonly cpu: CpuWindow;
  readonly interference: string | null;
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

export class CeilingBench {
  readonly keys: number;
  readonly #store: CassandraStore;
  readonly #keyspace: string;
  readonly #roles: { bench: number[]; cassandra: number[] };
  #seq = 0;
  #clock = Date.now();

  private constructor(keys: number, keyspace: string, store: CassandraStore, roles: { bench: number[]; cassandra: number[] }) {
    this.keys = keys;
    this.#keyspace = keyspace;
    this.#store = store;
    this.#roles = roles;
  }

  /** Makes the keyspace and gives every key a full window of history. */
  static async open(o: { keys: number; keyspace: string }): Promise<CeilingBench> {
    const config = localStoreConfig(o.keyspace);
    await createSchema(config);
    const store = new CassandraStore(config);
    await store.connect();
    const { cassandra } = await stackPids();
    const bench = new CeilingBench(o.keys, o.keyspace, store, { bench: [process.pid], cassandra });
    let next = 0;
    const preloadTotal = o.keys * historyWindow;
    await closedLoop(64, 3600, async () => {
      if (next >= preloadTotal) throw new StopPreload();
      await store.write(bench.#event(`key-${next++ % o.keys}`));
    }).catch((err: unknown) => {
      if (!(err instanceof StopPreload)) throw err;
    });
    return bench;
  }

  #event(id: string): Event {
    return { id, time: this.#clock++, producer: "ceiling", seq: this.#seq++, value: Math.random(), label: "none" };
  }

  /** `concurrency` closed loops of checks on random keys for `seconds`. */
  async trial(concurrency: number, seconds: number): Promise<CeilingStep> {
    const check = async () => {
      const e = this.#event(`key-${Math.floor(Math.random() * this.keys)}`);
      const history = await this.#store.history(e);
      await this.#store.write(e, checkKey(history.values, e.value, history.state).state);
    };
    const before = readCpuSnapshot(this.#roles);
    const { done, histogram } = await closedLoop(concurrency, seconds, check);
    const cpu = cpuWindow(before, readCpuSnapshot(this.#roles), machineCores());
    return {
      concurrency,
      opsPerSecond: Math.round(done / cpu.seconds),
      latencyMs: { p50: histogram.getValueAtPercentile(50) / 1000, p99: histogram.getValueAtPercentile(99) / 1000 },
      cpuSecondsPer1000: perThousand(cpu.cpuSeconds, done),
      cpu,
      interference: interference(cpu),
    };
  }

  async close(): Promise<void> {
    await this.#store.client.execute(`DROP KEYSPACE IF EXISTS ${this.#keyspace}`).catch(() => undefined);
    await this.#store.shutdown();
  }
}

class StopPreload extends Error {}

/** One ceiling trial on a keyspace of its own (made, preloaded, dropped). */
export async function ceilingTrial(o: { keys: number; concurrency: number; seconds: number }): Promise<CeilingStep> {
  const bench = await CeilingBench.open({ keys: o.keys, keyspace: `bench_ceiling_${Date.now().toString(36)}` });
  try {
    return await bench.trial(o.concurrency, o.seconds);
  } finally {
    await bench.close();
  }
}
