/**
 * What a row's carried check state costs in Cassandra, the previous row format against the current one, in one run
 * and interleaved so that the machine's drift (other processes, a warming JVM) falls on both alike. Each check reads
 * the key's previous 50 rows, then writes the event's row with the state its check left, as the pipeline does:
 * - columns: the previous check's shape and row format: the CUSUM sums as four columns (two doubles, two ints), read
 *   with every row, the CUSUM step alone (cusumStep, with the current robust baseline), the new sums written;
 * - cell: the current ones: the whole state (sums, range, likelihood) as one blob cell (key-state-codec.ts) through
 *   the app's own store, and the pipeline's check (checkKey).
 * Keys get a full window of history first, as in the ceiling (scripts/bench/ceiling.ts). Beside it, the two checks'
 * CPU time per call in this process (no I/O), interleaved the same way: what the detector's CPU per check gains.
 *
 *   bash scripts/with-node.sh tsx scripts/bench/row-format-cost.ts [--rounds 4] [--seconds 10] [--concurrency 64]
 *
 * Writes results/bench/row-format-cost.json (every round, the means, the per-round ratios, the machine).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { detectorSettings, loadgenSettings } from "../../app/config.ts";
import { CassandraStore, createSchema, schemaStatements, stateColumn } from "../../app/detector/cassandra-store.ts";
import { cusumStep } from "../../app/detector/cusum.ts";
import { checkKey, initialKeyState } from "../../app/detector/key-check.ts";
import type { Event } from "../../app/events/event-codec.ts";
import { cassandraSchema, historyWindow } from "../../app/topology.ts";
import { plainNumberOption, readToolArgs, settingNumber } from "../cli-number.ts";
import { ensureStack } from "../local/stack-control.ts";
import { projectRoot } from "../local/locations.ts";
import { closedLoop, localStoreConfig } from "./ceiling.ts";
import { machineFacts } from "./machine.ts";

const table = cassandraSchema.eventsTable;

/**
 * Microseconds of CPU per check of each step on the same histories (one key's running state each), `rounds`
 * interleaved pairs after a warm-up pair.
 */
function checkCpu(rounds: number): { cusumStep: number[]; checkKey: number[] } {
  const n = 20_000;
  const values = Array.from({ length: n + historyWindow }, (_, i) => Math.sin(i / 40) * 5 + Math.random());
  const timed = (step: (h: number[], v: number, i: number) => void) => {
    const t0 = process.cpuUsage();
    for (let i = historyWindow; i < values.length; i++) step(values.slice(i - historyWindow, i), values[i]!, i);
    const used = process.cpuUsage(t0);
    return Number(((used.user + used.system) / n).toFixed(2));
  };
  let sums: ReturnType<typeof cusumStep>["sums"] | undefined;
  let state: ReturnType<typeof checkKey>["state"] | undefined;
  const variants = {
    cusumStep: () => timed((h, v) => (sums = cusumStep(h, v, sums).sums)),
    checkKey: () => timed((h, v) => (state = checkKey(h, v, state).state)),
  };
  variants.cusumStep();
  variants.checkKey();
  const out = { cusumStep: [] as number[], checkKey: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (["cusumStep", "checkKey"] as const) : (["checkKey", "cusumStep"] as const);
    for (const v of order) out[v].push(variants[v]());
  }
  return out;
}

/** The ceiling's closed loop, as rates and latency percentiles. */
async function measure(workers: number, seconds: number, op: () => Promise<void>) {
  const { done, histogram } = await closedLoop(workers, seconds, op);
  return {
    opsPerSecond: done / seconds,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
  };
}

/**
 * The run's settings from its command line; the concurrency and the keys are read as the detector and the load
 * generator read them (app/config.ts). Throws naming a flag it cannot read.
 */
