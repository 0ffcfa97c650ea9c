/**
 * Held history against read-every-time, as real processes against the real local Kafka + Cassandra: one event
 * stream through each mode (its own topics, keyspace and group), with a rebalance there and back and a
 * crash-and-replay in the middle, gives the same verdicts (every field but the time the check ran) and the same
 * stored rows. The rebalance moves keys from a detector that held them to another and back: a detector that kept
 * what it held across it would check the returning keys against a history missing the other's events.
 */
import { setTimeout as sleep } from "node:timers/promises";
import cassandra from "cassandra-driver";
import type { Kafka } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { stateColumn } from "../../app/detector/cassandra-store.ts";
import type { DetectorConfig } from "../../app/config.ts";
import { encodeEvent, type Event } from "../../app/events/event-codec.ts";
import type { VerdictRecord } from "../../app/events/verdict-codec.ts";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import { Rng } from "../../app/loadgen/random.ts";
import { createLogger } from "../../app/log.ts";
import { scrape, stopApp, waitReady, type AppProcess } from "../../scripts/local/app-process.ts";
import { IsolatedRun, runNames } from "../../scripts/local/isolated-run.ts";
import { ChecksCollector, eventName } from "../../scripts/local/verify.ts";
import { localEndpoints } from "../../scripts/local/locations.ts";
import { dropTestRuns, testKeyspace } from "./test-runs.ts";

const kafka: Kafka = createKafka("int-test", [localEndpoints.kafkaBrokers], createLogger("test", "error"));
const runs: IsolatedRun[] = [];

afterAll(async () => {
  await Promise.all(runs.map((r) => r.stopProcesses("SIGKILL")));
  await dropTestRuns(
    kafka,
    runs.map((r) => r.names.runId),
  );
});

type Mode = DetectorConfig["detectorHistory"];

/**
 * The stream: per key, in time order, a level with noise, spikes and a sustained shift (fixed seed), in four
 * parts. Times are recent, well inside the rows' time to live, so held history serves what it holds.
 */
function stream(keyPrefix: string): Event[][] {
  const rng = new Rng(29);
  const keys = 16;
  const perKey = 320;
  const t0 = Date.now() - 3_600_000;
  const byKey = Array.from({ length: keys }, (_, k) =>
    Array.from({ length: perKey }, (_, i): Event => {
      const shift = i >= 150 + 7 * k ? 25 : 0;
      const spike = rng.next() < 0.01 ? 80 : 0;
      return {
        id: `${keyPrefix}-k${k}`,
        time: t0 + i * 1000 + k,
        producer: `${keyPrefix}-p`,
        seq: k * 10_000 + i,
        value: 100 + 5 * rng.normal() + shift + spike,
        label: "none",
      };
    }),
  );
  const parts = 4;
  return Array.from({ length: parts }, (_, p) => byKey.flatMap((events) => events.slice((p * perKey) / parts, ((p + 1) * perKey) / parts)));
}

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const metric = async (app: AppProcess, name: string) => (await scrape(app)).get(name) ?? 0;

