/**
 * Spatial throughput: the non-spatial pipeline and each neighbour strategy drain the same backlog of
 * located events (the load generator's hot-spot workload, one seed), in one run, interleaved (the order rotates
 * each repeat, so a slow spell of this shared machine does not fall on one mode only). Per mode: checks/s of the
 * drain, relative to the non-spatial drain of the same repeat; for the strategies, precision/recall of the
 * injected spatial anomalies, and how the neighbour search went (rounds, truncated reads: a search that was
 * never cut at the candidate limit proved its k nearest by coverage, so its neighbour recall is 1 — the
 * integration tests measure it against brute force, test/app/spatial-neighbours.int.test.ts).
 */
import { waitWhileMoving } from "../../app/retry.ts";
import type { LoadgenReport } from "../../app/loadgen/loadgen.ts";
import type { SpatialInjection } from "../../app/loadgen/spatial-model.ts";
import type { VerdictRecord } from "../../app/events/verdict-codec.ts";
import { spatialStrategyNames, type SpatialStrategyName } from "../../app/spatial/neighbours.ts";
import { waitReady } from "../local/app-process.ts";
import { IsolatedRun, newRunId, runNames } from "../local/isolated-run.ts";
import { ensureStack } from "../local/stack-control.ts";
import { ChecksCollector } from "../local/verify.ts";
import { localRunDefaults } from "../local/pipeline-run.ts";
import { spread, type Spread } from "./stats.ts";

const pick = <T extends object, K extends keyof T>(o: T, ...keys: K[]): Pick<T, K> =>
  Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;

export type SpatialMode = "off" | SpatialStrategyName;
export const spatialModes: readonly SpatialMode[] = ["off", ...spatialStrategyNames];

export interface SpatialThroughputSettings {
  /** Events in each mode's backlog (rate × duration of the load generator's run before the detector starts). */
  readonly rate: number;
  readonly duration: number;
  readonly keys: number;
  readonly partitions: number;
  readonly detectorConcurrency: number;
  readonly repeats: number;
  readonly seed: number;
  /** Events before this sequence number are the warm-up (the tables fill): left out of precision. */
  readonly warmupEvents: number;
  readonly onProgress?: (line: string) => void;
}

export const spatialThroughputDefaults = {
  // Keys and partitions of the plain local run, so "off" is the pipeline npm run local measures.
  ...pick(localRunDefaults, "keys", "partitions"),
  rate: 1000,
  duration: 10,
  // Each spatial check reads several cells or index pages at once: at 256 one connection saw 2,048 requests in
  // flight (the driver's limit) and the retries slowed the drain; 64 stays below it.
  detectorConcurrency: 64,
  repeats: 1,
  seed: 1616,
  warmupEvents: 1000,
} as const satisfies Omit<SpatialThroughputSettings, "onProgress">;

/** The modes' order in each repeat: rotated by one every repeat (off, geohash, sai; geohash, sai, off; …). */
export function interleavedModes(modes: readonly SpatialMode[], repeats: number): { repeat: number; mode: SpatialMode }[] {
  const order: { repeat: number; mode: SpatialMode }[] = [];
  for (let r = 0; r < repeats; r++) for (let i = 0; i < modes.length; i++) order.push({ repeat: r, mode: modes[(i + r) % modes.length]! });
  return order;
}

export interface SpatialScore {
  readonly checked: number;
  readonly spatiallyChecked: number;
  /** Value outliers (the spatial anomaly the check is for): injected, flagged by the spatial verdict. */
  readonly valueOutliers: number;
  readonly valueOutliersFlagged: number;
  /** Spatial flags after the warm-up: on an injected value outlier / on anything else (incl. misplaced points). */
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly precision: number | null;
  readonly recall: number | null;
  /** Misplaced points: injected; their nearest previous event's median distance (m), vs the ordinary events'. */
  readonly misplaced: number;
  readonly misplacedNearestMedianMetres: number | null;
  readonly ordinaryNearestMedianMetres: number | null;
  readonly rounds: { readonly mean: number; readonly max: number };
  readonly truncated: number;
  /** Share of spatial searches not cut at the candidate limit: their neighbour recall is 1 (proved by coverage). */
  readonly untruncatedShare: number | null;
}

