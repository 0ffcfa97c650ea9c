/**
 * scripts/with-node.sh, the entry of every npm script: two started together on a checkout whose packages are
 * stale run one `npm ci` between them, not two (one's removal of node_modules used to pull the packages from
 * under the other); a changed patch of a package installs again; a worktree whose node_modules links to another checkout's never installs through the link.
 * The real script, in a scratch root, with a stand-in `npm` that records each call.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../cdk/kit-synth.ts";

const run = (root: string, bin: string) =>
  new Promise<number | null>((resolve) => {
    const child = spawn("bash", [join(root, "scripts", "with-node.sh"), "true"], {
      env: { ...process.env, PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin` },
      stdio: "ignore",
    });
    child.on("exit", resolve);
  });

describe("with-node.sh", () => {
  it("runs npm ci once when two entry points start together on stale packages", async () => {
    const root = mkdtempSync(join(tmpdir(), "with-node-"));
    mkdirSync(join(root, "scripts"));
    copyFileSync(join(repoRoot, "scripts", "with-node.sh"), join(root, "scripts", "with-node.sh"));
    copyFileSync(join(repoRoot, ".nvmrc"), join(root, ".nvmrc"));
    writeFileSync(join(root, "package-lock.json"), "{}");
    mkdirSync(join(root, "node_modules"));
    writeFileSync(join(root, "node_modules", ".package-lock.json"), "{}");
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(root, "node_modules", ".package-lock.json"), old, old); // older than the lockfile: stale
    // npm ci as it behaves: node_modules removed, a while later the stamp written anew.
    const bin = join(root, "bin");
    mkdirSync(bin);
    const calls = join(root, "npm-calls");
    writeFileSync(
      join(bin, "npm"),
      `#!/bin/bash\necho "$*" >> "${calls}"\nrm -rf node_modules\nsleep 1\nmkdir -p node_modules && echo '{}' > node_modules/.package-lock.json\n`,
    );
    chmodSync(join(bin, "npm"), 0o755);

    const codes = await Promise.all([run(root, bin), run(root, bin)]);
    expect(codes).toEqual([0, 0]);
    expect(readFileSync(calls, "utf8").trim().split("\n")).toEqual(["ci --loglevel=error --no-fund --no-audit"]);
  });

  describe("a patch under patches/ (patch-package applies them at install)", () => {
    /** A checkout whose packages are newer than its lockfile, with one patch of the given age. */
    const checkoutWithPatch = (patchAgeMs: number) => {
      const root = mkdtempSync(join(tmpdir(), "with-node-patch-"));
      mkdirSync(join(root, "scripts"));
      copyFileSync(join(repoRoot, "scripts", "with-node.sh"), join(root, "scripts", "with-node.sh"));
      copyFileSync(join(repoRoot, ".nvmrc"), join(root, ".nvmrc"));
      writeFileSync(join(root, "package-lock.json"), "{}");
      const lockTime = new Date(Date.now() - 120_000);
      utimesSync(join(root, "package-lock.json"), lockTime, lockTime);
      mkdirSync(join(root, "node_modules"));
      writeFileSync(join(root, "node_modules", ".package-lock.json"), "{}");
      const installed = new Date(Date.now() - 60_000);
      utimesSync(join(root, "node_modules", ".package-lock.json"), installed, installed);
      mkdirSync(join(root, "patches"));
      writeFileSync(join(root, "patches", "some+1.0.0.patch"), "");
      const patchTime = new Date(Date.now() - patchAgeMs);
      utimesSync(join(root, "patches", "some+1.0.0.patch"), patchTime, patchTime);
      const bin = join(root, "bin");
      mkdirSync(bin);
      const calls = join(root, "npm-calls");
      writeFileSync(join(bin, "npm"), `#!/bin/bash\necho "$*" >> "${calls}"\necho '{}' > node_modules/.package-lock.json\n`);
      chmodSync(join(bin, "npm"), 0o755);
      return { root, bin, calls };
    };

    it("installs again when a patch changed after the last install", async () => {
      const c = checkoutWithPatch(0);
      expect(await run(c.root, c.bin)).toBe(0);
      expect(readFileSync(c.calls, "utf8").trim().split("\n")).toEqual(["ci --loglevel=error --no-fund --no-audit"]);
    });

    it("does not install when every patch is older than the install", async () => {
      const c = checkoutWithPatch(90_000);
      expect(await run(c.root, c.bin)).toBe(0);
      expect(existsSync(c.calls)).toBe(false);
    });
  });

  describe("with node_modules a link to another checkout's", () => {
    /** A main checkout with installed packages and a worktree whose node_modules links to them. */
    const linkedWorktree = (worktreeLock: string) => {
      const scratch = mkdtempSync(join(tmpdir(), "with-node-link-"));
      const main = join(scratch, "main");
      mkdirSync(join(main, "node_modules"), { recursive: true });
      writeFileSync(join(main, "package-lock.json"), "{}");
      writeFileSync(join(main, "node_modules", ".package-lock.json"), "{}");
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(main, "node_modules", ".package-lock.json"), old, old);
      const root = join(scratch, "worktree");
      mkdirSync(join(root, "scripts"), { recursive: true });
      copyFileSync(join(repoRoot, "scripts", "with-node.sh"), join(root, "scripts", "with-node.sh"));
      copyFileSync(join(repoRoot, ".nvmrc"), join(root, ".nvmrc"));
      writeFileSync(join(root, "package-lock.json"), worktreeLock); // newer than the stamp: its checkout time
      symlinkSync(join(main, "node_modules"), join(root, "node_modules"));
      const bin = join(scratch, "bin");
      mkdirSync(bin);
      const calls = join(scratch, "npm-calls");
      writeFileSync(join(bin, "npm"), `#!/bin/bash\necho "$*" >> "${calls}"\nrm -rf node_modules/* node_modules/.package-lock.json\n`);
      chmodSync(join(bin, "npm"), 0o755);
      return { root, bin, calls, stamp: join(main, "node_modules", ".package-lock.json") };
    };

    it("runs the command without npm ci when the other checkout's lockfile has the same text", async () => {
      const w = linkedWorktree("{}");
      expect(await run(w.root, w.bin)).toBe(0);
      expect(existsSync(w.calls)).toBe(false);
      expect(existsSync(w.stamp)).toBe(true);
    });

    it("refuses, leaving the other checkout's packages, when the lockfiles differ", async () => {
      const w = linkedWorktree('{"lockfileVersion":3}');
      expect(await run(w.root, w.bin)).toBe(1);
      expect(existsSync(w.calls)).toBe(false);
      expect(existsSync(w.stamp)).toBe(true);
    });
  });
});
