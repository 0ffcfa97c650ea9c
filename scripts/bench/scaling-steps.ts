/**
 * What one scaling step costs. KEDA adds and removes detector pods as the lag moves, and with kafkajs
 * each step is an eager rebalance (it has no cooperative-sticky assignor): every member gives up all of its
 * partitions, rejoins, and whatever it had finished but not yet committed is checked again by the partition's
 * next owner. Here one detector drains a preloaded backlog; a second one starts at `joinAt` of the backlog
 * checked (scale out: a new pod) and is stopped with SIGTERM at `leaveAt` (scale in: Kubernetes stopping a pod).
 *
 * Measured from the detectors' check counters, polled every `pollMs`: after each step, the longest stretch in
 * which no check finished anywhere (the stall), and the rate before and after. From the checks topic, read
 * from the beginning: the checks done twice (replays) and any event never checked; from Cassandra: every event
 * stored once.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { DetectorConfig } from "../../app/config.ts";
import { waitFor } from "../../app/retry.ts";
import { scrape, stopApp, waitReady, type AppProcess } from "../local/app-process.ts";
import { localEndpoints } from "../local/locations.ts";
import { ChecksCollector, scanStored } from "../local/verify.ts";
import { openBenchRun, preloadBacklog, type RunSettings } from "./drain.ts";

export interface ScalingStep {
  readonly kind: "out" | "in";
  /** Seconds from the first detector being ready: when the second was started (out) or sent SIGTERM (in). */
  readonly atSeconds: number;
  /** The longest stretch without a finished check within `stepWindowSeconds` after the step. */
  readonly stallSeconds: number;
  /** Checks/s in the `rateSeconds` before the step, and in the `rateSeconds` that end the step's window. */
  readonly rateBefore: number;
  readonly rateAfter: number;
}

export interface ScalingTrial {
  readonly events: number;
  readonly partitions: number;
  readonly steps: readonly ScalingStep[];
  /** Group joins counted by the first detector: one at its start, one per rebalance it went through. */
  readonly firstDetectorGroupJoins: number;
  /** Verdicts published more than once for one event (checked again after a rebalance). */
  readonly replayedChecks: number;
  /** Events with no verdict, and events not stored exactly once: both must be 0. */
  readonly unchecked: number;
  readonly storedRowsMinusEvents: number;
  readonly notStored: number;
  /** Checks finished per poll, summed over the detectors, from the first detector being ready. */
  readonly timeline: readonly { readonly seconds: number; readonly checks: number }[];
}

