/**
 * One run of the whole pipeline on this machine, for real: a fresh keyspace and topics, N detector processes
 * and one load generator (the container's commands), a progress sample every second, and a verification from
 * what the servers hold (verdicts on the checks topic, rows in Cassandra) against what the generator produced.
 * `npm run local`, the benchmarks and the fault campaign run through here; the run itself (names, settings,
 * schema, processes, clean-up) is isolated-run.ts.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Kafka } from "kafkajs";
import type { DetectorConfig } from "../../app/config.ts";
import type { VerdictRecord } from "../../app/events/verdict-codec.ts";
import { stopApp, scrape, waitJoined, waitReady, type AppProcess } from "./app-process.ts";
import { DetectorMemory, type DetectorMemoryOptions, type DetectorMemorySummary } from "./detector-memory.ts";
import { IsolatedRun, newRunId, runNames, type RunNames } from "./isolated-run.ts";
import {
  ChecksCollector,
  eventName,
  injectionsOf,
  latencySummary,
  scanStored,
  scoreVerdicts,
  sizeBucketEdges,
  type Score,
} from "./verify.ts";
import { singleNodeTarget, type LocalTarget } from "./local-target.ts";

export interface LocalRunOptions {
  readonly rate: number;
  /** Seconds of the measured window: load sent after the warm-up. */
  readonly duration: number;
  /**
   * Seconds of load at the same rate before the measured window. A just-started stack and detector need it: the
   * servers' hot paths are not compiled yet and the first checks of each key fill the detector's held history and
   * Cassandra's caches, so the first seconds' latency says how cold the machine was, not how the pipeline runs.
   * Its events are verified like the rest (nothing lost, detection scored); latency and checks/s cover the
   * measured window only, and the summary reports the warm-up's latency apart. A burst's start counts from the end
   * of the warm-up.
   */
  readonly warmupSeconds?: number;
  readonly keys: number;
  readonly keyDistribution: "uniform" | "zipf";
  readonly spikeProbability: number;
  readonly shiftProbability: number;
  readonly partitions: number;
  /** Detector processes (each one consumer group member). */
  readonly detectors: number;
  readonly consumersPerProcess: number;
  readonly detectorConcurrency: number;
  readonly cassandraConnectionsPerHost: number;
  readonly tracingSampleRatio: number;
  /** The load generator's seed (default: derived from the run's producer id, so each run draws anew). */
  readonly seed?: number;
  /** The detectors' overload policy (default the app's: off). */
  readonly overload?: { readonly policy: DetectorConfig["overloadPolicy"]; readonly ageBoundMs: number };
  /** A load spike: × factor for durationSeconds, starting startSeconds into the run. */
  readonly burst?: { readonly factor: number; readonly startSeconds: number; readonly durationSeconds: number };
  /**
   * Run each detector in a cgroup with this memory limit (a pod's), its heap set from it or left to Node; a
   * detector that exits during the load is started again, as Kubernetes restarts an OOM-killed container.
   */
  readonly detectorMemory?: DetectorMemoryOptions;
  /** Keep the run's keyspace and topics afterwards. */
  readonly keep: boolean;
  /** Stop waiting for the detectors to catch up after this long without a new verdict. */
  readonly settleSeconds: number;
  readonly onProgress?: (p: ProgressSample) => void;
  /** The servers it runs on (default: the shared single-node stack). */
  readonly target?: LocalTarget;
  /** Runs while the load runs (fault injection); the run waits for it before verifying. */
  readonly during?: (control: RunControl) => Promise<void>;
  /** Given every verdict (the first of each event) once the run is verified, e.g. for the spike's latency by key class. */
  readonly inspectVerdicts?: (verdicts: Iterable<VerdictRecord>) => void;
}

