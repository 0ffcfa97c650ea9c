/** The simulated nodes carry what an EKS node of the plan's instance type reports (EKS AMI formulas). */
import { describe, expect, it } from "vitest";
import { workerInstanceTypes, type WorkerInstanceType } from "../../../cdk/size/instance-types.ts";
import { sizePlanFrom } from "../../../cdk/size/size-plan.ts";
import {
  eksNodeResources,
  kubeReservedMemoryMiB,
  kubeReservedMillicores,
  maxPodsOf,
  plannedNodes,
} from "../../../scripts/rehearsal/eks-nodes.ts";

describe("EKS node allocatable", () => {
  it("max pods: the VPC CNI's ENIs x (IPv4 per ENI - 1) + 2, as in the EKS AMI's eni-max-pods table", () => {
    expect(maxPodsOf("c5.xlarge")).toBe(58);
    expect(maxPodsOf("c5.4xlarge")).toBe(234);
    expect(maxPodsOf("c5.18xlarge")).toBe(737);
    for (const t of Object.keys(workerInstanceTypes) as WorkerInstanceType[]) expect(maxPodsOf(t)).toBeGreaterThan(2);
  });

  it("kube-reserved CPU: 6 % of the first core, 1 % of the second, 0.5 % of the next two, 0.25 % above four", () => {
    expect(kubeReservedMillicores(1)).toBe(60);
    expect(kubeReservedMillicores(2)).toBe(70);
    expect(kubeReservedMillicores(4)).toBe(80);
    expect(kubeReservedMillicores(16)).toBe(110);
    expect(kubeReservedMillicores(72)).toBe(250);
  });

  it("c5.4xlarge (stage-48's workers): 15890m CPU, memory less 255 + 11 x 234 MiB and the 100 MiB eviction threshold", () => {
    expect(kubeReservedMemoryMiB(234)).toBe(2829);
    const r = eksNodeResources("c5.4xlarge");
    expect(r.allocatable.cpu).toBe("15890m");
    expect(r.allocatable.memory).toBe(`${32 * 1024 - 2829 - 100}Mi`);
    expect(r.allocatable.pods).toBe("234");
    expect(r.capacity.cpu).toBe("16");
  });

  it("stage-48: the plan's 10 workers over its 3 zones in turn, with zone and instance-type labels", () => {
    const plan = sizePlanFrom({ preset: "stage-48" });
    const nodes = plannedNodes(plan);
    expect(nodes).toHaveLength(plan.eks.workerNodes);
    const perZone = plan.availabilityZones.map((z) => nodes.filter((n) => n.zone === z).length);
    expect(perZone).toEqual([4, 3, 3]);
    const labels = (nodes[0]!.manifest.metadata as { labels: Record<string, string> }).labels;
    expect(labels["topology.kubernetes.io/zone"]).toBe(plan.availabilityZones[0]);
    expect(labels["node.kubernetes.io/instance-type"]).toBe(plan.eks.instanceType);
    expect(new Set(nodes.map((n) => n.name)).size).toBe(nodes.length);
  });
});
