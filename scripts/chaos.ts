/**
 * `npm run chaos`: the fault campaign. Under steady load, SIGKILL the detector at random moments and restart it,
 * restart the Kafka broker once and the Cassandra node once, and feed malformed records throughout. Then verify
 * from Cassandra and the topics: nothing lost, no duplicate row, every valid event checked, every malformed
 * record dead-lettered with its reason. Writes results/chaos/latest.json. `--smoke` is the test command's check.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command, Option } from "commander";
import { deadLetterHeaders } from "../app/detector/pipeline.ts";
import { waitFor } from "../app/retry.ts";
import { machineFacts } from "./bench/machine.ts";
import { planFaults, type Fault } from "./chaos/fault-plan.ts";
import { malformedRecords } from "./chaos/malformed-records.ts";
import { localRunDefaults, runLocalPipeline, type RunControl } from "./local/pipeline-run.ts";
import { ensureStack, projectRoot, startStack, stackStatus, stopStack } from "./local/stack-control.ts";

const profiles = {
  full: { rate: 500, duration: 180, kills: 5, restartKafka: true, restartCassandra: true, malformedEverySeconds: 10 },
  smoke: { rate: 150, duration: 25, kills: 2, restartKafka: false, restartCassandra: false, malformedEverySeconds: 8 },
} as const;
const caseHeader = "chaos-case";
const recoveryLimitSeconds = 90;

interface Recovery {
  readonly kind: Fault["kind"];
  readonly atSeconds: number;
  readonly recoverySeconds: number;
}

const program = new Command("chaos")
  .description("Fault campaign against the local pipeline: kills, broker and node restarts, malformed records")
  .addOption(new Option("--smoke", "a short campaign that checks the harness works (two kills, no server restarts)").default(false))
  .addOption(new Option("--seed <n>", "seed of the fault plan").default(Date.now() % 100_000).argParser(Number))
  .addOption(new Option("--output-dir <dir>", "where latest.json goes").default(join(projectRoot, "results", "chaos")));

async function main(): Promise<number> {
  program.parse();
  const o = program.opts<{ smoke: boolean; seed: number; outputDir: string }>();
  const profile = o.smoke ? profiles.smoke : profiles.full;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await ensureStack();
  const ownStack = (await stackStatus()).every((s) => s.pid !== null);
  if (!ownStack && (profile.restartKafka || profile.restartCassandra)) {
    throw new Error("the servers on our ports were not started by this checkout, so the campaign cannot restart them");
  }
  const plan = planFaults({ ...profile, startSeconds: 10, endSeconds: profile.duration - 15, seed: o.seed });
  log(`plan (seed ${o.seed}): ${plan.map((f) => `${f.kind}@${f.atSeconds}s`).join(", ")}`);

  const recoveries: Recovery[] = [];
  /** Dead letters by malformed case; a replay after a kill may dead-letter a record twice (at-least-once). */
  const deadLettered = new Map<number, { reason: string; expected: string }>();
  let malformedSent = 0;
  const expectedReasons: string[] = [];
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;

  const campaign = async (control: RunControl) => {
    const { kafka, names } = control;
    // Read the dead-letter topic from the start, while the faults go on.
    const dlq = kafka.consumer({ groupId: `${names.runId}-chaos-dlq`, maxWaitTimeInMs: 250 });
    await dlq.connect();
    await dlq.subscribe({ topics: [names.deadLetterTopic], fromBeginning: true });
    await dlq.run({
      eachMessage: ({ message }) => {
        const h = message.headers ?? {};
        const i = Number(String(h[caseHeader]));
        deadLettered.set(i, { reason: String(h[deadLetterHeaders.reason]), expected: expectedReasons[i] ?? "?" });
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
        try {
          await producer.send({
            topic: names.eventsTopic,
            messages: cases.map((c, i) => ({ key: c.key, value: c.value, headers: { [caseHeader]: String(first + i) } })),
          });
          expectedReasons.push(...cases.map((c) => c.reason));
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

    for (const fault of plan) {
      while (elapsed() < fault.atSeconds) await sleep(200);
      const before = control.latest()?.backlog ?? 0;
      const t0 = elapsed();
      log(`  ${t0.toFixed(0)} s: ${fault.kind} (backlog ${before})`);
      if (fault.kind === "kill-detector") await control.restartDetector(0, "SIGKILL");
      else {
        const server = fault.kind === "restart-kafka" ? "kafka" : "cassandra";
        await stopStack([server]);
        await startStack();
      }
      // Recovered when the backlog is back to where it was (or one second of load) again.
      const bound = Math.max(before, profile.rate);
      await sleep(2000);
      while (elapsed() - t0 < recoveryLimitSeconds && (control.latest()?.backlog ?? Infinity) > bound) await sleep(250);
      const recoverySeconds = Math.round((elapsed() - t0) * 10) / 10;
      recoveries.push({ kind: fault.kind, atSeconds: Math.round(t0), recoverySeconds });
      log(`  recovered from ${fault.kind} in ${recoverySeconds} s`);
    }
    await control.loadDone;
    await Promise.all([feeder, supervisor]);
    await producer.disconnect();
    // Every malformed record sent must reach the dead-letter topic; give the detectors time to catch up.
    await waitFor(() => deadLettered.size >= malformedSent, { what: "every malformed record to reach the dead-letter topic", timeoutMs: 120_000, intervalMs: 500 }).catch(
      () => undefined, // the summary's verification counts what is missing
    );
    await dlq.disconnect();
  };

  const summary = await runLocalPipeline({
    ...localRunDefaults,
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

  const wrongReason = [...deadLettered.values()].filter((d) => d.reason !== d.expected).length;
  const kills = recoveries.filter((r) => r.kind === "kill-detector");
  const result = {
    at: new Date().toISOString(),
    profile: o.smoke ? "smoke" : "full",
    seed: o.seed,
    machine: machineFacts(),
    rate: profile.rate,
    durationSeconds: profile.duration,
    kills: kills.length,
    serverRestarts: recoveries.filter((r) => r.kind !== "kill-detector").map((r) => r.kind),
    produced: summary.produced,
    checked: summary.checked,
    stored: summary.stored,
    lost: summary.lost,
    duplicateRows: summary.duplicateRows,
    duplicateVerdicts: summary.duplicateVerdicts,
    malformedSent,
    deadLettered: deadLettered.size,
    deadLetteredWithWrongReason: wrongReason,
    maxRecoverySeconds: Math.max(0, ...recoveries.map((r) => r.recoverySeconds)),
    maxKillRecoverySeconds: Math.max(0, ...kills.map((r) => r.recoverySeconds)),
    recoveries,
    detectorRestarts: summary.detector.restarts,
    latencyMs: summary.latencyMs,
    precision: summary.precision,
    recall: summary.recall,
  };
  mkdirSync(o.outputDir, { recursive: true });
  writeFileSync(join(o.outputDir, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  const pass =
    result.lost === 0 &&
    result.duplicateRows === 0 &&
    result.checked >= result.produced &&
    result.deadLettered >= malformedSent &&
    wrongReason === 0;
  console.log(pass ? "PASS: nothing lost or duplicated; every malformed record dead-lettered with its reason" : "FAIL: see above");
  return pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
