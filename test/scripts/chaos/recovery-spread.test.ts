import { describe, expect, it } from "vitest";
import { spreadByKind } from "../../../scripts/chaos/recovery-spread.ts";

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
