/**
 * The smoke variant of `npm run bench:scaling`, run as the user runs it: a second detector joins a draining
 * group and leaves it with SIGTERM, against the real local stack. Both steps happen, each is a rebalance the
 * first detector goes through, and no event is lost or stored twice whatever was replayed. Its hand-off holds
 * 32 records, so the first detector has its partitions paused at both steps: before the fix, forgetting them at
 * the rebalance (kafkajs keeps them paused) stalled it for good, 15,016 of 30,000 events never checked. How long
 * the stall is belongs to the full run, not to a test.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ScalingTrial } from "../../../scripts/bench/scaling-steps.ts";
import { runCli, stallBoundedTestTimeoutMs } from "../../stall-bounded.ts";

describe("npm run bench:scaling -- --smoke", () => {
  it(
    "scales out and in under a backlog, loses nothing, and writes JSON and a chart",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "bench-scaling-"));
      const r = await runCli("bench-scaling.ts", ["--smoke", "--output-dir", dir]);
      expect(r.code, r.stderr).toBe(0);
      const t = JSON.parse(readFileSync(join(dir, "scaling-steps.json"), "utf8")) as ScalingTrial;
      expect(t.steps.map((s) => s.kind)).toEqual(["out", "in"]);
      expect(t.steps[1]!.atSeconds).toBeGreaterThan(t.steps[0]!.atSeconds);
      // Its own join, then at least one rebalance per step.
      expect(t.firstDetectorGroupJoins).toBeGreaterThanOrEqual(3);
      expect(t.unchecked).toBe(0);
      expect(t.notStored).toBe(0);
      expect(t.storedRowsMinusEvents).toBe(0);
      expect(existsSync(join(dir, "scaling-steps.png"))).toBe(true);
    },
    stallBoundedTestTimeoutMs,
  );
});