const median = (xs: readonly number[]): number | null => (xs.length === 0 ? null : spread(xs, 6).median);
const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

/** The spatial verdicts against the generator's ground truth (pure). */
export function scoreSpatial(verdicts: Iterable<VerdictRecord>, truth: readonly SpatialInjection[], warmupEvents: number): SpatialScore {
  const all = [...verdicts];
  const spatial = all.filter((v) => v.spatial !== undefined);
  const kindOf = new Map(truth.map((t) => [t.seq, t.kind]));
  const bySeq = new Map(all.map((v) => [v.seq, v]));
  const outliers = truth
    .filter((t) => t.kind === "value")
    .map((t) => bySeq.get(t.seq))
    .filter((v) => v?.spatial !== undefined);
  const warmFlags = spatial.filter((v) => v.seq >= warmupEvents && v.spatial!.anomaly);
  const truePositives = warmFlags.filter((v) => kindOf.get(v.seq) === "value").length;
  const valueOutliersFlagged = outliers.filter((v) => v!.spatial!.anomaly).length;
  const nearest = (vs: readonly (VerdictRecord | undefined)[]) =>
    vs.flatMap((v) => (v?.spatial?.nearestMetres === null || v?.spatial?.nearestMetres === undefined ? [] : [v.spatial.nearestMetres]));
  const rounds = spatial.map((v) => v.spatial!.rounds);
  const truncated = spatial.filter((v) => v.spatial!.truncated).length;
  return {
    checked: all.length,
    spatiallyChecked: spatial.length,
    valueOutliers: outliers.length,
    valueOutliersFlagged,
    truePositives,
    falsePositives: warmFlags.length - truePositives,
    precision: ratio(truePositives, warmFlags.length),
    recall: ratio(valueOutliersFlagged, outliers.length),
    misplaced: truth.filter((t) => t.kind === "misplaced").length,
    misplacedNearestMedianMetres: median(nearest(truth.filter((t) => t.kind === "misplaced").map((t) => bySeq.get(t.seq)))),
    ordinaryNearestMedianMetres: median(nearest(spatial.filter((v) => v.seq >= warmupEvents && !kindOf.has(v.seq)))),
    rounds: { mean: rounds.length === 0 ? 0 : rounds.reduce((a, b) => a + b, 0) / rounds.length, max: Math.max(0, ...rounds) },
    truncated,
    untruncatedShare: ratio(spatial.length - truncated, spatial.length),
  };
}

/** Checks per second of a drain: the backlog over the time from the detector's start to its last verdict (pure). */
export function drainRate(
  verdicts: Iterable<Pick<VerdictRecord, "checkedAt">>,
  startedAtMs: number,
): { checks: number; seconds: number; checksPerSecond: number } {
  let checks = 0;
  let last = startedAtMs;
  for (const v of verdicts) {
    checks += 1;
    last = Math.max(last, v.checkedAt);
  }
  const seconds = (last - startedAtMs) / 1000;
  return { checks, seconds, checksPerSecond: seconds > 0 ? checks / seconds : 0 };
}

export interface SpatialTrial {
  readonly repeat: number;
  readonly mode: SpatialMode;
  readonly backlog: number;
  readonly checks: number;
  readonly seconds: number;
  readonly checksPerSecond: number;
  /** The spatial verdicts against the ground truth; null for off. */
  readonly score: SpatialScore | null;
}

export interface SpatialModeSummary {
  readonly mode: SpatialMode;
  readonly checksPerSecond: Spread;
  /** Median over repeats of (this mode's checks/s ÷ the non-spatial drain's of the same repeat). */
  readonly relativeToOff: number | null;
  readonly score: SpatialScore | null;
}

