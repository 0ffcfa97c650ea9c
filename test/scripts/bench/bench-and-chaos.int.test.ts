/**
 * The smoke variants of `npm run bench` and `npm run chaos`, run for real as the user runs them, so the
 * harnesses cannot rot. They check that the runs complete and hold the promises (nothing lost); the speed
 * figures are the full benchmark's business, not a test's.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchResult } from "../../../scripts/bench/bench-result.ts";
import { runCli, stallBoundedTestTimeoutMs } from "../../stall-bounded.ts";

const run = (script: string, dir: string, extra: string[] = []) => runCli(script, ["--smoke", "--output-dir", dir, ...extra]);

describe("npm run bench -- --smoke", () => {
  it(
    "warms up, interleaves ceiling and drain trials, searches the p99-bounded rate, runs a spike (overload policy off, then on) and the spatial drains, and writes the JSON and charts",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "bench-"));
      const r = await run("bench.ts", dir, ["--spike"]);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as BenchResult;
      expect(result.profile).toBe("smoke");
      expect(result.warmup.rounds.length).toBeGreaterThan(0);
      expect(result.trials.map((t) => t.kind)).toEqual(["ceiling", "pipeline"]);
      expect(result.ceilingOpsPerSecond.min).toBeGreaterThan(0);
      expect(result.drainChecksPerSecond.min).toBeGreaterThan(0);
      expect(result.ratio.median).toBeCloseTo(result.drainChecksPerSecond.median / result.ceilingOpsPerSecond.median, 2);
      // Where the time goes: every process of the pipeline used CPU during the drain.
      for (const role of ["detector", "loadgen", "kafka", "cassandra"])
        expect(result.cpuSecondsPer1000Checks[role], role).toBeGreaterThan(0);
      expect(result.detectorMaxRssMiB).toBeGreaterThan(0);
      expect(result.rateSearch).toHaveLength(1);
      expect(result.rateSearch[0]!.lost).toBe(0);
      expect(result.spike?.lost).toBe(0);
      // The same spike with the overload policy on: nothing lost either, its deferred checks and latencies reported.
      expect(result.spike?.overload?.policy).toBe("off");
      expect(result.spike?.overload?.deferredChecks).toBe(0);
      expect(result.spikeWithOverloadPolicy?.lost).toBe(0);
      expect(result.spikeWithOverloadPolicy?.overload?.policy).toBe("priority");
      const classes = result.spikeWithOverloadPolicy?.overload?.latency;
      expect((classes?.priority.checks ?? 0) + (classes?.others.checks ?? 0)).toBeGreaterThan(0);
      // The spatial modes drained the same backlog; each strategy checked every event spatially.
      expect(result.spatial?.trials.map((t) => t.mode)).toEqual(["off", "geohash", "sai"]);
      for (const t of result.spatial?.trials ?? []) expect(t.checks, t.mode).toBe(t.backlog);
      for (const m of result.spatial?.modes.filter((x) => x.mode !== "off") ?? []) {
        expect(m.score?.spatiallyChecked, m.mode).toBe(m.score?.checked);
        expect(m.relativeToOff, m.mode).toBeGreaterThan(0);
      }
      for (const chart of ["trials", "rate-search"]) expect(existsSync(join(dir, `${chart}.png`))).toBe(true);
    },
    stallBoundedTestTimeoutMs,
  );
});

describe("npm run chaos -- --smoke", () => {
  it(
    "kills the detector twice under load and feeds malformed records: nothing lost, all dead-lettered",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "chaos-"));
      const r = await run("chaos.ts", dir, ["--seed", "11"]);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as Record<string, number>;
      expect(result.kills).toBe(2);
      expect(result.produced).toBeGreaterThan(0);
      expect(result.lost).toBe(0);
      expect(result.duplicateRows).toBe(0);
      expect(result.checked).toBeGreaterThanOrEqual(result.produced!);
      expect(result.malformedSent).toBeGreaterThan(0);
      expect(result.deadLettered).toBe(result.malformedSent);
      expect(result.deadLetteredWithWrongReason).toBe(0);
      expect(existsSync(join(dir, "latest-timeline.png"))).toBe(true);
    },
    stallBoundedTestTimeoutMs,
  );
});
