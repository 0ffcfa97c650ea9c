/** Invariants of the derived size plan, for every preset and a sweep of explicit sizes. */
import { describe, expect, it } from "vitest";
import { workerInstanceTypes } from "../../../cdk/size/instance-types.ts";
import { availabilityZoneCount, limits, presets, SizeInputError } from "../../../cdk/size/size-input.ts";
import {
  deriveSizePlan,
  detectorMaxOldSpaceMiB,
  kafkaStorageNeedGiB,
  planning,
  sizePlanFrom,
  type SizePlan,
} from "../../../cdk/size/size-plan.ts";

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
    const usable = (workerInstanceTypes[plan.eks.instanceType].vcpus - planning.workerReservedVcpus) * planning.workerTargetUtilisation;
    expect(plan.eks.workerNodes * usable).toBeGreaterThanOrEqual(plan.detector.pods * plan.detector.cpu + plan.load.pods * plan.load.cpu);
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

describe("MSK storage, set once per experiment", () => {
  const everyStage = Array.from(
    { length: limits.cassandraNodes.max - limits.cassandraNodes.min + 1 },
    (_, i) => limits.cassandraNodes.min + i,
  );

  it("is the same at every stage 3 → 48, and is the most any stage needs", () => {
    const inputs = everyStage.map((n) => sizePlanFrom({ cassandraNodes: n }).input);
    const storage = new Set(inputs.map((input) => deriveSizePlan(input).kafka.storageGiBPerBroker));
    expect([...storage]).toHaveLength(1);
    const needs = inputs.map((input) => kafkaStorageNeedGiB(input, input.cassandraNodes));
    // Each stage's own need differs (the old per-stage sizing grew it at almost every stage) ...
    expect(new Set(needs).size).toBeGreaterThan(1);
    // ... and the one value covers the largest of them.
    expect([...storage][0]).toBe(Math.max(...needs));
  });

  it("follows the instance types and a broker override, still one value for every stage", () => {
    const fixedBrokers = everyStage.map((n) => sizePlanFrom({ cassandraNodes: n, kafkaBrokers: "9" }).kafka.storageGiBPerBroker);
    expect(new Set(fixedBrokers).size).toBe(1);
    expect(fixedBrokers[0]).toBe(kafkaStorageNeedGiB(sizePlanFrom({ cassandraNodes: 48, kafkaBrokers: "9" }).input, 48));
  });

  it("takes -c kafkaStorageGiB= for every stage, and refuses less than the stage needs, naming the field, value and range", () => {
    for (const n of [3, 12, 48]) expect(sizePlanFrom({ cassandraNodes: n, kafkaStorageGiB: "2000" }).kafka.storageGiBPerBroker).toBe(2000);
    const need48 = kafkaStorageNeedGiB(sizePlanFrom({ cassandraNodes: 48 }).input, 48);
    expect(sizePlanFrom({ cassandraNodes: 3, kafkaStorageGiB: "100" }).kafka.storageGiBPerBroker).toBe(100);
    expect(() => sizePlanFrom({ cassandraNodes: 48, kafkaStorageGiB: "100" })).toThrow(
      new SizeInputError(
        `kafkaStorageGiB = 100: allowed: at least ${need48} (GiB per broker that 48 Cassandra nodes need for ${planning.kafka.hoursAtFullRate} h of full-rate traffic on 9 brokers) and at most ${limits.kafkaStorageGiB.max}`,
      ),
    );
    expect(() => sizePlanFrom({ cassandraNodes: 3, kafkaStorageGiB: "20000" })).toThrow(
      `kafkaStorageGiB = "20000": allowed: an integer from ${limits.kafkaStorageGiB.min} to ${limits.kafkaStorageGiB.max}`,
    );
  });
});

describe("the detector's memory", () => {
  const plan = sizePlanFrom({ preset: "stage-3" });

  it("derives the heap from the pod's one memory limit: what the limit leaves outside the heap, and no more", () => {
    expect(plan.detector.memoryMiB).toBe(planning.detectorPod.memoryMiB);
    expect(plan.detector.maxOldSpaceMiB).toBe(detectorMaxOldSpaceMiB(plan.detector.memoryMiB));
    expect(plan.detector.maxOldSpaceMiB).toBeLessThan(plan.detector.memoryMiB);
    // A larger limit gives the heap all of the difference: the room outside it stays the same.
    expect(detectorMaxOldSpaceMiB(plan.detector.memoryMiB + 64) - plan.detector.maxOldSpaceMiB).toBe(64);
  });

  it("refuses a limit too small to leave a heap, naming the field, value and least allowed", () => {
    expect(() => detectorMaxOldSpaceMiB(128)).toThrow(
      /^detector memoryMiB = 128: allowed: an integer of at least \d+ \(\d+ MiB outside the heap and a \d+ MiB old space\)$/,
    );
    expect(() => detectorMaxOldSpaceMiB(plan.detector.memoryMiB + 0.5)).toThrow(
      `detector memoryMiB = ${plan.detector.memoryMiB + 0.5}: allowed: an integer`,
    );
  });
});
