/**
 * The p99-bounded rate: real local runs at a fixed offered rate, searched from the drain rate downwards on a
 * warm system, each with the CPU of every process over its steady middle. Also the optional load spike and knobs.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { localRunDefaults, runLocalPipeline, type LocalRunSummary, type ProgressSample, type RunControl } from "../local/pipeline-run.ts";
import type { RunSettings } from "./drain.ts";
import { keyClassLatency, type KeyClassLatency } from "./key-class-latency.ts";
import { cpuWindow, interference, machineCores, perThousand, readCpuSnapshot, type CpuWindow } from "./proc-cpu.ts";
import { searchDownFrom, type Trial } from "./rate-search.ts";
import { stackPids } from "./server-pids.ts";

export type { RunSettings } from "./drain.ts";

/** The latency bound the pipeline is held to (real time: < 1 s from an event's scheduled time to its verdict). */
export const p99BoundMs = 1000;

export const benchRunSettings: RunSettings = { ...localRunDefaults, settleSeconds: 20 };

export interface PipelineTrial extends Trial {
  readonly checksPerSecond: number;
  readonly latencyMs: LocalRunSummary["latencyMs"];
  readonly lost: number;
  /** Over the run's steady middle: per role, CPU seconds per 1,000 checks. */
  readonly cpuSecondsPer1000Checks: Readonly<Record<string, number>>;
  readonly rssMb: number;
  readonly cpu: CpuWindow | null;
  readonly interference: string | null;
}

/** CPU of every process between `skip` seconds into the load and `tail` seconds before its end. */
const measureMiddle = (duration: number, out: { window?: CpuWindow; checks?: number }) => async (c: RunControl) => {
  const skip = Math.min(5, duration / 4);
  const tail = Math.min(2, duration / 4);
  await sleep(skip * 1000);
  const { kafka, cassandra } = await stackPids();
  const pids = c.pids();
  const roles = {
    detector: [...pids.detectors],
    loadgen: pids.loadgen === null ? [] : [pids.loadgen],
    kafka,
    cassandra,
    bench: [process.pid],
  };
  const a = readCpuSnapshot(roles);
  const checksA = c.latest()?.checked ?? 0;
  await sleep((duration - skip - tail) * 1000);
  out.window = cpuWindow(a, readCpuSnapshot(roles), machineCores());
  out.checks = (c.latest()?.checked ?? 0) - checksA;
};

export async function pipelineTrial(rate: number, duration: number, settings: RunSettings): Promise<PipelineTrial> {
  const middle: { window?: CpuWindow; checks?: number } = {};
  const s = await runLocalPipeline({ ...settings, rate, duration, during: measureMiddle(duration, middle) });
  return {
    rate,
    // Passing means keeping up: the bound held, nothing lost, and verdicts came at the offered rate.
    passed: s.latencyMs.p99 < p99BoundMs && s.lost === 0 && s.checksPerSecond >= 0.95 * rate,
    checksPerSecond: s.checksPerSecond,
    latencyMs: s.latencyMs,
    lost: s.lost,
    cpuSecondsPer1000Checks: middle.window ? perThousand(middle.window.cpuSeconds, middle.checks ?? 0) : {},
    rssMb: s.detector.maxRssMiB,
    cpu: middle.window ?? null,
    interference: middle.window ? interference(middle.window) : null,
  };
}

/** Highest rate with p99 under the bound, from `startRate` (a share of the drain rate) downwards. */
export async function searchBoundedRate(o: {
  startRate: number;
  duration: number;
  maxTrials: number;
  /** Repeats of a disturbed trial, at most, over the search. */
  maxRepeats: number;
  settings: RunSettings;
  log: (line: string) => void;
}) {
  let repeats = 0;
  const result = await searchDownFrom({
    startRate: o.startRate,
    factor: 0.8,
    resolution: 0.1,
    maxTrials: o.maxTrials,
    run: async (rate) => {
      for (;;) {
        const t = await pipelineTrial(rate, o.duration, o.settings);
        o.log(
          `  rate ${rate}/s → ${t.checksPerSecond} checks/s, p99 ${t.latencyMs.p99} ms, lost ${t.lost}: ${t.passed ? "pass" : "fail"}` +
            (t.interference ? ` (disturbed: ${t.interference})` : ""),
        );
        if (t.interference === null || repeats >= o.maxRepeats) return t;
        repeats++;
      }
    },
  });
  return { ...result, repeats };
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
  /** The overload policy's figures (absent in results from before it). */
  readonly overload?: SpikeOverload;
  readonly samples: readonly ProgressSample[];
}

