/**
 * The adaptive concurrency limit (issue 15) in a real detector process against the real local stack: started at
 * 4 checks in flight under a backlog that 4 cannot keep up with, the limit grows by itself (scraped from
 * /metrics as detector_concurrency_limit) while every event is still checked once and stored once.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Kafka } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import { createLogger } from "../../app/log.ts";
import { scrape, stopApp } from "../../scripts/local/app-process.ts";
import { IsolatedRun, runNames } from "../../scripts/local/isolated-run.ts";
import { localEndpoints } from "../../scripts/local/stack-control.ts";
import { ChecksCollector, scanStored } from "../../scripts/local/verify.ts";
import { dropTestRuns, testKeyspace } from "./test-runs.ts";

const kafka: Kafka = createKafka("adaptive-test", [localEndpoints.kafkaBrokers], createLogger("test", "error"));
const runs: IsolatedRun[] = [];

afterAll(async () => {
  await Promise.all(runs.map((r) => r.stopProcesses("SIGKILL")));
  await dropTestRuns(kafka, runs.map((r) => r.names.runId));
});

describe("adaptive concurrency", () => {
  it("grows from its starting point under a backlog, and loses nothing while it moves", async () => {
    const id = `t${Date.now().toString(36)}adapt`;
    const start = 4;
    const r = await IsolatedRun.open({
      names: runNames(id, { keyspace: testKeyspace(id) }),
      partitions: 4,
      // A latency target far above what the local stack needs: only queueing inside Cassandra may stop growth.
      detector: { detectorConcurrencyMode: "adaptive", detectorConcurrency: start, detectorConcurrencyMax: 512, detectorLatencyTargetMs: 2000 },
    });
    runs.push(r);
    const loadgen = r.startLoadgen({ rate: 2000, duration: 10, keys: 400, seed: 1515 });
    expect(await loadgen.app.exited).toBe(0);
    const produced = loadgen.report().sent;

    const checks = new ChecksCollector(kafka, r.names.checksTopic, `${id}-verify`);
    await checks.start();
    const [detector] = await r.startDetectors(1);
    const limits: number[] = [];
    const deadline = Date.now() + 120_000;
    while (checks.verdicts.size < produced && Date.now() < deadline) {
      const limit = (await scrape(detector!).catch(() => null))?.get("detector_concurrency_limit");
      if (limit !== undefined) limits.push(limit);
      await sleep(500);
    }
    expect(await stopApp(detector!)).toBe(0);
    await checks.stop();

    expect(limits[0]).toBe(start);
    // Grown by itself: well past the start within the drain (about 20 s of backlog at the start's pace).
    expect(Math.max(...limits)).toBeGreaterThanOrEqual(4 * start);
    expect(Math.max(...limits)).toBeLessThanOrEqual(512);
    expect(checks.verdicts.size).toBe(produced);
    const stored = await scanStored([localEndpoints.cassandraContactPoints], localEndpoints.cassandraLocalDataCenter, r.names.keyspace);
    expect(stored.events.size).toBe(produced);
    expect(stored.rows - stored.events.size).toBe(0);
    console.log(`adaptive limit from ${start}: max ${Math.max(...limits)}, last ${limits.at(-1)}, ${limits.length} samples; ${produced} checked once`);
  }, 200_000);
});
