/**
 * Interleaved trials: ceiling, pipeline, ceiling, pipeline …, so slow drift (JVM warm-up, compaction, a
 * neighbour's load) hits both sides alike and each pair gives one ratio. A trial during which something else used
 * the machine is marked and run again, at most `maxRepeats` times in all; the last attempt is kept either way.
 */
export type TrialKind = "ceiling" | "pipeline";

export interface PlannedTrial {
  readonly kind: TrialKind;
  readonly pair: number;
}

export function interleavedPlan(pairs: number): PlannedTrial[] {
  return Array.from({ length: pairs }, (_, pair) => [
    { kind: "ceiling" as const, pair },
    { kind: "pipeline" as const, pair },
  ]).flat();
}

/** One attempt's outcome: its figure and why it was disturbed (null when clean). */
export interface Attempt<T> {
  readonly value: T;
  readonly interference: string | null;
}

export interface RunTrial<T> {
  readonly kind: TrialKind;
  readonly pair: number;
  readonly value: T;
  /** Attempts made (1 when the first was clean). */
  readonly attempts: number;
  /** Why each repeated attempt was disturbed. */
  readonly disturbed: readonly string[];
  /** The kept attempt was disturbed too (repeats ran out). */
  readonly interfered: boolean;
}

export async function runInterleaved<C, P>(o: {
  plan: readonly PlannedTrial[];
  ceiling: () => Promise<Attempt<C>>;
  pipeline: () => Promise<Attempt<P>>;
  /** Repeats over the whole plan. */
  maxRepeats: number;
  onAttempt?: (t: PlannedTrial, a: Attempt<C | P>) => void;
}): Promise<{ trials: RunTrial<C | P>[]; repeats: number }> {
  const trials: RunTrial<C | P>[] = [];
  let repeats = 0;
  for (const t of o.plan) {
    const disturbed: string[] = [];
    let attempt: Attempt<C | P>;
    for (;;) {
      attempt = t.kind === "ceiling" ? await o.ceiling() : await o.pipeline();
      o.onAttempt?.(t, attempt);
      if (attempt.interference === null || repeats >= o.maxRepeats) break;
      disturbed.push(attempt.interference);
      repeats++;
    }
    trials.push({
      kind: t.kind,
      pair: t.pair,
      value: attempt.value,
      attempts: disturbed.length + 1,
      disturbed,
      interfered: attempt.interference !== null,
    });
  }
  return { trials, repeats };
}
