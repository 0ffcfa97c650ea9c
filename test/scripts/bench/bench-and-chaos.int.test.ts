/**
 * The smoke variants of `npm run bench` and `npm run chaos`, run for real as the user runs them, so the
 * harnesses cannot rot. They check that the runs complete and hold the promises (nothing lost); the speed
 * figures are the full benchmark's business, not a test's.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchResult } from "../../../scripts/bench/bench-result.ts";
import { projectRoot } from "../../../scripts/local/stack-control.ts";

const tsx = join(projectRoot, "node_modules", ".bin", "tsx");
const run = (script: string, dir: string, extra: string[] = []) =>
  spawnSync(tsx, [join(projectRoot, "scripts", script), "--smoke", "--output-dir", dir, ...extra], { encoding: "utf8", timeout: 240_000 });

describe("npm run bench -- --smoke", () => {
  it("measures the ceiling, a pipeline trial and a spike, and writes the JSON and charts", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-"));
    const r = run("bench.ts", dir);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as BenchResult;
    expect(result.profile).toBe("smoke");
    expect(result.ceilingOpsPerSecond).toBeGreaterThan(0);
    expect(result.pipelineChecksPerSecond).toBeGreaterThan(0);
    expect(result.ratio).toBeCloseTo(result.pipelineChecksPerSecond / result.ceilingOpsPerSecond, 2);
    expect(result.latencyMs.p50).toBeLessThanOrEqual(result.latencyMs.p99);
    expect(result.latencyMs.p99).toBeLessThanOrEqual(result.latencyMs.p999);
    expect(result.cpuSecondsPer1000Checks).toBeGreaterThan(0);
    expect(result.rssMb).toBeGreaterThan(0);
    expect(result.spike.lost).toBe(0);
    expect(result.spike.peakLag).toBeGreaterThanOrEqual(0);
    for (const chart of ["rate-search", "spike-lag"]) expect(existsSync(join(dir, `${chart}.png`))).toBe(true);
  }, 300_000);
});

describe("npm run chaos -- --smoke", () => {
  it("kills the detector twice under load and feeds malformed records: nothing lost, all dead-lettered", () => {
    const dir = mkdtempSync(join(tmpdir(), "chaos-"));
    const r = run("chaos.ts", dir, ["--seed", "11"]);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as Record<string, number>;
    expect(result.kills).toBe(2);
    expect(result.produced).toBeGreaterThan(0);
    expect(result.lost).toBe(0);
    expect(result.duplicateRows).toBe(0);
    expect(result.checked).toBeGreaterThanOrEqual(result.produced!);
    expect(result.malformedSent).toBeGreaterThan(0);
    expect(result.deadLettered).toBe(result.malformedSent);
    expect(result.deadLetteredWithWrongReason).toBe(0);
  }, 300_000);
});
