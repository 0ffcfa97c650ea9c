/** The shape of results/bench/latest.json and the targets it is held against (on this 2-core machine). */
import type { CeilingStep } from "./ceiling.ts";
import type { DrainTrial, RunSettings } from "./drain.ts";
import type { HistoryModesResult } from "./history-modes.ts";
import type { RunTrial } from "./interleave.ts";
import type { machineFacts } from "./machine.ts";
import type { PipelineTrial, SpikeResult, TuningPoint } from "./pipeline-trials.ts";
import type { SpatialThroughputResult } from "./spatial-throughput.ts";
import type { Spread } from "./stats.ts";
import type { WarmupResult } from "./warmup.ts";

/** The reference reached ~383 checks/s per core; the pipeline targets 3× that per core here. */
export const benchTargets = {
  pipelineChecksPerSecond: 2300,
  ratio: 0.8,
  cpuSecondsPer1000Checks: 0.2,
  rssMb: 256,
} as const;

export interface BenchResult {
  readonly at: string;
  readonly profile: "full" | "smoke";
  readonly machine: ReturnType<typeof machineFacts>;
  readonly settings: RunSettings;
  readonly warmup: WarmupResult;
  /** Closed-loop concurrency of the ceiling trials (the best of a scan after the warm-up). */
  readonly ceilingConcurrency: number;
  readonly ceilingScan: readonly CeilingStep[];
  /** Interleaved trials: min / median / max over the trials (n each). */
  readonly ceilingOpsPerSecond: Spread;
  /** Checks/s while the detectors work off a preloaded backlog: the pipeline's capacity on this machine. */
  readonly drainChecksPerSecond: Spread;
  /** Drain ÷ ceiling of each adjacent pair. */
  readonly ratio: Spread;
  /** Highest offered rate with p99 < 1 s, searched from the drain rate down; null when none passed. */
  readonly p99BoundedRate: number | null;
  /** That rate ÷ the median drain rate. */
  readonly p99BoundedShareOfDrain: number | null;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly p999: number } | null;
  /** Median over the drain trials: CPU seconds per 1,000 checks per process (loadgen: per 1,000 events produced). */
  readonly cpuSecondsPer1000Checks: Readonly<Record<string, number>>;
  /** The same at the p99-bounded rate, all processes running together. */
  readonly cpuSecondsPer1000ChecksAtBoundedRate: Readonly<Record<string, number>> | null;
  /** Which process used the most CPU per check at saturation, and its share of our processes' CPU. */
  readonly bottleneck: { readonly process: string; readonly share: number };
  /** Detector peak RSS over the drain trials (saturated), MiB. */
  readonly detectorMaxRssMiB: number;
  readonly interference: {
    readonly limits: { readonly maxForeignShare: number };
    /** Trials run again because others used the machine. */
    readonly repeats: number;
    readonly maxRepeats: number;
    /** Kept trials that were disturbed all the same (repeats ran out). */
    readonly disturbedKept: number;
  };
  readonly trials: readonly RunTrial<CeilingStep | DrainTrial>[];
  readonly rateSearch: readonly PipelineTrial[];
  /** The load spike with the overload policy off (the pair's first run). */
  readonly spike: SpikeResult | null;
  /** The same spike (same seed and rates) with the overload policy on; absent in results from before it. */
  readonly spikeWithOverloadPolicy?: SpikeResult | null;
  /** Per neighbour strategy: checks/s draining the hot-spot backlog, relative to the non-spatial detector's. */
  readonly spatial: SpatialThroughputResult | null;
  /** The drain with held history and with a read every check, interleaved; absent in results from before it. */
  readonly historyModes?: HistoryModesResult | null;
  readonly tuning: { readonly points: readonly TuningPoint[]; readonly best: Readonly<Record<string, number>> } | null;
  readonly targets: typeof benchTargets;
  readonly durationSeconds: number;
}

/** What `npm run bench -- --only-history` writes (history-modes.json; a full run writes it as well). */
export interface HistoryModesOnlyResult {
  readonly at: string;
  readonly profile: "full" | "smoke";
  readonly machine: ReturnType<typeof machineFacts>;
  readonly settings: RunSettings;
  readonly historyModes: HistoryModesResult;
  readonly durationSeconds: number;
}

/** What `npm run bench -- --only-spike` writes: the spike pair alone (policy off, then on), no other phase. */
export interface SpikeOnlyResult {
  readonly at: string;
  readonly profile: "full" | "smoke";
  readonly machine: ReturnType<typeof machineFacts>;
  readonly settings: RunSettings;
  readonly spike: SpikeResult;
  readonly spikeWithOverloadPolicy: SpikeResult;
  readonly durationSeconds: number;
}
