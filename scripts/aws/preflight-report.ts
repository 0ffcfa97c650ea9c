/** Preflight results as text: one line per check, the fix under each failure, a summary line. */
import { failed, type CheckResult } from "./check-result.ts";

const mark: Record<CheckResult["status"], string> = { pass: "PASS", fail: "FAIL", warn: "WARN", skipped: "SKIP" };

export function preflightReport(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines = results.flatMap((r) => [
    `${mark[r.status]}  ${r.check.padEnd(width)}  ${r.detail}`,
    ...(r.fix === undefined ? [] : [`      ${"".padEnd(width)}  fix: ${r.fix}`]),
  ]);
  const bad = failed(results).length;
  lines.push("", bad === 0 ? "preflight: all checks passed" : `preflight: ${bad} check(s) failed`);
  return lines.join("\n");
}
