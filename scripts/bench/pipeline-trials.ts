/**
 * Pipeline benchmark pieces built on real local runs: a trial at a fixed rate, the rate search, the load
 * spike (Kafka as a buffer) and the tuning grid.
 */
import { localRunDefaults, runLocalPipeline, type LocalRunOptions, type LocalRunSummary, type ProgressSample } from "../local/pipeline-run.ts";
import { searchMaxRate, type Trial } from "./rate-search.ts";

/** The latency bound the pipeline is held to (DESIGN.md: < 1 s real time). */
export const p99BoundMs = 1000;

export type RunSettings = Omit<LocalRunOptions, "rate" | "duration" | "onProgress" | "during">;
export const benchRunSettings: RunSettings = { ...localRunDefaults, settleSeconds: 20 };

export interface PipelineTrial extends Trial {
  readonly checksPerSecond: number;
  readonly latencyMs: LocalRunSummary["latencyMs"];
  readonly lost: number;
  readonly cpuSecondsPer1000Checks: number | null;
  readonly rssMb: number;
}

const trialOf = (rate: number, s: LocalRunSummary): PipelineTrial => ({
  rate,
  // Passing means keeping up: the bound held, nothing lost, and verdicts came at the offered rate.
  passed: s.latencyMs.p99 < p99BoundMs && s.lost === 0 && s.checksPerSecond >= 0.95 * rate,
  checksPerSecond: s.checksPerSecond,
  latencyMs: s.latencyMs,
  lost: s.lost,
  cpuSecondsPer1000Checks: s.detector.cpuSecondsPer1000Checks,
  rssMb: s.detector.maxRssMiB,
});

export async function pipelineTrial(
  rate: number,
  duration: number,
  settings: RunSettings,
  onProgress?: (p: ProgressSample) => void,
): Promise<PipelineTrial> {
  return trialOf(rate, await runLocalPipeline({ ...settings, rate, duration, ...(onProgress ? { onProgress } : {}) }));
}

export async function searchPipelineRate(o: {
  startRate: number;
  maxRate: number;
  duration: number;
  maxTrials: number;
  settings: RunSettings;
  log: (line: string) => void;
}) {
  return searchMaxRate({
    startRate: o.startRate,
    maxRate: o.maxRate,
    resolution: 0.1,
    maxTrials: o.maxTrials,
    run: async (rate) => {
      const t = await pipelineTrial(rate, o.duration, o.settings);
      o.log(
        `  rate ${rate}/s → ${t.checksPerSecond} checks/s, p99 ${t.latencyMs.p99} ms, lost ${t.lost}: ${t.passed ? "pass" : "fail"}`,
      );
      return t;
    },
  });
}

export interface SpikeResult {
  readonly baseRate: number;
  readonly factor: number;
  readonly spikeSeconds: number;
  readonly lost: number;
  readonly peakLag: number;
  /** From the end of the spike until the backlog is back to one second of base load. */
  readonly drainSeconds: number;
  /** Checks per second while draining (backlog at the spike's end + base arrivals, over drainSeconds). */
  readonly drainRate: number;
  /** p99 of verdicts in the 10 s after the drain. */
  readonly p99AfterDrainMs: number;
  readonly samples: readonly ProgressSample[];
}

/** Kafka as a buffer: base load, a burst of factor × base for spikeSeconds, then base load until drained. */
export async function spikeRun(o: {
  baseRate: number;
  factor: number;
  warmupSeconds: number;
  spikeSeconds: number;
  tailSeconds: number;
  settings: RunSettings;
  onProgress?: (p: ProgressSample) => void;
}): Promise<SpikeResult> {
  const s = await runLocalPipeline({
    ...o.settings,
    rate: o.baseRate,
    duration: o.warmupSeconds + o.spikeSeconds + o.tailSeconds,
    burst: { factor: o.factor, startSeconds: o.warmupSeconds, durationSeconds: o.spikeSeconds },
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  return { ...analyseSpike(s.samples, o), lost: s.lost, samples: s.samples };
}

/** Peak backlog, drain time and drain rate from the run's once-a-second samples. */
export function analyseSpike(
  samples: readonly ProgressSample[],
  o: { baseRate: number; factor: number; warmupSeconds: number; spikeSeconds: number },
): Omit<SpikeResult, "lost" | "samples"> {
  const spikeEnd = o.warmupSeconds + o.spikeSeconds;
  const peak = samples.reduce((m, p) => Math.max(m, p.backlog), 0);
  const atEnd = samples.filter((p) => p.elapsedSeconds <= spikeEnd).at(-1) ?? samples[0];
  const drained = samples.find((p) => p.elapsedSeconds > spikeEnd && p.backlog <= o.baseRate);
  const drainSeconds = drained ? drained.elapsedSeconds - spikeEnd : Number.POSITIVE_INFINITY;
  const drainRate = drained && atEnd ? (atEnd.backlog + o.baseRate * drainSeconds) / Math.max(drainSeconds, 1) : 0;
  const after = drained ? samples.filter((p) => p.elapsedSeconds > drained.elapsedSeconds && p.elapsedSeconds <= drained.elapsedSeconds + 10) : [];
  return {
    baseRate: o.baseRate,
    factor: o.factor,
    spikeSeconds: o.spikeSeconds,
    peakLag: peak,
    drainSeconds: Math.round(drainSeconds * 10) / 10,
    drainRate: Math.round(drainRate),
    p99AfterDrainMs: after.reduce((m, p) => Math.max(m, p.p99Ms), 0),
  };
}

export interface TuningPoint {
  readonly knob: string;
  readonly value: number;
  readonly checksPerSecond: number;
  readonly p99Ms: number;
}

/** One knob at a time around the defaults, each run offered more than the pipeline can take. */
export async function tuningGrid(o: {
  rate: number;
  duration: number;
  settings: RunSettings;
  grid: Readonly<Record<"detectorConcurrency" | "consumersPerProcess" | "cassandraConnectionsPerHost" | "partitions" | "detectors", readonly number[]>>;
  log: (line: string) => void;
}): Promise<{ points: TuningPoint[]; best: Record<string, number> }> {
  const points: TuningPoint[] = [];
  const best: Record<string, number> = {};
  for (const [knob, values] of Object.entries(o.grid)) {
    let top: TuningPoint | null = null;
    for (const value of values) {
      const s = await runLocalPipeline({ ...o.settings, [knob]: value, rate: o.rate, duration: o.duration });
      const point = { knob, value, checksPerSecond: s.checksPerSecond, p99Ms: s.latencyMs.p99 };
      o.log(`  ${knob} = ${value}: ${point.checksPerSecond} checks/s, p99 ${point.p99Ms} ms`);
      points.push(point);
      if (!top || point.checksPerSecond > top.checksPerSecond) top = point;
    }
    if (top) best[knob] = top.value;
  }
  return { points, best };
}
