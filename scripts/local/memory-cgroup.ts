/**
 * A memory-limited cgroup for one local process, so `npm run local` can run the detector under the memory limit
 * its pod gets: the kernel then charges and enforces what Kubernetes would (the container's cgroup), and Node
 * sees the limit at start-up as it does in the pod (process.constrainedMemory()).
 *
 * The group is made under this process's own memory cgroup (its limits and accounting still apply above it), in
 * whichever hierarchy carries the memory controller: cgroup v2 (memory.max) or v1 (memory.limit_in_bytes; a
 * hybrid mount whose v2 part has no memory controller). It needs root. systemd-run is not used: it needs
 * systemd as PID 1, which containers and small VMs often lack.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const cgroupRoot = "/sys/fs/cgroup";

/** The file names of one cgroup version. */
interface Layout {
  readonly version: 1 | 2;
  /** Where the hierarchy with the memory controller is mounted. */
  readonly mount: string;
  /** This process's group in it, from /proc/self/cgroup. */
  readonly own: string;
  readonly limit: string;
  readonly peak: string;
  /** The file with an `oom_kill <n>` line. */
  readonly oomKills: string;
}

function memoryLayout(): Layout {
  const lines = readFileSync("/proc/self/cgroup", "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(":"));
  const v2Controllers = join(cgroupRoot, "cgroup.controllers");
  if (existsSync(v2Controllers) && readFileSync(v2Controllers, "utf8").split(/\s+/).includes("memory")) {
    const own = lines.find((l) => l[0] === "0")?.[2] ?? "/";
    return { version: 2, mount: cgroupRoot, own, limit: "memory.max", peak: "memory.peak", oomKills: "memory.events" };
  }
  const v1 = lines.find((l) => l[1]?.split(",").includes("memory"));
  if (v1 && existsSync(join(cgroupRoot, "memory", "memory.limit_in_bytes"))) {
    return {
      version: 1,
      mount: join(cgroupRoot, "memory"),
      own: v1[2] ?? "/",
      limit: "memory.limit_in_bytes",
      peak: "memory.max_usage_in_bytes",
      oomKills: "memory.oom_control",
    };
  }
  throw new Error(
    `a memory limit needs a cgroup hierarchy with the memory controller: neither ${v2Controllers} lists "memory" nor is the v1 memory controller mounted at ${join(cgroupRoot, "memory")}`,
  );
}

export interface MemoryCgroup {
  readonly path: string;
  readonly version: 1 | 2;
  readonly limitMiB: number;
  /** The command and arguments that join the group, then exec `command args` (so Node starts inside it). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  /** The most memory the group has been charged (RSS and page cache), in bytes. */
  peakBytes(): number;
  /** Processes the kernel's OOM killer ended in the group. */
  oomKills(): number;
  /** Removes the group; its processes must have exited. */
  remove(): void;
}

/** Makes a cgroup named `name` with a memory limit of `limitMiB` (and no swap beyond it, where swap is on). */
export function createMemoryCgroup(name: string, limitMiB: number): MemoryCgroup {
  if (!Number.isInteger(limitMiB) || limitMiB < 64) throw new Error(`memory limit = ${limitMiB} MiB: allowed: an integer of at least 64`);
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`cgroup name = "${name}": allowed: lower-case letters, digits and "-"`);
  const layout = memoryLayout();
  const path = join(layout.mount, layout.own, name);
  try {
    mkdirSync(path);
    writeFileSync(join(path, layout.limit), String(limitMiB * 2 ** 20));
    // A pod has no swap: the limit must be the memory the process can hold, not memory plus swap.
    const swap = join(path, layout.version === 2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
    if (existsSync(swap)) writeFileSync(swap, layout.version === 2 ? "0" : String(limitMiB * 2 ** 20));
  } catch (e) {
    throw new Error(`could not make the memory cgroup ${path} (cgroup v${layout.version}; it needs root): ${(e as Error).message}`, {
      cause: e,
    });
  }
  const read = (file: string) => readFileSync(join(path, file), "utf8");
  return {
    path,
    version: layout.version,
    limitMiB,
    wrap: (command, args) => ({
      command: "/bin/sh",
      // $0 is the group's cgroup.procs, "$@" the command: the shell joins the group, then becomes the command.
      args: ["-c", 'echo $$ > "$0" && exec "$@"', join(path, "cgroup.procs"), command, ...args],
    }),
    peakBytes: () => Number(read(layout.peak).trim()),
    oomKills: () => Number(/^oom_kill (\d+)$/m.exec(read(layout.oomKills))?.[1] ?? 0),
    remove: () => rmdirSync(path),
  };
}
