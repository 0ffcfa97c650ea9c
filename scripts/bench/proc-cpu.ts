/**
 * CPU time from /proc: the machine's busy time (/proc/stat) and our processes' utime + stime
 * (/proc/<pid>/stat), so a trial can say where its CPU went and whether something else used the machine.
 * The parsers and the arithmetic are pure; `readCpuSnapshot` is the only reader.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";

/** Ticks per second of the /proc counters (USER_HZ). */
export const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Busy ticks of all CPUs from /proc/stat's first line: everything but idle and iowait. */
export function parseProcStatBusy(stat: string): number {
  const line = stat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("no aggregate cpu line in /proc/stat");
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return user + nice + system + irq + softirq + steal;
}

/** utime + stime ticks and the parent PID from /proc/<pid>/stat (the command may hold spaces and parentheses). */
export function parsePidStat(stat: string): { ppid: number; ticks: number } {
  const rest = stat
    .slice(stat.lastIndexOf(")") + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** Roles of the processes a trial watches: each role a set of root PIDs (their descendants count too). */
export type Roles = Readonly<Record<string, readonly number[]>>;

export interface CpuSnapshot {
  readonly atMs: number;
  readonly busyTicks: number;
  /** Ticks per role, of the roots and their live descendants. */
  readonly roleTicks: Readonly<Record<string, number>>;
  readonly loadAverage1m: number;
}

/** Ticks per role from a process table (pid → ppid, ticks); a PID belongs to the first role whose root it descends from. */
export function ticksByRole(table: ReadonlyMap<number, { ppid: number; ticks: number }>, roles: Roles): Record<string, number> {
  const roleOfRoot = new Map<number, string>();
  for (const [role, pids] of Object.entries(roles)) for (const pid of pids) if (!roleOfRoot.has(pid)) roleOfRoot.set(pid, role);
  const out: Record<string, number> = Object.fromEntries(Object.keys(roles).map((r) => [r, 0]));
  for (const [pid, { ticks }] of table) {
    let p: number | undefined = pid;
    for (let depth = 0; p !== undefined && p > 1 && depth < 64; depth++) {
      const role = roleOfRoot.get(p);
      if (role !== undefined) {
        out[role] = (out[role] ?? 0) + ticks;
        break;
      }
      p = table.get(p)?.ppid;
    }
  }
  return out;
}

function processTable(): Map<number, { ppid: number; ticks: number }> {
  const table = new Map<number, { ppid: number; ticks: number }>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      table.set(Number(e), parsePidStat(readFileSync(`/proc/${e}/stat`, "utf8")));
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

export function readCpuSnapshot(roles: Roles): CpuSnapshot {
  return {
    atMs: Date.now(),
    busyTicks: parseProcStatBusy(readFileSync("/proc/stat", "utf8")),
    roleTicks: ticksByRole(processTable(), roles),
    loadAverage1m: loadavg()[0] ?? 0,
  };
}

export interface CpuWindow {
  readonly seconds: number;
  /** CPU seconds per role over the window. */
  readonly cpuSeconds: Readonly<Record<string, number>>;
  /** The machine's busy CPU seconds not spent by any watched process. */
  readonly foreignCpuSeconds: number;
  /** Foreign CPU as a share of the machine's capacity (cores × seconds). */
  readonly foreignShare: number;
  readonly loadAverage1m: number;
}

/** What happened between two snapshots. */
export function cpuWindow(a: CpuSnapshot, b: CpuSnapshot, cores: number, ticksPerSecond = clockTicks): CpuWindow {
  const seconds = (b.atMs - a.atMs) / 1000;
  const cpuSeconds: Record<string, number> = {};
  let ours = 0;
  for (const role of Object.keys(b.roleTicks)) {
    const s = Math.max(0, (b.roleTicks[role] ?? 0) - (a.roleTicks[role] ?? 0)) / ticksPerSecond;
    cpuSeconds[role] = s;
    ours += s;
  }
  const busy = (b.busyTicks - a.busyTicks) / ticksPerSecond;
  const foreign = Math.max(0, busy - ours);
  return {
    seconds,
    cpuSeconds,
    foreignCpuSeconds: foreign,
    foreignShare: seconds > 0 ? foreign / (cores * seconds) : 0,
    loadAverage1m: Math.max(a.loadAverage1m, b.loadAverage1m),
  };
}

/**
 * Only CPU outside our processes counts as a disturbance. The load average is recorded but not judged: a saturated
 * pipeline alone keeps 16–20 threads runnable on 2 cores here, so it cannot tell others' load from ours.
 */
export interface InterferenceLimits {
  /** Largest share of the machine others may use during a trial. */
  readonly maxForeignShare: number;
}
export const interferenceLimits: InterferenceLimits = { maxForeignShare: 0.1 };

/** Why a window counts as disturbed, or null when it is clean. */
export function interference(w: CpuWindow, limits: InterferenceLimits = interferenceLimits): string | null {
  if (w.foreignShare <= limits.maxForeignShare) return null;
  return `others used ${(w.foreignShare * 100).toFixed(0)} % of the machine (limit ${(limits.maxForeignShare * 100).toFixed(0)} %)`;
}

/** CPU seconds per 1,000 checks for each role. */
export const perThousand = (cpuSeconds: Readonly<Record<string, number>>, checks: number): Record<string, number> =>
  Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, checks > 0 ? Math.round((v / checks) * 1e6) / 1e3 : 0]));

export const machineCores = () => cpus().length;
