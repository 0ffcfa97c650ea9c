/**
 * The open-loop schedule: event i is due at a time fixed by the rate profile alone, never by when Kafka answered
 * the previous send (a closed loop slows down with the system under test and hides its latency: coordinated
 * omission). Events carry their scheduled time, so latency is measured from when the event should have existed.
 */
export interface RateProfile {
  /** Events per second outside the burst. */
  readonly rate: number;
  /** The load spike: × `burstFactor` from `burstStart` for `burstDuration` seconds. */
  readonly burstFactor: number;
  readonly burstStart: number;
  readonly burstDuration: number;
}

/** Events due in the first `t` seconds: the integral of the rate profile. */
export function eventsDueBy(p: RateProfile, t: number): number {
  const burstEnd = p.burstStart + p.burstDuration;
  const inBurst = Math.max(0, Math.min(t, burstEnd) - p.burstStart);
  return Math.floor(p.rate * t + p.rate * (p.burstFactor - 1) * inBurst);
}

/** When event i (zero-based) is due, in seconds from the start: the inverse of `eventsDueBy`. */
export function dueTime(p: RateProfile, i: number): number {
  const n = i + 1;
  const beforeBurst = p.rate * p.burstStart;
  if (n <= beforeBurst || p.burstDuration === 0 || p.burstFactor === 1) return n / p.rate;
  const burstEvents = p.rate * p.burstFactor * p.burstDuration;
  if (n <= beforeBurst + burstEvents) return p.burstStart + (n - beforeBurst) / (p.rate * p.burstFactor);
  return p.burstStart + p.burstDuration + (n - beforeBurst - burstEvents) / p.rate;
}

export const rateAt = (p: RateProfile, t: number): number =>
  t >= p.burstStart && t < p.burstStart + p.burstDuration ? p.rate * p.burstFactor : p.rate;
