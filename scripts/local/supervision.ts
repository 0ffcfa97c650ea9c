/**
 * Starting, watching and stopping local servers (any LocalServer). Processes are tracked by PID file, never
 * found by name: a PID counts as ours only while its command line names the server's main class and state dir.
 * Each server runs detached in its own process group, so it outlives the command that started it and
 * stopping it stops exactly it.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { waitFor, WaitTimeoutError } from "../../app/retry.ts";
import { checkJavaAndMaven } from "./java-tools.ts";
import type { LocalServer } from "./local-server.ts";
import { localHost, stateRoot } from "./locations.ts";
import { StackError, stackLog as log } from "./stack-messages.ts";

/** Held by the one start in progress per state root: it holds the starter's PID. */
export const startLockFile = join(stateRoot, "start.lock");
const readyTimeoutMs = 240_000;

const pidFile = (s: LocalServer) => join(s.dir, `${s.name}.pid`);

/** The PID of our server if it is alive and is really ours (its command line names our config dir). */
export function runningPid(s: LocalServer): number | null {
  if (!existsSync(pidFile(s))) return null;
  const pid = Number(readFileSync(pidFile(s), "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes(s.mainClass) && cmdline.includes(s.dir) ? pid : null;
  } catch {
    return null;
  }
}

function portAnswers(port: number, host = localHost): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      done(false);
    });
  });
}

function launch(s: LocalServer, args: string[]): number {
  const out = openSync(join(s.dir, "logs", "console.log"), "a");
  // Detached into its own session so it outlives this command and a Ctrl-C here does not reach it.
  const child = spawn("java", args, { cwd: s.dir, detached: true, stdio: ["ignore", out, out] });
  if (child.pid === undefined) throw new StackError(`could not start java for ${s.label}`);
  child.unref();
  writeFileSync(pidFile(s), `${child.pid}\n`);
  return child.pid;
}

function logTail(s: LocalServer, lines = 25): string {
  for (const file of ["system.log", "server.log", "console.log"]) {
    const path = join(s.dir, "logs", file);
    if (existsSync(path)) return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  }
  return "(no log)";
}

/** Waits until `ready` holds, failing at once if the server's process exits. */
async function waitReady(s: LocalServer, pid: number, ready: () => Promise<boolean> = () => s.answers()): Promise<void> {
  let lastReport = 0;
  try {
    await waitFor(
      async () => {
        if (runningPid(s) !== pid) {
          rmSync(pidFile(s), { force: true });
          throw new StackError(`${s.label} exited during start-up; last log lines (${s.dir}/logs):\n${logTail(s)}`);
        }
        return ready();
      },
      {
        what: `${s.label} (pid ${pid}) to answer`,
        timeoutMs: readyTimeoutMs,
        intervalMs: 1000,
        onWait: (waited) => {
          if (waited - lastReport < 15_000) return;
          log(`waiting for ${s.label} (pid ${pid}) to answer… ${Math.round(waited / 1000)} s`);
          lastReport = waited;
        },
      },
    );
  } catch (err) {
    if (err instanceof WaitTimeoutError)
      throw new StackError(`${s.label} did not answer within ${readyTimeoutMs / 1000} s; see ${s.dir}/logs`);
    throw err;
  }
}

/**
 * One start at a time per state root. Two callers starting at once (two test runs, or a test run and
 * `npm run stack -- start`) would both launch a server; the loser's PID file replaced the winner's and the
 * running server was left without one (then "taken by a process that is not ours"). The lock file holds the
 * starter's PID, so a lock left by a killed starter is recognised as stale and taken over.
 */
async function withStartLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(stateRoot, { recursive: true });
  const lock = startLockFile;
  let announced = false;
  const holdMs = 15 * 60_000;
  const taken = () => {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number(readFileSync(lock, "utf8").trim());
    if (!Number.isInteger(holder) || holder <= 0 || !processAlive(holder)) {
      rmSync(lock, { force: true }); // stale: its starter is gone; the next probe takes it
      return false;
    }
    if (!announced) log(`another start of the local stack (pid ${holder}) is in progress; waiting for it`);
    announced = true;
    return false;
  };
  try {
    await waitFor(taken, { what: `another start of the local stack to release ${lock}`, timeoutMs: holdMs, intervalMs: 500 });
  } catch (err) {
    if (err instanceof WaitTimeoutError) throw new StackError(`another start of the local stack has held ${lock} for 15 minutes`);
    throw err;
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Starts whichever of `list` is not running (under the start lock) and waits until each answers; on a
 * failure it stops what it started. Returns the servers this call started.
 */
export function startServers(list: readonly LocalServer[]): Promise<LocalServer[]> {
  return withStartLock(() => startServersNow(list));
}

async function startServersNow(list: readonly LocalServer[]): Promise<LocalServer[]> {
  checkJavaAndMaven();
  const started: { server: LocalServer; pid: number }[] = [];
  for (const s of list) {
    mkdirSync(s.dir, { recursive: true });
    const pid = runningPid(s);
    if (pid !== null) {
      log(`${s.label} already running (pid ${pid}) on ${s.host}:${s.port}${s.alreadyRunning(pid)}`);
      continue;
    }
    if (await portAnswers(s.port, s.host)) {
      throw new StackError(
        `port ${s.port} on ${s.host} is taken by a process that is not our ${s.label}: stop it (see: ss -ltnp 'sport = :${s.port}') and start again`,
      );
    }
    const newPid = launch(s, s.javaCommand());
    log(`starting ${s.label} (pid ${newPid}) on ${s.host}:${s.port}, logs in ${join(s.dir, "logs")}`);
    started.push({ server: s, pid: newPid });
  }
  const t0 = Date.now();
  const ready = async ({ server, pid }: { server: LocalServer; pid: number }) => {
    if (server.whenPortOpens !== undefined) {
      await waitReady(server, pid, () => portAnswers(server.port, server.host));
      await server.whenPortOpens();
    }
    await waitReady(server, pid);
  };
  try {
    await Promise.all(started.map(ready));
  } catch (err) {
    await stopServers(started.map(({ server }) => server));
    throw err;
  }
  for (const { server } of started) {
    log(`${server.label} ready on ${server.host}:${server.port} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return started.map(({ server }) => server);
}

/** Stops our servers of `list`: `signal` (SIGTERM, then SIGKILL after a grace period; or SIGKILL at once). */
export async function stopServers(list: readonly LocalServer[], signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
  await Promise.all(
    list.map(async (s) => {
      const pid = runningPid(s);
      if (pid === null) {
        rmSync(pidFile(s), { force: true });
        return;
      }
      // Negative PID: the whole process group the detached server leads.
      process.kill(-pid, signal);
      const gone = () => runningPid(s) !== pid;
      try {
        await waitFor(gone, { what: `${s.label} (pid ${pid}) to stop`, timeoutMs: 60_000 });
      } catch (err) {
        if (!(err instanceof WaitTimeoutError)) throw err;
        log(`${s.label} (pid ${pid}) did not stop in 60 s; killing it`);
        process.kill(-pid, "SIGKILL");
        await waitFor(gone, { what: `${s.label} (pid ${pid}) to die of SIGKILL`, timeoutMs: 60_000, intervalMs: 100 });
      }
      rmSync(pidFile(s), { force: true });
      log(`stopped ${s.label} (pid ${pid})`);
    }),
  );
}
