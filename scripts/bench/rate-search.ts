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

/**
 * From a known capacity downwards: try `startRate`, then `factor` × the last rate until one passes; once a pass
 * and a fail are known, bisect between them while trials remain and the gap exceeds `resolution`.
 */
export async function searchDownFrom<T extends Trial>(o: {
  readonly startRate: number;
  readonly factor: number;
  readonly resolution: number;
  readonly maxTrials: number;
  readonly run: (rate: number) => Promise<T>;
}): Promise<RateSearchResult<T>> {
  const trials: T[] = [];
  let best: T | null = null;
  let failRate: number | null = null;
  let rate = o.startRate;
  while (trials.length < o.maxTrials && rate >= 1) {
    const trial = await o.run(Math.round(rate));
    trials.push(trial);
    if (trial.passed) {
      if (best === null || trial.rate > best.rate) best = trial;
      if (failRate === null) break; // the capacity's first step passed: nothing above it to look for
    } else if (failRate === null || trial.rate < failRate) {
      failRate = trial.rate;
    }
    if (best === null) {
      rate = rate * o.factor;
      continue;
    }
    if (failRate === null || (failRate - best.rate) / best.rate < o.resolution) break;
    rate = (best.rate + failRate) / 2;
  }
  return { best, trials };
}
