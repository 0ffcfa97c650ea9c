/**
 * Warm-up before anything is measured: rounds of a ceiling burst and a saturation drain (both JVMs and the
 * detector's code paths at full load) until the drain's checks/s, the ceiling's ops/s and its p99 settle, or the
 * rounds or the time run out. Cold JVMs made the first trial of a fresh machine several times slower than the
 * later ones, which no repeat count can average away.
 */
import type { CeilingStep } from "./ceiling.ts";
import type { DrainTrial } from "./drain.ts";

export interface WarmupRound {
  readonly seconds: number;
  readonly drainChecksPerSecond: number;
  readonly ceilingOpsPerSecond: number;
  readonly ceilingP99Ms: number;
}

export interface WarmupResult {
  readonly rounds: readonly WarmupRound[];
  readonly settled: boolean;
  readonly seconds: number;
  readonly tolerance: number;
}

/** The last two values of every series are within `tolerance` of each other (relative to the larger). */
export function hasSettled(series: readonly (readonly number[])[], tolerance: number): boolean {
  return series.every((s) => {
    if (s.length < 2) return false;
    const [a, b] = [s.at(-2)!, s.at(-1)!];
    const top = Math.max(Math.abs(a), Math.abs(b));
    return top === 0 || Math.abs(a - b) / top <= tolerance;
  });
}

/** p99 jitters more than throughput: it settles when within twice the tolerance, or under `p99FloorMs` both times. */
export function roundsSettled(rounds: readonly WarmupRound[], tolerance: number, p99FloorMs = 20): boolean {
  const p99 = rounds.map((r) => r.ceilingP99Ms);
  const p99Settled = hasSettled([p99], 2 * tolerance) || (p99.length >= 2 && p99.slice(-2).every((x) => x <= p99FloorMs));
  return p99Settled && hasSettled([rounds.map((r) => r.drainChecksPerSecond), rounds.map((r) => r.ceilingOpsPerSecond)], tolerance);
}

export async function warmUp(o: {
  ceiling: () => Promise<CeilingStep>;
  drain: () => Promise<DrainTrial>;
  minRounds: number;
  maxRounds: number;
  maxSeconds: number;
  tolerance: number;
  log: (line: string) => void;
}): Promise<WarmupResult> {
  const started = Date.now();
  const rounds: WarmupRound[] = [];
  let settled = false;
  while (rounds.length < o.maxRounds && (Date.now() - started) / 1000 < o.maxSeconds) {
    const c = await o.ceiling();
    const d = await o.drain();
    const round = {
      seconds: Math.round((Date.now() - started) / 1000),
      drainChecksPerSecond: d.checksPerSecond,
      ceilingOpsPerSecond: c.opsPerSecond,
      ceilingP99Ms: c.latencyMs.p99,
    };
    rounds.push(round);
    o.log(
      `  warm-up ${rounds.length}: drain ${round.drainChecksPerSecond} checks/s, ceiling ${round.ceilingOpsPerSecond} ops/s (p99 ${round.ceilingP99Ms} ms)`,
    );
    settled = rounds.length >= o.minRounds && roundsSettled(rounds, o.tolerance);
    if (settled) break;
  }
  return { rounds, settled, seconds: Math.round((Date.now() - started) / 1000), tolerance: o.tolerance };
}
