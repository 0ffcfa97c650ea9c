import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { SizeInputError } from "../../../cdk/size/size-input.ts";
import { sizePlanFrom } from "../../../cdk/size/size-plan.ts";
import { hourlyCost } from "../../../scripts/cost/cost-model.ts";
import { planExperiment } from "../../../scripts/cost/experiment-plan.ts";
import { planReport } from "../../../scripts/cost/plan-report.ts";
import { hoursPerMonth, usEast1PriceList } from "../../../scripts/cost/price-list.ts";
import { isStandardOnDemandType, stageResources } from "../../../scripts/cost/stage-resources.ts";
import { parseStages } from "../../../scripts/cost/stages.ts";
import { cassandraInstanceTypes, kafkaInstanceTypes, workerInstanceTypes } from "../../../cdk/size/instance-types.ts";

describe("stages", () => {
  it("reads a preset, node counts and a mix", () => {
    expect(parseStages("stage-48").map((s) => s.name)).toEqual(["stage-48"]);
    expect(parseStages("3,6,12,24,48").map((s) => s.plan.cassandra.nodes)).toEqual([3, 6, 12, 24, 48]);
    expect(parseStages(" stage-3, 12 ,stage-48").map((s) => s.name)).toEqual(["stage-3", "stage-12", "stage-48"]);
  });
  it("applies overrides to every stage", () => {
    const stages = parseStages("3,48", { cassandraInstanceType: "i3.4xlarge", region: "eu-west-1", experimentId: "exp-1" });
    expect(stages.every((s) => s.plan.cassandra.instanceType === "i3.4xlarge" && s.plan.region === "eu-west-1")).toBe(true);
    expect(stages[0]!.plan.experimentId).toBe("exp-1");
  });
  it("rejects what the size model rejects, naming the item", () => {
    expect(() => parseStages("stage-99")).toThrow(/stage "stage-99"/);
    expect(() => parseStages("2")).toThrow(SizeInputError);
    expect(() => parseStages("3,3")).toThrow(/given twice/);
    expect(() => parseStages("")).toThrow(SizeInputError);
  });
});

describe("price list", () => {
  it("prices every instance type the size model allows", () => {
    for (const t of [...Object.keys(cassandraInstanceTypes), ...Object.keys(workerInstanceTypes)]) {
      expect(usEast1PriceList.ec2InstanceHour[t], t).toBeGreaterThan(0);
    }
    for (const t of Object.keys(kafkaInstanceTypes)) expect(usEast1PriceList.mskBrokerHour[t], t).toBeGreaterThan(0);
    expect(usEast1PriceList.source).toMatch(/not re-verified from this machine/);
  });
});

describe("cost model", () => {
  const plan = sizePlanFrom({ preset: "stage-48" });
  it("costs stage-48 line by line", () => {
    const cost = hourlyCost(plan, { mskStorageGiBPerBroker: 1000 });
    expect(cost.partial).toBe(false);
    const expected = 48 * 0.624 + 9 * 0.84 + (9 * 1000 * 0.1) / hoursPerMonth + 0.1 + plan.eks.workerNodes * 0.68 + 1 * 0.045;
    expect(cost.perHour).toBeCloseTo(expected, 6);
  });
  it("takes the broker storage from the size plan", () => {
    const cost = hourlyCost(plan);
    expect(cost.partial).toBe(false);
    expect(cost.lines.find((l) => l.item === "MSK broker storage")!.quantity).toBe(plan.kafka.storageGiBPerBroker * plan.kafka.brokers);
  });
  it("marks a missing figure partial, never zero", () => {
    const cost = hourlyCost(plan, {}, { ...usEast1PriceList, mskStorageGbMonth: undefined });
    expect(cost.partial).toBe(true);
    expect(cost.missing.join()).toMatch(/MSK storage/);
    expect(cost.lines.find((l) => l.item === "MSK broker storage")!.perHour).toBeUndefined();
    expect(cost.perHour).toBeGreaterThan(40);
  });
  it("borrows no price from another region", () => {
    const cost = hourlyCost(sizePlanFrom({ preset: "stage-3", region: "eu-west-1" }), { mskStorageGiBPerBroker: 100 });
    expect(cost.partial).toBe(true);
    expect(cost.perHour).toBe(0);
    expect(cost.lines.every((l) => l.perHour === undefined)).toBe(true);
  });
  it("marks a price missing from the list", () => {
    const prices = { ...usEast1PriceList, ec2InstanceHour: {} };
    const cost = hourlyCost(plan, { mskStorageGiBPerBroker: 100 }, prices);
    expect(cost.missing).toEqual([expect.stringMatching(/EC2 i3.2xlarge/), expect.stringMatching(/EC2 c5.4xlarge/)]);
  });
});

