/** Spread of repeated measurements: min / median / max, and ratios of adjacent pairs. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly n: number;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function spread(values: readonly number[], digits = 3): Spread {
  if (values.length === 0) return { min: 0, median: 0, max: 0, n: 0 };
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: round(s[0]!, digits), median: round(median, digits), max: round(s.at(-1)!, digits), n: s.length };
}

/** numerator[i] ÷ denominator[i] for each pair measured next to each other. */
export function pairRatios(numerators: readonly number[], denominators: readonly number[]): number[] {
  const n = Math.min(numerators.length, denominators.length);
  return Array.from({ length: n }, (_, i) => (denominators[i]! > 0 ? numerators[i]! / denominators[i]! : 0));
}

/** |a − b| relative to their mean: 0.1 means the two differ by 10 %. */
export const relativeDifference = (a: number, b: number): number => (a + b === 0 ? 0 : Math.abs(a - b) / ((a + b) / 2));

/** Medians of a per-trial record's numeric fields (e.g. CPU seconds per role). */
export function medianOfRecords(records: readonly Readonly<Record<string, number>>[], digits = 3): Record<string, number> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.map((k) => [
      k,
      spread(
        records.flatMap((r) => (r[k] === undefined ? [] : [r[k]])),
        digits,
      ).median,
    ]),
  );
}

/** The role with the most CPU per check, and its share of all roles' CPU (the harness left out). */
export function bottleneck(
  cpuPer1000: Readonly<Record<string, number>>,
  ignore: readonly string[] = ["bench"],
): { process: string; share: number } {
  const entries = Object.entries(cpuPer1000).filter(([k]) => !ignore.includes(k));
  const total = entries.reduce((a, [, v]) => a + v, 0);
  const top = entries.reduce<[string, number]>((a, b) => (b[1] > a[1] ? b : a), ["none", 0]);
  return { process: top[0], share: total > 0 ? Math.round((top[1] / total) * 1000) / 1000 : 0 };
}
