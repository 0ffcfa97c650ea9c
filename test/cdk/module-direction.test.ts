/**
 * cdk/ and charts/ depend on each other in one direction. charts/ builds its objects from the kit's model,
 * which lives in cdk/ (the size plan, the servers' ports, the endpoints type, the workload names) and which
 * scripts/ and test/ import from there too. So charts/ may import cdk/, but only modules free of CDK
 * constructs; the stacks reach charts/ only through the ChartsBuilder that cdk/kit-charts.ts implements and
 * cdk/main.ts plugs in. Read from the sources' import lines (type-only and dynamic imports included) with the
 * TypeScript scanner, so a new import that breaks the rule fails here, not in a review.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./kit-synth.ts";

/** Repo-relative path ("cdk/eks-stack.ts") of every TypeScript module under `dir`, generated imports aside. */
function modulesUnder(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f))
    .filter((f) => !f.startsWith(join("charts", "imports")));
}

/** What a module imports: repo-relative paths for relative specifiers, package names as written otherwise. */
function importsOf(module: string): string[] {
  const source = readFileSync(join(repoRoot, module), "utf8");
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map(({ fileName }) =>
      fileName.startsWith(".") ? relative(repoRoot, resolve(repoRoot, dirname(module), fileName)) : fileName,
    );
}

const cdkModules = modulesUnder("cdk");
const chartModules = modulesUnder("charts");
const graph = new Map([...cdkModules, ...chartModules].map((m) => [m, importsOf(m)]));
const inCdk = (m: string) => m.startsWith("cdk/");
const inCharts = (m: string) => m.startsWith("charts/");
/** Packages of CDK constructs: a module importing one is part of the stacks, not of the model. */
const constructPackage = /^(aws-cdk-lib|constructs|cdk-nag|@aws-cdk\/)/;

/** Every cdk/ or charts/ module reachable from `start` through relative imports, `start` included. */
function reachableFrom(start: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...start];
  while (pending.length > 0) {
    const m = pending.pop()!;
    if (seen.has(m) || !graph.has(m)) continue;
    seen.add(m);
    pending.push(...graph.get(m)!);
  }
  return seen;
}

describe("cdk/ and charts/ import each other in one direction", () => {
  it("reads the import lines it checks", () => {
    expect(cdkModules).toContain("cdk/eks/chart-manifests.ts");
    expect(chartModules).toContain("charts/index.ts");
    expect(chartModules.some((m) => m.startsWith("charts/imports/"))).toBe(false);
    expect(importsOf("cdk/kit-charts.ts")).toEqual(expect.arrayContaining(["cdk8s", "charts/index.ts", "cdk/eks/chart-manifests.ts"]));
    expect(importsOf("charts/index.ts")).toContain("cdk/size/size-plan.ts");
  });

  it("cdk/ imports charts/ only in cdk/kit-charts.ts", () => {
    const crossing = cdkModules.filter((m) => graph.get(m)!.some(inCharts));
    expect(crossing).toEqual(["cdk/kit-charts.ts"]);
  });

  it("cdk/kit-charts.ts is imported only by the entry point cdk/main.ts", () => {
    const importers = [...graph].filter(([, imports]) => imports.includes("cdk/kit-charts.ts")).map(([m]) => m);
    expect(importers).toEqual(["cdk/main.ts"]);
  });

  it("what charts/ reaches in cdk/ is the model: no CDK constructs, no way back to charts/", () => {
    const reached = [...reachableFrom(chartModules)].filter(inCdk);
    expect(reached).toEqual(expect.arrayContaining(["cdk/size/size-plan.ts", "cdk/workload-endpoints.ts", "cdk/workload-names.ts"]));
    const offending = reached.flatMap((m) =>
      graph
        .get(m)!
        .filter((i) => constructPackage.test(i) || inCharts(i))
        .map((i) => `${m} imports ${i}`),
    );
    expect(offending).toEqual([]);
  });

  it("the import graph of cdk/ and charts/ has no cycle", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (m: string, path: string[]) => {
      if (state.get(m) === "done" || !graph.has(m)) return;
      if (state.get(m) === "open") {
        cycles.push([...path.slice(path.indexOf(m)), m].join(" → "));
        return;
      }
      state.set(m, "open");
      for (const next of graph.get(m)!) visit(next, [...path, m]);
      state.set(m, "done");
    };
    for (const m of graph.keys()) visit(m, []);
    expect(cycles).toEqual([]);
  });
});
