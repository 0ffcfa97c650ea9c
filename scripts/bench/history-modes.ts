/**
 * The drain in both history modes, interleaved: held (the detector holds the keys' history and reads Cassandra
 * only on a miss) and read (every check reads it), pair after pair with the order alternating, so the machine's
 * drift and a neighbour's load fall on both alike. Per mode: checks/s, the detector's and Cassandra's CPU seconds
 * per 1,000 checks, the detector's peak RSS; per pair: held ÷ read of each, the figures the targets are about.
 */
import type { DetectorConfig } from "../../app/config.ts";
import { drainTrial, type DrainTrial, type RunSettings } from "./drain.ts";
import { pairRatios, spread, type Spread } from "./stats.ts";

export type HistoryMode = DetectorConfig["detectorHistory"];
export const historyModes: readonly HistoryMode[] = ["held", "read"];

/** What held history is held to against read-every-time, in one interleaved run. */
export const historyTargets = {
  /** Held checks/s ÷ read checks/s, at least. */
  checksPerSecondRatio: 2,
  /** Held detector CPU seconds per 1,000 checks, at most. */
  detectorCpuSecondsPer1000Checks: 0.2,
  /** Held Cassandra CPU per check ÷ read's, at most. */
  cassandraCpuRatio: 0.5,
} as const;

export interface HistoryModeTrial {
  readonly mode: HistoryMode;
  readonly pair: number;
  readonly drain: DrainTrial;
}

export interface HistoryModeFigures {
  readonly checksPerSecond: Spread;
  readonly detectorCpuSecondsPer1000Checks: Spread;
  readonly cassandraCpuSecondsPer1000Checks: Spread;
  readonly detectorMaxRssMiB: number;
}

export interface HistoryModesResult {
  readonly events: number;
  readonly pairs: number;
  readonly modes: Readonly<Record<HistoryMode, HistoryModeFigures>>;
  /** Held ÷ read, one ratio per pair (min / median / max). */
  readonly heldOverRead: { readonly checksPerSecond: Spread; readonly detectorCpuPerCheck: Spread; readonly cassandraCpuPerCheck: Spread };
  readonly targets: typeof historyTargets;
  /** Trials during which other processes used the machine past the bench's limit (kept: the ratio is what counts). */
  readonly disturbed: number;
  readonly trials: readonly HistoryModeTrial[];
}

export async function historyModeDrains(o: {
  pairs: number;
  events: number;
  preloadRate: number;
  /** A drain per mode first, not kept (0: none, when the run is already warm). */
  warmupEvents: number;
  settings: RunSettings;
  log: (line: string) => void;
}): Promise<HistoryModesResult> {
  if (o.warmupEvents > 0) {
    o.log(`  warm-up: a drain of ${o.warmupEvents} events in each mode (not kept)`);
    for (const mode of historyModes)
      await drainTrial({ events: o.warmupEvents, preloadRate: o.preloadRate, settings: o.settings, detector: { detectorHistory: mode } });
  }
  const trials: HistoryModeTrial[] = [];
  for (let pair = 0; pair < o.pairs; pair++) {
    const order = pair % 2 === 0 ? historyModes : [...historyModes].reverse();
    for (const mode of order) {
      const drain = await drainTrial({
        events: o.events,
        preloadRate: o.preloadRate,
        settings: o.settings,
        detector: { detectorHistory: mode },
      });
      trials.push({ mode, pair, drain });
      const cpu = drain.cpuSecondsPer1000Checks;
      o.log(
        `  ${mode} ${pair + 1}: ${drain.checksPerSecond} checks/s, CPU s per 1,000 checks: detector ${cpu.detector ?? "?"}, cassandra ${cpu.cassandra ?? "?"}` +
          `${drain.interference ? ` (disturbed: ${drain.interference})` : ""}`,
      );
    }
  }
  return historyModesResult(trials, o.events, o.pairs);
}

const cpuOf = (t: HistoryModeTrial, role: string) => t.drain.cpuSecondsPer1000Checks[role] ?? 0;

/** The per-mode spreads and the per-pair ratios of a run's trials. */
export function historyModesResult(trials: readonly HistoryModeTrial[], events: number, pairs: number): HistoryModesResult {
  const of = (mode: HistoryMode) => [...trials.filter((t) => t.mode === mode)].sort((a, b) => a.pair - b.pair);
  const figures = (mode: HistoryMode): HistoryModeFigures => {
    const ts = of(mode);
    return {
      checksPerSecond: spread(
        ts.map((t) => t.drain.checksPerSecond),
        0,
      ),
      detectorCpuSecondsPer1000Checks: spread(ts.map((t) => cpuOf(t, "detector"))),
      cassandraCpuSecondsPer1000Checks: spread(ts.map((t) => cpuOf(t, "cassandra"))),
      detectorMaxRssMiB: Math.max(0, ...ts.map((t) => t.drain.detectorMaxRssMiB)),
    };
  };
  const held = of("held");
  const read = of("read");
  const ratio = (f: (t: HistoryModeTrial) => number) => spread(pairRatios(held.map(f), read.map(f)), 3);
  return {
    events,
    pairs,
    modes: { held: figures("held"), read: figures("read") },
    heldOverRead: {
      checksPerSecond: ratio((t) => t.drain.checksPerSecond),
      detectorCpuPerCheck: ratio((t) => cpuOf(t, "detector")),
      cassandraCpuPerCheck: ratio((t) => cpuOf(t, "cassandra")),
    },
    targets: historyTargets,
    disturbed: trials.filter((t) => t.drain.interference !== null).length,
    trials,
  };
}
