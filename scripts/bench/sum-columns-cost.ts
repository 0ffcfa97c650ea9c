/**
 * What the CUSUM sums cost in Cassandra (issue 12), before and after in one run, interleaved so that the
 * machine's drift (other processes, a warming JVM) falls on both alike:
 * - before: the previous check's Cassandra work, a write of (id, time, producer, seq, value) alongside a read of
 *   the previous 50 values (the statements as they were before the sums);
 * - after: the current one, with the app's own store: the read of the previous 50 (time, value and the four
 *   sums), then the write of the event with its sums (the write waits for the read: it carries the check's sums).
 * - columns: the current statements run side by side as before (not what the pipeline does: its write needs the
 *   read's sums); it separates what the columns cost from what waiting for the read costs.
 * Keys get a full window of history first, as in the ceiling (scripts/bench/ceiling.ts).
 *
 *   bash scripts/with-node.sh tsx scripts/bench/sum-columns-cost.ts [--rounds 4] [--seconds 10] [--concurrency 64]
 *
 * Writes results/bench/sum-columns-cost.json (every round, the means, the per-round ratios, the machine).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { CassandraStore, createSchema, schemaStatements, sumColumns } from "../../app/detector/cassandra-store.ts";
import { zeroSums } from "../../app/detector/cusum.ts";
import type { Event } from "../../app/events/event-codec.ts";
import { cassandraSchema, historyWindow } from "../../app/topology.ts";
import { ensureStack, projectRoot } from "../local/stack-control.ts";
import { closedLoop, localStoreConfig } from "./ceiling.ts";
import { machineFacts } from "./machine.ts";

const table = cassandraSchema.eventsTable;

/** The ceiling's closed loop, as rates and latency percentiles. */
async function measure(workers: number, seconds: number, op: () => Promise<void>) {
  const { done, histogram } = await closedLoop(workers, seconds, op);
  return { opsPerSecond: done / seconds, p50Ms: histogram.getValueAtPercentile(50) / 1000, p99Ms: histogram.getValueAtPercentile(99) / 1000 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "4" },
      seconds: { type: "string", default: "10" },
      concurrency: { type: "string", default: "64" },
      keys: { type: "string", default: "300" },
    },
  });
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const keys = Number(values.keys);
  await ensureStack();
  const keyspace = `bench_sums_${Date.now().toString(36)}`;
  const config = localStoreConfig(keyspace);
  await createSchema(config);
  const store = new CassandraStore(config);
  await store.connect();
  const client = store.client;
  // The previous version's table and statements, beside the current one in the same keyspace.
  // The previous table: the app's own statement (same options: compression, compaction, TTL) without the sums.
  const sumLines = new RegExp(`^\\s*(${Object.values(sumColumns).map((c) => c.name).join("|")}) \\w+,\\n`, "gm");
  const createBefore = schemaStatements(config)[1]!.replace(sumLines, "").replace(`${keyspace}.${table} (`, `${keyspace}.before (`);
  if (createBefore.includes("cusum_") || !createBefore.includes(`${keyspace}.before`)) throw new Error(`unexpected schema statement: ${createBefore}`);
  await client.execute(createBefore);
  const insertBefore = `INSERT INTO ${keyspace}.before (id, time, producer, seq, value) VALUES (?, ?, ?, ?, ?)`;
  const historyBefore = `SELECT value FROM ${keyspace}.before WHERE id = ? AND (time, producer, seq) < (?, ?, ?) LIMIT ${historyWindow}`;
  const options = { prepare: true, isIdempotent: true, fetchSize: historyWindow };
  let seq = 0;
  let clock = Date.now();
  const event = (): Event => ({ id: `key-${Math.floor(Math.random() * keys)}`, time: clock++, producer: "bench", seq: seq++, value: Math.random(), label: "none" });
  const before = async (e: Event) => {
    await Promise.all([
      client.execute(insertBefore, [e.id, new Date(e.time), e.producer, e.seq, e.value], options),
      client.execute(historyBefore, [e.id, new Date(e.time), e.producer, e.seq], options),
    ]);
  };
  const sums = () => ({ ...zeroSums, upper: Math.random(), upperRun: 3 });
  const after = async (e: Event) => {
    await store.history(e);
    await store.write(e, sums());
  };
  const columns = async (e: Event) => {
    await Promise.all([store.history(e), store.write(e, sums())]);
  };
  const variants = { before, after, columns } as const;
  type Variant = keyof typeof variants;
  try {
    // A full window of history for every key in both tables.
    for (let i = 0; i < keys * historyWindow; i += concurrency) {
      await Promise.all(
        Array.from({ length: concurrency }, (_, j) => {
          const e: Event = { id: `key-${(i + j) % keys}`, time: clock++, producer: "bench", seq: seq++, value: Math.random(), label: "none" };
          return Promise.all([before(e), store.write(e, zeroSums)]);
        }),
      );
    }
    const results: { round: number; variant: string; opsPerSecond: number; p50Ms: number; p99Ms: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always meets the warmer or the colder machine.
      const order: Variant[] = round % 2 === 0 ? ["before", "after", "columns"] : ["columns", "after", "before"];
      for (const variant of order) {
        const r = await measure(concurrency, seconds, () => variants[variant](event()));
        results.push({ round, variant, ...r });
        console.log(`round ${round} ${variant}: ${r.opsPerSecond.toFixed(0)} checks/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`);
      }
    }
    const mean = (v: Variant) => results.filter((r) => r.variant === v).reduce((a, r) => a + r.opsPerSecond, 0) / rounds;
    const ratios = (v: Variant) =>
      Array.from({ length: rounds }, (_, round) => {
        const of = (x: Variant) => results.find((r) => r.round === round && r.variant === x)!.opsPerSecond;
        return Number((of(v) / of("before")).toFixed(3));
      });
    const summary = {
      concurrency,
      seconds,
      rounds,
      checksPerSecond: { before: Math.round(mean("before")), after: Math.round(mean("after")), columns: Math.round(mean("columns")) },
      afterOverBefore: Number((mean("after") / mean("before")).toFixed(3)),
      columnsOverBefore: Number((mean("columns") / mean("before")).toFixed(3)),
      perRound: { after: ratios("after"), columns: ratios("columns") },
    };
    const output = join(projectRoot, "results", "bench", "sum-columns-cost.json");
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, `${JSON.stringify({ at: new Date().toISOString(), machine: machineFacts(), ...summary, results }, null, 2)}\n`);
    console.log(JSON.stringify(summary));
    console.log(`written: ${output}`);
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await store.shutdown();
  }
}

void main();