export const localRunDefaults = {
  // Measured on the 2-core development machine with Kafka, Cassandra and both processes on it (README).
  rate: 1000,
  duration: 60,
  keys: 300,
  keyDistribution: "uniform",
  spikeProbability: 0.002,
  // ~110 shifts in a 60 s run, ~25 of them of 2σ–3σ (value-models.ts smallShifts): enough for the per-size
  // recall to mean something (at 0.001 a bucket held 6–13, and one miss moved its recall by 0.1).
  shiftProbability: 0.003,
  partitions: 6,
  detectors: 1,
  consumersPerProcess: 1,
  detectorConcurrency: 256,
  cassandraConnectionsPerHost: 1,
  tracingSampleRatio: 0,
  keep: false,
  settleSeconds: 30,
} as const satisfies Omit<LocalRunOptions, "onProgress" | "during" | "burst" | "inspectVerdicts">;

export interface ProgressSample {
  readonly elapsedSeconds: number;
  readonly sent: number;
  readonly sentPerSecond: number;
  readonly checked: number;
  readonly checkedPerSecond: number;
  /** Produced but not yet checked: the backlog Kafka buffers. */
  readonly backlog: number;
  readonly p99Ms: number;
  readonly detectorsUp: number;
}

/** What fault injection may do to a run. */
export interface RunControl {
  readonly names: RunNames;
  readonly kafka: Kafka;
  /** Ends detector `index` with `signal` and starts a new one; resolves when the new one is ready. */
  restartDetector(index: number, signal: NodeJS.Signals): Promise<void>;
  /** Restarts any detector that exited on its own (what Kubernetes does for a crashed pod); returns how many. */
  reviveExitedDetectors(): Promise<number>;
  /** The latest progress sample. */
  latest(): ProgressSample | null;
  /** Resolves when the load generator has finished sending. */
  readonly loadDone: Promise<void>;
  /** PIDs of the run's detectors and load generator, e.g. for CPU accounting from /proc (the benchmark). */
  pids(): { readonly detectors: readonly number[]; readonly loadgen: number | null };
}

