/**
 * The benchmark's method, on fixed inputs: the spread and pair ratios, the warm-up's settle rule, the
 * interleaving with bounded repeats of disturbed trials, and the CPU accounting from /proc (recorded lines).
 */
import { describe, expect, it } from "vitest";
import type { CeilingStep } from "../../../scripts/bench/ceiling.ts";
import type { DrainTrial } from "../../../scripts/bench/drain.ts";
import { interleavedPlan, runInterleaved, type Attempt } from "../../../scripts/bench/interleave.ts";
import {
  cpuWindow,
  interference,
  parsePidStat,
  parseProcStatBusy,
  perThousand,
  ticksByRole,
  type CpuSnapshot,
} from "../../../scripts/bench/proc-cpu.ts";
import { bottleneck, medianOfRecords, pairRatios, relativeDifference, spread } from "../../../scripts/bench/stats.ts";
import { hasSettled, roundsSettled, warmUp, type WarmupRound } from "../../../scripts/bench/warmup.ts";

describe("spread and ratios", () => {
  it("min / median / max with n; the median of an even count is the middle pair's mean", () => {
    expect(spread([3, 1, 2])).toEqual({ min: 1, median: 2, max: 3, n: 3 });
    expect(spread([4, 1, 2, 3], 1)).toEqual({ min: 1, median: 2.5, max: 4, n: 4 });
    expect(spread([])).toEqual({ min: 0, median: 0, max: 0, n: 0 });
  });

  it("pairs each pipeline figure with the ceiling measured next to it, not with the median", () => {
    expect(pairRatios([900, 1100], [1000, 2000])).toEqual([0.9, 0.55]);
    expect(pairRatios([5], [0])).toEqual([0]);
    expect(relativeDifference(100, 110)).toBeCloseTo(10 / 105);
  });

  it("medians per process over trials, and the process that costs the most per check (the harness left out)", () => {
    const cpu = medianOfRecords([
      { detector: 0.4, cassandra: 1.0, bench: 9 },
      { detector: 0.5, cassandra: 1.2, bench: 9 },
      { detector: 0.6, cassandra: 0.9, bench: 9 },
    ]);
    expect(cpu).toEqual({ detector: 0.5, cassandra: 1.0, bench: 9 });
    expect(bottleneck(cpu)).toEqual({ process: "cassandra", share: 0.667 });
  });
});

describe("warm-up", () => {
  const round = (drain: number, ceiling: number, p99: number): WarmupRound => ({
    seconds: 0,
    drainChecksPerSecond: drain,
    ceilingOpsPerSecond: ceiling,
    ceilingP99Ms: p99,
  });

  it("settles when the last two values of every series agree within the tolerance", () => {
    expect(
      hasSettled(
        [
          [100, 104],
          [50, 51],
        ],
        0.05,
      ),
    ).toBe(true);
    expect(hasSettled([[100, 110]], 0.05)).toBe(false);
    expect(hasSettled([[100]], 0.05)).toBe(false);
  });

  it("p99 may jitter twice the tolerance, or sit under the floor", () => {
    expect(roundsSettled([round(1000, 2000, 100), round(1010, 2010, 109)], 0.05)).toBe(true);
    expect(roundsSettled([round(1000, 2000, 100), round(1010, 2010, 120)], 0.05)).toBe(false);
    expect(roundsSettled([round(1000, 2000, 5), round(1010, 2010, 15)], 0.05)).toBe(true);
    // Cold JVMs: the drain still climbing.
    expect(roundsSettled([round(500, 2000, 10), round(800, 2000, 10)], 0.05)).toBe(false);
  });

  const fakeTrials = (drains: readonly number[]) => {
    let i = 0;
    return {
      ceiling: () => Promise.resolve({ opsPerSecond: 2000, latencyMs: { p99: 10 } } as unknown as CeilingStep),
      drain: () => Promise.resolve({ checksPerSecond: drains[Math.min(i++, drains.length - 1)]! } as unknown as DrainTrial),
    };
  };

  it("runs rounds until the figures settle, then stops", async () => {
    const w = await warmUp({
      ...fakeTrials([400, 900, 1400, 1450, 1460]),
      minRounds: 2,
      maxRounds: 10,
      maxSeconds: 600,
      tolerance: 0.05,
      log: () => {},
    });
    expect(w.rounds.map((r) => r.drainChecksPerSecond)).toEqual([400, 900, 1400, 1450]);
    expect(w.settled).toBe(true);
  });

  it("stops at the round bound and says it did not settle", async () => {
    const w = await warmUp({
      ...fakeTrials([400, 900, 1400, 1900]),
      minRounds: 2,
      maxRounds: 3,
      maxSeconds: 600,
      tolerance: 0.05,
      log: () => {},
    });
    expect(w.rounds).toHaveLength(3);
    expect(w.settled).toBe(false);
  });
});

