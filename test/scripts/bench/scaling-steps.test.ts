/** The scaling trial's arithmetic on a polled timeline of finished checks. */
import { describe, expect, it } from "vitest";
import { longestStall, rateBetween } from "../../../scripts/bench/scaling-steps.ts";

// 1,000 checks/s polled every 0.5 s, nothing finished from 3.0 to 4.5 s, then 1,000/s again.
const timeline = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6].map((seconds) => ({
  seconds,
  checks: Math.round(1000 * Math.min(seconds, 3) + 1000 * Math.max(0, seconds - 4.5)),
}));

describe("scaling trial arithmetic", () => {
  it("finds the longest stretch without a finished check inside a step's window, to the polls' resolution", () => {
    // The checks stopped after the 3.0 s poll and resumed after the 4.5 s one: the polls saw 3.0 → 5.0.
    expect(longestStall(timeline, 2, 6)).toBe(2);
    // A window that starts inside the stall counts from its own start.
    expect(longestStall(timeline, 3.5, 6)).toBe(1.5);
    // One that ends inside it counts up to its end.
    expect(longestStall(timeline, 0, 4)).toBe(1);
    expect(longestStall(timeline, 0, 2.5)).toBe(0.5);
  });

  it("gives checks/s between two times from the nearest polls at or before them", () => {
    expect(rateBetween(timeline, 0, 3)).toBe(1000);
    expect(rateBetween(timeline, 3, 4.5)).toBe(0);
    expect(rateBetween(timeline, 2, 6)).toBe(Math.round(2500 / 4));
    expect(rateBetween(timeline, 5, 5)).toBe(0);
  });
});