/** One mode's run of the stream; what it published, what it stored and what its detectors counted. */
async function runMode(mode: Mode, events: Event[][]) {
  const id = `t${Date.now().toString(36)}${mode}`;
  const r = await IsolatedRun.open({
    names: runNames(id, { keyspace: testKeyspace(id) }),
    partitions: 4,
    detector: { detectorConcurrency: 64, detectorHistory: mode },
  });
  runs.push(r);
  const producer = kafka.producer();
  await producer.connect();
  const send = (part: Event[]) =>
    producer.send({ topic: r.names.eventsTopic, messages: part.map((e) => ({ key: e.id, value: encodeEvent(e) })) });
  const checks = new ChecksCollector(kafka, r.names.checksTopic, `${id}-verify`);
  await checks.start();
  const through = (part: number) => events.slice(0, part + 1).reduce((n, p) => n + p.length, 0);
  const counted = { hits: 0, reads: 0 };
  const count = async (app: AppProcess) => {
    const m = await scrape(app);
    counted.hits += m.get("detector_held_history_hits_total") ?? 0;
    counted.reads += m.get("detector_history_reads_total") ?? 0;
  };

  // Part 1: detector A alone holds every key.
  const a = r.startDetector("detector-a");
  await waitReady(a);
  await send(events[0]!);
  await until(`${mode}: part 1's verdicts`, () => checks.verdicts.size >= through(0));

  // Part 2: B joins and takes some partitions; part 3: B leaves and A gets them back.
  const b = r.startDetector("detector-b");
  await waitReady(b);
  await until(`${mode}: A's rejoin`, async () => (await metric(a, "detector_group_joins_total")) >= 2);
  await send(events[1]!);
  await until(`${mode}: part 2's verdicts`, () => checks.verdicts.size >= through(1));
  const bChecked = await metric(b, "detector_checks_total");
  await count(b);
  expect(await stopApp(b)).toBe(0);
  await until(`${mode}: A's rejoin after B left`, async () => (await metric(a, "detector_group_joins_total")) >= 3);
  await send(events[2]!);
  await until(`${mode}: part 3's verdicts`, () => checks.verdicts.size >= through(2));

  // Part 4: A killed mid-part, C replays from A's last commit.
  await send(events[3]!);
  await until(`${mode}: part 4 under way`, () => checks.verdicts.size >= through(2) + events[3]!.length / 4, 60_000);
  await count(a);
  expect(await stopApp(a, "SIGKILL")).toBe("SIGKILL");
  const c = r.startDetector("detector-c");
  await waitReady(c);
  await until(`${mode}: every verdict`, () => checks.verdicts.size >= through(3));
  await count(c);
  expect(await stopApp(c)).toBe(0);
  await producer.disconnect();
  await checks.stop();
  return { verdicts: checks.verdicts, rows: await storedRows(r.names.keyspace), bChecked, ...counted, duplicates: checks.duplicates };
}

/** Every row of a keyspace's events table, by event, with its value and its state cell (hex). */
async function storedRows(keyspace: string): Promise<Map<string, string>> {
  const client = new cassandra.Client({
    contactPoints: [localEndpoints.cassandraContactPoints],
    localDataCenter: localEndpoints.cassandraLocalDataCenter,
    keyspace,
  });
  await client.connect();
  try {
    const rows = new Map<string, string>();
    const rs = await client.execute(`SELECT id, time, producer, seq, value, ${stateColumn.name} FROM events`, [], {
      fetchSize: 100_000,
      consistency: cassandra.types.consistencies.all,
    });
    for (const row of rs.rows) {
      const name = eventName(row.get("producer") as string, (row.get("seq") as cassandra.types.Long).toNumber());
      const cell = row.get(stateColumn.name) as Buffer | null;
      rows.set(
        name,
        `${row.get("id") as string} ${(row.get("time") as Date).getTime()} ${row.get("value") as number} ${cell?.toString("hex") ?? "null"}`,
      );
    }
    return rows;
  } finally {
    await client.shutdown();
  }
}

describe("held history", () => {
  it("gives the same verdicts and rows as reading every time, through a rebalance there and back and a crash-and-replay", async () => {
    const events = stream(`h${Date.now().toString(36)}`);
    const total = events.reduce((n, p) => n + p.length, 0);
    const [held, read] = await Promise.all([runMode("held", events), runMode("read", events)]);

    // Both runs did what the scenario says: B checked some keys, held history served most checks, read none.
    expect(held.bChecked).toBeGreaterThan(0);
    expect(read.bChecked).toBeGreaterThan(0);
    expect(held.hits).toBeGreaterThan(held.reads);
    expect(read.hits).toBe(0);
    expect(read.reads).toBeGreaterThan(0);

    expect(held.verdicts.size).toBe(total);
    expect(read.verdicts.size).toBe(total);
    const strip = ({ checkedAt: _, ...v }: VerdictRecord) => v;
    let anomalies = 0;
    for (const [name, v] of read.verdicts) {
      expect(strip(held.verdicts.get(name)!), name).toEqual(strip(v));
      if (v.anomaly) anomalies++;
    }
    expect(anomalies).toBeGreaterThan(0); // the stream's shifts and spikes flagged: verdicts that say something

    expect(held.rows.size).toBe(total);
    expect(held.rows).toEqual(read.rows);
  }, 600_000);
});