describe("interleaved trials", () => {
  it("plans ceiling, pipeline per pair", () => {
    expect(interleavedPlan(2).map((t) => `${t.kind}${t.pair}`)).toEqual(["ceiling0", "pipeline0", "ceiling1", "pipeline1"]);
  });

  it("repeats a disturbed trial, keeps the clean one, and stops repeating once the budget is spent", async () => {
    // Pipeline attempts: disturbed, clean; then disturbed twice with one repeat left.
    const pipeline: Attempt<number>[] = [
      { value: 1, interference: "others used 30 %" },
      { value: 2, interference: null },
      { value: 3, interference: "load average 9" },
      { value: 4, interference: "load average 9" },
    ];
    let p = 0;
    const { trials, repeats } = await runInterleaved<number, number>({
      plan: interleavedPlan(2),
      ceiling: () => Promise.resolve({ value: 10, interference: null }),
      pipeline: () => Promise.resolve(pipeline[p++]!),
      maxRepeats: 2,
    });
    expect(repeats).toBe(2);
    expect(trials.map((t) => [t.kind, t.value, t.attempts, t.interfered])).toEqual([
      ["ceiling", 10, 1, false],
      ["pipeline", 2, 2, false],
      ["ceiling", 10, 1, false],
      ["pipeline", 4, 2, true],
    ]);
    expect(trials[1]!.disturbed).toEqual(["others used 30 %"]);
  });
});

describe("CPU accounting from /proc", () => {
  it("busy ticks: everything but idle and iowait", () => {
    const stat = "cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n";
    expect(parseProcStatBusy(stat)).toBe(100 + 5 + 50 + 3 + 2 + 1);
    expect(() => parseProcStatBusy("intr 1 2 3")).toThrow(/no aggregate cpu line/);
  });

  it("a pid's ticks and parent, with spaces and parentheses in the command", () => {
    const stat = "4242 (java (Cassandra) x) S 4200 4242 4200 0 -1 4194560 100 0 0 0 730 270 0 0 20 0 60 0 123 456 789";
    expect(parsePidStat(stat)).toEqual({ ppid: 4200, ticks: 1000 });
  });

  it("children count to the role of the root they descend from", () => {
    const table = new Map([
      [10, { ppid: 1, ticks: 5 }], // detector root
      [11, { ppid: 10, ticks: 7 }], // its child
      [20, { ppid: 1, ticks: 100 }], // cassandra
      [30, { ppid: 1, ticks: 50 }], // someone else's
    ]);
    expect(ticksByRole(table, { detector: [10], cassandra: [20] })).toEqual({ detector: 12, cassandra: 100 });
  });

  const snap = (atMs: number, busyTicks: number, roleTicks: Record<string, number>, loadAverage1m = 1): CpuSnapshot => ({
    atMs,
    busyTicks,
    roleTicks,
    loadAverage1m,
  });

  it("what others used in a window, and when that disturbs a trial", () => {
    // 10 s on 2 cores; we used 12 s of CPU, the machine was busy 16 s: others 4 s = 20 % of 20 core-seconds.
    const w = cpuWindow(snap(0, 0, { detector: 0, cassandra: 0 }), snap(10_000, 1600, { detector: 400, cassandra: 800 }), 2, 100);
    expect(w.cpuSeconds).toEqual({ detector: 4, cassandra: 8 });
    expect(w.foreignCpuSeconds).toBeCloseTo(4);
    expect(w.foreignShare).toBeCloseTo(0.2);
    expect(interference(w)).toBe("others used 20 % of the machine (limit 10 %)");
    const quiet = cpuWindow(snap(0, 0, { detector: 0 }), snap(10_000, 1210, { detector: 1200 }), 2, 100);
    expect(interference(quiet)).toBeNull();
    // Our own saturated pipeline keeps the load average high: that alone is no disturbance.
    expect(interference({ ...quiet, loadAverage1m: 18 })).toBeNull();
  });

  it("CPU seconds per 1,000 checks per role", () => {
    expect(perThousand({ detector: 4, cassandra: 8 }, 10_000)).toEqual({ detector: 0.4, cassandra: 0.8 });
    expect(perThousand({ detector: 4 }, 0)).toEqual({ detector: 0 });
  });
});
