/**
 * The detector and the load generator as real processes against the real local Kafka + Cassandra:
 * an end-to-end run, malformed records to the dead-letter topic, and a SIGKILL in the middle of a run.
 * Each test has its own run id (keyspace, topics, group), so they neither see nor disturb each other.
 */
import type { Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetterHeaders } from "../../app/detector/pipeline.ts";
import { encodeEvent, type Event } from "../../app/events/event-codec.ts";
import { stateColumn } from "../../app/detector/cassandra-store.ts";
import { decodeKeyState } from "../../app/detector/key-state-codec.ts";
import { Rng } from "../../app/loadgen/random.ts";
import cassandra from "cassandra-driver";
import { createKafka, ensureTopics } from "../../app/kafka/kafka-client.ts";
import type { LoadgenReport } from "../../app/loadgen/loadgen.ts";
import type { VerdictRecord } from "../../app/events/verdict-codec.ts";
import { createLogger } from "../../app/log.ts";
import { scrape, stopApp, waitReady } from "../../scripts/local/app-process.ts";
import { IsolatedRun, runNames } from "../../scripts/local/isolated-run.ts";
import { ChecksCollector, eventName, injectionsOf, scanStored, scoreVerdicts } from "../../scripts/local/verify.ts";
import { passCriteria } from "../../scripts/local/pipeline-run.ts";
import { stallBoundedTestTimeoutMs, untilDone } from "../stall-bounded.ts";
import { dropTestRuns, testKeyspace } from "./test-runs.ts";
import { localEndpoints } from "../../scripts/local/locations.ts";
import { goodEvent, malformedRecords } from "../../scripts/chaos/malformed-records.ts";

const kafka: Kafka = createKafka("int-test", [localEndpoints.kafkaBrokers], createLogger("test", "error"));
const runs: IsolatedRun[] = [];

/** A run of its own (topics, keyspace, group), made the one way every local run is. */
async function run(name: string): Promise<IsolatedRun> {
  const id = `t${Date.now().toString(36)}${name}`;
  const r = await IsolatedRun.open({
    names: runNames(id, { keyspace: testKeyspace(id) }),
    partitions: 4,
    detector: { detectorConcurrency: 128 },
  });
  runs.push(r);
  return r;
}

const load = (rate: number, duration: number, keys: number) => ({
  rate,
  duration,
  keys,
  // A fixed seed: the same values and injected anomalies every run, so precision and recall are figures
  // of the detector, not of the draw (with ~25 anomalies a run, one unlucky false alarm is 4 %).
  seed: 20261202,
  spikeProbability: 0.004,
  shiftProbability: 0.002,
});

/** What the servers hold for a run, against what the generator reports it produced. */
async function verify(r: IsolatedRun, report: LoadgenReport, checks: ChecksCollector) {
  const stored = await scanStored([localEndpoints.cassandraContactPoints], localEndpoints.cassandraLocalDataCenter, r.names.keyspace);
  let lost = 0;
  for (let seq = 0; seq < report.scheduled; seq++) {
    const name = eventName(report.producer, seq);
    if (!stored.events.has(name) || !checks.verdicts.has(name)) lost++;
  }
  const score = scoreVerdicts(checks.verdicts.values(), report.injected, injectionsOf(report));
  return { report, lost, duplicateRows: stored.rows - stored.events.size, stored, score };
}

beforeAll(async () => {
  await kafka.admin().connect(); // fail fast if the broker is not there
});

afterAll(async () => {
  await Promise.all(runs.map((r) => r.stopProcesses("SIGKILL")));
  // Leave the servers as we found them: drop each run's keyspace and topics (the replay's checks topic too).
  await dropTestRuns(
    kafka,
    runs.map((r) => r.names.runId),
  );
});

