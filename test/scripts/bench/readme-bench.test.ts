/**
 * The README's benchmark section shows results/bench/latest.json: its date and revision, and each headline
 * figure in its row with the verdict against its target, as read here from the JSON, not re-rendered.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchResult } from "../../../scripts/bench/bench-result.ts";
import { readmeBenchSection, readmePath } from "../../../scripts/bench/readme-section.ts";
import { projectRoot } from "../../../scripts/local/locations.ts";

describe("README benchmark section", () => {
  const latest = JSON.parse(readFileSync(join(projectRoot, "results", "bench", "latest.json"), "utf8")) as BenchResult;
  const section = readmeBenchSection(readFileSync(readmePath, "utf8")) ?? "";
  /** The table row whose measure starts with `label`, split into its cells. */
  const row = (label: string) => {
    const line = section.split("\n").find((l) => l.startsWith(`| ${label}`));
    expect(line, label).toBeDefined();
    return line!
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
  };
  const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

  it("is from the latest full benchmark: its date and revision", () => {
    expect(latest.profile).toBe("full");
    expect(section).toContain(`Measured ${latest.at.slice(0, 10)} at revision \`${latest.machine.revision}\``);
  });

  it("shows each headline figure of the JSON, with its verdict against the target", () => {
    const { targets: t } = latest;
    const [, ceiling] = row("Cassandra ceiling");
    expect(ceiling).toMatch(new RegExp(`^${latest.ceilingOpsPerSecond.median} \\(`));
    const [, drain, , drainVerdict] = row("Pipeline drain rate");
    expect(drain).toMatch(
      new RegExp(
        `^${latest.drainChecksPerSecond.median} \\(${latest.drainChecksPerSecond.min} – ${latest.drainChecksPerSecond.max}, n = ${latest.drainChecksPerSecond.n}\\)$`,
      ),
    );
    expect(drainVerdict).toBe(verdict(latest.drainChecksPerSecond.median >= t.pipelineChecksPerSecond));
    const [, ratio, , ratioVerdict] = row("Pipeline ÷ ceiling");
    expect(ratio).toMatch(new RegExp(`^${latest.ratio.median} \\(`));
    expect(ratioVerdict).toBe(verdict(latest.ratio.median >= t.ratio));
    const [, bounded] = row("Highest offered rate with p99 < 1 s");
    expect(bounded).toMatch(latest.p99BoundedRate === null ? /^none passed$/ : new RegExp(`^${latest.p99BoundedRate} \\(`));
    const [, rss, , rssVerdict] = row("Detector peak RSS");
    expect(rss).toBe(`${latest.detectorMaxRssMiB} MiB`);
    expect(rssVerdict).toBe(verdict(latest.detectorMaxRssMiB <= t.rssMb));
  });
});
