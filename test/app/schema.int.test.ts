/**
 * The schema once, not from every detector: the `schema` command against the real local Kafka + Cassandra
 * (twice: idempotent), a detector without --create-schema that waits (live, not ready) until the command has
 * run and then works, and one that gives up after its wait with a message naming what is missing.
 * Each test has its own topics and keyspace, dropped at the end.
 */
import { join } from "node:path";
import type { Kafka } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { parseDetectorConfig } from "../../app/config.ts";
import cassandra from "cassandra-driver";
import { schemaExists, schemaStatements, stateColumn } from "../../app/detector/cassandra-store.ts";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import { createLogger } from "../../app/log.ts";
import { startApp, stopApp, waitReady, type AppProcess } from "../../scripts/local/app-process.ts";
import { localDetectorEnv, runNames } from "../../scripts/local/isolated-run.ts";
import { runNodeFile, stallBoundedTestTimeoutMs, untilDone } from "../stall-bounded.ts";
import { dropTestRuns, testKeyspace } from "./test-runs.ts";
import { localEndpoints, projectRoot } from "../../scripts/local/locations.ts";

const kafka: Kafka = createKafka("int-test-schema", [localEndpoints.kafkaBrokers], createLogger("test", "error"));
const started: AppProcess[] = [];
const runs: string[] = [];

function settings(name: string) {
  const id = `s${Date.now().toString(36)}${name}`;
  runs.push(id);
  // What is tested here is how the schema gets made, so no IsolatedRun.open (which makes it).
  const env = localDetectorEnv(runNames(id, { keyspace: testKeyspace(id) }), 3);
  return { id, env, config: parseDetectorConfig({ env }) };
}

/** `node app/main.ts schema`, as the Job runs it: to its end however long a busy machine makes it, while it logs. */
async function runSchema(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const run = await runNodeFile(join(projectRoot, "app", "main.ts"), ["schema"], { env: { ...process.env, ...env } });
  return { code: run.code ?? -1, stderr: run.stderr };
}

const httpStatus = async (app: AppProcess, path: string) => (await fetch(`http://127.0.0.1:${await app.port()}${path}`)).status;

afterAll(async () => {
  await Promise.all(started.map((a) => stopApp(a, "SIGKILL")));
  await dropTestRuns(kafka, runs);
});

// Each test runs the CLI twice; a busy machine makes that slow, not wrong (runNodeFile ends a run on silence).
describe("schema command", { timeout: stallBoundedTestTimeoutMs }, () => {
  it("creates the topics, keyspace and table, and a second run changes nothing", async () => {
    const s = settings("once");
    const first = await runSchema(s.env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('"msg":"created topics"');
    expect(first.stderr).toContain('"msg":"schema ready"');
    const admin = kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [s.config.eventsTopic, s.config.checksTopic, s.config.deadLetterTopic] });
      expect(metadata.topics.map((t) => t.partitions.length)).toEqual([3, 3, 3]);
    } finally {
      await admin.disconnect();
    }
    expect(await schemaExists(s.config)).toBe(true);

    const second = await runSchema(s.env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain("created topics");
    expect(second.stderr).toContain('"msg":"schema ready"');
  });

  it("adds the CUSUM sums' columns to an events table made before them, keeping its rows, and a second run changes nothing", async () => {
    const s = settings("alter");
    const client = new cassandra.Client({
      contactPoints: [localEndpoints.cassandraContactPoints],
      localDataCenter: localEndpoints.cassandraLocalDataCenter,
    });
    await client.connect();
    const columns = async () =>
      (
        await client.execute("SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?", [
          s.config.keyspace,
          "events",
        ])
      ).rows.map((r) => `${r.get("column_name") as string} ${r.get("type") as string}`);
    try {
      // A table as an earlier version made it: the same statement without the state's cell.
      const [keyspace, table] = schemaStatements(s.config);
      const stateLine = new RegExp(`^\\s*${stateColumn.name} \\w+,\\n`, "m");
      await client.execute(keyspace!);
      await client.execute(table!.replace(stateLine, ""));
      expect((await columns()).some((c) => c.startsWith(stateColumn.name))).toBe(false);
      await client.execute(`INSERT INTO ${s.config.keyspace}.events (id, time, producer, seq, value) VALUES ('a', 1, 'p', 1, 2.5)`);

      for (const round of [1, 2]) {
        const run = await runSchema(s.env);
        expect(run.code, `round ${round}: ${run.stderr}`).toBe(0);
        expect(run.stderr).toContain('"msg":"schema ready"');
        const now = await columns();
        expect(now).toContain(`${stateColumn.name} ${stateColumn.type}`);
      }
      const row = (await client.execute(`SELECT value, ${stateColumn.name} FROM ${s.config.keyspace}.events WHERE id = 'a'`)).first();
      expect(row.get("value")).toBe(2.5);
      expect(row.get(stateColumn.name)).toBeNull(); // an old row: the detector starts the key afresh
    } finally {
      await client.shutdown();
    }
  });

  it("exits 2 with the setting's name on a bad setting (the Job fails at once)", async () => {
    const s = settings("bad");
    const run = await runSchema({ ...s.env, KAFKA_AUTH: "aws-iam" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("setting awsRegion");
  });
});

describe("detector without --create-schema", () => {
  it(
    "waits, live but not ready, until the schema command has run, then runs",
    async () => {
      const s = settings("wait");
      const detector = startApp("detector", { ...s.env, DETECTOR_CREATE_SCHEMA: "false" }, "detector-wait");
      started.push(detector);
      await untilDone(
        "the detector's wait for the schema",
        () => detector.tail().join("\n").length,
        () => detector.tail().some((l) => l.includes("waiting for the schema")),
      );
      expect(detector.tail().join("\n")).toContain(`missing topic ${s.config.eventsTopic}`);
      expect(await httpStatus(detector, "/healthz")).toBe(200);
      expect(await httpStatus(detector, "/readyz")).not.toBe(200);
      expect(await schemaExists(s.config)).toBe(false); // it made nothing itself

      const schema = await runSchema(s.env);
      expect(schema.code, schema.stderr).toBe(0);
      await waitReady(detector, 60_000);
      expect(detector.tail().join("\n")).toContain('"msg":"detector running"');
      expect(await stopApp(detector)).toBe(0);
    },
    stallBoundedTestTimeoutMs,
  );

  it("gives up after DETECTOR_SCHEMA_WAIT_SECONDS with a message naming what is missing", async () => {
    const s = settings("gone");
    const detector = startApp(
      "detector",
      { ...s.env, DETECTOR_CREATE_SCHEMA: "false", DETECTOR_SCHEMA_WAIT_SECONDS: "3" },
      "detector-gone",
    );
    started.push(detector);
    expect(await detector.exited).toBe(1);
    const log = detector.tail().join("\n");
    expect(log).toContain("gave up after 3 s");
    expect(log).toContain(`table ${testKeyspace(s.id)}.events`);
  });
});
