import { describe, expect, it } from "vitest";
import { clusterFaults, planFaults } from "../../../scripts/chaos/fault-plan.ts";

describe("planFaults", () => {
  const o = { kills: 5, restartKafka: true, restartCassandra: true, startSeconds: 20, endSeconds: 160, seed: 7 };

  it("plans every fault once, inside the window, in time order", () => {
    const plan = planFaults(o);
    expect(plan.filter((f) => f.kind === "kill-detector")).toHaveLength(5);
    expect(plan.filter((f) => f.kind === "restart-kafka")).toHaveLength(1);
    expect(plan.filter((f) => f.kind === "restart-cassandra")).toHaveLength(1);
    const times = plan.map((f) => f.atSeconds);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...times)).toBeLessThanOrEqual(160);
  });

  it("keeps faults at least half a slot apart", () => {
    const plan = planFaults(o);
    const halfSlot = (160 - 20) / plan.length / 2;
    for (let i = 1; i < plan.length; i++) expect(plan[i]!.atSeconds - plan[i - 1]!.atSeconds).toBeGreaterThanOrEqual(halfSlot - 0.1);
  });

  it("is repeatable for a seed and differs between seeds", () => {
    expect(planFaults(o)).toEqual(planFaults(o));
    expect(planFaults({ ...o, seed: 8 })).not.toEqual(planFaults(o));
  });
});

describe("planFaults on the cluster", () => {
  it("plans each cluster fault once besides the detector kills", () => {
    const plan = planFaults({
      kills: 2,
      restartKafka: false,
      restartCassandra: false,
      cluster: clusterFaults,
      startSeconds: 10,
      endSeconds: 200,
      seed: 3,
    });
    expect(plan.map((f) => f.kind).sort()).toEqual(["kill-detector", "kill-detector", ...clusterFaults].sort());
  });
});