export function rowFormatSettings(argv: readonly string[]): { rounds: number; seconds: number; concurrency: number; keys: number } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: "string", default: "4" },
      seconds: { type: "string", default: "10" },
      concurrency: { type: "string", default: "64" },
      keys: { type: "string", default: "300" },
    },
  });
  return {
    // Bounds against typos only.
    rounds: plainNumberOption("--rounds", { min: 1, max: 1_000, integer: true })(values.rounds),
    seconds: plainNumberOption("--seconds", { min: 0, aboveMin: true, max: 3_600 })(values.seconds),
    concurrency: settingNumber("--concurrency", values.concurrency, detectorSettings.detectorConcurrency),
    keys: settingNumber("--keys", values.keys, loadgenSettings.keys),
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const settings = readToolArgs("row-format-cost", () => rowFormatSettings(argv));
  if (settings === undefined) return;
  const { rounds, seconds, concurrency, keys } = settings;
  await ensureStack();
  const keyspace = `bench_sums_${Date.now().toString(36)}`;
  const config = localStoreConfig(keyspace);
  await createSchema(config);
  const store = new CassandraStore(config);
  await store.connect();
  const client = store.client;
  // The previous format's table beside the current one in the same keyspace: the app's own statement (same
  // compression, compaction, TTL) with the four sum columns in place of the state's cell.
  const sumColumns = "cusum_upper double, cusum_lower double, cusum_upper_run int, cusum_lower_run int";
  const createColumns = schemaStatements(config)[1]!
    .replace(`${stateColumn.name} ${stateColumn.type}`, sumColumns)
    .replace(`${keyspace}.${table} (`, `${keyspace}.columns (`);
  if (!createColumns.includes("cusum_upper double") || !createColumns.includes(`${keyspace}.columns`)) {
    throw new Error(`unexpected schema statement: ${createColumns}`);
  }
  await client.execute(createColumns);
  const insertColumns =
    `INSERT INTO ${keyspace}.columns (id, time, producer, seq, value, cusum_upper, cusum_lower, cusum_upper_run, cusum_lower_run) ` +
    `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  const historyColumns =
    `SELECT time, value, cusum_upper, cusum_lower, cusum_upper_run, cusum_lower_run FROM ${keyspace}.columns ` +
    `WHERE id = ? AND (time, producer, seq) < (?, ?, ?) LIMIT ${historyWindow}`;
  const options = { prepare: true, isIdempotent: true, fetchSize: historyWindow };
  let seq = 0;
  let clock = Date.now();
  const event = (id = `key-${Math.floor(Math.random() * keys)}`): Event => ({
    id,
    time: clock++,
    producer: "bench",
    seq: seq++,
    value: Math.random(),
    label: "none",
  });
  const writeColumns = (e: Event) =>
    client.execute(insertColumns, [e.id, new Date(e.time), e.producer, e.seq, e.value, Math.random(), 0, 3, 0], options);
  const columns = async (e: Event) => {
    const rs = await client.execute(historyColumns, [e.id, new Date(e.time), e.producer, e.seq], options);
    const values = rs.rows.map((r) => r.get("value") as number).reverse();
    const newest = rs.rows[0];
    const sums = newest
      ? {
          upper: newest.get("cusum_upper") as number,
          lower: newest.get("cusum_lower") as number,
          upperRun: newest.get("cusum_upper_run") as number,
          lowerRun: newest.get("cusum_lower_run") as number,
        }
      : undefined;
    const next = cusumStep(values, e.value, sums).sums;
    await client.execute(
      insertColumns,
      [e.id, new Date(e.time), e.producer, e.seq, e.value, next.upper, next.lower, next.upperRun, next.lowerRun],
      options,
    );
  };
  const cell = async (e: Event) => {
    const history = await store.history(e);
    await store.write(e, checkKey(history.values, e.value, history.state).state);
  };
  const variants = { columns, cell } as const;
  type Variant = keyof typeof variants;
  try {
    // A full window of history for every key in both tables.
    for (let i = 0; i < keys * historyWindow; i += concurrency) {
      await Promise.all(
        Array.from({ length: concurrency }, (_, j) => {
          const e = event(`key-${(i + j) % keys}`);
          return Promise.all([writeColumns(e), store.write(e, initialKeyState)]);
        }),
      );
    }
    const results: { round: number; variant: string; opsPerSecond: number; p50Ms: number; p99Ms: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always meets the warmer or the colder machine.
      const order: Variant[] = round % 2 === 0 ? ["columns", "cell"] : ["cell", "columns"];
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
        return Number((of(v) / of("columns")).toFixed(3));
      });
    const cpu = checkCpu(rounds);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    console.log(`CPU per check, µs: cusumStep ${cpu.cusumStep.join(" ")}; checkKey ${cpu.checkKey.join(" ")}`);
    const summary = {
      checkCpuMicros: { ...cpu, medianCusumStep: median(cpu.cusumStep), medianCheckKey: median(cpu.checkKey) },
      concurrency,
      seconds,
      rounds,
      checksPerSecond: { columns: Math.round(mean("columns")), cell: Math.round(mean("cell")) },
      cellOverColumns: Number((mean("cell") / mean("columns")).toFixed(3)),
      perRound: { cellOverColumns: ratios("cell") },
    };
    const output = join(projectRoot, "results", "bench", "row-format-cost.json");
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, `${JSON.stringify({ at: new Date().toISOString(), machine: machineFacts(), ...summary, results }, null, 2)}\n`);
    console.log(JSON.stringify(summary));
    console.log(`written: ${output}`);
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await store.shutdown();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
