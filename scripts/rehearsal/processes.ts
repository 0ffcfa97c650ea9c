/**
 * The rehearsal's own child processes: started with their output in log files, stopped by the PIDs this
 * process started (never by name), also when the rehearsal is interrupted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";

export interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
}

const running = new Set<Started>();

function stopAllSync(): void {
  for (const s of running) {
    try {
      s.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  running.clear();
}
process.on("exit", stopAllSync);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopAllSync();
    process.exit(130);
  });
}

export function start(name: string, command: string, args: readonly string[], logDir: string, env?: NodeJS.ProcessEnv): Started {
  const log = join(logDir, `${name}.log`);
  const fd = openSync(log, "a");
  const child = spawn(command, [...args], { stdio: ["ignore", fd, fd], env: { ...process.env, ...env } });
  const started: Started = { name, child, log };
  running.add(started);
  child.on("exit", () => running.delete(started));
  return started;
}

/** Stops one process: SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(s: Started, graceMs = 5_000): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => s.child.once("exit", () => resolve()));
  s.child.kill("SIGTERM");
  const timer = setTimeout(() => s.child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  // Reverse start order: the operator and kwok before the API server, etcd last.
  for (const s of [...running].reverse()) await stop(s);
}
