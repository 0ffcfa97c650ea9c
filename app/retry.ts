/**
 * Retry with capped exponential backoff and full jitter, for transient Cassandra and Kafka errors. A transient
 * error is retried until `stop` says so (the detector keeps trying rather than skip an event: the offset is not
 * committed meanwhile, and the pause of the partition is the backpressure); anything else is thrown at once.
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface RetryOptions {
  readonly isTransient: (err: unknown) => boolean;
  readonly baseMs?: number;
  readonly maxMs?: number;
  /** Called before each retry: count it, log it. */
  readonly onRetry?: (err: unknown, attempt: number) => void;
  /** Give up (throw the last error) when this says so, e.g. after a shutdown deadline. */
  readonly stop?: (attempt: number) => boolean;
}

export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  const base = o.baseMs ?? 50;
  const max = o.maxMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!o.isTransient(err) || (o.stop?.(attempt) ?? false)) throw err;
      o.onRetry?.(err, attempt);
      await sleep(Math.random() * Math.min(max, base * 2 ** (attempt - 1)));
    }
  }
}
