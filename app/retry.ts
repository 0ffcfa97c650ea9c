/**
 * Retry with capped exponential backoff and full jitter, for transient Cassandra and Kafka errors. A transient
 * error is retried until `stop` says so (the detector keeps trying rather than skip an event: the offset is not
 * committed meanwhile, and the pause of the partition is the backpressure); anything else is thrown at once.
 * And the one poll-until-deadline loop (waitFor) every wait for a server, a process or a rollout uses.
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

export interface WaitOptions {
  /** What is awaited, named in the timeout's message. */
  readonly what: string;
  readonly timeoutMs: number;
  /** Pause between probes (default 250 ms). */
  readonly intervalMs?: number;
  /** The pause itself, e.g. one an abort signal ends early by throwing (default: a plain timer). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called after each unmet probe with the time waited so far: progress lines. */
  readonly onWait?: (waitedMs: number) => void;
  /** Appended to the timeout's message when it is thrown (a log tail, the last error seen). */
  readonly detail?: () => string;
}

export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
}

/**
 * Polls `probe` until it returns a value other than `undefined` or `false`, and returns that value; throws a
 * WaitTimeoutError naming `what` once `timeoutMs` passed. An error the probe throws ends the wait at once (a
 * process that exited, an abort): a probe that should outlast errors catches them and returns `undefined`.
 */
export async function waitFor<T>(probe: () => Promise<T | false | undefined> | T | false | undefined, o: WaitOptions): Promise<T> {
  const started = Date.now();
  const pause = o.sleep ?? ((ms: number) => sleep(ms));
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    const waited = Date.now() - started;
    if (waited >= o.timeoutMs) {
      const detail = o.detail?.() ?? "";
      throw new WaitTimeoutError(
        `timed out after ${Math.round(o.timeoutMs / 1000)} s waiting for: ${o.what}${detail ? ` (${detail})` : ""}`,
      );
    }
    o.onWait?.(waited);
    await pause(o.intervalMs ?? 250);
  }
}

/**
 * Polls a count until `until(count)` holds and returns it; throws a WaitTimeoutError naming `what` once the count
 * has not moved for `stallMs` (a drain that stopped, not one that is slow: no overall deadline).
 */
export async function waitWhileMoving(
  read: () => Promise<number> | number,
  o: Pick<WaitOptions, "what" | "intervalMs" | "sleep"> & {
    readonly until: (count: number) => boolean;
    readonly stallMs: number;
    /** The clock the stall is measured on (default Date.now). */
    readonly now?: () => number;
  },
): Promise<number> {
  const now = o.now ?? Date.now;
  let last = Number.NaN;
  let movedAt = now();
  return waitFor(
    async () => {
      const count = await read();
      if (count !== last) [last, movedAt] = [count, now()];
      else if (now() - movedAt > o.stallMs)
        throw new WaitTimeoutError(`${o.what}: stalled at ${count} for ${Math.round(o.stallMs / 1000)} s`);
      return o.until(count) ? count : undefined;
    },
    { timeoutMs: Number.POSITIVE_INFINITY, ...o },
  );
}
