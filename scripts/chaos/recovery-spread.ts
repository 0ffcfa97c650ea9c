/** The fault campaign's recoveries summed up per kind of fault, for results/chaos and the README. */

export interface RecoverySpread {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** Per kind of fault: how many, and the fastest, median and slowest recovery (seconds). */
export function spreadByKind(recoveries: readonly { kind: string; seconds: number }[]): Record<string, RecoverySpread> {
  const byKind = Map.groupBy(recoveries, (r) => r.kind);
  return Object.fromEntries(
    [...byKind].map(([kind, rs]) => {
      const sorted = rs.map((r) => r.seconds).sort((a, b) => a - b);
      const mid = sorted.length / 2;
      const median = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
      return [kind, { n: sorted.length, min: sorted[0]!, median: Math.round(median * 10) / 10, max: sorted.at(-1)! }];
    }),
  );
}

/** One progress sample of the run: seconds since the load started, and the backlog then. */
export interface BacklogSample {
  readonly elapsedSeconds: number;
  readonly backlog: number;
}

/**
 * A fault's recovery read from the whole run afterwards: from the fault until the last sample before the next
 * fault (`until`) whose backlog was above `bound`. A live check a few seconds after the fault can see a small
 * backlog before the stall has built up (a broker's loss stops the pipeline only once its partitions' leaders
 * are due to move); this one sees the whole hump. 0 when the backlog never went above the bound.
 */
export function recoveryFromSamples(
  samples: readonly BacklogSample[],
  o: { readonly at: number; readonly until: number; readonly bound: number },
): number {
  let last: number | null = null;
  for (const s of samples) if (s.elapsedSeconds >= o.at && s.elapsedSeconds < o.until && s.backlog > o.bound) last = s.elapsedSeconds;
  return last === null ? 0 : Math.round((last - o.at) * 10) / 10;
}
