/**
 * Adaptive concurrency against a grid of fixed concurrencies, at two Cassandra capacities: Cassandra
 * pinned with `taskset` to one core, then to all of them. Each setting drains the same size of preloaded backlog
 * (drain.ts), the settings interleaved and rotated per repeat, so a slow spell of the machine hits all of them.
 * The backlog is sized in seconds, not events: at each capacity a first drain with the grid's largest fixed
 * setting warms the servers up (its figures are kept apart) and measures the rate, and every trial's backlog then
 * gives the fastest setting `windowSeconds` between the marks. A fixed count measured start-up on a fast machine
 * (60,000 events drained in 9 s here, its window 6 s) and minutes of steady state on a slow one.
 * Per trial: checks/s between the drain's marks, the p99 of the check's Cassandra stages (read of the previous 50,
 * write) over the same window from the detector's histograms, and, in adaptive mode, the limit over time.
 *
 * The criterion: adaptive reaches at least `shareNeeded` of the best fixed setting's drain rate among those whose
 * stages' p99 stay under 1 s, at each capacity, with its own stages' p99 under 1 s. A drain is saturated by
 * construction, so end-to-end latency there measures the backlog, not the setting: the stages' latency is what a
 * concurrency setting changes.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import type { DetectorConfig } from "../../app/config.ts";
import type { AppProcess } from "../local/app-process.ts";
import { drainTrial, type RunSettings } from "./drain.ts";
import { addBuckets, bucketsBetween, parseBuckets, quantileUpperBound, type Buckets } from "./histogram-buckets.ts";
import { stackPids } from "./server-pids.ts";
import { pairRatios, spread, type Spread } from "./stats.ts";

export interface GridSetting {
  readonly name: string;
  readonly mode: DetectorConfig["detectorConcurrencyMode"];
  /** Fixed: the checks in flight; adaptive: where the limit starts. */
  readonly concurrency: number;
}

export interface CassandraCapacity {
  readonly name: string;
  /** taskset CPU list for every Cassandra thread. */
  readonly cpus: string;
}

export interface GridTrial {
  readonly capacity: string;
  readonly setting: string;
  readonly repeat: number;
  readonly checksPerSecond: number;
  /**
   * Upper bounds of the p99 bucket over the drain's window, per stage; null when none is known: no check of the
   * stage finished between the samples around the window (a drain shorter than the sampling on a busy machine),
   * or its p99 lies past the largest bucket.
   */
  readonly stageP99Ms: Readonly<Record<CheckedStage, number | null>>;
  /** Adaptive only: the limit, sampled about every half second from the detectors being ready. */
  readonly limit: readonly { readonly seconds: number; readonly limit: number }[];
  readonly interference: string | null;
}

export interface GridSettingSummary {
  readonly setting: string;
  readonly checksPerSecond: Spread;
  /** The worse of the stages' p99 upper bounds, over the trials where both are known; null when none is. */
  readonly p99Ms: Spread | null;
}

export interface GridCapacityResult {
  readonly capacity: string;
  readonly cassandraCpus: string;
  /** The warm-up drain that sized the backlog: its setting, rate, and the backlog chosen from it. */
  readonly calibration: { readonly setting: string; readonly checksPerSecond: number; readonly events: number };
  readonly settings: readonly GridSettingSummary[];
  /** The fixed setting with the highest median drain rate among those with p99 < 1 s; null if none. */
  readonly bestFixed: string | null;
  readonly adaptiveShareOfBest: number | null;
  /** Adaptive ÷ the best fixed setting within each repeat (run next to each other), for the spread. */
  readonly adaptivePairRatios: Spread | null;
  readonly met: boolean;
}

export interface ConcurrencyGridResult {
  readonly keys: number;
  readonly windowSeconds: number;
  readonly repeats: number;
  readonly shareNeeded: number;
  readonly p99BoundMs: number;
  readonly capacities: readonly GridCapacityResult[];
  readonly trials: readonly GridTrial[];
}

const checkedStages = ["read", "write"] as const;
type CheckedStage = (typeof checkedStages)[number];

