/** Invariants of the derived size plan, for every preset and a sweep of explicit sizes. */
import { describe, expect, it } from "vitest";
import { workerInstanceTypes } from "../../../cdk/size/instance-types.ts";
import { availabilityZoneCount, presets } from "../../../cdk/size/size-input.ts";
import { planning, sizePlanFrom, type SizePlan } from "../../../cdk/size/size-plan.ts";

const plans: [string, SizePlan][] = [
  ...Object.keys(presets).map((p): [string, SizePlan] => [p, sizePlanFrom({ preset: p })]),
  ...[3, 4, 5, 7, 9, 15, 31, 47].map((n): [string, SizePlan] => [`${n} nodes`, sizePlanFrom({ cassandraNodes: n })]),
];

describe.each(plans)("size plan for %s", (_, plan) => {
  it("gives every consumer a partition and spreads partitions evenly over brokers", () => {
    expect(plan.kafka.partitions).toBeGreaterThanOrEqual(plan.detector.pods * plan.detector.consumersPerPod);
    expect(plan.kafka.partitions % plan.kafka.brokers).toBe(0);
    expect(plan.kafka.brokers % availabilityZoneCount).toBe(0);
  });

  it("has enough detector capacity and load generators for the planned rate", () => {
    expect(plan.detector.pods * planning.detectorPod.checksPerSecond).toBeGreaterThanOrEqual(plan.load.ratePerSecond);
    expect(plan.load.pods * plan.load.ratePerPod).toBeGreaterThanOrEqual(plan.load.ratePerSecond);
    expect(plan.load.ratePerPod).toBeLessThanOrEqual(planning.loadgenPod.eventsPerSecond);
  });

  it("spreads load over far more keys than checks in flight", () => {
    expect(plan.load.keys).toBeGreaterThanOrEqual(plan.detector.pods * plan.detector.concurrency * planning.keysPerInFlightCheck);
  });

  it("has worker nodes whose usable vCPUs hold every pod", () => {
    const usable =
      (workerInstanceTypes[plan.eks.instanceType].vcpus - planning.workerReservedVcpus) * planning.workerTargetUtilisation;
    expect(plan.eks.workerNodes * usable).toBeGreaterThanOrEqual(
      plan.detector.pods * plan.detector.cpu + plan.load.pods * plan.load.cpu,
    );
  });

  it("adds up the vCPUs of every tier", () => {
    expect(plan.totalVcpus).toBe(
      plan.cassandra.nodes * plan.cassandra.vcpus + plan.kafka.brokers * plan.kafka.vcpus + plan.eks.workerNodes * plan.eks.vcpus,
    );
  });
});

describe("growing the cluster", () => {
  it("never lowers a derived count when Cassandra nodes grow", () => {
    const sizes = Object.keys(presets).map((p) => sizePlanFrom({ preset: p }));
    for (let i = 1; i < sizes.length; i++) {
      const [a, b] = [sizes[i - 1]!, sizes[i]!];
      expect(b.kafka.brokers).toBeGreaterThanOrEqual(a.kafka.brokers);
      // Kafka can add partitions but never remove them: a grown stage must not need fewer.
      expect(b.kafka.partitions).toBeGreaterThanOrEqual(a.kafka.partitions);
      expect(b.detector.pods).toBeGreaterThanOrEqual(a.detector.pods);
      expect(b.load.ratePerSecond).toBeGreaterThan(a.load.ratePerSecond);
    }
  });

  it("scales the reference's load: stage-48 plans the reference's 220,000 checks/s", () => {
    expect(sizePlanFrom({ preset: "stage-48" }).load.ratePerSecond).toBe(220_000);
  });
});
