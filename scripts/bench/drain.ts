/**
 * Capacity by saturation: a backlog of N events is produced with no detector running (the load generator at a
 * high rate), then the detectors start and the rate at which they work it off is measured between two marks
 * (by default 30 % and 95 % of the backlog checked, past the start-up and the keys' first window of history, and
 * before the tail). The detectors' own check counters are read; no verdict is collected, so the harness costs
 * next to nothing while it measures.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { DetectorConfig } from "../../app/config.ts";
import { waitWhileMoving } from "../../app/retry.ts";
import { scrape, type AppProcess } from "../local/app-process.ts";
import { IsolatedRun, newRunId, runNames } from "../local/isolated-run.ts";
import type { LocalRunOptions } from "../local/pipeline-run.ts";
import {
  clockTicks,
  cpuWindow,
  interference,
  machineCores,
  perThousand,
  readCpuSnapshot,
  type CpuSnapshot,
  type CpuWindow,
  type Roles,
} from "./proc-cpu.ts";
import { stackPids } from "./server-pids.ts";

export type RunSettings = Omit<LocalRunOptions, "rate" | "duration" | "onProgress" | "during">;

export interface DrainTrial {
  readonly events: number;
  /** Checks per second between the marks. */
  readonly checksPerSecond: number;
  /** How long the preload took, and the rate it reached. */
  readonly preloadSeconds: number;
  readonly preloadRate: number;
  /** From the detectors being ready to the last mark. */
  readonly drainSeconds: number;
  /** CPU seconds per 1,000 checks: detector, Kafka, Cassandra, the harness (bench); loadgen per 1,000 events produced. */
  readonly cpuSecondsPer1000Checks: Readonly<Record<string, number>>;
  readonly detectorMaxRssMiB: number;
  readonly cpu: CpuWindow;
  readonly interference: string | null;
  /** Seconds from the detectors being ready to the low and the high mark. */
  readonly marksAtSeconds: readonly [number, number];
}

const sumOver = async (apps: readonly AppProcess[], metric: string) => {
  let total = 0;
  for (const a of apps) total += (await scrape(a).catch(() => null))?.get(metric) ?? 0;
  return total;
};

/** A run on its own topics and keyspace, its detectors set up as the run settings say (and `detector`). */
export const openBenchRun = (prefix: string, s: RunSettings, detector: Partial<DetectorConfig> = {}): Promise<IsolatedRun> =>
  IsolatedRun.open({
    names: runNames(newRunId(prefix)),
    partitions: s.partitions,
    detector: {
      tracingSampleRatio: s.tracingSampleRatio,
      consumersPerProcess: s.consumersPerProcess,
      detectorConcurrency: s.detectorConcurrency,
      cassandraConnectionsPerHost: s.cassandraConnectionsPerHost,
      ...detector,
    },
  });

/**
 * A backlog of about `events` events on the run's topic, written by one load generator at `rate` with no
 * detector running. Resolves once it has exited, with what it sent and its CPU (read while it ran: it is gone
 * once it exits).
 */
export async function preloadBacklog(
  run: IsolatedRun,
  s: RunSettings,
  events: number,
  rate: number,
): Promise<{ produced: number; seconds: number; loadgenCpuSeconds: number }> {
  const started = Date.now();
  const loadgen = run.startLoadgen({
    tracingSampleRatio: s.tracingSampleRatio,
    rate,
    duration: events / rate,
    keys: s.keys,
    keyDistribution: s.keyDistribution,
    spikeProbability: s.spikeProbability,
    shiftProbability: s.shiftProbability,
  });
  const pid = loadgen.app.child.pid ?? -1;
  let last: CpuSnapshot | null = null;
  const watch = (async () => {
    while (loadgen.app.child.exitCode === null && loadgen.app.child.signalCode === null) {
      last = readCpuSnapshot({ loadgen: [pid] });
      await sleep(200);
    }
  })();
  const exit = await loadgen.app.exited;
  await watch;
  if (exit !== 0) throw new Error(`loadgen failed (${exit}):\n${loadgen.app.tail().join("\n")}`);
  return {
    produced: loadgen.report().sent,
    seconds: (Date.now() - started) / 1000,
    loadgenCpuSeconds: ((last as CpuSnapshot | null)?.roleTicks.loadgen ?? 0) / clockTicks,
  };
}

export async function drainTrial(o: {
  events: number;
  preloadRate: number;
  settings: RunSettings;
  marks?: readonly [number, number];
  /** Give up when the count has not moved for this long. */
  stallSeconds?: number;
  /** Detector settings beyond the run settings' (e.g. the concurrency mode). */
  detector?: Partial<DetectorConfig>;
  /** Called on every poll of the drain with the detectors and the seconds since they were ready. */
  probe?: (detectors: readonly AppProcess[], seconds: number) => Promise<void>;
}): Promise<DrainTrial> {
  const [lowMark, highMark] = o.marks ?? [0.3, 0.95];
  const s = o.settings;
  const run = await openBenchRun("d", s, o.detector);
  try {
    const { kafka, cassandra } = await stackPids();
    const preload = await preloadBacklog(run, s, o.events, o.preloadRate);
    const produced = preload.produced;

    const detectors = await run.startDetectors(s.detectors);
    const readyAt = Date.now();
    const roles: Roles = { detector: detectors.map((d) => d.child.pid ?? -1), kafka, cassandra, bench: [process.pid] };
    const low = Math.ceil(produced * lowMark);
    const high = Math.floor(produced * highMark);
    // Filled by the probe below: the CPU snapshot and check count at each mark.
    const marks: { start?: { snap: CpuSnapshot; checks: number; at: number }; end?: { snap: CpuSnapshot; checks: number; at: number } } =
      {};
    const since = () => (Date.now() - readyAt) / 1000;
    let maxRss = 0;
    await waitWhileMoving(
      async () => {
        const checks = await sumOver(detectors, "detector_checks_total");
        if (marks.start === undefined && checks >= low) marks.start = { snap: readCpuSnapshot(roles), checks, at: since() };
        else if (marks.start !== undefined && checks >= high) marks.end = { snap: readCpuSnapshot(roles), checks, at: since() };
        if (marks.start !== undefined) maxRss = Math.max(maxRss, await sumOver(detectors.slice(0, 1), "process_resident_memory_bytes"));
        await o.probe?.(detectors, since());
        return checks;
      },
      {
        what: `drain of ${produced} events`,
        until: () => marks.end !== undefined,
        stallMs: (o.stallSeconds ?? 60) * 1000,
        intervalMs: 100,
      },
    );
    const { start, end } = marks;
    if (start === undefined || end === undefined) throw new Error("unreachable: the drain ended without its marks");
    const cpu = cpuWindow(start.snap, end.snap, machineCores());
    const checked = end.checks - start.checks;
    return {
      events: produced,
      checksPerSecond: Math.round(checked / cpu.seconds),
      preloadSeconds: Math.round(preload.seconds * 10) / 10,
      preloadRate: Math.round(produced / preload.seconds),
      drainSeconds: Math.round((Date.now() - readyAt) / 100) / 10,
      cpuSecondsPer1000Checks: {
        ...perThousand(cpu.cpuSeconds, checked),
        ...perThousand({ loadgen: preload.loadgenCpuSeconds }, produced),
      },
      detectorMaxRssMiB: Math.round((maxRss / 2 ** 20) * 10) / 10,
      cpu,
      interference: interference(cpu),
      marksAtSeconds: [start.at, end.at],
    };
  } finally {
    await run.stopProcesses("SIGKILL", 5_000);
    await run.drop();
  }
}