describe("stage resources", () => {
  it("counts EC2 standard vCPUs (Cassandra + workers), not MSK", () => {
    const plan = sizePlanFrom({ preset: "stage-48" });
    const r = stageResources(plan);
    expect(r.ec2StandardVcpus).toBe(48 * 8 + plan.eks.workerNodes * plan.eks.vcpus);
    expect(r.totalVcpus).toBe(plan.totalVcpus);
    expect(r.tiers.map((t) => t.tier)).toEqual(["cassandra", "kafka", "eks-workers"]);
  });
  it("knows which families the standard quota covers", () => {
    expect(["i3.2xlarge", "c5.4xlarge", "c7i.2xlarge", "m5.large", "t3.micro"].every(isStandardOnDemandType)).toBe(true);
    expect(["p4d.24xlarge", "g5.xlarge", "inf2.xlarge", "x2idn.large", "hpc6a.48xlarge", "dl1.24xlarge"].some(isStandardOnDemandType)).toBe(
      false,
    );
  });
});

describe("experiment plan", () => {
  it("sums stages for the duration and finds the largest", () => {
    const e = planExperiment(parseStages("3,6,12,24,48"), { hoursPerStage: 0.5, mskStorageGiBPerBroker: 100 });
    expect(e.total.partial).toBe(false);
    expect(e.total.cost).toBeCloseTo(
      e.stages.reduce((s, x) => s + x.hourly.perHour * 0.5, 0),
      9,
    );
    expect(e.largest.stage).toBe("stage-48");
    expect(e.largest.mskBrokers).toBe(9);
    const text = planReport(e);
    expect(text).toMatch(/Estimated total: \$\d/);
    expect(text).not.toMatch(/partial/);
  });
  it("adds overhead hours and carries partial to the total", () => {
    const e = planExperiment(parseStages("stage-3", { region: "eu-west-1" }), { hoursPerStage: 1, overheadHoursPerStage: 0.5 });
    expect(e.stages[0]!.hours).toBe(1.5);
    expect(e.total.partial).toBe(true);
    expect(planReport(e)).toMatch(/Estimated total: at least \$/);
  });
  it("rejects a non-positive duration", () => {
    expect(() => planExperiment(parseStages("3"), { hoursPerStage: 0 })).toThrow(/> 0/);
  });
});

describe("npm run plan", () => {
  const run = (...args: string[]) => execFileSync("tsx", ["scripts/plan.ts", ...args], { encoding: "utf8" });
  it("prints stage-48 and a JSON plan", () => {
    expect(run("stage-48")).toMatch(/stage-48: 48 Cassandra nodes/);
    const json = JSON.parse(run("3,48", "--hours-per-stage", "0.25", "--msk-storage-gib", "500", "--json")) as {
      stages: { name: string }[];
      total: { partial: boolean; cost: number };
    };
    expect(json.stages.map((s) => s.name)).toEqual(["stage-3", "stage-48"]);
    expect(json.total.partial).toBe(false);
    expect(json.total.cost).toBeGreaterThan(0);
  });
  it("shows one MSK storage per broker for every stage 3 → 48, and takes --msk-storage-gib through the size model", () => {
    const json = JSON.parse(run("3,6,12,24,48", "--json")) as {
      stages: {
        plan: { kafka: { brokers: number; storageGiBPerBroker: number } };
        hourly: { lines: { item: string; quantity?: number }[] };
      }[];
    };
    const perBroker = json.stages.map((s) => s.hourly.lines.find((l) => l.item === "MSK broker storage")!.quantity! / s.plan.kafka.brokers);
    expect(new Set(perBroker).size).toBe(1);
    expect(perBroker[0]).toBe(json.stages[0]!.plan.kafka.storageGiBPerBroker);
    expect(run("3,6,12,24,48")).toContain(`MSK storage: ${perBroker[0]} GiB per broker, set once for the experiment`);
    expect(() => execFileSync("tsx", ["scripts/plan.ts", "3,48", "--msk-storage-gib", "100"], { stdio: "pipe" })).toThrow(
      /kafkaStorageGiB = 100: allowed: at least \d+/,
    );
  });
  it("exits 2 with the size model's message on a bad stage", () => {
    expect(() => execFileSync("tsx", ["scripts/plan.ts", "stage-99"], { stdio: "pipe" })).toThrow(/stage "stage-99"/);
  });
});
