/** The README's benchmark section is exactly what results/bench/latest.json renders to. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchResult } from "../../../scripts/bench/bench-result.ts";
import { readmeBenchSection, readmePath, renderBenchSection } from "../../../scripts/bench/readme-section.ts";
import { projectRoot } from "../../../scripts/local/stack-control.ts";

describe("README benchmark section", () => {
  it("matches the latest full benchmark's JSON", () => {
    const latest = JSON.parse(readFileSync(join(projectRoot, "results", "bench", "latest.json"), "utf8")) as BenchResult;
    expect(latest.profile).toBe("full");
    expect(readmeBenchSection(readFileSync(readmePath, "utf8"))).toBe(renderBenchSection(latest));
  });
});
