/**
 * Runs the app's two commands as real child processes (`node app/main.ts detector|loadgen`, the container's
 * command), for `npm run local` and the integration tests: start with env, learn the HTTP port from its log record,
 * wait for readiness, scrape metrics, stop with a signal.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "./locations.ts";
import { httpListeningMessage, parseLogLine } from "../../app/log.ts";
import { waitFor } from "../../app/retry.ts";
import type { MemoryCgroup } from "./memory-cgroup.ts";

export interface AppProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The HTTP port (/metrics, /readyz), once known. */
  port(): Promise<number>;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Last log lines (stderr), for error messages. */
  tail(): string[];
  /** The loadgen's final report line on stdout, if any. */
  stdout(): string;
}

/** Starts `node app/main.ts <command>`; inside `cgroup` (joined before Node starts) when given. */
export function startApp(
  command: "detector" | "loadgen",
  env: Record<string, string>,
  name: string = command,
  cgroup?: MemoryCgroup,
): AppProcess {
  const node = { command: process.execPath, args: [join(projectRoot, "app", "main.ts"), command] };
  const run = cgroup ? cgroup.wrap(node.command, node.args) : node;
  const child = spawn(run.command, run.args, {
    cwd: projectRoot,
    env: { ...process.env, METRICS_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let out = "";
  let resolvePort: (p: number) => void = () => {};
  let rejectPort: (e: Error) => void = () => {};
  const port = new Promise<number>((resolve, reject) => {
    resolvePort = resolve;
    rejectPort = reject;
  });
  port.catch(() => {}); // observed by whoever asks
  let partial = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    partial += chunk;
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      if (lines.length > 200) lines.shift();
      const record = parseLogLine(line);
      if (record?.msg === httpListeningMessage && typeof record.port === "number") resolvePort(record.port);
      if (record === null || record.level === "error" || record.level === "warn") process.stderr.write(`[${name}] ${line}\n`);
    }
  });
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.on("exit", (code, signal) => {
      rejectPort(new Error(`${name} exited (${code ?? signal}) before listening:\n${lines.slice(-20).join("\n")}`));
      resolve(code ?? signal ?? "unknown");
    }),
  );
  return { name, child, port: () => port, exited, tail: () => lines.slice(-40), stdout: () => out };
}

/** Waits until /readyz answers 200 (or the process dies, or the timeout passes). */
export async function waitReady(app: AppProcess, timeoutMs = 120_000): Promise<void> {
  const port = await app.port();
  await waitFor(
    async () => {
      if (app.child.exitCode !== null) throw new Error(`${app.name} exited:\n${app.tail().join("\n")}`);
      return fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false, // not listening yet
      );
    },
    { what: `${app.name}'s /readyz`, timeoutMs, detail: () => `its last lines:\n${app.tail().join("\n")}` },
  );
}

/** Sum of each metric's samples (over all label sets), from the Prometheus text format. */
/**
 * Until the detector has joined its consumer group at least once. /readyz only says its consumers run; the group
 * join (and its partition assignment) takes seconds more, and load sent meanwhile waits in Kafka, which a run's
 * latency would count as the pipeline's.
 */
export async function waitJoined(app: AppProcess, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => {
      if (app.child.exitCode !== null) throw new Error(`${app.name} exited:\n${app.tail().join("\n")}`);
      const metrics = await scrape(app).catch(() => null);
      return (metrics?.get("detector_group_joins_total") ?? 0) >= 1;
    },
    { what: `${app.name} to join its consumer group`, timeoutMs, detail: () => `its last lines:\n${app.tail().join("\n")}` },
  );
}

export async function scrape(app: AppProcess): Promise<Map<string, number>> {
  const port = await app.port();
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sums = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!m) continue;
    sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[3]));
  }
  return sums;
}

/** Sends a signal and waits for the exit (SIGKILL after `graceMs` if it does not go). */
export async function stopApp(app: AppProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 60_000): Promise<number | string> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return app.exited;
  app.child.kill(signal);
  const timer = setTimeout(() => app.child.kill("SIGKILL"), graceMs);
  try {
    return await app.exited;
  } finally {
    clearTimeout(timer);
  }
}
