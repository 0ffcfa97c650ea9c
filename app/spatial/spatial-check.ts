/**
 * The spatial check: is an event unusual relative to its 50 nearest previous events in space, of any
 * key? The neighbours' values go through the same CUSUM step as a key's history (app/detector/cusum.ts
 * cusumStep: baseline from the values with earlier outliers left out, level or walk model, k and h in σ), in
 * the order they happened, oldest first, as a key's history is.
 *
 * Why the sums start at zero on every event instead of being carried: a key's sums follow one series from event
 * to event; a neighbourhood is a different set for every event, so there is no series to carry them along. With
 * zero sums one step signals when the value is more than k + h σ from its neighbours' prediction.
 */
import { cusumStep, type DetectOptions, type StepVerdict } from "../detector/cusum.ts";
import { finiteOrNull, stepFields, type SpatialVerdictRecord } from "../events/verdict-codec.ts";
import { historyWindow } from "../topology.ts";
import type { NeighbourSearch, NeighbourStrategy, SpatialStrategyName, StoredPoint } from "./neighbours.ts";

/** How many neighbours the check compares with: a key's history window, so the two checks are alike. */
export const spatialNeighbours = historyWindow;

export interface SpatialVerdict {
  readonly verdict: StepVerdict;
  readonly search: NeighbourSearch;
}

/** The verdict on `value` given neighbours (any order); pure. */
export function spatialVerdict(value: number, search: NeighbourSearch, options: DetectOptions = {}): StepVerdict {
  const history = [...search.neighbours].sort((a, b) => a.time - b.time).map((n) => n.value);
  return cusumStep(history, value, undefined, options).verdict;
}

/**
 * Read the event's nearest previous events, check it against them, then write it (so later events find it).
 * Read before write, as the per-key check: a replay reads the same neighbours (strictly previous) and writes the
 * same rows.
 */
export async function checkSpatially(strategy: NeighbourStrategy, e: StoredPoint, options: DetectOptions = {}): Promise<SpatialVerdict> {
  const search = await strategy.nearest(e, spatialNeighbours);
  const verdict = spatialVerdict(e.value, search, options);
  await strategy.write(e);
  return { verdict, search };
}

/** The spatial part of the verdict on the checks topic (verdict-codec.ts). */
export function spatialVerdictRecord(strategy: SpatialStrategyName, s: SpatialVerdict): SpatialVerdictRecord {
  const v = s.verdict;
  const n = s.search.neighbours;
  return {
    strategy,
    ...stepFields(v),
    neighbours: n.length,
    nearestMetres: finiteOrNull(n[0]?.distance),
    farthestMetres: finiteOrNull(n[n.length - 1]?.distance),
    rounds: s.search.rounds,
    rowsRead: s.search.rowsRead,
    truncated: s.search.truncated,
  };
}
