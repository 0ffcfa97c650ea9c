import { describe, expect, it } from "vitest";
import { searchMaxRate } from "../../../scripts/bench/rate-search.ts";

/** A system whose true capacity is known, so the search's answer can be checked. */
const systemWithCapacity = (capacity: number) => (rate: number) => Promise.resolve({ rate, passed: rate <= capacity });

describe("searchMaxRate", () => {
  it("brackets the capacity within the resolution", async () => {
    const r = await searchMaxRate({ startRate: 500, maxRate: 100_000, resolution: 0.05, maxTrials: 30, run: systemWithCapacity(3_170) });
    expect(r.best!.rate).toBeLessThanOrEqual(3_170);
    expect(r.best!.rate).toBeGreaterThan(3_170 / 1.05);
    expect(r.trials.filter((t) => !t.passed).every((t) => t.rate > 3_170)).toBe(true);
  });

  it("stops at the maximum rate when everything passes", async () => {
    const r = await searchMaxRate({ startRate: 1_000, maxRate: 5_000, resolution: 0.1, maxTrials: 30, run: systemWithCapacity(1e9) });
    expect(r.best!.rate).toBe(5_000);
    expect(r.trials.map((t) => t.rate)).toEqual([1_000, 2_000, 4_000, 5_000]);
  });

  it("reports no best rate when even low rates fail", async () => {
    const r = await searchMaxRate({ startRate: 1_000, maxRate: 5_000, resolution: 0.1, maxTrials: 30, run: systemWithCapacity(10) });
    expect(r.best).toBeNull();
    expect(r.trials.length).toBeLessThan(30);
  });

  it("never runs more trials than allowed", async () => {
    const r = await searchMaxRate({ startRate: 100, maxRate: 1e6, resolution: 0.001, maxTrials: 6, run: systemWithCapacity(4_321) });
    expect(r.trials).toHaveLength(6);
  });
});
