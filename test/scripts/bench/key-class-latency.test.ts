/** The spike benchmark's split of checks into priority keys' and the others' (the overload policy's). */
import { describe, expect, it } from "vitest";
import { keyClassLatency } from "../../../scripts/bench/key-class-latency.ts";

const v = (id: string, seq: number, checkedAt: number, latency: number, anomaly = false) => ({
  id,
  seq,
  anomaly,
  time: checkedAt - latency,
  checkedAt,
});

describe("keyClassLatency", () => {
  it("counts a check as a priority key's when an earlier check of its key flagged within the window", () => {
    const r = keyClassLatency(
      [
        // Out of order on purpose: the key's sequence numbers decide.
        v("a", 2, 2000, 30),
        v("a", 1, 1000, 10, true),
        v("a", 3, 9000, 40), // 8 s after the flag: past a 5 s window
        v("b", 4, 1500, 20),
        v("b", 5, 1600, 20, true), // the flag itself is not after a flag
        v("b", 6, 1700, 50),
      ],
      5000,
    );
    // Completion order by checkedAt: a1 1000, b4 1500, b5 1600, b6 1700, a2 2000, a3 9000 (ranks 0, .2 … 1).
    expect(r.priority).toEqual({ checks: 2, p50Ms: 30, p99Ms: 50, meanRank: 0.7 });
    expect(r.others).toEqual({ checks: 4, p50Ms: 20, p99Ms: 40, meanRank: 0.4 });
  });

  it("reports zeros for an empty class", () => {
    expect(keyClassLatency([v("a", 1, 1000, 10)]).priority).toEqual({ checks: 0, p50Ms: 0, p99Ms: 0, meanRank: 0 });
  });
});