export interface ScalingOptions {
  readonly settings: RunSettings;
  /** Detector settings beyond the run settings' (e.g. a small hand-off, so every step meets paused partitions). */
  readonly detector?: Partial<DetectorConfig>;
  readonly events: number;
  readonly preloadRate: number;
  readonly joinAt: number;
  readonly leaveAt: number;
  readonly pollMs: number;
  readonly stepWindowSeconds: number;
  readonly rateSeconds: number;
  readonly log: (line: string) => void;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The longest gap between two polls that saw the total grow, within [from, to] (seconds). */
export function longestStall(timeline: readonly { seconds: number; checks: number }[], from: number, to: number): number {
  let lastGrowth = from;
  let longest = 0;
  for (let i = 1; i < timeline.length; i++) {
    const p = timeline[i]!;
    if (p.seconds < from) continue;
    if (p.seconds > to) break;
    if (p.checks > timeline[i - 1]!.checks) {
      longest = Math.max(longest, p.seconds - lastGrowth);
      lastGrowth = p.seconds;
    }
  }
  return round(Math.max(longest, Math.min(to, timeline.at(-1)?.seconds ?? to) - lastGrowth));
}

/** Checks/s between two times, from the timeline's totals (the nearest polls at or before each time). */
export function rateBetween(timeline: readonly { seconds: number; checks: number }[], from: number, to: number): number {
  const at = (t: number) => [...timeline].reverse().find((p) => p.seconds <= t) ?? timeline[0];
  const a = at(from);
  const b = at(to);
  if (a === undefined || b === undefined || b.seconds <= a.seconds) return 0;
  return Math.round((b.checks - a.checks) / (b.seconds - a.seconds));
}

export async function scalingTrial(o: ScalingOptions): Promise<ScalingTrial> {
  const run = await openBenchRun("s", o.settings, o.detector);
  const checks = new ChecksCollector(run.kafka, run.names.checksTopic, `${run.names.runId}-verify`);
  try {
    const { produced } = await preloadBacklog(run, o.settings, o.events, o.preloadRate);
    o.log(`  ${produced} events preloaded on ${run.partitions} partitions`);
    await checks.start();
    const first = run.startDetector("detector-0");
    await waitReady(first);
    const readyAt = Date.now();
    const since = () => (Date.now() - readyAt) / 1000;
    // The last count each detector reported: a stopped one keeps its share of the total.
    const counted = new Map<AppProcess, number>([[first, 0]]);
    const timeline: { seconds: number; checks: number }[] = [];
    const steps: { kind: ScalingStep["kind"]; atSeconds: number }[] = [];
    let second: AppProcess | null = null;
    // Scale in only a detector that has joined and worked: SIGTERM to one still starting tells nothing.
    let secondWorking = false;
    let secondExit: Promise<number | string> | null = null;
    let firstJoins = 0;
    const total = () => [...counted.values()].reduce((a, b) => a + b, 0);
    const deadline = Date.now() + Math.max(120_000, (o.events / 500) * 1000);
    while (checks.verdicts.size < produced && Date.now() < deadline) {
      await Promise.all(
        [...counted.keys()].map(async (d) => {
          if (d.child.exitCode !== null || d.child.signalCode !== null) return;
          const m = await scrape(d).catch(() => null);
          if (m === null) return;
          counted.set(d, m.get("detector_checks_total") ?? counted.get(d)!);
          if (d === first) firstJoins = m.get("detector_group_joins_total") ?? firstJoins;
          if (d === second && counted.get(d)! > 0) secondWorking = true;
        }),
      );
      timeline.push({ seconds: round(since()), checks: total() });
      if (second === null && total() >= produced * o.joinAt) {
        second = run.startDetector("detector-1");
        counted.set(second, 0);
        steps.push({ kind: "out", atSeconds: round(since()) });
        o.log(`  scale out at ${round(since(), 1)} s (${total()} checked): a second detector starts`);
      } else if (second !== null && secondWorking && secondExit === null && total() >= produced * o.leaveAt) {
        secondExit = stopApp(second, "SIGTERM");
        steps.push({ kind: "in", atSeconds: round(since()) });
        o.log(`  scale in at ${round(since(), 1)} s (${total()} checked): the second detector gets SIGTERM`);
      }
      await sleep(o.pollMs);
    }
    if (second === null || secondExit === null)
      throw new Error(`the backlog drained before both steps (${total()} of ${produced} checked): raise --events`);
    const exit = await secondExit;
    if (exit !== 0) throw new Error(`the second detector exited with ${exit} on SIGTERM:\n${second.tail().join("\n")}`);
    // Replays may still be arriving: wait until the verdict count settles.
    let last = -1;
    await waitFor(
      () => {
        const now = checks.verdicts.size + checks.duplicates;
        const settled = now === last;
        last = now;
        return settled;
      },
      { what: "the checks topic to settle", timeoutMs: 60_000, intervalMs: 1000 },
    );
    await stopApp(first);
    const stored = await scanStored([localEndpoints.cassandraContactPoints], localEndpoints.cassandraLocalDataCenter, run.names.keyspace);
    return {
      events: produced,
      partitions: run.partitions,
      steps: steps.map((s) => {
        const end = s.atSeconds + o.stepWindowSeconds;
        return {
          ...s,
          stallSeconds: longestStall(timeline, s.atSeconds, end),
          rateBefore: rateBetween(timeline, s.atSeconds - o.rateSeconds, s.atSeconds),
          rateAfter: rateBetween(timeline, end - o.rateSeconds, end),
        };
      }),
      firstDetectorGroupJoins: firstJoins,
      replayedChecks: checks.duplicates,
      unchecked: produced - checks.verdicts.size,
      storedRowsMinusEvents: stored.rows - stored.events.size,
      notStored: produced - stored.events.size,
      timeline,
    };
  } finally {
    await checks.stop().catch(() => undefined);
    await run.stopProcesses("SIGKILL", 5_000);
    await run.drop();
  }
}
