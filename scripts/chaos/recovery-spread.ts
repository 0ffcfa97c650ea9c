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