/** Per mode: checks/s over repeats and relative to off within each repeat; the last repeat's score (pure). */
export function summarise(trials: readonly SpatialTrial[]): SpatialModeSummary[] {
  const modes = [...new Set(trials.map((t) => t.mode))];
  return modes.map((mode) => {
    const own = trials.filter((t) => t.mode === mode);
    const relatives = own.flatMap((t) => {
      const off = trials.find((o) => o.mode === "off" && o.repeat === t.repeat);
      return off === undefined || off.checksPerSecond === 0 ? [] : [t.checksPerSecond / off.checksPerSecond];
    });
    return {
      mode,
      checksPerSecond: spread(
        own.map((t) => t.checksPerSecond),
        1,
      ),
      relativeToOff: median(relatives),
      score: own.at(-1)?.score ?? null,
    };
  });
}

/**
 * One mode's trial on a fresh run. Drain (the bench): the backlog is produced first, then one detector drains it;
 * checks/s from the detector's start to its last verdict. Offered (`npm run local -- --spatial`): the detector
 * runs first and the load generator offers its rate; checks/s from the first send to the last verdict.
 */
export async function spatialTrial(
  s: SpatialThroughputSettings,
  repeat: number,
  mode: SpatialMode,
  how: "drain" | "offered" = "drain",
): Promise<SpatialTrial> {
  const names = runNames(newRunId("sp"));
  const run = await IsolatedRun.open({
    names,
    partitions: s.partitions,
    detector: { detectorConcurrency: s.detectorConcurrency, spatialStrategy: mode },
  });
  const checks = new ChecksCollector(run.kafka, names.checksTopic, `${names.runId}-verify`);
  try {
    const produce = async (): Promise<LoadgenReport> => {
      const loadgen = run.startLoadgen({ rate: s.rate, duration: s.duration, keys: s.keys, seed: s.seed, spatialWorkload: "hotspots" });
      const exit = await loadgen.app.exited;
      if (exit !== 0) throw new Error(`load generator exited ${String(exit)}: ${loadgen.app.tail().join("\n")}`);
      return loadgen.report();
    };
    const drain = how === "drain";
    const backlog = drain ? await produce() : undefined;
    await checks.start();
    const detectorStartedAt = Date.now();
    await waitReady(run.startDetector("detector-0"));
    const report = backlog ?? (await produce());
    const startedAt = drain ? detectorStartedAt : report.startedAt;
    await waitWhileMoving(() => checks.verdicts.size, {
      what: `${mode} spatial drain of ${report.sent} events`,
      until: (n) => n >= report.sent,
      stallMs: 60_000,
      intervalMs: 500,
    });
    const drained = drainRate(checks.verdicts.values(), startedAt);
    const score = mode === "off" ? null : scoreSpatial(checks.verdicts.values(), report.spatialInjections ?? [], s.warmupEvents);
    s.onProgress?.(
      `${mode} repeat ${repeat + 1}: ${drained.checks} checks in ${drained.seconds.toFixed(1)} s = ${drained.checksPerSecond.toFixed(0)}/s`,
    );
    return { repeat, mode, backlog: report.sent, ...drained, score };
  } finally {
    await checks.stop().catch(() => undefined);
    await run.stopProcesses();
    await run.drop().catch(() => undefined);
  }
}

export interface SpatialThroughputResult {
  readonly settings: Omit<SpatialThroughputSettings, "onProgress">;
  readonly trials: readonly SpatialTrial[];
  readonly modes: readonly SpatialModeSummary[];
}

/** Every mode drains the same backlog, interleaved over `repeats`; checks/s per mode and relative to off. */
export async function spatialThroughput(settings: Partial<SpatialThroughputSettings> = {}): Promise<SpatialThroughputResult> {
  const s: SpatialThroughputSettings = { ...spatialThroughputDefaults, ...settings };
  await ensureStack();
  const trials: SpatialTrial[] = [];
  for (const { repeat, mode } of interleavedModes(spatialModes, s.repeats)) trials.push(await spatialTrial(s, repeat, mode));
  const { onProgress: _ignored, ...plain } = s;
  return { settings: plain, trials, modes: summarise(trials) };
}
