/**
 * The experiment CLI's bad input, through the real CLI process (nothing reaches a server: each case is refused
 * before anything starts): an unknown flag is named with a suggestion, a bad --compare leaves no state file
 * that would block the rerun, and the exit codes are the documented ones (2 bad arguments, 0 for --help).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runExperimentCli } from "./experiment-cli.ts";

const root = mkdtempSync(join(tmpdir(), "experiment-args-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("npm run experiment: bad arguments", { timeout: 60_000 }, () => {
  it("refuses an unknown flag by name, suggests the right one, and exits 2", async () => {
    const { code, out } = await runExperimentCli(["--target", "local", "--stage", "1", "--duration", "5", "--results-dir", root]);
    expect(out).toMatch(/unknown option '--stage'/);
    expect(out).toMatch(/Did you mean --stages\?/);
    expect(code).toBe(2);
  });

  it("a bad --compare exits 2 and writes nothing, so the same command can be rerun (no 'already exists')", async () => {
    const args = [
      "--target",
      "local",
      "--stages",
      "1",
      "--duration",
      "5",
      "--id",
      "argsprobe",
      "--compare",
      "nosuch",
      "--results-dir",
      root,
    ];
    const first = await runExperimentCli(args);
    expect(first.out).toContain(`--compare nosuch: no experiment folder ${join(root, "nosuch")}`);
    expect(first.code).toBe(2);
    expect(existsSync(join(root, "argsprobe"))).toBe(false);
    const again = await runExperimentCli(args);
    expect(again.out).not.toMatch(/already exists/);
    expect(again.code).toBe(2);
  });

  it("--target aws without a public API CIDR (or --from-inside-vpc) exits 2 before anything is deployed", async () => {
    const { code, out } = await runExperimentCli(["--target", "aws", "--stages", "3", "--duration", "60", "--results-dir", root]);
    expect(out).toMatch(/--target aws needs --api-access-cidrs/);
    expect(out).toMatch(/--from-inside-vpc/);
    expect(code).toBe(2);
  });

  it("a missing required flag exits 2 naming it; --help exits 0", async () => {
    const missing = await runExperimentCli(["--target", "local", "--duration", "5", "--results-dir", root]);
    expect(missing.out).toMatch(/--stages is required/);
    expect(missing.code).toBe(2);
    expect((await runExperimentCli(["--help"])).code).toBe(0);
  });
});
