/**
 * The test command's first check: a missing Prometheus tool is named with the command that installs it and the
 * env var that points elsewhere, and a present one is not reported. Runs the real check (spawns the binaries).
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isInstalled, missingPrerequisites, prometheusServer, promtool } from "../../../scripts/local/prerequisites.ts";

describe("prerequisites", () => {
  it("names a missing tool, what needs it, how to install it and which variable overrides it", () => {
    const absent = { ...promtool, command: "/nonexistent/promtool" };
    expect(isInstalled(absent)).toBe(false);
    const [line, ...rest] = missingPrerequisites([absent]);
    expect(rest).toEqual([]);
    expect(line).toContain("/nonexistent/promtool");
    expect(line).toContain("promtool test rules");
    expect(line).toContain("apt-get install prometheus");
    expect(line).toContain("PROMTOOL");
  });

  it("reports nothing for the tools this machine has (as found by a shell)", () => {
    const present = [prometheusServer, promtool].filter((p) => spawnSync("sh", ["-c", `command -v "${p.command}"`]).status === 0);
    expect(present.length).toBeGreaterThan(0); // the test command does not start without them
    expect(missingPrerequisites(present)).toEqual([]);
  });
});
