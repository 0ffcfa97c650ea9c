/**
 * The adaptive concurrency limit in a real detector process against the real local stack: started at
 * 4 checks in flight under a backlog that 4 cannot keep up with, the limit grows by itself (scraped from
 * /metrics as detector_concurrency_limit) while every event is still checked once and stored once.
 */
import type { Kafka } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import { createLogger } from "../../app/log.ts";
import { scrape, stopApp } from "../../scripts/local/app-process.ts";
import { IsolatedRun, runNames } from "../../scripts/local/isolated-run.ts";
import { localEndpoints } from "../../scripts/local/locations.ts";
import { ChecksCollector, scanStored } from "../../scripts/local/verify.ts";
import { stallBoundedTestTimeoutMs, untilDone } from "../stall-bounded.ts";
import { dropTestRuns, testKeyspace } from "./test-runs.ts";

const kafka: Kafka = createKafka("adaptive-test", [localEndpoints.kafkaBrokers], createLogger("test", "error"));
const runs: IsolatedRun[] = [];

afterAll(async () => {
  await Promise.all(runs.map((r) => r.stopProcesses("SIGKILL")));
  await dropTestRuns(
    kafka,
    runs.map((r) => r.names.runId),
  );
});

describe("adaptive concurrency", () => {
  it(
    "grows from its starting point under a backlog, and loses nothing while it moves",
    async () => {
      const id = `t${Date.now().toString(36)}adapt`;
      const start = 4;
      const max = 512;
      const r = await IsolatedRun.open({
        names: runNames(id, { keyspace: testKeyspace(id) }),
        partitions: 4,
        // A latency target far above what the local stack needs: only queueing inside Cassandra may stop growth.
        detector: {
          detectorConcurrencyMode: "adaptive",
          detectorConcurrency: start,
          detectorConcurrencyMax: max,
          detectorLatencyTargetMs: 2000,
        },
      });
      runs.push(r);
      const loadgen = r.startLoadgen({ rate: 2000, duration: 10, keys: 400, seed: 1515 });
      expect(await loadgen.app.exited).toBe(0);
      const produced = loadgen.report().sent;

      const checks = new ChecksCollector(kafka, r.names.checksTopic, `${id}-verify`);
      await checks.start();
      const [detector] = await r.startDetectors(1);
      const limits: number[] = [];
      await untilDone(
        `verdicts of ${produced} events`,
        async () => {
          const limit = (await scrape(detector!).catch(() => null))?.get("detector_concurrency_limit");
          if (limit !== undefined) limits.push(limit);
          return checks.verdicts.size;
        },
        () => checks.verdicts.size >= produced,
      );
      expect(await stopApp(detector!)).toBe(0);
      await checks.stop();

      // When the first scrape lands is the machine's business (a window may already have doubled the limit); what
      // the limiter guarantees is where its values lie: never under the start (the floor here), never over the
      // maximum, and only ever the start doubled or halved.
      expect(limits.length).toBeGreaterThan(0);
      for (const limit of limits)
        expect(Number.isInteger(Math.log2(limit / start)) && limit >= start && limit <= max, `limit ${limit}`).toBe(true);
      // Grown by itself: well past the start within the drain (about 20 s of backlog at the start's pace).
      expect(Math.max(...limits)).toBeGreaterThanOrEqual(4 * start);
      expect(checks.verdicts.size).toBe(produced);
      const stored = await scanStored([localEndpoints.cassandraContactPoints], localEndpoints.cassandraLocalDataCenter, r.names.keyspace);
      expect(stored.events.size).toBe(produced);
      expect(stored.rows - stored.events.size).toBe(0);
      console.log(
        `adaptive limit from ${start}: max ${Math.max(...limits)}, last ${limits.at(-1)}, ${limits.length} samples; ${produced} checked once`,
      );
    },
    stallBoundedTestTimeoutMs,
  );
});
