/**
 * The smoke variant of `npm run bench:concurrency`, run as the user runs it: both Cassandra capacities, every
 * setting drained, the adaptive limit sampled, Cassandra's CPUs given back afterwards. Speed is the full run's
 * business, not a test's.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ConcurrencyGridResult } from "../../../scripts/bench/concurrency-grid.ts";
import { stackPids } from "../../../scripts/bench/server-pids.ts";
import { projectRoot } from "../../../scripts/local/stack-control.ts";

const tsx = join(projectRoot, "node_modules", ".bin", "tsx");

describe("npm run bench:concurrency -- --smoke", () => {
  it("drains every setting at both Cassandra capacities, samples the adaptive limit, writes JSON and charts, and unpins Cassandra", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-concurrency-"));
    const r = spawnSync(tsx, [join(projectRoot, "scripts", "bench-concurrency.ts"), "--smoke", "--output-dir", dir], { encoding: "utf8", timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(dir, "concurrency-grid.json"), "utf8")) as ConcurrencyGridResult;
    expect(result.capacities.map((c) => c.capacity)).toEqual(["cassandra-1-core", "cassandra-all-cores"]);
    for (const c of result.capacities) {
      expect(c.settings.every((s) => s.checksPerSecond.n === 1 && s.checksPerSecond.min > 0), c.capacity).toBe(true);
      expect(c.settings.every((s) => Number.isFinite(s.p99Ms.median)), c.capacity).toBe(true);
    }
    const adaptive = result.trials.filter((t) => t.setting.startsWith("adaptive"));
    expect(adaptive).toHaveLength(2);
    for (const t of adaptive) expect(t.limit.length > 0 && t.limit.every((p) => p.limit >= 4)).toBe(true);
    for (const chart of ["concurrency-grid.png", "concurrency-limit.png"]) expect(existsSync(join(dir, chart)), chart).toBe(true);
    // Cassandra runs on every CPU again.
    const { cassandra } = await stackPids();
    // taskset prints the list as "0,1" or "0-1".
    const expand = (list: string) => list.split(",").flatMap((part) => {
      const [a, b = a] = part.split("-").map(Number);
      return Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
    });
    for (const pid of cassandra) {
      const affinity = spawnSync("taskset", ["-p", "-c", String(pid)], { encoding: "utf8" }).stdout.trim().split(": ").at(-1)!;
      expect(expand(affinity)).toEqual(cpus().map((_, i) => i));
    }
  }, 300_000);
});
