/**
 * Waits for tests that end on a stall, not on a wall clock: a busy machine makes a run slow, not wrong, so a
 * test gives up only when nothing has moved for a while. Built on the benches' own stall-bounded wait
 * (waitWhileMoving), not a copy of it.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { waitWhileMoving, WaitTimeoutError } from "../app/retry.ts";
import { projectRoot } from "../scripts/local/locations.ts";

/** How long a test's wait may see nothing move before it gives up: a slow machine still moves, a broken run does not. */
export const testStallMs = 60_000;

/**
 * The per-test bound of a test whose waits end on a stall: only a backstop against a hang outside them, far past
 * the longest run of a loaded machine.
 */
export const stallBoundedTestTimeoutMs = 30 * 60_000;

/**
 * Waits until `done()` for as long as `progress()` (a count that grows while the run works) keeps moving; throws
 * naming `what` once it stood still for testStallMs.
 */
export async function untilDone(what: string, progress: () => number | Promise<number>, done: () => boolean): Promise<void> {
  await waitWhileMoving(progress, { what, until: () => done(), stallMs: testStallMs, intervalMs: 250 });
}

/** Silence that ends a CLI run: longer than any of the project's CLIs goes without a line in a healthy run. */
export const cliSilenceMs = 5 * 60_000;

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Both streams, in the order the lines came. */
  readonly out: string;
}

/** Runs `node <script> <args>` for a project CLI under scripts/ (as `npm run` does): see runNodeFile. */
export const runCli = (script: string, args: readonly string[], o: { silenceMs?: number } = {}): Promise<CliRun> =>
  runNodeFile(join(projectRoot, "scripts", script), args, o);

/**
 * Runs `node <file> <args>` to its end, however long it takes while it prints; kills it (SIGTERM, then its exit
 * is awaited) and throws once it printed nothing for `silenceMs`. `env`: the child's whole environment.
 */
export async function runNodeFile(
  file: string,
  args: readonly string[],
  o: { silenceMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, [file, ...args], {
    cwd: projectRoot,
    env: o.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => ((stdout += c), (out += c)));
  child.stderr.setEncoding("utf8").on("data", (c: string) => ((stderr += c), (out += c)));
  let code: number | null | undefined;
  const closed = new Promise<void>((resolve) => child.on("close", (c) => ((code = c), resolve())));
  try {
    await waitWhileMoving(() => out.length, {
      what: `${file} ${args.join(" ")}: its output`,
      until: () => code !== undefined,
      stallMs: o.silenceMs ?? cliSilenceMs,
      intervalMs: 500,
    });
  } catch (err) {
    child.kill("SIGTERM");
    await closed;
    if (err instanceof WaitTimeoutError) throw new Error(`${err.message}; killed. Its last output:\n${out.slice(-4000)}`);
    throw err;
  }
  await closed;
  return { code: code ?? null, stdout, stderr, out };
}
