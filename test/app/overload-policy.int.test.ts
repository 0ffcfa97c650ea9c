/**
 * The overload policy in a real detector process against the real local stack: some keys are
 * flagged first, then a backlog of every key's events arrives at once. With the policy on and a small age bound
 * the flagged keys' events are checked before the others' (by completion order), checks are counted as deferred,
 * and every event is still checked once and stored once, each key in its own order.
 */
import { Partitioners, type Kafka, type Message } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { encodeEvent } from "../../app/events/event-codec.ts";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import { Rng } from "../../app/loadgen/random.ts";
import { createLogger } from "../../app/log.ts";
import { scrape, stopApp } from "../../scripts/local/app-process.ts";
import { IsolatedRun, runNames } from "../../scripts/local/isolated-run.ts";
import { localEndpoints } from "../../scripts/local/locations.ts";
import { ChecksCollector, scanStored } from "../../scripts/local/verify.ts";
import { stallBoundedTestTimeoutMs, untilDone } from "../stall-bounded.ts";
import { dropTestRuns, testKeyspace } from "./test-runs.ts";

const kafka: Kafka = createKafka("overload-test", [localEndpoints.kafkaBrokers], createLogger("test", "error"));
const runs: IsolatedRun[] = [];

afterAll(async () => {
  await Promise.all(runs.map((r) => r.stopProcesses("SIGKILL")));
  await dropTestRuns(
    kafka,
    runs.map((r) => r.names.runId),
  );
});

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("overload policy", () => {
  it(
    "checks recently flagged keys' backlog first, counts the deferred checks, and loses none",
    async () => {
      const id = `t${Date.now().toString(36)}ovl`;
      const r = await IsolatedRun.open({
        names: runNames(id, { keyspace: testKeyspace(id) }),
        partitions: 4,
        // Few checks in flight and a hand-off that holds the whole backlog: the order checks start in is the policy's.
        detector: { overloadPolicy: "priority", overloadAgeBoundMs: 300, detectorConcurrency: 4, handoffCapacity: 50_000 },
      });
      runs.push(r);
      const checks = new ChecksCollector(kafka, r.names.checksTopic, `${id}-verify`);
      await checks.start();
      const [detector] = await r.startDetectors(1);
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
      await producer.connect();

      const rng = new Rng(1515);
      const producerId = `${id}-p`;
      const keys = Array.from({ length: 40 }, (_, i) => `${r.names.keyPrefix}-k${i}`);
      const spiked = new Set(keys.slice(0, 8));
      let seq = 0;
      const event = (key: string, value: number): Message => ({
        key,
        value: encodeEvent({ id: key, time: Date.now(), producer: producerId, seq: seq++, value, label: value > 1000 ? "spike" : "none" }),
      });
      const send = async (messages: Message[]) => {
        for (let i = 0; i < messages.length; i += 1000)
          await producer.send({ topic: r.names.eventsTopic, acks: -1, messages: messages.slice(i, i + 1000) });
      };

      // Phase 1, no backlog: 20 quiet values per key, then a spike of 1,000 σ on 8 of them.
      const phase1: Message[] = [];
      for (let round = 0; round < 20; round++) for (const key of keys) phase1.push(event(key, 100 + rng.normal()));
      for (const key of spiked) phase1.push(event(key, 100_000));
      await send(phase1);
      await untilDone(
        `verdicts of phase 1's ${seq} events`,
        () => checks.verdicts.size,
        () => checks.verdicts.size >= seq,
      );
      expect(checks.verdicts.size).toBe(seq);
      const flagged = new Set([...checks.verdicts.values()].filter((v) => v.anomaly).map((v) => v.id));
      for (const key of spiked) expect(flagged.has(key), key).toBe(true);
      const phase2From = seq;

      // Phase 2: a backlog of 100 events per key, interleaved, sent at once; its age passes 300 ms while it is checked.
      const phase2: Message[] = [];
      for (let round = 0; round < 100; round++) for (const key of keys) phase2.push(event(key, 100 + rng.normal()));
      await send(phase2);
      await untilDone(
        `verdicts of all ${seq} events`,
        () => checks.verdicts.size,
        () => checks.verdicts.size >= seq,
      );
      const metrics = await scrape(detector!);
      await producer.disconnect();
      expect(await stopApp(detector!)).toBe(0);
      await checks.stop();

      // Every event checked once and stored once.
      expect(checks.verdicts.size).toBe(seq);
      expect(checks.duplicates).toBe(0);
      const stored = await scanStored([localEndpoints.cassandraContactPoints], localEndpoints.cassandraLocalDataCenter, r.names.keyspace);
      expect(stored.events.size).toBe(seq);
      expect(stored.rows).toBe(seq);
      // Per-key order: each key's verdicts were published in the order of its events.
      const seen = new Map<string, number>();
      for (const v of checks.verdicts.values()) {
        expect(v.seq, v.id).toBeGreaterThan(seen.get(v.id) ?? -1);
        seen.set(v.id, v.seq);
      }

      // The overload state itself is a gauge that may be on for less than a scrape's interval; what it did is
      // counted: a check is deferred only while overloaded (otherwise the two lines start in the order they became
      // ready), so deferred checks are the record that the overload policy engaged.
      const deferred = metrics.get("detector_checks_deferred_total") ?? 0;
      expect(deferred).toBeGreaterThan(0);
      expect(metrics.get("detector_priority_keys")).toBeGreaterThanOrEqual(spiked.size);

      // Completion order of the backlog: the flagged keys' events finished earlier on average than the others'.
      const backlog = [...checks.verdicts.values()]
        .filter((v) => v.seq >= phase2From)
        .sort((a, b) => a.checkedAt - b.checkedAt || a.seq - b.seq);
      const rank = (inFlagged: boolean) => mean(backlog.flatMap((v, i) => (flagged.has(v.id) === inFlagged ? [i / backlog.length] : [])));
      const priorityRank = rank(true);
      const otherRank = rank(false);
      console.log(
        `overload: ${flagged.size} flagged keys of ${keys.length}; backlog of ${backlog.length} checked once; deferred ${deferred}; ` +
          `mean completion rank (0 first, 1 last): flagged keys ${priorityRank.toFixed(3)}, others ${otherRank.toFixed(3)}`,
      );
      expect(priorityRank).toBeLessThan(otherRank);
    },
    stallBoundedTestTimeoutMs,
  );
});