export interface LocalRunSummary {
  readonly runId: string;
  readonly at: string;
  readonly settings: Omit<LocalRunOptions, "onProgress" | "during" | "inspectVerdicts" | "target">;
  readonly produced: number;
  readonly checked: number;
  readonly stored: number;
  readonly lost: number;
  readonly duplicateRows: number;
  readonly duplicateVerdicts: number;
  readonly anomaliesInjected: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly precision: number;
  readonly recall: number;
  readonly byKind: Score["byKind"];
  /** Per kind and size bucket (in the key's noise σ): recall within the episode (50 events for a shift), median delay. */
  readonly bySize: Score["bySize"];
  readonly inControlChecks: number;
  readonly falseAlarmsPer1000Checks: number;
  /** Shifts in a key's last events, undetected before its checks ended: in no recall (scoreVerdicts). */
  readonly censoredShifts: number;
  /** Flags after the first inside one episode: neither true nor false positives (scoreVerdicts). */
  readonly repeatFlags: number;
  readonly checksPerSecond: number;
  /** End-to-end latency of the events sent in the measured window (after the warm-up). */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
  /** With a warm-up: its length, the events of it checked, and their latency. */
  readonly warmup?: { readonly seconds: number; readonly checked: number; readonly latencyMs: LocalRunSummary["latencyMs"] };
  readonly loadgen: { readonly maxLatenessMs: number; readonly failed: number };
  readonly detector: {
    readonly processes: number;
    readonly restarts: number;
    readonly cpuSecondsPer1000Checks: number | null;
    readonly maxRssMiB: number;
    /** Checks the overload policy deferred (detector_checks_deferred_total over the run's detectors; 0 with it off). */
    readonly deferredChecks: number;
    /** Under a memory limit (detectorMemory): the limit, heap setting, peaks and OOM kills. */
    readonly memory?: DetectorMemorySummary;
  };
  readonly samples: readonly ProgressSample[];
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A detector process and the last CPU/check counters scraped from it (they reset when it restarts). */
interface DetectorSlot {
  app: AppProcess;
  cpu: number;
  checks: number;
  deferred: number;
}

export async function runLocalPipeline(o: LocalRunOptions): Promise<LocalRunSummary> {
  const target = o.target ?? singleNodeTarget;
  await target.ensure();
  // A fresh run id keeps runs apart: own keyspace, topics, consumer groups and key prefix.
  const names = runNames(newRunId());
  const { runId } = names;
  const run = await IsolatedRun.open({
    names,
    partitions: o.partitions,
    target,
    detector: {
      tracingSampleRatio: o.tracingSampleRatio,
      consumersPerProcess: o.consumersPerProcess,
      detectorConcurrency: o.detectorConcurrency,
      cassandraConnectionsPerHost: o.cassandraConnectionsPerHost,
      ...(o.overload ? { overloadPolicy: o.overload.policy, overloadAgeBoundMs: o.overload.ageBoundMs } : {}),
    },
  });
  const kafka = run.kafka;
  const checks = new ChecksCollector(kafka, names.checksTopic, `${runId}-verify`);
  await checks.start();
  const slots: DetectorSlot[] = [];
  const retired = { cpu: 0, checks: 0, deferred: 0 };
  let restarts = 0;
  const memory = o.detectorMemory ? new DetectorMemory(runId, o.detectorMemory) : null;
  let reviving = false;
  let revive = Promise.resolve();
  const startDetector = (i: number) => run.startDetector(`detector-${i}`, {}, memory?.nodeFor(i));
  try {
    for (let i = 0; i < o.detectors; i++) slots.push({ app: startDetector(i), cpu: 0, checks: 0, deferred: 0 });
    await Promise.all(slots.map((s) => waitReady(s.app)));
    await Promise.all(slots.map((s) => waitJoined(s.app)));
    const warmupSeconds = o.warmupSeconds ?? 0;
    const loadgenProcess = run.startLoadgen({
      tracingSampleRatio: o.tracingSampleRatio,
      rate: o.rate,
      duration: warmupSeconds + o.duration,
      keys: o.keys,
      keyDistribution: o.keyDistribution,
      spikeProbability: o.spikeProbability,
      shiftProbability: o.shiftProbability,
      ...(o.seed === undefined ? {} : { seed: o.seed }),
      ...(o.burst
        ? {
            burstFactor: o.burst.factor,
            burstStartSeconds: warmupSeconds + o.burst.startSeconds,
            burstDurationSeconds: o.burst.durationSeconds,
          }
        : {}),
    });
    const loadgen = loadgenProcess.app;

    // ---- progress, once a second ----
    const samples: ProgressSample[] = [];
    const started = Date.now();
    let maxRssBytes = 0;
    let lastSent = 0;
    let lastChecked = 0;
    const sample = async () => {
      const l = await scrape(loadgen).catch(() => null);
      let up = 0;
      for (const slot of slots) {
        const d = await scrape(slot.app).catch(() => null);
        if (!d) continue;
        up++;
        maxRssBytes = Math.max(maxRssBytes, d.get("process_resident_memory_bytes") ?? 0);
        memory?.observe(d);
        slot.cpu = d.get("process_cpu_seconds_total") ?? slot.cpu;
        slot.checks = d.get("detector_checks_total") ?? slot.checks;
        slot.deferred = d.get("detector_checks_deferred_total") ?? slot.deferred;
      }
      const sent = l?.get("loadgen_events_sent_total") ?? lastSent;
      const checked = checks.verdicts.size;
      const p: ProgressSample = {
        elapsedSeconds: Math.round((Date.now() - started) / 100) / 10,
        sent,
        sentPerSecond: sent - lastSent,
        checked,
        checkedPerSecond: checked - lastChecked,
        backlog: Math.max(0, sent - checked),
        p99Ms: latencySummary(checks.takeWindow()).p99,
        detectorsUp: up,
      };
      samples.push(p);
      o.onProgress?.(p);
      lastSent = sent;
      lastChecked = checked;
    };
    let sampling = Promise.resolve();
    const ticker = setInterval(() => {
      sampling = sampling.then(sample);
    }, 1000);

    const loadDone = loadgen.exited.then(() => undefined);
    const control: RunControl = {
      names,
      kafka,
      latest: () => samples.at(-1) ?? null,
      loadDone,
      pids: () => ({
        detectors: slots.flatMap((s) => (s.app.child.pid === undefined ? [] : [s.app.child.pid])),
        loadgen: loadgen.child.pid ?? null,
      }),
      reviveExitedDetectors: async () => {
        const exited = slots.flatMap((s, i) => (s.app.child.exitCode !== null || s.app.child.signalCode !== null ? [i] : []));
        for (const i of exited) await control.restartDetector(i, "SIGKILL");
        return exited.length;
      },
      restartDetector: async (i, signal) => {
        const slot = slots[i];
        if (!slot) throw new Error(`no detector ${i}`);
        await stopApp(slot.app, signal);
        retired.cpu += slot.cpu;
        retired.checks += slot.checks;
        retired.deferred += slot.deferred;
        slot.app = startDetector(i);
        slot.cpu = 0;
        slot.checks = 0;
        slot.deferred = 0;
        restarts++;
        await waitReady(slot.app);
      },
    };
    // Under a memory limit, through the load and the catch-up after it, as a pod's restart policy would.
    reviving = memory !== null;
    if (memory) revive = reviveWhile(control, () => reviving);
    const faults = o.during?.(control) ?? Promise.resolve();
    faults.catch(() => undefined); // observed below, after the load; not an unhandled rejection meanwhile

    const loadgenExit = await loadgen.exited;
    if (loadgenExit !== 0) throw new Error(`loadgen failed (${loadgenExit}):\n${loadgen.tail().join("\n")}`);
    await faults;
    const report = loadgenProcess.report();
    // Wait for the detectors to catch up: every produced event checked, or no new verdict for settleSeconds.
    let stalledSince = Date.now();
    let seen = checks.verdicts.size;
    while (checks.verdicts.size < report.sent && Date.now() - stalledSince < o.settleSeconds * 1000) {
      await sleep(500);
      if (checks.verdicts.size > seen) {
        seen = checks.verdicts.size;
        stalledSince = Date.now();
      }
    }
    reviving = false;
    await revive;
    clearInterval(ticker);
    await sampling;
    await sample();
    // A loop, not Math.max(...spread): a spike run has hundreds of thousands of verdicts.
    let lastVerdictAt = 0;
    for (const v of checks.verdicts.values()) lastVerdictAt = Math.max(lastVerdictAt, v.checkedAt);
    const exits = await Promise.all(slots.map((s) => stopApp(s.app)));
    // Under a memory limit a detector that died is the finding: the summary reports it instead.
    if (!memory && exits.some((e) => e !== 0)) throw new Error(`a detector did not stop cleanly: exits ${exits.join(", ")}`);
    await checks.stop();

    // ---- verify from the servers ----
    const stored = await scanStored(target.cassandraContactPoints, target.cassandraLocalDataCenter, names.keyspace);
    const failed = new Set(report.failedSeqs);
    let produced = 0;
    let lost = 0;
    for (let seq = 0; seq < report.scheduled; seq++) {
      if (failed.has(seq)) continue;
      produced++;
      const name = eventName(report.producer, seq);
      if (!stored.events.has(name) || !checks.verdicts.has(name)) lost++;
    }
    const score = scoreVerdicts(checks.verdicts.values(), report.injected, injectionsOf(report));
    o.inspectVerdicts?.(checks.verdicts.values());
    // Event times are the load generator's scheduled send times, on this machine's clock, as is its start.
    const measuredFrom = report.startedAt + warmupSeconds * 1000;
    const measured: VerdictRecord[] = [];
    const warmup: VerdictRecord[] = [];
    for (const v of checks.verdicts.values()) (v.time >= measuredFrom ? measured : warmup).push(v);
    const elapsed = (lastVerdictAt - measuredFrom) / 1000;
    const cpu = retired.cpu + slots.reduce((a, s) => a + s.cpu, 0);
    const checkedByDetectors = retired.checks + slots.reduce((a, s) => a + s.checks, 0);
    const { onProgress: _p, during: _d, inspectVerdicts: _i, target: _t, ...settings } = o;
    return {
      runId,
      at: new Date().toISOString(),
      settings,
      produced,
      checked: checks.verdicts.size,
      stored: stored.events.size,
      lost,
      duplicateRows: stored.rows - stored.events.size,
      duplicateVerdicts: checks.duplicates,
      anomaliesInjected: score.anomaliesInjected,
      truePositives: score.truePositives,
      falsePositives: score.falsePositives,
      precision: round(score.precision, 4),
      recall: round(score.recall, 4),
      byKind: score.byKind,
      bySize: score.bySize.map((b) => ({ ...b, recall: round(b.recall, 4) })),
      inControlChecks: score.inControlChecks,
      falseAlarmsPer1000Checks: round(score.falseAlarmsPer1000Checks, 3),
      censoredShifts: score.censored,
      repeatFlags: score.repeatFlags,
      checksPerSecond: round(measured.length / Math.max(elapsed, 1e-3), 1),
      latencyMs: latencySummary(measured.map((v) => v.checkedAt - v.time)),
      ...(warmupSeconds > 0
        ? { warmup: { seconds: warmupSeconds, checked: warmup.length, latencyMs: latencySummary(warmup.map((v) => v.checkedAt - v.time)) } }
        : {}),
      loadgen: { maxLatenessMs: report.maxLatenessMs, failed: report.failed },
      detector: {
        processes: o.detectors,
        restarts,
        cpuSecondsPer1000Checks: checkedByDetectors > 0 ? round((cpu / checkedByDetectors) * 1000, 3) : null,
        maxRssMiB: round(maxRssBytes / 2 ** 20, 1),
        deferredChecks: retired.deferred + slots.reduce((a, s) => a + s.deferred, 0),
        ...(memory ? { memory: memory.summary() } : {}),
      },
      samples,
    };
  } finally {
    reviving = false;
    await revive; // no restart may start a detector after the stop below
    await run.stopProcesses("SIGKILL", 5_000);
    memory?.remove();
    if (!o.keep) await run.drop();
  }
}

/** Starts exited detectors again each second while `on()` holds (what Kubernetes does for a crashed pod). */
async function reviveWhile(control: RunControl, on: () => boolean): Promise<void> {
  while (on()) {
    // One that dies again before it is ready is found on the next round; the summary counts the restarts.
    await control.reviveExitedDetectors().catch(() => undefined);
    await sleep(1000);
  }
}

/**
 * What a run must reach: precision, and recall within the episode (50 events for a shift) in every
 * size bucket from `recallFromSigmas` up. Shifts under 2σ are reported, not required: a 50-value baseline
 * absorbs part of a 1σ shift before the sums reach h (cusum.ts, cusumDefaults).
 */
export const passCriteria = { precision: 0.9, recall: 0.9, recallFromSigmas: sizeBucketEdges[0] } as const;

/** Did the run hold the pipeline's promises? (nothing lost or duplicated; detection quality) */
export const runPassed = (s: LocalRunSummary): boolean =>
  s.lost === 0 &&
  s.duplicateRows === 0 &&
  s.precision >= passCriteria.precision &&
  s.bySize.filter((b) => b.fromSigmas >= passCriteria.recallFromSigmas).every((b) => b.recall >= passCriteria.recall);
