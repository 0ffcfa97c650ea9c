/**
 * End-to-end latency of the checks of priority keys against the others' (the overload policy), from
 * the verdicts on the checks topic alone. A check counts as a priority key's when an earlier verdict of its key
 * flagged an anomaly within the detector's priority window (recentAnomalyWindowMs) before it: the detector's own
 * rule (app/detector/overload-policy.ts). The same rule applied to a run with the policy off and one with it on,
 * with the same seed, sorts the same checks into the same classes, so the two runs compare class by class.
 * Besides the latencies, each class's mean completion rank (0: the run's first check to finish, 1: its last)
 * compares the order checks finished in, which does not depend on how fast the machine drained that time.
 */
import { recentAnomalyWindowMs } from "../../app/detector/overload-policy.ts";
import type { VerdictRecord } from "../../app/events/verdict-codec.ts";
import { latencySummary } from "../local/verify.ts";

export interface ClassLatency {
  readonly checks: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Mean position of the class's checks in the run's completion order (by checkedAt): 0 first … 1 last. */
  readonly meanRank: number;
}

export interface KeyClassLatency {
  readonly priority: ClassLatency;
  readonly others: ClassLatency;
}

type Verdict = Pick<VerdictRecord, "id" | "seq" | "anomaly" | "time" | "checkedAt">;

export function keyClassLatency(verdicts: Iterable<Verdict>, windowMs = recentAnomalyWindowMs): KeyClassLatency {
  const byKey = new Map<string, Verdict[]>();
  for (const v of verdicts) {
    const list = byKey.get(v.id);
    if (list) list.push(v);
    else byKey.set(v.id, [v]);
  }
  const all: { checkedAt: number; priority: boolean }[] = [];
  const latencies = { priority: [] as number[], others: [] as number[] };
  for (const list of byKey.values()) {
    // One producer per run: its sequence numbers are the order the key's events were sent and checked in.
    list.sort((a, b) => a.seq - b.seq);
    let flaggedAt: number | null = null;
    for (const v of list) {
      const priority = flaggedAt !== null && v.checkedAt - flaggedAt <= windowMs;
      (priority ? latencies.priority : latencies.others).push(v.checkedAt - v.time);
      all.push({ checkedAt: v.checkedAt, priority });
      if (v.anomaly) flaggedAt = v.checkedAt;
    }
  }
  all.sort((a, b) => a.checkedAt - b.checkedAt);
  const rankSums = { priority: 0, others: 0 };
  all.forEach((c, i) => (rankSums[c.priority ? "priority" : "others"] += all.length > 1 ? i / (all.length - 1) : 0));
  const summary = (which: "priority" | "others"): ClassLatency => {
    const xs = latencies[which];
    const l = latencySummary(xs);
    return {
      checks: xs.length,
      p50Ms: l.p50,
      p99Ms: l.p99,
      meanRank: xs.length === 0 ? 0 : Math.round((rankSums[which] / xs.length) * 1000) / 1000,
    };
  };
  return { priority: summary("priority"), others: summary("others") };
}
