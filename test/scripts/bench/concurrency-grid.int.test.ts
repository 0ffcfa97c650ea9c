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
import { runCli, stallBoundedTestTimeoutMs } from "../../stall-bounded.ts";

describe("npm run bench:concurrency -- --smoke", () => {
  it(
    "drains every setting at both Cassandra capacities, samples the adaptive limit, writes JSON and charts, and unpins Cassandra",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "bench-concurrency-"));
      const r = await runCli("bench-concurrency.ts", ["--smoke", "--output-dir", dir]);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(readFileSync(join(dir, "concurrency-grid.json"), "utf8")) as ConcurrencyGridResult;
      expect(result.capacities.map((c) => c.capacity)).toEqual(["cassandra-1-core", "cassandra-all-cores"]);
      // The result's shape: every setting drained once at each capacity, its p99 a figure or null (none known:
      // on a busy machine a smoke drain can be shorter than the sampling), never a number that is not one.
      for (const c of result.capacities) {
        expect(c.settings.map((s) => s.setting).sort(), c.capacity).toEqual([...new Set(result.trials.map((t) => t.setting))].sort());
        expect(
          c.settings.every((s) => s.checksPerSecond.n === 1 && s.checksPerSecond.min > 0),
          c.capacity,
        ).toBe(true);
        for (const s of c.settings)
          expect(s.p99Ms === null || (s.p99Ms.n >= 1 && s.p99Ms.median >= 0), `${c.capacity} ${s.setting}`).toBe(true);
      }
      for (const t of result.trials)
        for (const p99 of Object.values(t.stageP99Ms)) expect(p99 === null || p99 >= 0, `${t.capacity} ${t.setting}`).toBe(true);
      const adaptive = result.trials.filter((t) => t.setting.startsWith("adaptive"));
      expect(adaptive).toHaveLength(2);
      for (const t of adaptive) expect(t.limit.length > 0 && t.limit.every((p) => p.limit >= 4)).toBe(true);
      for (const chart of ["concurrency-grid.png", "concurrency-limit.png"]) expect(existsSync(join(dir, chart)), chart).toBe(true);
      // Cassandra runs on every CPU again.
      const { cassandra } = await stackPids();
      // taskset prints the list as "0,1" or "0-1".
      const expand = (list: string) =>
        list.split(",").flatMap((part) => {
          const [a, b = a] = part.split("-").map(Number);
          return Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
        });
      for (const pid of cassandra) {
        const affinity = spawnSync("taskset", ["-p", "-c", String(pid)], { encoding: "utf8" })
          .stdout.trim()
          .split(": ")
          .at(-1)!;
        expect(expand(affinity)).toEqual(cpus().map((_, i) => i));
      }
    },
    stallBoundedTestTimeoutMs,
  );
});
