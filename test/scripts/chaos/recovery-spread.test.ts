import { describe, expect, it } from "vitest";
import { recoveryFromSamples, spreadByKind } from "../../../scripts/chaos/recovery-spread.ts";

describe("spreadByKind", () => {
  it("counts each kind and gives its fastest, median and slowest recovery", () => {
    const spread = spreadByKind([
      { kind: "kill-detector", seconds: 21 },
      { kind: "kill-controller", seconds: 2 },
      { kind: "kill-detector", seconds: 14.5 },
      { kind: "kill-detector", seconds: 30 },
      { kind: "kill-detector", seconds: 16 },
    ]);
    expect(spread).toEqual({
      "kill-detector": { n: 4, min: 14.5, median: 18.5, max: 30 },
      "kill-controller": { n: 1, min: 2, median: 2, max: 2 },
    });
  });

  it("is empty without recoveries", () => {
    expect(spreadByKind([])).toEqual({});
  });
});

describe("recoveryFromSamples", () => {
  const samples = [0, 10, 20, 30, 40, 50, 60, 70].map((t) => ({ elapsedSeconds: t, backlog: t >= 20 && t <= 50 ? 900 : 40 }));

  it("runs from the fault to the last sample above the bound before the next fault, a hump that built up late included", () => {
    expect(recoveryFromSamples(samples, { at: 5, until: 65, bound: 50 })).toBe(45);
  });

  it("ignores samples before the fault and from the next fault on", () => {
    expect(recoveryFromSamples(samples, { at: 5, until: 35, bound: 50 })).toBe(25);
    expect(recoveryFromSamples(samples, { at: 55, until: 80, bound: 50 })).toBe(0);
  });
});
