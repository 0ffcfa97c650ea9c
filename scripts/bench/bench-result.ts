/** The shape of results/bench/latest.json and the targets it is held against (issue 7, this 2-core machine). */
import type { LocalRunOptions, ProgressSample } from "../local/pipeline-run.ts";
import type { CeilingResult } from "./ceiling.ts";
import type { PipelineTrial, TuningPoint } from "./pipeline-trials.ts";
import type { machineFacts } from "./machine.ts";

/** The reference reached ~383 checks/s per core; the pipeline targets 3× that per core here. */
export const benchTargets = {
  pipelineChecksPerSecond: 2300,
  ratio: 0.8,
  cpuSecondsPer1000Checks: 0.2,
  rssMb: 256,
  spikeDrainShareOfCeiling: 0.9,
} as const;

export interface BenchResult {
  readonly at: string;
  readonly profile: "full" | "smoke";
  readonly machine: ReturnType<typeof machineFacts>;
  readonly settings: Omit<LocalRunOptions, "rate" | "duration" | "onProgress" | "during">;
  readonly ceilingOpsPerSecond: number;
  readonly pipelineChecksPerSecond: number;
  readonly pipelineSustainedRate: number | null;
  readonly ratio: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly p999: number };
  readonly cpuSecondsPer1000Checks: number | null;
  readonly rssMb: number;
  readonly spike: {
    readonly lost: number;
    readonly peakLag: number;
    readonly drainSeconds: number;
    readonly drainRate: number;
    readonly drainShareOfCeiling: number;
    readonly p99AfterDrainMs: number;
    readonly baseRate: number;
    readonly factor: number;
    readonly spikeSeconds: number;
  };
  readonly targets: typeof benchTargets;
  readonly ceiling: CeilingResult;
  readonly rateSearch: readonly PipelineTrial[];
  readonly tuning: { readonly points: readonly TuningPoint[]; readonly best: Readonly<Record<string, number>> };
  readonly spikeSamples: readonly ProgressSample[];
  readonly durationSeconds: number;
}
