/** What the experiment loop needs from a target (local machine or AWS), so one loop drives both. */
import type { Progress } from "./progress.ts";
import type { WindowMetrics } from "./prometheus-query.ts";
import type { CoresPerTier, StageCost, StageResult, Target } from "./stage-result.ts";

export interface StageDescription {
  readonly name: string;
  readonly size: number;
  readonly sizeUnit: string;
  readonly sizes: StageResult["sizes"];
  readonly cores: CoresPerTier;
  /** The rate the size plan gives this stage (the default fixed rate, and where a search starts). */
  readonly planRate: number;
  /** Largest rate a search may try. */
  readonly maxRate: number;
  /** Settings that define the stage besides the rate (hashed into the result's configHash). */
  readonly config: Readonly<Record<string, unknown>>;
  cost(hours: number): StageCost;
}

export interface LoadWindow {
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
}

/** The events topic's partitions as the target reports them after a trial (not the plan's figure). */
export interface PartitionsReadBack {
  /** null when the target could not tell (e.g. no detector reported a partition in the window). */
  readonly readBack: number | null;
  /** Where the figure comes from: "kafka topic metadata" (local) or the Prometheus series counted (AWS). */
  readonly source: string;
  /**
   * Partitions the detectors reported consuming in the window (consumedPartitionsQuery: the figure the AWS
   * runner reads back), when measured besides `readBack`: locally it checks that query against a real Prometheus.
   */
  readonly consumedByDetectors?: number | null;
  /** Leaders per broker and the balance check (absent where the target does not spread partitions). */
  readonly leaderBalance?: LeaderBalanceReadBack;
}

/** Leaders per broker as read back after the stage's partitions were spread (AWS: the rebalance Job). */
export interface LeaderBalanceReadBack {
  readonly brokers: readonly number[];
  /** Partitions whose replicas the reassignment changed. */
  readonly reassigned: number;
  /** topic → broker id → partitions it led before the reassignment, and after it. */
  readonly leadersBefore: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly leadersPerBroker: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** One per pipeline topic whose most-loaded broker leads more than 1.5x the least, naming both; empty: balanced. */
  readonly problems: readonly string[];
  readonly source: string;
}

export interface TrialOutcome {
  readonly metrics: WindowMetrics;
  readonly partitions: PartitionsReadBack;
  /** Seconds actually measured (after the warm-up). */
  readonly seconds: number;
  readonly endedAt: Date;
}

export interface StageRunner {
  readonly target: Target;
  describe(stage: number): StageDescription;
  /** Deploys (or grows in place) to the stage's size and waits until everything is ready. */
  prepare(stage: number, progress: Progress, signal: AbortSignal): Promise<void>;
  /** Runs the load at `rate`: warm-up, then the measured window; reads the window from Prometheus. */
  runTrial(stage: number, rate: number, window: LoadWindow, progress: Progress, signal: AbortSignal): Promise<TrialOutcome>;
  /** Removes everything the runner set up (unless kept); safe to call more than once and after a failure. */
  teardown(progress: Progress): Promise<void>;
}

/**
 * True for an error a runner throws when it refused a stage before changing anything (a deploy that would
 * restart running Cassandra nodes): the experiment is left running as it was, never torn down for it.
 */
export const refusedBeforeChange = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { refusedBeforeChange?: unknown }).refusedBeforeChange === true;

export class AbortedError extends Error {
  override name = "AbortedError";
  constructor() {
    super("interrupted");
  }
}

export const throwIfAborted = (signal: AbortSignal): void => {
  if (signal.aborted) throw new AbortedError();
};

/** Sleeps, waking early (with AbortedError) when the signal fires. */
export async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
  throwIfAborted(signal);
}
