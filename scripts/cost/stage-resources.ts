/**
 * What a stage runs, by tier, in the terms AWS counts: instances by type, vCPUs, and the part of them
 * that counts against the EC2 "Running On-Demand Standard instances" vCPU quota (MSK brokers run in
 * AWS's account and count against the MSK broker quota instead).
 */
import type { SizePlan } from "../../cdk/size/size-plan.ts";

export interface TierResources {
  readonly tier: "cassandra" | "kafka" | "eks-workers";
  readonly service: "EC2" | "MSK";
  readonly instanceType: string;
  readonly count: number;
  readonly vcpusEach: number;
  readonly vcpus: number;
}

export interface StageResources {
  readonly tiers: readonly TierResources[];
  readonly totalVcpus: number;
  /** Cassandra + EKS workers: what the on-demand standard vCPU quota (L-1216C47A) must cover. */
  readonly ec2StandardVcpus: number;
  readonly mskBrokers: number;
  readonly eksNodes: number;
  readonly detectorPods: number;
  readonly loadgenPods: number;
  readonly partitions: number;
  readonly loadRatePerSecond: number;
}

/** EC2 families covered by the standard on-demand quota: A, C, D, H, I, M, R, T, Z (not inf/dl/trn/hpc/mac). */
export const isStandardOnDemandType = (instanceType: string): boolean =>
  /^[acdhimrtz]/.test(instanceType) && !/^(inf|dl|trn|hpc|mac)/.test(instanceType);

export function stageResources(plan: SizePlan): StageResources {
  const tiers: TierResources[] = [
    {
      tier: "cassandra",
      service: "EC2",
      instanceType: plan.cassandra.instanceType,
      count: plan.cassandra.nodes,
      vcpusEach: plan.cassandra.vcpus,
      vcpus: plan.cassandra.nodes * plan.cassandra.vcpus,
    },
    {
      tier: "kafka",
      service: "MSK",
      instanceType: plan.kafka.instanceType,
      count: plan.kafka.brokers,
      vcpusEach: plan.kafka.vcpus,
      vcpus: plan.kafka.brokers * plan.kafka.vcpus,
    },
    {
      tier: "eks-workers",
      service: "EC2",
      instanceType: plan.eks.instanceType,
      count: plan.eks.workerNodes,
      vcpusEach: plan.eks.vcpus,
      vcpus: plan.eks.workerNodes * plan.eks.vcpus,
    },
  ];
  return {
    tiers,
    totalVcpus: tiers.reduce((s, t) => s + t.vcpus, 0),
    ec2StandardVcpus: tiers.filter((t) => t.service === "EC2" && isStandardOnDemandType(t.instanceType)).reduce((s, t) => s + t.vcpus, 0),
    mskBrokers: plan.kafka.brokers,
    eksNodes: plan.eks.workerNodes,
    detectorPods: plan.detector.pods,
    loadgenPods: plan.load.pods,
    partitions: plan.kafka.partitions,
    loadRatePerSecond: plan.load.ratePerSecond,
  };
}
