/**
 * `npm run local`'s warm-up: load at the run's rate before the measured window, verified like the rest, with its
 * latency reported apart. The split follows the load generator's schedule (each event's time is its scheduled
 * send time), so which events are the warm-up's is a count, not a timing.
 */
import { describe, expect, it } from "vitest";
import { localRunDefaults, runLocalPipeline } from "../../../scripts/local/pipeline-run.ts";
import { stallBoundedTestTimeoutMs } from "../../stall-bounded.ts";

describe("a local run with a warm-up", () => {
  it(
    "sends warm-up plus measured load, loses none of it, and reports the warm-up's checks apart",
    async () => {
      const rate = 100;
      const warmupSeconds = 2;
      const duration = 3;
      const s = await runLocalPipeline({ ...localRunDefaults, rate, duration, warmupSeconds, keys: 20, partitions: 2 });
      expect(s.produced).toBe(rate * (warmupSeconds + duration));
      expect(s.lost).toBe(0);
      expect(s.duplicateRows).toBe(0);
      expect(s.checked).toBe(s.produced);
      // Events scheduled before the measured window: every one of the first warmupSeconds' but the last.
      expect(s.warmup?.seconds).toBe(warmupSeconds);
      expect(s.warmup?.checked).toBeGreaterThanOrEqual(rate * warmupSeconds - 1);
      expect(s.warmup?.checked).toBeLessThanOrEqual(rate * warmupSeconds);
      expect(s.latencyMs.max).toBeGreaterThan(0);
    },
    stallBoundedTestTimeoutMs,
  );

  it(
    "has no warm-up section when none was asked for",
    async () => {
      const s = await runLocalPipeline({ ...localRunDefaults, rate: 50, duration: 2, keys: 10, partitions: 2 });
      expect(s.warmup).toBeUndefined();
      expect(s.lost).toBe(0);
      expect(s.checked).toBe(s.produced);
    },
    stallBoundedTestTimeoutMs,
  );
});
