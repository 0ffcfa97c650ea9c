/**
 * A local run's detectors under a pod's memory limit: one cgroup per detector slot with that limit (kept across
 * restarts, like a pod's), Node's heap either set from the limit as the charts set it (detectorMaxOldSpaceMiB)
 * or left to Node's own reading of the cgroup limit, and what the run saw: the group's peak charge, OOM kills,
 * Node's peak heap and RSS from its metrics.
 */
import { detectorMaxOldSpaceMiB } from "../../cdk/size/size-plan.ts";
import { nodeHeapEnv } from "../../cdk/size/node-heap.ts";
import { createMemoryCgroup, type MemoryCgroup } from "./memory-cgroup.ts";

export interface DetectorMemoryOptions {
  readonly limitMiB: number;
  /** from-limit: --max-old-space-size from the size plan's derivation; node-default: Node sizes it from the cgroup. */
  readonly heap: "from-limit" | "node-default";
}

export const detectorHeapModes = ["from-limit", "node-default"] as const satisfies readonly DetectorMemoryOptions["heap"][];

export interface DetectorMemorySummary {
  readonly limitMiB: number;
  readonly heap: DetectorMemoryOptions["heap"];
  /** --max-old-space-size given to the detectors, or null when Node chose. */
  readonly maxOldSpaceMiB: number | null;
  readonly cgroupVersion: 1 | 2;
  /** The largest peak charge of any detector's group (RSS and page cache), MiB. */
  readonly cgroupPeakMiB: number;
  /** Detector processes the kernel's OOM killer ended. */
  readonly oomKills: number;
  readonly maxRssMiB: number;
  readonly maxHeapUsedMiB: number;
  readonly maxHeapTotalMiB: number;
  /** Seconds in V8's garbage collector (one process's, the most seen): a heap too small shows here first. */
  readonly gcSeconds: number;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

export class DetectorMemory {
  readonly #o: DetectorMemoryOptions;
  readonly #runId: string;
  readonly #groups = new Map<number, MemoryCgroup>();
  #rss = 0;
  #heapUsed = 0;
  #heapTotal = 0;
  #gc = 0;

  constructor(runId: string, o: DetectorMemoryOptions) {
    this.#o = o;
    this.#runId = runId;
  }

  /** What detector `index` starts with: Node's environment and its slot's cgroup (made on first use). */
  nodeFor(index: number): { env: Record<string, string>; cgroup: MemoryCgroup } {
    let cgroup = this.#groups.get(index);
    if (!cgroup) {
      cgroup = createMemoryCgroup(`anomaly-kit-${this.#runId.toLowerCase()}-detector-${index}`, this.#o.limitMiB);
      this.#groups.set(index, cgroup);
    }
    const env = this.#o.heap === "from-limit" ? nodeHeapEnv(detectorMaxOldSpaceMiB(this.#o.limitMiB)) : {};
    return { env, cgroup };
  }

  /** Takes one scrape of a detector's metrics. */
  observe(metrics: ReadonlyMap<string, number>): void {
    this.#rss = Math.max(this.#rss, metrics.get("process_resident_memory_bytes") ?? 0);
    this.#heapUsed = Math.max(this.#heapUsed, metrics.get("nodejs_heap_size_used_bytes") ?? 0);
    this.#heapTotal = Math.max(this.#heapTotal, metrics.get("nodejs_heap_size_total_bytes") ?? 0);
    this.#gc = Math.max(this.#gc, metrics.get("nodejs_gc_duration_seconds_sum") ?? 0);
  }

  summary(): DetectorMemorySummary {
    const groups = [...this.#groups.values()];
    return {
      limitMiB: this.#o.limitMiB,
      heap: this.#o.heap,
      maxOldSpaceMiB: this.#o.heap === "from-limit" ? detectorMaxOldSpaceMiB(this.#o.limitMiB) : null,
      cgroupVersion: groups[0]?.version ?? 1,
      cgroupPeakMiB: mib(Math.max(0, ...groups.map((g) => g.peakBytes()))),
      oomKills: groups.reduce((a, g) => a + g.oomKills(), 0),
      maxRssMiB: mib(this.#rss),
      maxHeapUsedMiB: mib(this.#heapUsed),
      maxHeapTotalMiB: mib(this.#heapTotal),
      gcSeconds: Math.round(this.#gc * 10) / 10,
    };
  }

  /** Removes the groups once their processes have exited. */
  remove(): void {
    for (const g of this.#groups.values()) g.remove();
    this.#groups.clear();
  }
}
