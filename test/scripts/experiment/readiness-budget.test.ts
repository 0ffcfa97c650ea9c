/**
 * The AWS stage's readiness budget, from the plan: the Cassandra nodes that join in the stage × a per-join
 * bound, plus a fixed part; and the progress line (joined k of n, time left) the runner prints while waiting.
 */
import { describe, expect, it } from "vitest";
import { presets } from "../../../cdk/size/size-input.ts";
import { sizePlanFrom } from "../../../cdk/size/size-plan.ts";
import type { ReadinessCheck } from "../../../scripts/experiment/readiness.ts";
import {
  JoinProgress,
  readinessBudget,
  readinessBudgetSettings,
  readinessBudgetText,
  readinessLine,
} from "../../../scripts/experiment/readiness-budget.ts";

const minute = 60_000;
const stages = Object.values(presets).map((p) => p.cassandraNodes);
const plan = (nodes: number) => sizePlanFrom({ cassandraNodes: nodes, experimentId: "exp-a" });
/** A join is expected to take 2 to 3 minutes (JVM start, ring delay, pending ranges, streaming). */
const expectedJoinMinutes = 3;

describe("readiness budget", () => {
  it.each(stages.slice(1).map((n, i) => [stages[i]!, n] as const))(
    "growing %i → %i allows for the added nodes' joins, one after another",
    (before, after) => {
      const b = readinessBudget(plan(after), before);
      expect(b.joins).toBe(after - before);
      expect(b.timeoutMs).toBe((readinessBudgetSettings.fixedMinutes + (after - before) * readinessBudgetSettings.perJoinMinutes) * minute);
      expect(b.timeoutMs).toBeGreaterThanOrEqual(
        readinessBudgetSettings.fixedMinutes * minute + b.joins * expectedJoinMinutes * minute * 2,
      );
    },
  );

  it("a first deploy (or a runner that does not know what is deployed) allows for every node's join", () => {
    for (const n of stages) {
      expect(readinessBudget(plan(n), undefined)).toEqual(readinessBudget(plan(n), 0));
      expect(readinessBudget(plan(n), 0).joins).toBe(n);
    }
  });

  it("grows with the joins: 24 → 48 gets more than a fixed 45 minutes, 3 → 6 less than 24 → 48", () => {
    const big = readinessBudget(plan(48), 24);
    expect(big.timeoutMs).toBeGreaterThan(45 * minute);
    expect(readinessBudget(plan(6), 3).timeoutMs).toBeLessThan(big.timeoutMs);
    expect(readinessBudgetText(big)).toBe(
      `24 Cassandra join(s) × ${readinessBudgetSettings.perJoinMinutes} min + ${readinessBudgetSettings.fixedMinutes} min: up to ${big.timeoutMs / minute} min`,
    );
  });

  it("refuses a previous size larger than the stage, naming the value and what is allowed", () => {
    expect(() => readinessBudget(plan(12), 24)).toThrow("previous Cassandra nodes = 24: allowed: an integer from 0 to this stage's 12");
  });
});

describe("readiness progress", () => {
  it("estimates the time left from the per-join bound until a join is seen, then from the pace seen", () => {
    const p = new JoinProgress(48, 0);
    expect(p.line(24, 0)).toBe(`joined 24 of 48, about ${24 * readinessBudgetSettings.perJoinMinutes} min left`);
    expect(p.line(24, 5 * minute)).toBe(`joined 24 of 48, about ${24 * readinessBudgetSettings.perJoinMinutes} min left`);
    // Two joins in 6 minutes: 3 minutes each, 22 to go.
    expect(p.line(26, 6 * minute)).toBe("joined 26 of 48, about 66 min left");
    expect(p.line(48, 70 * minute)).toBe("joined 48 of 48");
  });

  it("leads the poll's line with the joins, then names what is not ready", () => {
    const checks: ReadinessCheck[] = [
      { name: "msk cluster", ready: true, detail: "" },
      { name: "cassandra nodes", ready: false, detail: "", joined: { done: 30, of: 48 } },
      { name: "schema job", ready: false, detail: "" },
    ];
    expect(readinessLine(checks, new JoinProgress(48, 0), 0)).toBe(
      `Cassandra joined 30 of 48, about ${18 * readinessBudgetSettings.perJoinMinutes} min left; waiting for: cassandra nodes, schema job`,
    );
    expect(readinessLine([{ name: "pods", ready: true, detail: "" }], new JoinProgress(3, 0), 0)).toBe("waiting for: nothing");
  });
});
