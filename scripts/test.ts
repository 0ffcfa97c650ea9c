/**
 * `npm test`: lint, format check, type-check, then every test (unit, and integration against the real local stack).
 * Ends with one plain line, "N passed, N failed, N skipped", that CI logs and people can read.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missingPrerequisites, prometheusServer, promtool } from "./local/prerequisites.ts";

const step = (title: string, cmd: string, args: string[]) => {
  process.stderr.write(`\n== ${title}: ${cmd} ${args.join(" ")}\n`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  process.stderr.write(`== ${title}: ${r.status === 0 ? "ok" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return r.status === 0;
};

const extra = process.argv.slice(2);
const missing = missingPrerequisites([prometheusServer, promtool]);
if (missing.length > 0) {
  for (const line of missing) console.error(line);
  process.exit(2);
}
if (!step("python tools", "bash", ["scripts/python-tools.sh"])) process.exit(1);
const lintOk = step("lint", "eslint", ["--max-warnings=0", "."]);
const formatOk = step("format", "prettier", ["--check", "."]);
const typesOk = step("typecheck", "tsc", ["--noEmit", "-p", "."]);
const report = join(mkdtempSync(join(tmpdir(), "vitest-")), "report.json");
const testsOk = step("tests", "vitest", ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...extra]);

let counts = { passed: 0, failed: 0, skipped: 0 };
try {
  const r = JSON.parse(readFileSync(report, "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  counts = { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
} catch {
  counts.failed += 1; // the runner died before writing its report
}
const checksFailed = Number(!lintOk) + Number(!formatOk) + Number(!typesOk);
console.log(`${counts.passed} passed, ${counts.failed + checksFailed} failed, ${counts.skipped} skipped`);
process.exitCode = lintOk && formatOk && typesOk && testsOk && counts.failed === 0 ? 0 : 1;
