/**
 * `npm run chaos`: the fault campaign. Under steady load, SIGKILL the detector at random moments and restart it,
 * restart the Kafka broker once and the Cassandra node once, and feed malformed records throughout. Then verify
 * from Cassandra and the topics: nothing lost, no duplicate row, every valid event checked, every malformed
 * record dead-lettered with its reason. Writes results/chaos/latest.json. `--smoke` is the test command's check.
 *
 * `--nodes 3` runs it on the cluster shaped like the cloud's instead (scripts/local/local-cluster.ts): a
 * Cassandra node, the busiest broker and the active controller each crashed (SIGKILL) and brought back, and a
 * detector killed while a broker is down, each recovery timed against the goal; results/chaos/cluster-<n>.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command, Option } from "commander";
import { deadLetterHeaders } from "../app/detector/pipeline.ts";
import { kafkaRetry } from "../app/kafka/kafka-client.ts";
import { waitFor } from "../app/retry.ts";
import { machineFacts } from "./bench/machine.ts";
import { crashMember } from "./chaos/cluster-faults.ts";
import { clusterFaults, planFaults, seededRandom, type ClusterFaultKind, type Fault } from "./chaos/fault-plan.ts";
import { malformedRecords } from "./chaos/malformed-records.ts";
import { recoveryFromSamples, spreadByKind } from "./chaos/recovery-spread.ts";
import { chaosTimelineChart } from "./report/chaos-chart.ts";
import { writeChart } from "./report/chart-image.ts";
import { checkNodeCount, clusterNodeCounts, clusterTarget } from "./local/local-cluster.ts";
import { singleNodeTarget } from "./local/local-target.ts";
import { localRunDefaults, runLocalPipeline, type RunControl } from "./local/pipeline-run.ts";
import { ensureStack, startStack, stackStatus, stopStack } from "./local/stack-control.ts";
import { projectRoot } from "./local/locations.ts";

interface Profile {
  readonly rate: number;
  readonly duration: number;
  readonly kills: number;
  readonly restartKafka: boolean;
  readonly restartCassandra: boolean;
  readonly malformedEverySeconds: number;
  readonly cluster?: readonly ClusterFaultKind[];
}
const profiles = {
  full: { rate: 500, duration: 180, kills: 5, restartKafka: true, restartCassandra: true, malformedEverySeconds: 10 },
  smoke: { rate: 150, duration: 25, kills: 2, restartKafka: false, restartCassandra: false, malformedEverySeconds: 8 },
  // Six server JVMs beside the shared stack on two cores: a lower rate, and a window long enough that each
  // fault's member is down, back and caught up before the next one; three detector kills for a spread.
  cluster: {
    rate: 50,
    duration: 1080,
    kills: 3,
    restartKafka: false,
    restartCassandra: false,
    malformedEverySeconds: 10,
    cluster: clusterFaults,
  },
} as const satisfies Record<string, Profile>;
const caseHeader = "chaos-case";
const recoveryLimitSeconds = 90;
/** What the cloud experiment asks of every recovery. */
const recoveryGoalSeconds = 30;
/** How long a crashed cluster member stays down: hints pile up, leaders move, the group may rebalance. */
const memberDownSeconds = 15;
/** A detector killed during a broker loss dies this long after the broker. */
const detectorKillAfterBrokerSeconds = 3;

interface Recovery {
  readonly kind: Fault["kind"];
  readonly atSeconds: number;
  /** Live: from the fault until the backlog is back within a second of load (first looked at 2 s after it). */
  readonly recoverySeconds: number;
  /**
   * A cluster member: which one, how long its restart took (a crashed broker replays its log first), and the
   * backlog's recovery from the moment it answered again (leaders moving back, a node's hints replayed).
   */
  readonly member?: string;
  readonly restartSeconds?: number;
  readonly afterReturnRecoverySeconds?: number;
  /** A node down past the hint window: its repair's time (inside restartSeconds) and what it streamed. */
  readonly repairSeconds?: number;
  readonly repairPreview?: string;
  /** A detector kill: how long the new detector took to be ready (its /readyz)… */
  readonly detectorReadySeconds?: number;
  /** …and until verdicts flowed again (after its group joined), the rest of the recovery being the catch-up. */
  readonly verdictsResumedSeconds?: number;
}

