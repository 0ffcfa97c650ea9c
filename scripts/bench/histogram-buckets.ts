/**
 * A Prometheus histogram's cumulative buckets read from a process's /metrics text, so a benchmark can take the
 * quantile of what happened between two scrapes (the difference of their buckets), as PromQL's
 * histogram_quantile would, to the resolution of the buckets.
 */

/** Upper bound (`le`) → cumulative count, ascending, +Inf last. */
export type Buckets = ReadonlyMap<number, number>;

const labelPattern = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** The buckets of `metric` whose labels include `labels` (summed over the series that match). */
export function parseBuckets(text: string, metric: string, labels: Readonly<Record<string, string>> = {}): Buckets {
  const out = new Map<number, number>();
  const prefix = `${metric}_bucket{`;
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const close = line.lastIndexOf("}");
    const seen = Object.fromEntries([...line.slice(prefix.length, close).matchAll(labelPattern)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).some(([k, v]) => seen[k] !== v) || seen.le === undefined) continue;
    const le = seen.le === "+Inf" ? Infinity : Number(seen.le);
    out.set(le, (out.get(le) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return new Map([...out].sort(([a], [b]) => a - b));
}

/** What was observed between `before` and `after` (a process restart in between is not handled). */
export function bucketsBetween(before: Buckets, after: Buckets): Buckets {
  return new Map([...after].map(([le, n]) => [le, n - (before.get(le) ?? 0)]));
}

/** Sums the buckets of several processes. */
export function addBuckets(all: readonly Buckets[]): Buckets {
  const out = new Map<number, number>();
  for (const b of all) for (const [le, n] of b) out.set(le, (out.get(le) ?? 0) + n);
  return new Map([...out].sort(([a], [b]) => a - b));
}

/**
 * The upper bound of the bucket holding the q-quantile: the smallest `le` with at least q of the observations
 * (Infinity when only +Inf holds it; NaN without observations). An upper bound, never an interpolation.
 */
export function quantileUpperBound(b: Buckets, q: number): number {
  const total = b.get(Infinity) ?? 0;
  if (total <= 0) return Number.NaN;
  for (const [le, n] of b) if (n >= q * total) return le;
  return Infinity;
}
