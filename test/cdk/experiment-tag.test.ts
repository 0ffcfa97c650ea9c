/** The experiment tag's key is one small module: the sweep and preflight read it without loading aws-cdk-lib. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./kit-synth.ts";

/** Imports `module` in a fresh Node process and lists every import specifier it resolved on the way. */
function resolvedBy(module: string): string[] {
  const script = `
    import { registerHooks } from "node:module";
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { seen.push(specifier); return next(specifier, context); } });
    await import(${JSON.stringify(module)});
    process.stdout.write(JSON.stringify(seen));`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: repoRoot, encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as string[];
}

describe("experiment tag", () => {
  it.each(["scripts/aws/tagged-resources.ts", "scripts/aws/quota-check.ts"])("%s loads no aws-cdk-lib for it", (script) => {
    const specifiers = resolvedBy(join(repoRoot, script));
    expect(specifiers.some((s) => s.endsWith("experiment-tag.ts"))).toBe(true);
    expect(specifiers.filter((s) => s.startsWith("aws-cdk-lib") || s.endsWith("cdk/app.ts"))).toEqual([]);
  });
});
