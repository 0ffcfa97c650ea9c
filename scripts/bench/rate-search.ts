/**
 * Finds the highest rate a system sustains within a latency bound: double the rate until a trial fails,
 * then bisect between the last pass and the first fail until they are within `resolution` of each other.
 * Each trial is a real run; the search only decides which rates to try.
 */
export interface Trial {
  readonly rate: number;
  readonly passed: boolean;
}

export interface RateSearchOptions<T extends Trial> {
  readonly startRate: number;
  readonly maxRate: number;
  /** Stop when (fail − pass) / pass is below this, e.g. 0.1 for 10 %. */
  readonly resolution: number;
  readonly maxTrials: number;
  readonly run: (rate: number) => Promise<T>;
}

export interface RateSearchResult<T extends Trial> {
  /** The passing trial at the highest rate, or null when even the start rate failed. */
  readonly best: T | null;
  readonly trials: readonly T[];
}

export async function searchMaxRate<T extends Trial>(o: RateSearchOptions<T>): Promise<RateSearchResult<T>> {
  const trials: T[] = [];
  let best: T | null = null;
  let failRate: number | null = null;
  let rate = o.startRate;
  while (trials.length < o.maxTrials) {
    const trial = await o.run(Math.round(rate));
    trials.push(trial);
    if (trial.passed) {
      if (best === null || trial.rate > best.rate) best = trial;
    } else if (failRate === null || trial.rate < failRate) {
      failRate = trial.rate;
    }
    if (failRate === null) {
      if (rate >= o.maxRate) break;
      rate = Math.min(o.maxRate, rate * 2);
      continue;
    }
    const low = best?.rate ?? 0;
    if (low > 0 && (failRate - low) / low < o.resolution) break;
    if (low === 0 && failRate <= o.startRate / 8) break;
    rate = (low + failRate) / 2;
  }
  return { best, trials };
}
