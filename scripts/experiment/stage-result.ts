/**
 * One stage's result as written to `stage-<n>.json`, and the figures derived across stages (per core,
 * scaling efficiency) for the CSV, the charts and the report.
 */
import { createHash } from "node:crypto";
import type { WindowMetrics } from "./prometheus-query.ts";
import type { LeaderBalanceReadBack } from "./stage-runner.ts";

/** aws: the cloud; local: detector processes on the single-node stack; local-cluster: the multi-node local cluster. */
export type Target = "aws" | "local" | "local-cluster";

/** The p99 bound a stage (and a rate-search trial) must stay under. */
export const p99BoundMs = 1_000;

export interface CoresPerTier {
  readonly cassandra: number | null;
  readonly kafka: number | null;
  readonly workers: number | null;
  /** All cores the stage runs on (local: the machine's, shared by every tier). */
  readonly total: number;
  readonly shared: boolean;
}

export interface StageCost {
  /** USD per hour from the cost model, null when it does not apply (local). */
  readonly perHour: number | null;
  readonly hours: number;
  readonly total: number | null;
  readonly partial: boolean;
  readonly priceListAsOf: string | null;
  readonly note: string;
}

export interface RateTrial {
  readonly rate: number;
  readonly passed: boolean;
  readonly checksPerSecond: number;
  readonly p99Ms: number | null;
}

export interface StageResult {
  readonly schema: 1;
  readonly experimentId: string;
  readonly target: Target;
  readonly stage: { readonly name: string; readonly index: number; readonly size: number; readonly sizeUnit: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly git: { readonly revision: string; readonly dirty: boolean };
  readonly config: Readonly<Record<string, unknown>>;
  readonly configHash: string;
  readonly sizes: {
    readonly cassandraNodes: number;
    readonly kafkaBrokers: number;
    /** Read back from the target after the measured trial when it could tell (see `partitions`), else the plan's. */
    readonly partitions: number;
    readonly detectorProcesses: number;
    readonly loadgenProcesses: number;
    readonly eksWorkers: number | null;
  };
  /** The events topic's partitions: the plan's and the figure read back (absent in results older than this field). */
  readonly partitions?: {
    readonly planned: number;
    readonly readBack: number | null;
    readonly source: string;
    readonly consumedByDetectors?: number | null;
    /** Leaders per broker after the partitions were spread, and the 1.5x check (a problem fails the stage). */
    readonly leaderBalance?: LeaderBalanceReadBack;
  };
  readonly cores: CoresPerTier;
  readonly rate: { readonly mode: "plan" | "fixed" | "search"; readonly target: number; readonly trials: readonly RateTrial[] };
  readonly window: { readonly warmupSeconds: number; readonly seconds: number; readonly endedAt: string };
  readonly metrics: WindowMetrics;
  readonly checksPerSecondPerCore: number;
  readonly passed: boolean;
  readonly cost: StageCost;
}

/** A stable JSON form (keys sorted at every level) so equal configs hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export const configHash = (config: unknown): string => `sha256:${createHash("sha256").update(canonicalJson(config)).digest("hex")}`;

export const passes = (m: Pick<WindowMetrics, "latencyMs" | "checksPerSecond">): boolean =>
  m.checksPerSecond > 0 && m.latencyMs.p99 !== null && m.latencyMs.p99 < p99BoundMs;

export const perCore = (checksPerSecond: number, cores: number): number => (cores > 0 ? checksPerSecond / cores : 0);

export interface DerivedRow {
  readonly result: StageResult;
  /** Throughput relative to the first (smallest) stage, divided by the size ratio: 1 = linear scaling. */
  readonly scalingEfficiency: number | null;
  /** Checks/s per core relative to the first stage's. */
  readonly perCoreEfficiency: number | null;
}

/** Orders stages by size and derives the efficiencies against the smallest one. */
export function deriveRows(results: readonly StageResult[]): DerivedRow[] {
  const sorted = [...results].sort((a, b) => a.stage.size - b.stage.size);
  const base = sorted[0];
  return sorted.map((result) => {
    if (base === undefined || base.metrics.checksPerSecond <= 0 || base.stage.size <= 0) {
      return { result, scalingEfficiency: null, perCoreEfficiency: null };
    }
    const speedup = result.metrics.checksPerSecond / base.metrics.checksPerSecond;
    const growth = result.stage.size / base.stage.size;
    return {
      result,
      scalingEfficiency: speedup / growth,
      perCoreEfficiency: base.checksPerSecondPerCore > 0 ? result.checksPerSecondPerCore / base.checksPerSecondPerCore : null,
    };
  });
}