/** Pins every thread of each process to `cpuList`; throws naming the process when taskset refuses. */
export function pinProcesses(pids: readonly number[], cpuList: string): void {
  for (const pid of pids) {
    const r = spawnSync("taskset", ["-a", "-p", "-c", cpuList, String(pid)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpuList} ${pid}: ${r.error?.message ?? r.stderr.trim()}`);
  }
}

export const allCpus = () => `0-${cpus().length - 1}`;

async function metricsText(app: AppProcess): Promise<string> {
  return (await fetch(`http://127.0.0.1:${await app.port()}/metrics`)).text();
}

const p99Note = (ms: number | null) => (ms === null ? "unknown (no check finished between samples)" : `≤ ${ms} ms`);

interface Sample {
  readonly seconds: number;
  readonly stages: Readonly<Record<CheckedStage, Buckets>>;
  readonly limit: number;
}

/** The summaries and the criterion from a grid's trials. */
export function summarizeGrid(
  trials: readonly GridTrial[],
  settings: readonly GridSetting[],
  capacities: readonly (CassandraCapacity & { calibration: GridCapacityResult["calibration"] })[],
  o: { shareNeeded: number; p99BoundMs: number },
): GridCapacityResult[] {
  return capacities.map((c) => {
    const summaries = settings.map((s) => {
      const mine = trials.filter((t) => t.capacity === c.name && t.setting === s.name);
      const p99s = mine.flatMap((t) => {
        const stages = checkedStages.map((st) => t.stageP99Ms[st]);
        return stages.every((x) => x !== null) ? [Math.max(...stages)] : [];
      });
      return {
        setting: s.name,
        checksPerSecond: spread(
          mine.map((t) => t.checksPerSecond),
          0,
        ),
        p99Ms: p99s.length > 0 ? spread(p99s, 1) : null,
      };
    });
    const within = (x: GridSettingSummary) => x.p99Ms !== null && x.p99Ms.median < o.p99BoundMs;
    const fixed = summaries.filter((x) => settings.find((s) => s.name === x.setting)!.mode === "fixed" && within(x));
    const best = fixed.reduce<GridSettingSummary | null>(
      (a, x) => (a === null || x.checksPerSecond.median > a.checksPerSecond.median ? x : a),
      null,
    );
    const adaptive = summaries.find((x) => settings.find((s) => s.name === x.setting)!.mode === "adaptive");
    const share =
      best !== null && adaptive !== undefined && best.checksPerSecond.median > 0
        ? Math.round((adaptive.checksPerSecond.median / best.checksPerSecond.median) * 1000) / 1000
        : null;
    const byRepeat = (setting: string) =>
      trials
        .filter((t) => t.capacity === c.name && t.setting === setting)
        .sort((a, b) => a.repeat - b.repeat)
        .map((t) => t.checksPerSecond);
    const ratios = best !== null && adaptive !== undefined ? pairRatios(byRepeat(adaptive.setting), byRepeat(best.setting)) : [];
    return {
      capacity: c.name,
      cassandraCpus: c.cpus,
      calibration: c.calibration,
      settings: summaries,
      bestFixed: best?.setting ?? null,
      adaptiveShareOfBest: share,
      adaptivePairRatios: ratios.length > 0 ? spread(ratios) : null,
      met: share !== null && share >= o.shareNeeded && adaptive !== undefined && within(adaptive),
    };
  });
}

export async function concurrencyGrid(o: {
  settings: RunSettings;
  grid: readonly GridSetting[];
  capacities: readonly CassandraCapacity[];
  /** Backlog of the first (sizing) drain at each capacity. */
  calibrationEvents: number;
  /** Seconds the fastest setting should spend between the drain's marks. */
  windowSeconds: number;
  preloadRate: number;
  repeats: number;
  shareNeeded: number;
  p99BoundMs: number;
  log: (line: string) => void;
}): Promise<ConcurrencyGridResult> {
  const trials: GridTrial[] = [];
  const calibrated: (CassandraCapacity & { calibration: GridCapacityResult["calibration"] })[] = [];
  const { cassandra } = await stackPids();
  const largestFixed = o.grid.filter((g) => g.mode === "fixed").reduce((a, g) => (g.concurrency > a.concurrency ? g : a));
  const drainMarks = [0.3, 0.95] as const;
  try {
    for (const capacity of o.capacities) {
      pinProcesses(cassandra, capacity.cpus);
      o.log(`  Cassandra on CPUs ${capacity.cpus} (${capacity.name}); sizing drain with ${largestFixed.name}`);
      const sizing = await drainTrial({
        events: o.calibrationEvents,
        preloadRate: o.preloadRate,
        settings: o.settings,
        marks: drainMarks,
        detector: { detectorConcurrencyMode: largestFixed.mode, detectorConcurrency: largestFixed.concurrency },
      });
      const events = Math.max(
        o.calibrationEvents,
        Math.round((sizing.checksPerSecond * o.windowSeconds) / (drainMarks[1] - drainMarks[0])),
      );
      calibrated.push({ ...capacity, calibration: { setting: largestFixed.name, checksPerSecond: sizing.checksPerSecond, events } });
      o.log(
        `  sizing drain: ${sizing.checksPerSecond} checks/s, so ${events} events per drain (${o.windowSeconds} s between the marks at that rate)`,
      );
      for (let repeat = 0; repeat < o.repeats; repeat++) {
        // Rotate the order each repeat: no setting always runs first (cold) or last.
        const order = o.grid.map((_, i) => o.grid[(i + repeat) % o.grid.length]!);
        for (const setting of order) {
          const samples: Sample[] = [];
          let lastSampleAt = -Infinity;
          const trial = await drainTrial({
            events,
            preloadRate: o.preloadRate,
            settings: o.settings,
            marks: drainMarks,
            detector: { detectorConcurrencyMode: setting.mode, detectorConcurrency: setting.concurrency },
            probe: async (detectors, seconds) => {
              if (seconds - lastSampleAt < 0.5) return;
              lastSampleAt = seconds;
              // A scrape that failed (a detector too busy to answer) is no sample: empty buckets would read as
              // no check at all, and the limit as 0.
              const scraped = await Promise.all(detectors.map((d) => metricsText(d).catch(() => null)));
              const texts = scraped.filter((t) => t !== null);
              if (texts.length < scraped.length) return;
              const stages = Object.fromEntries(
                checkedStages.map((st) => [
                  st,
                  addBuckets(texts.map((t) => parseBuckets(t, "detector_stage_duration_seconds", { stage: st }))),
                ]),
              ) as Record<CheckedStage, Buckets>;
              const limit = texts.reduce(
                (sum, t) => sum + Number(/^detector_concurrency_limit(?:\{[^}]*\})? (\S+)$/m.exec(t)?.[1] ?? 0),
                0,
              );
              samples.push({ seconds, stages, limit });
            },
          });
          const [from, to] = trial.marksAtSeconds;
          // The samples around the window (at most half a second wider on each side), so a short drain has one.
          const first = [...samples].reverse().find((x) => x.seconds <= from) ?? samples[0];
          const last = samples.find((x) => x.seconds >= to) ?? samples.at(-1);
          const p99Of = (st: CheckedStage) => {
            if (first === undefined || last === undefined) return null;
            const bound = quantileUpperBound(bucketsBetween(first.stages[st], last.stages[st]), 0.99);
            return Number.isFinite(bound) ? Math.round(bound * 1000 * 10) / 10 : null;
          };
          const stageP99Ms = Object.fromEntries(checkedStages.map((st) => [st, p99Of(st)])) as Record<CheckedStage, number | null>;
          const t: GridTrial = {
            capacity: capacity.name,
            setting: setting.name,
            repeat,
            checksPerSecond: trial.checksPerSecond,
            stageP99Ms,
            limit:
              setting.mode === "adaptive"
                ? samples.map((x) => ({ seconds: Math.round(x.seconds * 10) / 10, limit: Math.round(x.limit) }))
                : [],
            interference: trial.interference,
          };
          trials.push(t);
          const limitNote = t.limit.length > 0 ? `, limit ${t.limit[0]!.limit} → ${t.limit.at(-1)!.limit}` : "";
          o.log(
            `  ${capacity.name} ${setting.name} #${repeat + 1}: ${t.checksPerSecond} checks/s, p99 read ${p99Note(stageP99Ms.read)}, write ${p99Note(stageP99Ms.write)}${limitNote}${t.interference === null ? "" : ` (${t.interference})`}`,
          );
        }
      }
    }
  } finally {
    pinProcesses(cassandra, allCpus());
  }
  return {
    keys: o.settings.keys,
    windowSeconds: o.windowSeconds,
    repeats: o.repeats,
    shareNeeded: o.shareNeeded,
    p99BoundMs: o.p99BoundMs,
    capacities: summarizeGrid(trials, o.grid, calibrated, o),
    trials,
  };
}
