/**
 * scripts/with-node.sh, the entry of every npm script: two started together on a checkout whose packages are
 * stale run one `npm ci` between them, not two (one's removal of node_modules used to pull the packages from
 * under the other). The real script, in a scratch root, with a stand-in `npm` that records each call.
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync, chmodSync } from "node:fs";
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
});