/** One spike run's overload policy and what it did. */
export interface SpikeOverload {
  readonly policy: "off" | "priority";
  readonly ageBoundMs: number;
  /** The load generator's seed: the pair of runs (policy off, on) draws the same events. */
  readonly seed: number;
  /** Checks the policy started after a later-ready priority key's (detector_checks_deferred_total). */
  readonly deferredChecks: number;
  /** End-to-end latency of checks of keys flagged within the priority window before them, and of the rest. */
  readonly latency: KeyClassLatency;
}

/** The overload policy's bound in the spike benchmark: the app's default. */
export const spikeOverloadAgeBoundMs = 5000;
/** The spike pair's seed (any fixed number: both runs of a pair draw the same events). */
export const spikeSeed = 1515;

/** Kafka as a buffer: base load, a burst of factor × base for spikeSeconds, then base load until drained. */
export async function spikeRun(o: {
  baseRate: number;
  factor: number;
  warmupSeconds: number;
  spikeSeconds: number;
  tailSeconds: number;
  settings: RunSettings;
  /** The detector's overload policy, its age bound and the load's seed. @default off, 5000 ms, spikeSeed */
  overload?: { readonly policy: "off" | "priority"; readonly ageBoundMs?: number; readonly seed?: number };
  onProgress?: (p: ProgressSample) => void;
}): Promise<SpikeResult> {
  const policy = o.overload?.policy ?? "off";
  const ageBoundMs = o.overload?.ageBoundMs ?? spikeOverloadAgeBoundMs;
  const seed = o.overload?.seed ?? spikeSeed;
  const seen: { latency?: KeyClassLatency } = {};
  const s = await runLocalPipeline({
    ...o.settings,
    rate: o.baseRate,
    duration: o.warmupSeconds + o.spikeSeconds + o.tailSeconds,
    burst: { factor: o.factor, startSeconds: o.warmupSeconds, durationSeconds: o.spikeSeconds },
    seed,
    overload: { policy, ageBoundMs },
    inspectVerdicts: (verdicts) => (seen.latency = keyClassLatency(verdicts)),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const overload: SpikeOverload | undefined =
    seen.latency === undefined ? undefined : { policy, ageBoundMs, seed, deferredChecks: s.detector.deferredChecks, latency: seen.latency };
  return { ...analyseSpike(s.samples, o), lost: s.lost, ...(overload ? { overload } : {}), samples: s.samples };
}

/** The spike twice with the same seed and rates: the overload policy off, then on ("priority"). */
export async function spikePair(o: Omit<Parameters<typeof spikeRun>[0], "overload"> & { log?: (line: string) => void }) {
  const { log, ...run } = o;
  const off = await spikeRun({ ...run, overload: { policy: "off" } });
  log?.(`  overload policy off: ${spikeLine(off)}`);
  const on = await spikeRun({ ...run, overload: { policy: "priority" } });
  log?.(`  overload policy priority: ${spikeLine(on)}`);
  return { off, on };
}

/** A spike run in one line: lost, peak lag, deferred, and priority keys' latency against the others'. */
export function spikeLine(r: SpikeResult): string {
  const base = `lost ${r.lost}, peak lag ${r.peakLag}, drained in ${r.drainSeconds} s`;
  const ov = r.overload;
  if (!ov) return base;
  const { priority: p, others: n } = ov.latency;
  return (
    `${base}, deferred ${ov.deferredChecks}; priority keys' checks ${p.checks} p50/p99 ${p.p50Ms}/${p.p99Ms} ms, mean completion rank ${p.meanRank}; ` +
    `others ${n.checks} p50/p99 ${n.p50Ms}/${n.p99Ms} ms, rank ${n.meanRank}`
  );
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
  const after = drained
    ? samples.filter((p) => p.elapsedSeconds > drained.elapsedSeconds && p.elapsedSeconds <= drained.elapsedSeconds + 10)
    : [];
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
  grid: Readonly<Record<string, readonly number[]>>;
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
