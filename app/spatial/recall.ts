/**
 * Neighbour recall: of the exact k nearest previous events (brute force over every stored point), how many did a
 * strategy return? 1 for a search that proved its k by coverage; below 1 where a read was cut at the candidate
 * limit. With it, each query's rounds, rows read and time, so a strategy's cost can be weighed against its recall.
 */
import { performance } from "node:perf_hooks";
import { eventKey, nearestOf, type Neighbour, type NeighbourStrategy, type StoredPoint } from "./neighbours.ts";

/** The exact k nearest previous events of `query` among `all`: every one's distance, the k smallest. */
export const exactNearest = (query: StoredPoint, all: Iterable<StoredPoint>, k: number): Neighbour[] => nearestOf(query, all, k);

export interface RecallReport {
  readonly strategy: string;
  readonly queries: number;
  readonly k: number;
  /** Mean over queries of |found ∩ exact| / |exact| (a query with no previous events counts as 1). */
  readonly meanRecall: number;
  readonly minRecall: number;
  /** Queries whose found set is exactly the exact one, in the same order. */
  readonly exactQueries: number;
  readonly truncatedQueries: number;
  readonly rounds: { readonly mean: number; readonly max: number; readonly histogram: Readonly<Record<number, number>> };
  readonly rowsRead: { readonly mean: number; readonly max: number };
  /** Wall time of the strategy's search per query, ms (informative: a shared machine's numbers). */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly max: number };
}

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** Searches each of `sample` with the strategy (one at a time) and compares with the brute force over `all`. */
export async function measureRecall(
  strategy: NeighbourStrategy,
  sample: readonly StoredPoint[],
  all: readonly StoredPoint[],
  k: number,
): Promise<RecallReport> {
  const recalls: number[] = [];
  const rounds: number[] = [];
  const rows: number[] = [];
  const ms: number[] = [];
  let exactQueries = 0;
  let truncatedQueries = 0;
  for (const q of sample) {
    const t0 = performance.now();
    const found = await strategy.nearest(q, k);
    ms.push(performance.now() - t0);
    const exact = exactNearest(q, all, k);
    const got = new Set(found.neighbours.map(eventKey));
    const hit = exact.filter((n) => got.has(eventKey(n))).length;
    recalls.push(exact.length === 0 ? (found.neighbours.length === 0 ? 1 : 0) : hit / exact.length);
    if (found.neighbours.length === exact.length && found.neighbours.every((n, i) => eventKey(n) === eventKey(exact[i]!)))
      exactQueries += 1;
    if (found.truncated) truncatedQueries += 1;
    rounds.push(found.rounds);
    rows.push(found.rowsRead);
  }
  const histogram: Record<number, number> = {};
  for (const r of rounds) histogram[r] = (histogram[r] ?? 0) + 1;
  const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const sortedMs = [...ms].sort((a, b) => a - b);
  return {
    strategy: strategy.name,
    queries: sample.length,
    k,
    meanRecall: mean(recalls),
    minRecall: recalls.length === 0 ? 1 : Math.min(...recalls),
    exactQueries,
    truncatedQueries,
    rounds: { mean: mean(rounds), max: Math.max(0, ...rounds), histogram },
    rowsRead: { mean: mean(rows), max: Math.max(0, ...rows) },
    latencyMs: { p50: quantile(sortedMs, 0.5), p95: quantile(sortedMs, 0.95), max: sortedMs[sortedMs.length - 1] ?? 0 },
  };
}
