/**
 * The memory-limited cgroup a local run puts a detector in, for real (it needs root and the memory controller):
 * Node inside it sees the limit and runs with the heap the charts derive from it, and a process that outgrows
 * the limit is ended by the kernel's OOM killer, which the group counts.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { nodeHeapEnv } from "../../../cdk/size/node-heap.ts";
import { sizePlanFrom } from "../../../cdk/size/size-plan.ts";
import { createMemoryCgroup, type MemoryCgroup } from "../../../scripts/local/memory-cgroup.ts";

const runIn = (group: MemoryCgroup, script: string, env: Record<string, string> = {}) => {
  const { command, args } = group.wrap(process.execPath, ["-e", script]);
  return spawnSync(command, args, { env: { ...process.env, ...env }, encoding: "utf8" });
};

const withGroup = <T>(name: string, limitMiB: number, use: (g: MemoryCgroup) => T): T => {
  const group = createMemoryCgroup(`anomaly-kit-test-${name}-${process.pid}`, limitMiB);
  try {
    return use(group);
  } finally {
    group.remove();
  }
};

describe.skipIf(process.getuid?.() !== 0)("a memory-limited cgroup (as root)", () => {
  it("starts Node inside the pod's limit, with the old space the size plan derives from it", () => {
    const { detector } = sizePlanFrom({ preset: "stage-3" });
    withGroup("heap", detector.memoryMiB, (group) => {
      const seen = runIn(
        group,
        'const v8 = require("node:v8"); console.log(JSON.stringify({ limit: process.constrainedMemory(), heap: v8.getHeapStatistics().heap_size_limit }))',
        nodeHeapEnv(detector.maxOldSpaceMiB),
      );
      expect(seen.status, seen.stderr).toBe(0);
      const { limit, heap } = JSON.parse(seen.stdout) as { limit: number; heap: number };
      expect(limit).toBe(detector.memoryMiB * 2 ** 20);
      // V8's limit is the old space plus the young generation: at least the old space, under the pod's limit.
      expect(heap).toBeGreaterThanOrEqual(detector.maxOldSpaceMiB * 2 ** 20);
      expect(heap).toBeLessThan(detector.memoryMiB * 2 ** 20);
      expect(group.oomKills()).toBe(0);
    });
  });

  it("has the kernel end a process that outgrows the limit, and counts the OOM kill", () => {
    withGroup("oom", 128, (group) => {
      // Buffers outside V8's heap, each filled so its pages are really charged.
      const grown = runIn(group, "const keep = []; for (let i = 0; i < 64; i++) keep.push(Buffer.alloc(8 * 2 ** 20, 1));");
      expect(grown.signal).toBe("SIGKILL");
      expect(group.oomKills()).toBe(1);
      expect(group.peakBytes()).toBeLessThanOrEqual(128 * 2 ** 20);
    });
  });

  it("refuses a limit below what Node starts in and a name the cgroup file system would misread", () => {
    expect(() => createMemoryCgroup("anomaly-kit-test-small", 32)).toThrow("memory limit = 32 MiB: allowed: an integer of at least 64");
    expect(() => createMemoryCgroup("../escape", 256)).toThrow('cgroup name = "../escape": allowed: lower-case letters, digits and "-"');
  });
});
