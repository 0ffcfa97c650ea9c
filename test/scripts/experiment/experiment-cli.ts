/** Runs the real `npm run experiment` entry point as a child process and collects its output and exit code. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../../scripts/local/stack-control.ts";

export function runExperimentCli(args: readonly string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(projectRoot, "scripts", "experiment.ts"), ...args], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("exit", (code) => resolve({ code, out }));
  });
}