describe("detector against the real local stack", () => {
  it(
    "checks every event of a small run once, stores each once, and flags the injected anomalies",
    async () => {
      const r = await run("e2e");
      const [detector] = await r.startDetectors(1);
      const checks = new ChecksCollector(kafka, r.names.checksTopic, `${r.names.runId}-verify`);
      await checks.start();
      const loadgen = r.startLoadgen(load(500, 12, 20));
      expect(await loadgen.app.exited).toBe(0);
      const report = loadgen.report();
      const produced = report.sent;
      await untilDone(
        `verdicts of ${produced} events`,
        () => checks.verdicts.size,
        () => checks.verdicts.size >= produced,
      );
      expect(await stopApp(detector!)).toBe(0); // graceful drain on SIGTERM
      await checks.stop();

      const v = await verify(r, report, checks);
      expect(v.report.failed).toBe(0);
      expect(v.lost).toBe(0);
      expect(v.duplicateRows).toBe(0);
      expect(checks.verdicts.size).toBe(produced);
      // Every verdict carries the real-data score beside the CUSUM's, in [0, 1].
      expect([...checks.verdicts.values()].every((c) => c.anomalyScore !== undefined && c.anomalyScore >= 0 && c.anomalyScore <= 1)).toBe(
        true,
      );
      expect(v.score.anomaliesInjected).toBeGreaterThan(0);
      // The large anomalies (spikes, shifts of 20σ–50σ) all, at their first event; small shifts are the next test's.
      const large = v.score.bySize.filter((b) => b.fromSigmas >= 10);
      expect(large.reduce((a, b) => a + b.injected, 0)).toBeGreaterThan(0);
      for (const b of large) expect(b).toMatchObject({ recall: 1, medianDelayEvents: 1 });
      expect(v.score.precision).toBeGreaterThanOrEqual(passCriteria.precision);
    },
    stallBoundedTestTimeoutMs,
  );

  it(
    "sends each malformed record to the dead-letter topic with its reason and original bytes, and goes on",
    async () => {
      const r = await run("dlq");
      const id = r.names.runId;
      const cases = malformedRecords(`${id}-bad`);
      const good = Array.from({ length: 20 }, (_, i) => goodEvent({ id: `${id}-good`, producer: `${id}-p`, seq: i, time: Date.now() + i }));
      const producer = kafka.producer();
      await producer.connect();
      // Interleaved on one key and partition: the good events after a bad one must still be checked.
      await producer.send({
        topic: r.names.eventsTopic,
        messages: [
          ...good.slice(0, 10).map((e) => ({ key: e.id, value: encodeEvent(e) })),
          ...cases.map((c, i) => ({ key: c.key, value: c.value, headers: { "test-case": String(i) } })),
          ...good.slice(10).map((e) => ({ key: e.id, value: encodeEvent(e) })),
        ],
      });
      await producer.disconnect();

      const [detector] = await r.startDetectors(1);
      const dead: { reason: string; detail: string; value: Buffer | null; testCase: string }[] = [];
      const dlq = kafka.consumer({ groupId: `${id}-dlq`, maxWaitTimeInMs: 250 });
      await dlq.connect();
      await dlq.subscribe({ topics: [r.names.deadLetterTopic], fromBeginning: true });
      await dlq.run({
        eachMessage: async ({ message }) => {
          const h = message.headers ?? {};
          dead.push({
            reason: String(h[deadLetterHeaders.reason]),
            detail: String(h[deadLetterHeaders.detail]),
            value: message.value,
            testCase: String(h["test-case"]),
          });
          await Promise.resolve();
        },
      });
      const checks = new ChecksCollector(kafka, r.names.checksTopic, `${id}-verify`);
      await checks.start();
      await untilDone(
        `${cases.length} dead letters and ${good.length} verdicts`,
        () => dead.length + checks.verdicts.size,
        () => new Set(dead.map((d) => d.testCase)).size >= cases.length && checks.verdicts.size >= good.length,
      );
      const metrics = await scrape(detector!);
      expect(await stopApp(detector!)).toBe(0);
      await dlq.disconnect();
      await checks.stop();

      // Each record handled once: one detector, one group join, nothing replayed.
      expect(dead).toHaveLength(cases.length);
      expect(new Set(dead.map((d) => d.testCase)).size).toBe(cases.length);
      for (const d of dead) {
        const c = cases[Number(d.testCase)]!;
        expect(d.reason).toBe(c.reason);
        expect(d.detail.length).toBeGreaterThan(0);
        expect(d.value ?? Buffer.alloc(0)).toEqual(c.value ?? Buffer.alloc(0)); // the original bytes
      }
      expect(new Set(dead.map((d) => d.reason))).toEqual(new Set(cases.map((c) => c.reason)));
      expect(checks.verdicts.size).toBe(good.length);
      expect(metrics.get("detector_group_joins_total")).toBe(1);
      expect(metrics.get("detector_dead_letters_total")).toBe(cases.length);
      expect(metrics.get("detector_checks_total")).toBe(good.length);
      expect(metrics.get("detector_events_consumed_total")).toBe(cases.length + good.length);
    },
    stallBoundedTestTimeoutMs,
  );

  it(
    "loses nothing and duplicates no row when the detector is SIGKILLed mid-run and restarted",
    async () => {
      const r = await run("kill");
      const [first] = await r.startDetectors(1, 1);
      const checks = new ChecksCollector(kafka, r.names.checksTopic, `${r.names.runId}-verify`);
      await checks.start();
      const loadgen = r.startLoadgen(load(800, 20, 40));
      // Kill it while it is busy: some checks done, more in flight, offsets partly committed.
      await untilDone(
        "3000 verdicts before the kill",
        () => checks.verdicts.size,
        () => checks.verdicts.size >= 3000,
      );
      expect(checks.verdicts.size).toBeGreaterThan(0);
      expect(await stopApp(first!, "SIGKILL")).toBe("SIGKILL");
      const atKill = checks.verdicts.size;

      const [second] = await r.startDetectors(1, 2);
      expect(await loadgen.app.exited).toBe(0);
      const report = loadgen.report();
      const produced = report.sent;
      await untilDone(
        `verdicts of ${produced} events after the restart`,
        () => checks.verdicts.size,
        () => checks.verdicts.size >= produced,
      );
      expect(await stopApp(second!)).toBe(0);
      await checks.stop();

      const v = await verify(r, report, checks);
      expect(atKill).toBeLessThan(produced);
      expect(v.lost).toBe(0);
      expect(v.duplicateRows).toBe(0);
      expect(v.stored.events.size).toBe(produced);
      expect(checks.verdicts.size).toBe(produced);
    },
    stallBoundedTestTimeoutMs,
  );
  it(
    "carries the CUSUM sums in the rows: small sustained shifts found within 50 events with where they began, the same on replay",
    async () => {
      const r = await run("small");
      const id = r.names.runId;
      // Per key: 100 in-control values N(1000, 10), then a sustained shift of 2σ–3σ (fixed seed: the detector is
      // deterministic on fixed input, so this is a fixed case, not a draw).
      const rng = new Rng(1202);
      const inControl = 100;
      const shifted = 50;
      const keys = Array.from({ length: 8 }, (_, k) => ({ id: `${id}-k${k}`, sigmas: 2 + k / 7 }));
      const t0 = Date.now() - 3_600_000;
      const events: Event[] = keys.flatMap((key, k) =>
        Array.from({ length: inControl + shifted }, (_, i) => ({
          id: key.id,
          time: t0 + i * 1000 + k,
          producer: `${id}-p`,
          seq: k * 1000 + i,
          value: 1000 + 10 * rng.normal() + (i >= inControl ? 10 * key.sigmas : 0),
          label: i === inControl ? ("shift" as const) : ("none" as const),
        })),
      );
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: r.names.eventsTopic, messages: events.map((e) => ({ key: e.id, value: encodeEvent(e) })) });
      await producer.disconnect();

      // Each pass its own group and checks topic, so the replay's verdicts are its own.
      const pass = async (group: string, checksTopic: string) => {
        const detector = r.startDetector(group, { groupId: group, checksTopic });
        await waitReady(detector);
        const checks = new ChecksCollector(kafka, checksTopic, `${group}-verify`);
        await checks.start();
        await untilDone(
          `${group}'s verdicts of ${events.length} events`,
          () => checks.verdicts.size,
          () => checks.verdicts.size >= events.length,
        );
        expect(await stopApp(detector)).toBe(0);
        await checks.stop();
        return checks;
      };
      const first = await pass(r.names.groupId, r.names.checksTopic);
      expect(first.verdicts.size).toBe(events.length);
      for (const [k, key] of keys.entries()) {
        const flags = events
          .filter((e) => e.id === key.id)
          .map((e, i) => ({ i, v: first.verdicts.get(eventName(e.producer, e.seq))! }))
          .filter((x) => x.v.anomaly);
        // Nothing before the shift; the shift flagged up within 50 events, saying where it began.
        expect(flags.length, `key ${k}`).toBeGreaterThan(0);
        const at = flags[0]!;
        expect(at.i, `key ${k}`).toBeGreaterThanOrEqual(inControl);
        expect(at.i, `key ${k}`).toBeLessThan(inControl + 50);
        expect(at.v.direction).toBe("up");
        const began = at.i - (at.v.changeEventsAgo! - 1);
        expect(Math.abs(began - inControl), `key ${k}: began at ${began}`).toBeLessThanOrEqual(3);
        expect(at.v.changeStartedAt).toBe(t0 + began * 1000 + k);
      }

      // Every row carries a valid check state; one row per event.
      const client = new cassandra.Client({
        contactPoints: [localEndpoints.cassandraContactPoints],
        localDataCenter: localEndpoints.cassandraLocalDataCenter,
        keyspace: r.names.keyspace,
      });
      await client.connect();
      try {
        const rs = await client.execute(`SELECT ${stateColumn.name} FROM events`, [], { fetchSize: 5000 });
        expect(rs.rowLength).toBe(events.length);
        for (const row of rs.rows) expect(decodeKeyState(row.get(stateColumn.name) as Buffer)).toBeDefined();
      } finally {
        await client.shutdown();
      }

      // A replay of the whole topic (a new group, as after a lost commit) over the rows already written: the same
      // history and sums give the same verdicts, and the same rows (no duplicate).
      const replayChecks = `${id}-replay-checks`;
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, [replayChecks], 4, 1); // the schema has the run's checks topic, not this one
      await admin.disconnect();
      const again = await pass(`${id}-replay`, replayChecks);
      expect(again.verdicts.size).toBe(events.length);
      const strip = (v: VerdictRecord) => ({ ...v, checkedAt: 0 });
      for (const [name, v] of first.verdicts) expect(strip(again.verdicts.get(name)!)).toEqual(strip(v));
      const stored = await scanStored([localEndpoints.cassandraContactPoints], localEndpoints.cassandraLocalDataCenter, r.names.keyspace);
      expect(stored.rows).toBe(events.length);
    },
    stallBoundedTestTimeoutMs,
  );
});