const program = new Command("chaos")
  .description("Fault campaign against the local pipeline: kills, broker and node restarts, malformed records")
  .addOption(new Option("--smoke", "a short campaign that checks the harness works (two kills, no server restarts)").default(false))
  .addOption(new Option("--seed <n>", "seed of the fault plan").default(Date.now() % 100_000).argParser(Number))
  .addOption(
    new Option(
      "--nodes <n>",
      `1: the shared single-node stack; ${clusterNodeCounts.min}-${clusterNodeCounts.max}: the cluster (npm run stack -- start --nodes <n>)`,
    )
      .default(1)
      .argParser((v) => {
        const n = Number(v);
        if (n !== 1) checkNodeCount(n);
        return n;
      }),
  )
  .addOption(new Option("--output-dir <dir>", "where latest.json goes").default(join(projectRoot, "results", "chaos")));

async function main(): Promise<number> {
  program.parse();
  const o = program.opts<{ smoke: boolean; seed: number; outputDir: string; nodes: number }>();
  const onCluster = o.nodes > 1;
  if (onCluster && o.smoke) throw new Error(`--smoke with --nodes ${o.nodes}: allowed: --smoke on the single-node stack only`);
  const profile: Profile = onCluster ? profiles.cluster : o.smoke ? profiles.smoke : profiles.full;
  const target = onCluster ? clusterTarget(o.nodes) : singleNodeTarget;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (onCluster) await target.ensure();
  else {
    await ensureStack();
    const ownStack = (await stackStatus()).every((s) => s.pid !== null);
    if (!ownStack && (profile.restartKafka || profile.restartCassandra)) {
      throw new Error("the servers on our ports were not started by this checkout, so the campaign cannot restart them");
    }
  }
  const plan = planFaults({ ...profile, startSeconds: 10, endSeconds: profile.duration - 15, seed: o.seed });
  const pick = seededRandom(o.seed + 1);
  log(`plan (seed ${o.seed}): ${plan.map((f) => `${f.kind}@${f.atSeconds}s`).join(", ")}`);

  const recoveries: Recovery[] = [];
  /** Dead letters by malformed case; a replay after a kill may dead-letter a record twice (at-least-once). */
  const deadLettered = new Map<number, string>();
  let malformedSent = 0;
  const expectedReasons: string[] = [];
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;

  /** The run's samples count seconds from the load's start, the faults from the campaign's: this apart. */
  let loadStartedAt = 0;
  /** Each fault's moment (campaign clock) and backlog bound, in the order of `recoveries`. */
  const struck: { at: number; bound: number; returnAt?: number }[] = [];
  const campaign = async (control: RunControl) => {
    loadStartedAt = elapsed();
    const { kafka, names } = control;
    // Read the dead-letter topic from the start, while the faults go on.
    const dlq = kafka.consumer({ groupId: `${names.runId}-chaos-dlq`, maxWaitTimeInMs: 250, retry: kafkaRetry });
    await dlq.connect();
    await dlq.subscribe({ topics: [names.deadLetterTopic], fromBeginning: true });
    await dlq.run({
      eachMessage: ({ message }) => {
        const h = message.headers ?? {};
        const i = Number(String(h[caseHeader]));
        // Compared with the expected reason at the end: a dead letter can arrive before its send's ack does.
        deadLettered.set(i, String(h[deadLetterHeaders.reason]));
        return Promise.resolve();
      },
    });
    const producer = kafka.producer({ retry: { retries: 3 } });
    await producer.connect();
    let loadDone = false;
    void control.loadDone.then(() => (loadDone = true));

    // Malformed records throughout, one of each kind per round; a round that Kafka refuses (it is restarting) is skipped.
    const feeder = (async () => {
      for (let round = 0; !loadDone; round++) {
        const cases = malformedRecords(`${names.runId}-bad-${round}`);
        const first = expectedReasons.length;
        // Before the send, so indices stay unique whether or not Kafka acknowledges the round.
        expectedReasons.push(...cases.map((c) => c.reason));
        try {
          await producer.send({
            topic: names.eventsTopic,
            messages: cases.map((c, i) => ({ key: c.key, value: c.value, headers: { [caseHeader]: String(first + i) } })),
          });
          malformedSent += cases.length;
        } catch {
          log(`  malformed round ${round} refused by Kafka; skipped`);
        }
        await sleep(profile.malformedEverySeconds * 1000);
      }
    })();

    // Crashed detectors are restarted, as Kubernetes would.
    const supervisor = (async () => {
      while (!loadDone) {
        const revived = await control.reviveExitedDetectors();
        if (revived > 0) log(`  ${revived} detector(s) had exited; restarted`);
        await sleep(1000);
      }
    })();

    const seconds = (from: number) => Math.round((elapsed() - from) * 10) / 10;
    // Recovered when the backlog is back to where it was (or one second of load) again.
    const recovered = async (from: number, bound: number) => {
      await sleep(2000);
      while (elapsed() - from < recoveryLimitSeconds && (control.latest()?.backlog ?? Infinity) > bound) await sleep(250);
      return seconds(from);
    };
    /** Kills the detector and starts a new one; times its readiness and the first new verdict, from `from`. */
    const restartDetector = async (from: number) => {
      await control.restartDetector(0, "SIGKILL");
      const detectorReadySeconds = seconds(from);
      const checkedWhenReady = control.latest()?.checked ?? 0;
      while (elapsed() - from < recoveryLimitSeconds && (control.latest()?.checked ?? 0) <= checkedWhenReady) await sleep(100);
      return { detectorReadySeconds, verdictsResumedSeconds: seconds(from) };
    };
    for (const fault of plan) {
      while (elapsed() < fault.atSeconds) await sleep(200);
      const before = control.latest()?.backlog ?? 0;
      const bound = Math.max(before, profile.rate);
      const t0 = elapsed();
      struck.push({ at: t0, bound });
      log(`  ${t0.toFixed(0)} s: ${fault.kind} (backlog ${before})`);
      if (fault.kind === "kill-detector") {
        const times = await restartDetector(t0);
        recoveries.push({ kind: fault.kind, atSeconds: Math.round(t0), recoverySeconds: await recovered(t0, bound), ...times });
      } else if (fault.kind === "restart-kafka" || fault.kind === "restart-cassandra") {
        await stopStack([fault.kind === "restart-kafka" ? "kafka" : "cassandra"]);
        await startStack();
        recoveries.push({ kind: fault.kind, atSeconds: Math.round(t0), recoverySeconds: await recovered(t0, bound) });
      } else {
        const cassandraNode = 1 + Math.floor(pick() * o.nodes);
        const member = await crashMember(fault.kind, { kafka, ...names, nodes: o.nodes, cassandraNode });
        log(`    crashed ${member.member}`);
        let from = t0;
        let times = {};
        if (fault.kind === "kill-detector-during-broker-loss") {
          await sleep(detectorKillAfterBrokerSeconds * 1000);
          from = elapsed();
          times = await restartDetector(from);
        }
        const recoverySeconds = await recovered(from, bound);
        while (elapsed() - t0 < (member.downSeconds ?? memberDownSeconds)) await sleep(200);
        const t1 = elapsed();
        struck.at(-1)!.returnAt = t1;
        const restored = await member.restore();
        const restartSeconds = seconds(t1);
        const afterReturnRecoverySeconds = await recovered(elapsed(), bound);
        recoveries.push({
          kind: fault.kind,
          member: member.member,
          atSeconds: Math.round(t0),
          recoverySeconds,
          restartSeconds,
          afterReturnRecoverySeconds,
          ...restored,
          ...times,
        });
      }
      log(`  recovered from ${fault.kind}: ${JSON.stringify(recoveries.at(-1))}`);
    }
    await control.loadDone;
    await Promise.all([feeder, supervisor]);
    await producer.disconnect();
    // Every malformed record sent must reach the dead-letter topic; give the detectors time to catch up.
    await waitFor(() => deadLettered.size >= malformedSent, {
      what: "every malformed record to reach the dead-letter topic",
      timeoutMs: 120_000,
      intervalMs: 500,
    }).catch(
      () => undefined, // the summary's verification counts what is missing
    );
    await dlq.disconnect();
  };

  const summary = await runLocalPipeline({
    ...localRunDefaults,
    target,
    rate: profile.rate,
    duration: profile.duration,
    settleSeconds: 60,
    during: campaign,
    onProgress: (p) =>
      process.stderr.write(
        process.stderr.isTTY
          ? `\r${p.elapsedSeconds.toFixed(0).padStart(4)} s  sent ${p.sent}  checked ${p.checked}  backlog ${p.backlog}  p99 ${p.p99Ms} ms   `
          : "",
      ),
  });
  if (process.stderr.isTTY) process.stderr.write("\n");

  const wrongReason = [...deadLettered].filter(([i, reason]) => reason !== expectedReasons[i]).length;
  // Each recovery read again from the whole run's backlog: it sees a stall that built up after the live check had
  // already passed. A member's fault is read in two parts, each from its own disruption: the crash, until the
  // member's restart began (a broker's loss stalls the pipeline only once it is fenced), and the return (its
  // restart's load, hints, a repair, the leaders moving back), until the next fault.
  const endOfSamples = (summary.samples.at(-1)?.elapsedSeconds ?? 0) + 1;
  const onLoadClock = (t: number) => t - loadStartedAt;
  const readBack = recoveries.map((r, i) => {
    const { at, bound, returnAt } = struck[i]!;
    const next = struck[i + 1] === undefined ? endOfSamples : onLoadClock(struck[i + 1]!.at);
    const read = (from: number, until: number) => recoveryFromSamples(summary.samples, { at: from, until, bound });
    return {
      ...r,
      backlogRecoverySeconds: read(onLoadClock(at), returnAt === undefined ? next : onLoadClock(returnAt)),
      ...(returnAt === undefined ? {} : { returnBacklogRecoverySeconds: read(onLoadClock(returnAt), next) }),
    };
  });
  const slowest = (r: (typeof readBack)[number]) =>
    Math.max(r.recoverySeconds, r.afterReturnRecoverySeconds ?? 0, r.backlogRecoverySeconds, r.returnBacklogRecoverySeconds ?? 0);
  const kills = readBack.filter((r) => r.kind === "kill-detector");
  const result = {
    at: new Date().toISOString(),
    profile: onCluster ? "cluster" : o.smoke ? "smoke" : "full",
    target: target.label,
    replication: { topics: target.topicReplicationFactor, keyspace: target.cassandraReplicationFactor },
    seed: o.seed,
    machine: machineFacts(),
    rate: profile.rate,
    durationSeconds: profile.duration,
    kills: kills.length,
    serverRestarts: readBack.filter((r) => r.kind !== "kill-detector").map((r) => r.kind),
    loadgenFailed: summary.loadgen.failed,
    produced: summary.produced,
    checked: summary.checked,
    stored: summary.stored,
    lost: summary.lost,
    duplicateRows: summary.duplicateRows,
    duplicateVerdicts: summary.duplicateVerdicts,
    malformedSent,
    deadLettered: deadLettered.size,
    deadLetteredWithWrongReason: wrongReason,
    maxRecoverySeconds: Math.max(0, ...readBack.map(slowest)),
    recoveryGoalSeconds,
    recoveriesOverGoal: readBack.filter((r) => slowest(r) > recoveryGoalSeconds).map((r) => r.kind),
    maxKillRecoverySeconds: Math.max(0, ...kills.map(slowest)),
    recoveryByKind: spreadByKind(readBack.map((r) => ({ kind: r.kind, seconds: slowest(r) }))),
    recoveries: readBack,
    /** The progress samples (one a second), for reading the run again: seconds since the load started. */
    timeline: {
      elapsedSeconds: summary.samples.map((x) => x.elapsedSeconds),
      backlog: summary.samples.map((x) => x.backlog),
      checkedPerSecond: summary.samples.map((x) => x.checkedPerSecond),
    },
    detectorRestarts: summary.detector.restarts,
    latencyMs: summary.latencyMs,
    precision: summary.precision,
    recall: summary.recall,
  };
  mkdirSync(o.outputDir, { recursive: true });
  const base = join(o.outputDir, onCluster ? `cluster-${o.nodes}` : "latest");
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  const chart = await writeChart(
    chaosTimelineChart(
      summary.samples,
      readBack.map((r, i) => ({ atSeconds: Math.round(onLoadClock(struck[i]!.at)), kind: r.kind, recoverySeconds: slowest(r) })),
      `Fault campaign on the ${target.label} at ${profile.rate} events/s (seed ${o.seed}): backlog, verdicts/s and each fault with its recovery`,
    ),
    `${base}-timeline`,
  );
  log(`timeline: ${chart.png}`);
  console.log(JSON.stringify(result, null, 2));
  const pass =
    result.lost === 0 &&
    result.duplicateRows === 0 &&
    result.checked >= result.produced &&
    result.deadLettered >= malformedSent &&
    wrongReason === 0 &&
    (!onCluster || result.recoveriesOverGoal.length === 0);
  console.log(
    pass
      ? `PASS: nothing lost or duplicated; every malformed record dead-lettered with its reason${onCluster ? `; every recovery within ${recoveryGoalSeconds} s` : ""}`
      : "FAIL: see above",
  );
  return pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
